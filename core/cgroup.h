// What the process's cgroup (a container's or a systemd service's limits) allows it: CPUs by
// quota and bytes of memory. The defaults that follow from them (intra-op threads, the NetDef
// fill limit) then fit the container rather than the host.
//
// `mount` is where the cgroup filesystem is mounted (/sys/fs/cgroup) and `self_cgroup` the text
// of /proc/self/cgroup, which names the process's cgroup: "0::/path" for v2, or
// "N:controller,...:/path" for v1, whose folder is mount/controller/path. Every folder from the
// process's own up to the mount is read and the smallest limit wins: a parent's limit binds its
// children. A container that sees its own cgroup as the root reads only that.
#ifndef CORTADO_CORE_CGROUP_H_
#define CORTADO_CORE_CGROUP_H_

#include <cstdint>
#include <string>

namespace cortado {

// The CPUs a CPU quota allows, rounded up (v2 cpu.max, v1 cpu.cfs_quota_us over
// cpu.cfs_period_us); 0 when no quota applies.
int CgroupCpuQuota(const std::string& mount, const std::string& self_cgroup);

// The bytes a memory limit allows (v2 memory.max, v1 memory.limit_in_bytes); 0 when no limit
// applies ("max", or v1's page-rounded maximum of 2^63 - 1).
int64_t CgroupMemoryLimit(const std::string& mount, const std::string& self_cgroup);

// The memory this process may use: the machine's physical memory, capped by its cgroup's limit.
int64_t AvailableMemoryBytes();

// The CPUs this process may use: the affinity mask, capped by the cgroup's CPU quota. At least 1.
int AvailableCpus();

}  // namespace cortado

#endif  // CORTADO_CORE_CGROUP_H_
