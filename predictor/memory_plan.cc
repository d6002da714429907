#include "predictor/memory_plan.h"

#include <algorithm>
#include <cstdlib>

namespace cortado {
namespace {

size_t AlignUp(size_t bytes) {
  return (bytes + Allocator::kAlignment - 1) / Allocator::kAlignment * Allocator::kAlignment;
}

// A group of values sharing storage: its root (the slot a step allocated) and when it is live.
struct Group {
  int root;
  size_t bytes;
  int begin, end;
  int64_t offset = 0;
};

}  // namespace

ArenaLayout PlanArena(const Plan& plan, const std::vector<int>& step_time,
                      const MemoryRecord& record) {
  const int n = plan.num_slots();
  std::vector<int> begin(n, -1), end(n, -1);
  for (size_t i = 0; i < plan.steps().size(); ++i) {
    const int t = step_time[i];
    for (int slot : plan.steps()[i].inputs) {
      if (slot >= 0) end[slot] = std::max(end[slot], t);
    }
    for (int slot : plan.steps()[i].outputs) {
      if (slot < 0) continue;
      begin[slot] = t;
      end[slot] = std::max(end[slot], t);
    }
  }
  // A view's input was produced before it, so following view_of ends at a root.
  auto root_of = [&](int slot) {
    while (record.view_of[slot] >= 0) slot = record.view_of[slot];
    return slot;
  };
  std::vector<int> root(n);
  std::vector<bool> excluded(n, false);
  for (int slot = 0; slot < n; ++slot) root[slot] = root_of(slot);
  for (int slot : plan.output_slots()) excluded[root[slot]] = true;  // outputs leave the run

  std::vector<int> group_of(n, -1);
  std::vector<Group> groups;
  for (int slot = 0; slot < n; ++slot) {
    if (root[slot] != slot || excluded[slot] || record.bytes[slot] == 0 || begin[slot] < 0)
      continue;
    group_of[slot] = static_cast<int>(groups.size());
    groups.push_back({slot, AlignUp(record.bytes[slot]), begin[slot], end[slot]});
  }
  for (int slot = 0; slot < n; ++slot) {
    const int g = group_of[root[slot]];
    if (g >= 0) groups[g].end = std::max(groups[g].end, end[slot]);
  }

  // Greedy by size (TFLite's arena planner): the largest group first, each at the lowest offset
  // that no group live at the same time occupies.
  std::vector<int> order(groups.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return groups[a].bytes > groups[b].bytes; });
  ArenaLayout layout;
  std::vector<const Group*> placed;
  for (int g : order) {
    Group& group = groups[g];
    std::vector<const Group*> live;
    for (const Group* other : placed) {
      if (other->begin <= group.end && group.begin <= other->end) live.push_back(other);
    }
    std::sort(live.begin(), live.end(),
              [](const Group* a, const Group* b) { return a->offset < b->offset; });
    int64_t offset = 0;
    for (const Group* other : live) {
      if (other->offset >= offset + static_cast<int64_t>(group.bytes)) break;
      offset = std::max<int64_t>(offset, other->offset + static_cast<int64_t>(other->bytes));
    }
    group.offset = offset;
    placed.push_back(&group);
    layout.total_bytes = std::max(layout.total_bytes, static_cast<size_t>(offset) + group.bytes);
  }

  layout.offset.assign(n, -1);
  layout.bytes.assign(n, 0);
  layout.group.assign(n, -1);
  for (int slot = 0; slot < n; ++slot) {
    const int g = group_of[root[slot]];
    if (g < 0) continue;
    layout.offset[slot] = groups[g].offset;
    layout.bytes[slot] = groups[g].bytes;
    layout.group[slot] = groups[g].root;
  }
  return layout;
}

MemoryPlanner::Signature MemoryPlanner::SignatureOf(const std::vector<const Tensor*>& inputs) {
  Signature s;
  for (const Tensor* t : inputs) {
    s.push_back(static_cast<int64_t>(t->dtype()));
    s.push_back(t->rank());
    s.insert(s.end(), t->shape().begin(), t->shape().end());
  }
  return s;
}

MemoryPlanner::Run MemoryPlanner::Begin(const std::vector<const Tensor*>& inputs) {
  Run run;
  absl::MutexLock lock(&mu_);
  auto it = layouts_.find(SignatureOf(inputs));
  if (it == layouts_.end()) {
    if (layouts_.size() < kMaxLayouts)
      run.record = std::make_unique<MemoryRecord>(plan_.num_slots());
    return run;
  }
  run.layout = it->second;
  const size_t need = run.layout->total_bytes;
  if (need == 0) return run;
  // The smallest idle arena that is large enough; otherwise a new one replaces a small one.
  int best = -1;
  for (size_t i = 0; i < idle_.size(); ++i) {
    if (idle_bytes_[i] >= need && (best < 0 || idle_bytes_[i] < idle_bytes_[best])) best = i;
  }
  if (best < 0 && !idle_.empty()) {
    idle_.pop_back();
    idle_bytes_.pop_back();
  }
  if (best >= 0) {
    run.arena = std::move(idle_[best]);
    run.arena_bytes = idle_bytes_[best];
    idle_.erase(idle_.begin() + best);
    idle_bytes_.erase(idle_bytes_.begin() + best);
    return run;
  }
  // Not from CpuAllocator(), whose cache would keep an arena's bytes after the pool let it go.
  void* memory = std::aligned_alloc(Allocator::kAlignment, need);
  if (memory == nullptr) {
    run.layout = nullptr;  // no room for an arena: allocate value by value
    return run;
  }
  run.arena = std::shared_ptr<void>(memory, std::free);
  run.arena_bytes = need;
  return run;
}

void MemoryPlanner::Learn(const std::vector<const Tensor*>& inputs, const MemoryRecord& record) {
  auto layout = std::make_shared<const ArenaLayout>(PlanArena(plan_, step_time_, record));
  {
    absl::MutexLock lock(&mu_);
    if (layouts_.size() < kMaxLayouts) layouts_.emplace(SignatureOf(inputs), std::move(layout));
  }
  // The recorded run's values went back to the allocator's cache; from now on runs of this
  // signature live in an arena, so give those bytes back instead of holding both.
  CpuAllocator()->Trim();
}

void MemoryPlanner::End(Run run) {
  if (run.arena == nullptr || run.arena.use_count() != 1) return;  // a tensor still refers to it
  absl::MutexLock lock(&mu_);
  idle_bytes_.push_back(run.arena_bytes);
  idle_.push_back(std::move(run.arena));
}

}  // namespace cortado
