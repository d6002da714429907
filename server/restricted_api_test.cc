#include "server/restricted_api.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace cortado {
namespace {

RestrictedApis::HeaderLookup Headers(std::map<std::string, std::string> h) {
  return [h](absl::string_view name) -> std::optional<std::string> {
    auto it = h.find(std::string(name));
    if (it == h.end()) return std::nullopt;
    return it->second;
  };
}

TEST(RestrictedApis, OnlyTheRightKeyAndValueOpenARestrictedCategory) {
  RestrictedApis r;
  ASSERT_TRUE(r.Add("model-repository,model-config:Admin-Key=s3cret").ok());
  ASSERT_TRUE(r.Add("inference:infer-key=k").ok());
  EXPECT_TRUE(r.Check(ApiCategory::kHealth, Headers({})).ok());
  EXPECT_TRUE(r.Check(ApiCategory::kModelRepository, Headers({{"admin-key", "s3cret"}})).ok());
  EXPECT_TRUE(r.Check(ApiCategory::kModelConfig, Headers({{"admin-key", "s3cret"}})).ok());
  absl::Status missing = r.Check(ApiCategory::kModelRepository, Headers({}));
  EXPECT_EQ(missing.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(missing.message().find("needs the header 'admin-key'"), std::string::npos);
  absl::Status wrong = r.Check(ApiCategory::kModelConfig, Headers({{"admin-key", "guess"}}));
  EXPECT_EQ(wrong.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(wrong.message().find("s3cret"), std::string::npos);  // never tells the value
  EXPECT_FALSE(r.Check(ApiCategory::kInference, Headers({{"admin-key", "s3cret"}})).ok());
  EXPECT_TRUE(r.Check(ApiCategory::kInference, Headers({{"infer-key", "k"}})).ok());
}

TEST(RestrictedApis, BadSpecsAreRefused) {
  RestrictedApis r;
  EXPECT_FALSE(r.Add("model-repository").ok());
  EXPECT_FALSE(r.Add("model-repository:key").ok());
  EXPECT_FALSE(r.Add("model-repository:=v").ok());
  EXPECT_FALSE(r.Add("repository:k=v").ok());
  ASSERT_TRUE(r.Add("statistics:k=v").ok());
  EXPECT_FALSE(r.Add("statistics:k=w").ok());
}

}  // namespace
}  // namespace cortado
