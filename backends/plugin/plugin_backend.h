// Accelerator plug-ins: shared libraries implementing the C ABI of cortado_plugin.h, each loaded
// as a Backend whose device is Device{kPlugin, i}. LoadPlugins opens every *.so in a folder (in
// name order) and refuses, with the reason, a library that crashes while loading (probed first
// in a child process), cannot be opened, lacks an entry point, reports another API version or
// leaves an entry of its table empty. The backends it returns are immutable and thread-safe; each
// keeps its library open for as long as it or a kernel it made lives.
#ifndef CORTADO_BACKENDS_PLUGIN_PLUGIN_BACKEND_H_
#define CORTADO_BACKENDS_PLUGIN_PLUGIN_BACKEND_H_

#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"

namespace cortado {

// Loads one plug-in as the backend of device Device{kPlugin, index}.
absl::StatusOr<std::unique_ptr<Backend>> LoadPlugin(const std::string& path, int index);

struct PluginLoad {
  std::vector<std::unique_ptr<Backend>> backends;  // highest priority first
  std::vector<std::string> loaded;                 // "path: backend 'name' (API 1, priority p)"
  std::vector<std::string> refused;                // "path: why"
};
// Every *.so in `dir`; an error only when the folder cannot be read.
absl::StatusOr<PluginLoad> LoadPlugins(const std::string& dir);

}  // namespace cortado

#endif  // CORTADO_BACKENDS_PLUGIN_PLUGIN_BACKEND_H_
