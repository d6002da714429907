/* Plug-ins that must be refused, one per BROKEN_* define (set by the build). */
#include <signal.h>
#include <stddef.h>

#include "backends/plugin/cortado_plugin.h"

#if defined(BROKEN_CRASH)
/* Dies while the library is being loaded. */
__attribute__((constructor)) static void crash(void) { raise(SIGSEGV); }
#endif

#if !defined(BROKEN_NO_VERSION)
uint32_t cortado_plugin_api_version(void) {
#if defined(BROKEN_VERSION)
  return CORTADO_PLUGIN_API_VERSION + 1;
#else
  return CORTADO_PLUGIN_API_VERSION;
#endif
}
#endif

/* A table with every entry empty but the name. */
static const cortado_plugin table = {CORTADO_PLUGIN_API_VERSION, "broken", 10};
const cortado_plugin* cortado_plugin_get(void) { return &table; }
