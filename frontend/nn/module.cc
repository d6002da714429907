#include "frontend/nn/module.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "absl/strings/str_join.h"
#include "frontend/nn/serialize.h"

namespace cortado {
namespace frontend {
namespace nn {
namespace {

std::string Join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

}  // namespace

void Module::CheckNewName(const std::string& name) const {
  if (name.empty() || name.find('.') != std::string::npos) {
    throw Error(absl::InvalidArgumentError(absl::StrCat(
        this->name(), ": bad registration name '", name, "' (must be non-empty, without '.')")));
  }
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == name; });
  };
  if (taken(parameters_) || taken(buffers_) || taken(children_)) {
    throw Error(absl::AlreadyExistsError(
        absl::StrCat(this->name(), ": '", name, "' is already registered")));
  }
}

Tensor& Module::register_parameter(std::string name, Tensor t) {
  CheckNewName(name);
  if (!t.defined()) {
    throw Error(absl::InvalidArgumentError(
        absl::StrCat(this->name(), ": parameter '", name, "' is undefined")));
  }
  if (!(t.is_leaf() && t.requires_grad())) {
    t = t.detach();
    t.requires_grad_(true);
  }
  parameters_.emplace_back(std::move(name), std::move(t));
  return parameters_.back().second;
}

Tensor& Module::register_buffer(std::string name, Tensor t) {
  CheckNewName(name);
  if (!t.defined()) {
    throw Error(absl::InvalidArgumentError(
        absl::StrCat(this->name(), ": buffer '", name, "' is undefined")));
  }
  buffers_.emplace_back(std::move(name), std::move(t));
  return buffers_.back().second;
}

void Module::AddChild(std::string name, std::shared_ptr<Module> m) {
  CheckNewName(name);
  if (m == nullptr) {
    throw Error(
        absl::InvalidArgumentError(absl::StrCat(this->name(), ": submodule '", name, "' is null")));
  }
  children_.emplace_back(std::move(name), std::move(m));
}

void Module::CollectParameters(const std::string& prefix, bool recurse, NamedTensors& out,
                               std::vector<const TensorImpl*>& seen) const {
  for (const auto& [name, t] : parameters_) {
    if (std::find(seen.begin(), seen.end(), t.impl()) != seen.end()) continue;
    seen.push_back(t.impl());
    out.emplace_back(Join(prefix, name), t);
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_) {
    child->CollectParameters(Join(prefix, name), true, out, seen);
  }
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  std::vector<const TensorImpl*> seen;
  CollectParameters("", recurse, out, seen);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters(recurse)) out.push_back(std::move(t));
  return out;
}

void Module::CollectBuffers(const std::string& prefix, bool recurse, NamedTensors& out) const {
  for (const auto& [name, t] : buffers_) out.emplace_back(Join(prefix, name), t);
  if (!recurse) return;
  for (const auto& [name, child] : children_) child->CollectBuffers(Join(prefix, name), true, out);
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  CollectBuffers("", recurse, out);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_buffers(recurse)) out.push_back(std::move(t));
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

void Module::CollectModules(const std::string& prefix,
                            std::vector<std::pair<std::string, Module*>>& out) {
  out.emplace_back(prefix, this);
  for (auto& [name, child] : children_) child->CollectModules(Join(prefix, name), out);
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  CollectModules("", out);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (Tensor& t : parameters()) {
    if (t.grad().defined()) t.set_grad(Tensor());
  }
}

void Module::CollectState(const std::string& prefix, NamedTensors& out) const {
  for (const auto& [name, t] : parameters_) out.emplace_back(Join(prefix, name), t);
  for (const auto& [name, t] : buffers_) out.emplace_back(Join(prefix, name), t);
  for (const auto& [name, child] : children_) child->CollectState(Join(prefix, name), out);
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  CollectState("", out);
  return out;
}

absl::Status Module::load_state_dict(
    const std::vector<std::pair<std::string, cortado::Tensor>>& state) {
  std::map<std::string, const cortado::Tensor*> given;
  for (const auto& [name, value] : state) given[name] = &value;
  NamedTensors mine = state_dict();
  std::vector<std::string> missing, unexpected, mismatched;
  std::vector<std::pair<Tensor*, const cortado::Tensor*>> copies;
  for (auto& [name, t] : mine) {
    auto it = given.find(name);
    if (it == given.end()) {
      missing.push_back(name);
      continue;
    }
    const cortado::Tensor& v = *it->second;
    if (!v.defined() || v.dtype() != t.dtype() || v.shape() != t.shape()) {
      mismatched.push_back(absl::StrCat(name, " (given ",
                                        v.defined() ? DTypeName(v.dtype()) : "undefined",
                                        ShapeToString(v.shape()), ", module has ",
                                        DTypeName(t.dtype()), ShapeToString(t.shape()), ")"));
      continue;
    }
    copies.emplace_back(&t, &v);
  }
  std::set<std::string> known;
  for (const auto& entry : mine) known.insert(entry.first);
  for (const auto& [name, value] : state) {
    if (known.count(name) == 0) unexpected.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::vector<std::string> problems;
    if (!missing.empty()) {
      problems.push_back(absl::StrCat("missing keys: ", absl::StrJoin(missing, ", ")));
    }
    if (!unexpected.empty()) {
      problems.push_back(absl::StrCat("unexpected keys: ", absl::StrJoin(unexpected, ", ")));
    }
    if (!mismatched.empty()) {
      problems.push_back(
          absl::StrCat("shape or dtype mismatch: ", absl::StrJoin(mismatched, ", ")));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("load_state_dict into ", name(), ": ", absl::StrJoin(problems, "; ")));
  }
  for (auto& [dst, src] : copies) {
    if (src->nbytes() > 0) {
      std::memcpy(dst->mutable_value().raw_data(), src->raw_data(), src->nbytes());
    }
  }
  return absl::OkStatus();
}

absl::Status Module::save(const std::string& path) const {
  NamedValues entries;
  for (const auto& [name, t] : state_dict()) entries.emplace_back(name, t.value());
  return SaveTensors(path, entries);
}

absl::Status Module::load(const std::string& path) {
  ASSIGN_OR_RETURN(NamedValues entries, LoadTensors(path));
  absl::Status st = load_state_dict(entries);
  if (!st.ok()) return absl::Status(st.code(), absl::StrCat(path, ": ", st.message()));
  return absl::OkStatus();
}

void Module::Print(std::string& out, int indent) const {
  out += name();
  out += "(";
  out += extra_repr();
  if (!children_.empty()) {
    out += "\n";
    const std::string pad(indent + 2, ' ');
    for (const auto& [child_name, child] : children_) {
      out += pad + "(" + child_name + "): ";
      child->Print(out, indent + 2);
      out += "\n";
    }
    out += std::string(indent, ' ');
  }
  out += ")";
}

std::string Module::str() const {
  std::string out;
  Print(out, 0);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Module& module) { return os << module.str(); }

}  // namespace nn
}  // namespace frontend
}  // namespace cortado
