#include "server/repository/version_policy.h"

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace cortado {
namespace {

inference::ModelVersionPolicy Policy(const std::string& text) {
  inference::ModelVersionPolicy p;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &p)) << text;
  return p;
}

using V = std::vector<int64_t>;

TEST(VersionPolicyTest, LatestDefaultsToOne) {
  EXPECT_EQ(SelectVersions(inference::ModelVersionPolicy(), {1, 3, 2}), V({3}));
}

TEST(VersionPolicyTest, LatestN) {
  EXPECT_EQ(SelectVersions(Policy("latest { num_versions: 2 }"), {1, 3, 2, 10}), V({3, 10}));
  EXPECT_EQ(SelectVersions(Policy("latest { num_versions: 5 }"), {4, 2}), V({2, 4}));
  EXPECT_EQ(SelectVersions(Policy("latest { num_versions: 1 }"), {}), V({}));
}

TEST(VersionPolicyTest, All) {
  EXPECT_EQ(SelectVersions(Policy("all {}"), {3, 1, 2}), V({1, 2, 3}));
}

TEST(VersionPolicyTest, Specific) {
  EXPECT_EQ(SelectVersions(Policy("specific { versions: [1, 3, 7] }"), {1, 2, 3, 4}), V({1, 3}));
  EXPECT_EQ(SelectVersions(Policy("specific { versions: [9] }"), {1, 2}), V({}));
}

TEST(VersionPolicyTest, CandidatesAreNewestFirst) {
  EXPECT_EQ(CandidateVersions(Policy("latest { num_versions: 1 }"), {1, 3, 2}), V({3, 2, 1}));
  EXPECT_EQ(WantedVersionCount(Policy("latest { num_versions: 1 }"), 3), 1u);
  EXPECT_EQ(WantedVersionCount(Policy("all {}"), 3), 3u);
}

}  // namespace
}  // namespace cortado
