#include "core/cgroup.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <thread>

namespace cortado {

namespace {

// A quota of `quota` microseconds per `period` as CPUs, rounded up; 0 when unlimited or unread.
int QuotaCpus(double quota, double period) {
  return quota > 0 && period > 0 ? static_cast<int>((quota + period - 1) / period) : 0;
}

// The CPU quota one cgroup folder states: v2's cpu.max ("max 100000" or "150000 100000"), else
// v1's cpu.cfs_quota_us (-1: none) and cpu.cfs_period_us; 0 when none.
int64_t FolderCpuQuota(const std::string& dir) {
  std::ifstream v2(dir + "/cpu.max");
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period)
    return quota == "max" ? 0 : QuotaCpus(std::atof(quota.c_str()), period);
  std::ifstream q(dir + "/cpu.cfs_quota_us"), p(dir + "/cpu.cfs_period_us");
  double quota_us = 0;
  if (q >> quota_us && p >> period) return QuotaCpus(quota_us, period);
  return 0;
}

// The memory limit one cgroup folder states: v2's memory.max ("max" or bytes), else v1's
// memory.limit_in_bytes, whose "no limit" is 2^63 - 1 rounded down to a page; 0 when none.
int64_t FolderMemoryLimit(const std::string& dir) {
  std::ifstream v2(dir + "/memory.max");
  std::string text;
  if (!(v2 >> text)) {
    std::ifstream v1(dir + "/memory.limit_in_bytes");
    if (!(v1 >> text)) return 0;
  }
  if (text == "max") return 0;
  const long long bytes = std::strtoll(text.c_str(), nullptr, 10);
  constexpr long long kNoLimit = (1LL << 62);  // v1's "unlimited" and anything like it
  return bytes > 0 && bytes < kNoLimit ? bytes : 0;
}

// The process's cgroup folder for `controller` under `mount`, from /proc/self/cgroup's text:
// "0::/path" (v2) or "N:a,controller,b:/path" (v1, under mount/controller); "" when neither.
std::string CgroupFolder(const std::string& mount, const std::string& self_cgroup,
                         const std::string& controller) {
  std::istringstream lines(self_cgroup);
  std::string line, v2;
  while (std::getline(lines, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.compare(0, a, "0") == 0 && controllers.empty()) v2 = mount + path;
    std::istringstream names(controllers);
    for (std::string name; std::getline(names, name, ',');) {
      if (name == controller) return mount + "/" + controller + path;
    }
  }
  return v2;
}

// The smallest positive `limit` of the folders from the process's cgroup for `controller` up to
// the mount (or the v1 controller's root); 0 when none states one.
int64_t SmallestLimit(const std::string& mount, const std::string& self_cgroup,
                      const std::string& controller,
                      const std::function<int64_t(const std::string&)>& limit) {
  std::string dir = CgroupFolder(mount, self_cgroup, controller);
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  int64_t smallest = 0;
  while (dir.size() >= mount.size()) {
    const int64_t value = limit(dir);
    if (value > 0) smallest = smallest == 0 ? value : std::min(smallest, value);
    const size_t slash = dir.rfind('/');
    if (slash == std::string::npos || slash < mount.size()) break;
    dir.resize(slash);
  }
  return smallest;
}

std::string ReadFile(const char* path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace

int CgroupCpuQuota(const std::string& mount, const std::string& self_cgroup) {
  return static_cast<int>(SmallestLimit(mount, self_cgroup, "cpu", FolderCpuQuota));
}

int64_t CgroupMemoryLimit(const std::string& mount, const std::string& self_cgroup) {
  return SmallestLimit(mount, self_cgroup, "memory", FolderMemoryLimit);
}

int64_t AvailableMemoryBytes() {
  const int64_t physical = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGE_SIZE);
  const int64_t limit = CgroupMemoryLimit("/sys/fs/cgroup", ReadFile("/proc/self/cgroup"));
  return limit > 0 ? std::min(physical, limit) : physical;
}

int AvailableCpus() {
  cpu_set_t set;
  int cpus = sched_getaffinity(0, sizeof(set), &set) == 0
                 ? CPU_COUNT(&set)
                 : static_cast<int>(std::thread::hardware_concurrency());
  const int quota = CgroupCpuQuota("/sys/fs/cgroup", ReadFile("/proc/self/cgroup"));
  if (quota > 0) cpus = std::min(cpus, quota);
  return std::max(cpus, 1);
}

}  // namespace cortado
