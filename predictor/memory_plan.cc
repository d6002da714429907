#include "predictor/memory_plan.h"

#include <algorithm>
#include <cstdlib>

namespace cortado {
namespace {

size_t AlignUp(size_t bytes) {
  return (bytes + Allocator::kAlignment - 1) / Allocator::kAlignment * Allocator::kAlignment;
}

// A group of values sharing storage: its bytes and when it is live.
struct Group {
  size_t bytes;
  int begin, end;
  int64_t offset = 0;
};

}  // namespace

ArenaLayout PlanArena(const Plan& plan, const std::vector<int>& step_time,
                      const MemoryRecord& record) {
  const int n = plan.num_slots();
  const std::vector<Plan::Lifetime> live = plan.Lifetimes(step_time);
  // Storage groups: a view joins the value it views (produced before it, so this ends).
  std::vector<int> parent(n);
  for (int slot = 0; slot < n; ++slot) {
    parent[slot] = record.view_of[slot] >= 0 ? record.view_of[slot] : slot;
  }
  auto find = [&](int slot) {
    while (parent[slot] != slot) slot = parent[slot] = parent[parent[slot]];
    return slot;
  };
  std::vector<bool> excluded(n, false);
  for (int slot : plan.output_slots()) excluded[find(slot)] = true;  // outputs leave the run
  std::vector<int> group_end(n, -1);
  for (int slot = 0; slot < n; ++slot) {
    group_end[find(slot)] = std::max(group_end[find(slot)], live[slot].end);
  }
  auto planned = [&](int root) {
    return !excluded[root] && record.bytes[root] > 0 && live[root].begin >= 0;
  };

  // In place: a step that may overwrite an input (Kernel::MayOverwriteInput) writes its output
  // over that input's group when nothing reads the group after it or beside it.
  std::vector<std::vector<int>> at_time;
  for (size_t i = 0; i < plan.steps().size(); ++i) {
    if (step_time[i] >= static_cast<int>(at_time.size())) at_time.resize(step_time[i] + 1);
    at_time[step_time[i]].push_back(static_cast<int>(i));
  }
  auto reads_group = [&](int step, int root, int except_input) {
    const std::vector<int>& in = plan.steps()[step].inputs;
    for (size_t k = 0; k < in.size(); ++k) {
      if (static_cast<int>(k) != except_input && in[k] >= 0 && find(in[k]) == root) return true;
    }
    return false;
  };
  for (size_t i = 0; i < plan.steps().size(); ++i) {
    const PlanStep& step = plan.steps()[i];
    const int out = step.outputs.empty() ? -1 : step.outputs[0];
    if (out < 0 || find(out) != out || !planned(out)) continue;
    const int t = step_time[i];
    for (size_t k = 0; k < step.inputs.size(); ++k) {
      if (step.inputs[k] < 0 || !step.kernel->MayOverwriteInput(static_cast<int>(k))) continue;
      const int root = find(step.inputs[k]);
      if (!planned(root) || group_end[root] != t || record.bytes[root] != record.bytes[out]) {
        continue;
      }
      // No other input of this step, and no step beside it, may read the group.
      bool read_elsewhere = false;
      for (int other : at_time[t]) {
        const bool self = other == static_cast<int>(i);
        read_elsewhere =
            read_elsewhere || reads_group(other, root, self ? static_cast<int>(k) : -1);
      }
      if (read_elsewhere) continue;
      parent[out] = root;
      group_end[root] = std::max(group_end[root], group_end[out]);
      break;
    }
  }

  std::vector<int> group_of(n, -1);
  std::vector<Group> groups;
  for (int slot = 0; slot < n; ++slot) {
    if (find(slot) != slot || !planned(slot)) continue;
    group_of[slot] = static_cast<int>(groups.size());
    groups.push_back({AlignUp(record.bytes[slot]), live[slot].begin, group_end[slot]});
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
    const int g = group_of[find(slot)];
    if (g < 0) continue;
    layout.offset[slot] = groups[g].offset;
    layout.group[slot] = find(slot);
    if (record.bytes[slot] > 0) layout.bytes[slot] = groups[g].bytes;  // its step allocates it
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
