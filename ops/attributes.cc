#include "ops/attributes.h"

namespace cortado {

AttrType TypeOf(const AttrValue& value) { return static_cast<AttrType>(value.index()); }

absl::string_view AttrTypeName(AttrType type) {
  switch (type) {
    case AttrType::kInt: return "int";
    case AttrType::kFloat: return "float";
    case AttrType::kString: return "string";
    case AttrType::kInts: return "ints";
    case AttrType::kFloats: return "floats";
    case AttrType::kStrings: return "strings";
    case AttrType::kTensor: return "tensor";
    case AttrType::kGraph: return "graph";
  }
  return "unknown";
}

const AttrValue* AttributeMap::Find(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? nullptr : &it->second;
}

namespace {
template <typename T>
T GetOr(const AttributeMap& map, absl::string_view name, T def) {
  const AttrValue* v = map.Find(name);
  if (v == nullptr) return def;
  if (const T* p = std::get_if<T>(v)) return *p;
  return def;
}
}  // namespace

int64_t AttributeMap::GetInt(absl::string_view name, int64_t def) const {
  return GetOr<int64_t>(*this, name, def);
}
float AttributeMap::GetFloat(absl::string_view name, float def) const {
  return GetOr<float>(*this, name, def);
}
std::string AttributeMap::GetString(absl::string_view name, const std::string& def) const {
  return GetOr<std::string>(*this, name, def);
}
std::vector<int64_t> AttributeMap::GetInts(absl::string_view name,
                                           std::vector<int64_t> def) const {
  return GetOr<std::vector<int64_t>>(*this, name, std::move(def));
}
std::vector<float> AttributeMap::GetFloats(absl::string_view name, std::vector<float> def) const {
  return GetOr<std::vector<float>>(*this, name, std::move(def));
}
std::vector<std::string> AttributeMap::GetStrings(absl::string_view name) const {
  return GetOr<std::vector<std::string>>(*this, name, {});
}
Tensor AttributeMap::GetTensor(absl::string_view name) const {
  return GetOr<Tensor>(*this, name, Tensor());
}

}  // namespace cortado
