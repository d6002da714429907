#include "core/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace cortado {

absl::Status RunInChild(absl::FunctionRef<void()> fn, absl::Duration timeout) {
  int done[2];  // the child's end closes when it exits, however it exits
  if (pipe2(done, O_CLOEXEC) != 0) {
    return absl::UnavailableError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(done[0]);
    close(done[1]);
    return absl::UnavailableError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    close(done[0]);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, STDERR_FILENO);
    fn();
    _exit(0);
  }
  close(done[1]);
  pollfd fd{done[0], POLLIN, 0};
  int ready;
  do {
    ready = poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  } while (ready < 0 && errno == EINTR);
  close(done[0]);
  if (ready <= 0) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (ready <= 0) {
    return absl::AbortedError(absl::StrCat("did not finish in ", absl::FormatDuration(timeout)));
  }
  if (WIFSIGNALED(status)) {
    return absl::AbortedError(
        absl::StrCat("crashed (signal ", WTERMSIG(status), ": ", strsignal(WTERMSIG(status)), ")"));
  }
  if (WEXITSTATUS(status) != 0) {
    return absl::AbortedError(absl::StrCat("exited with status ", WEXITSTATUS(status)));
  }
  return absl::OkStatus();
}

}  // namespace cortado
