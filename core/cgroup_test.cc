#include "core/cgroup.h"

#include <sched.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace cortado {
namespace {

// A fake cgroup mount: files written under a fresh temporary folder.
class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_ = testing::TempDir() + "/cgroup_" +
             testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(mount_);
    std::filesystem::create_directories(mount_);
  }
  void Write(const std::string& file, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(mount_ + file).parent_path());
    std::ofstream(mount_ + file) << text;
  }
  std::string mount_;
};

TEST_F(CgroupTest, V2QuotaRoundsUp) {
  Write("/cpu.max", "150000 100000\n");
  EXPECT_EQ(CgroupCpuQuota(mount_, "0::/\n"), 2);
  Write("/cpu.max", "200000 100000\n");
  EXPECT_EQ(CgroupCpuQuota(mount_, "0::/\n"), 2);
  Write("/cpu.max", "50000 100000\n");
  EXPECT_EQ(CgroupCpuQuota(mount_, "0::/\n"), 1);
}

TEST_F(CgroupTest, V2UnlimitedOrMissingIsNoQuota) {
  EXPECT_EQ(CgroupCpuQuota(mount_, "0::/\n"), 0);
  Write("/cpu.max", "max 100000\n");
  EXPECT_EQ(CgroupCpuQuota(mount_, "0::/\n"), 0);
  Write("/cpu.max", "garbage\n");
  EXPECT_EQ(CgroupCpuQuota(mount_, "0::/\n"), 0);
  EXPECT_EQ(CgroupCpuQuota(mount_, ""), 0);
}

TEST_F(CgroupTest, V2SmallestQuotaOnThePathWins) {
  // A service in a nested cgroup: its parent's limit binds it; folders beside it do not count.
  Write("/system.slice/cpu.max", "300000 100000\n");
  Write("/system.slice/cortado.service/cpu.max", "max 100000\n");
  Write("/other.slice/cpu.max", "100000 100000\n");
  EXPECT_EQ(CgroupCpuQuota(mount_, "0::/system.slice/cortado.service\n"), 3);
  Write("/system.slice/cortado.service/cpu.max", "250000 100000\n");
  EXPECT_EQ(CgroupCpuQuota(mount_, "0::/system.slice/cortado.service\n"), 3);
  Write("/system.slice/cortado.service/cpu.max", "120000 100000\n");
  EXPECT_EQ(CgroupCpuQuota(mount_, "0::/system.slice/cortado.service\n"), 2);
}

TEST_F(CgroupTest, V1ReadsTheCpuController) {
  Write("/cpu/docker/abc/cpu.cfs_quota_us", "400000\n");
  Write("/cpu/docker/abc/cpu.cfs_period_us", "100000\n");
  const std::string self =
      "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n";
  EXPECT_EQ(CgroupCpuQuota(mount_, self), 4);
  Write("/cpu/docker/abc/cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(CgroupCpuQuota(mount_, self), 0);
  // Without a cpu controller line nothing is read.
  Write("/cpu/docker/abc/cpu.cfs_quota_us", "400000\n");
  EXPECT_EQ(CgroupCpuQuota(mount_, "12:memory:/docker/abc\n"), 0);
}

TEST(AvailableCpusTest, AtLeastOneAndAtMostTheAffinityMask) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  EXPECT_GE(AvailableCpus(), 1);
  EXPECT_LE(AvailableCpus(), CPU_COUNT(&set));
}

TEST_F(CgroupTest, V2MemoryLimitIsTheSmallestOnThePath) {
  const std::string self = "0::/system.slice/cortado.service\n";
  EXPECT_EQ(CgroupMemoryLimit(mount_, self), 0);
  Write("/system.slice/memory.max", "8589934592\n");
  Write("/system.slice/cortado.service/memory.max", "max\n");
  Write("/other.slice/memory.max", "1048576\n");
  EXPECT_EQ(CgroupMemoryLimit(mount_, self), int64_t{8589934592});
  Write("/system.slice/cortado.service/memory.max", "4294967296\n");
  EXPECT_EQ(CgroupMemoryLimit(mount_, self), int64_t{4294967296});
  Write("/system.slice/cortado.service/memory.max", "garbage\n");
  EXPECT_EQ(CgroupMemoryLimit(mount_, self), int64_t{8589934592});
}

TEST_F(CgroupTest, V1ReadsTheMemoryControllerAndItsUnlimitedValue) {
  // As on a Docker host with cgroup v1: the memory controller has its own line and folder.
  const std::string self = "4:memory:/docker/abc\n1:cpu:/\n0::/\n";
  Write("/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");  // no limit
  EXPECT_EQ(CgroupMemoryLimit(mount_, self), 0);
  Write("/memory/docker/abc/memory.limit_in_bytes", "536870912\n");
  EXPECT_EQ(CgroupMemoryLimit(mount_, self), int64_t{536870912});
  // The CPU controller's folder says nothing about memory.
  EXPECT_EQ(CgroupMemoryLimit(mount_, "1:cpu:/docker/abc\n"), 0);
}

TEST(AvailableMemoryTest, PositiveAndAtMostPhysicalMemory) {
  const int64_t physical = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);
  EXPECT_GT(AvailableMemoryBytes(), 0);
  EXPECT_LE(AvailableMemoryBytes(), physical);
}

}  // namespace
}  // namespace cortado
