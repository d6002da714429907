// The client subcommands of the `cortado` tool (infer, models, load, unload, health), which talk
// to a running cortadod or any KServe v2 / Triton server. cortado.cc dispatches to them; output
// goes to stdout, and an error comes back as a Status for the caller to print as its one
// `cortado: error: ...` line (exit 1). Stateless functions; thread-safe.
#ifndef CORTADO_CLIENTS_CLIENT_COMMANDS_H_
#define CORTADO_CLIENTS_CLIENT_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/status.h"

namespace cortado {

// Usage text of the client subcommands, appended to `cortado --help`.
extern const char kClientUsage[];

bool IsClientCommand(absl::string_view command);

// Runs `command` ("infer", "models", ...) with the arguments that follow it on the command line.
absl::Status RunClientCommand(const std::string& command, const std::vector<std::string>& args);

}  // namespace cortado

#endif  // CORTADO_CLIENTS_CLIENT_COMMANDS_H_
