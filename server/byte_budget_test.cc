#include "server/byte_budget.h"

#include <utility>

#include "gtest/gtest.h"

namespace cortado {
namespace {

TEST(ByteBudget, RefusesWhatDoesNotFitAndTakesBackReleasedBytes) {
  ByteBudget budget(100);
  auto a = budget.Acquire(60);
  ASSERT_TRUE(a.ok());
  auto b = budget.Acquire(50);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(b.status().message().find("a request of 50 bytes does not fit beside the 60 bytes"),
            std::string::npos)
      << b.status();
  auto c = budget.Acquire(40);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(budget.in_flight(), 100);
  {
    ByteBudget::Lease moved = *std::move(a);
    EXPECT_EQ(budget.in_flight(), 100);
  }  // released once, by the lease it was moved into
  EXPECT_EQ(budget.in_flight(), 40);
  c->Release();
  c->Release();
  EXPECT_EQ(budget.in_flight(), 0);
  EXPECT_FALSE(budget.Acquire(101).ok());  // larger than the whole budget
}

TEST(ByteBudget, NoLimitCountsNothing) {
  ByteBudget budget(0);
  auto a = budget.Acquire(int64_t{1} << 40);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(budget.in_flight(), 0);
}

}  // namespace
}  // namespace cortado
