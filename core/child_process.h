// RunInChild: runs a function in a child process made with fork(), so that a crash or a hang
// in code cortado does not control (a third-party library on untrusted input, a plug-in's
// initializers) takes only the child down. Called by the ONNX importer (libonnx's trial run) and
// the plug-in loader (dlopen probe). Thread-safe; blocks the calling thread until the child has
// ended. The function runs in a copy of the process holding only the calling thread: it must
// touch only its own copy of memory, take no locks another thread may hold, and start no
// threads; its result is only whether it ended normally.
#ifndef CORTADO_CORE_CHILD_PROCESS_H_
#define CORTADO_CORE_CHILD_PROCESS_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace cortado {

// Runs `fn` in a child process and waits up to `timeout` for it to return. OK when it returned;
// Aborted when it crashed (the message names the signal: "crashed (signal 11: Segmentation
// fault)") or ran out of time ("did not finish in 120 s"; the child is killed); Unavailable when
// no child could be made. In the child, crash signals have their default action (no handler of
// the parent's, a sanitizer's or a fuzzer's, reports the crash) and stderr goes to /dev/null.
absl::Status RunInChild(absl::FunctionRef<void()> fn, absl::Duration timeout);

}  // namespace cortado

#endif  // CORTADO_CORE_CHILD_PROCESS_H_
