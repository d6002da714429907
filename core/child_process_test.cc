#include "core/child_process.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>

#include "gtest/gtest.h"

namespace cortado {
namespace {

TEST(RunInChild, ReturnsOkWhenTheFunctionReturns) {
  int touched = 0;
  EXPECT_TRUE(RunInChild([&] { touched = 1; }, absl::Seconds(60)).ok());
  EXPECT_EQ(touched, 0);  // the child wrote its own copy
}

TEST(RunInChild, ACrashEndsOnlyTheChild) {
  absl::Status s = RunInChild([] { std::raise(SIGSEGV); }, absl::Seconds(60));
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_NE(s.message().find("crashed (signal 11"), absl::string_view::npos) << s;
  s = RunInChild([] { std::abort(); }, absl::Seconds(60));
  EXPECT_NE(s.message().find("crashed (signal 6"), absl::string_view::npos) << s;
}

TEST(RunInChild, AHangIsKilledAtTheTimeout) {
  absl::Status s = RunInChild(
      [] {
        for (;;) pause();
      },
      absl::Milliseconds(200));
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_NE(s.message().find("did not finish in 200ms"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace cortado
