#include "server/http/router.h"

#include "gtest/gtest.h"

namespace cortado {
namespace http {
namespace {

struct Good {
  const char* target;
  Endpoint endpoint;
  bool post;
  const char* model;
  const char* version;
};

TEST(ParseRoute, Endpoints) {
  const Good cases[] = {
      {"/v2", Endpoint::kServerMetadata, false, "", ""},
      {"/v2/health/live", Endpoint::kServerLive, false, "", ""},
      {"/v2/health/ready?x=1", Endpoint::kServerReady, false, "", ""},
      {"/v2/models/mlp", Endpoint::kModelMetadata, false, "mlp", ""},
      {"/v2/models/mlp/versions/12", Endpoint::kModelMetadata, false, "mlp", "12"},
      {"/v2/models/mlp/ready", Endpoint::kModelReady, false, "mlp", ""},
      {"/v2/models/mlp/versions/3/ready", Endpoint::kModelReady, false, "mlp", "3"},
      {"/v2/models/mlp/config", Endpoint::kModelConfig, false, "mlp", ""},
      {"/v2/models/mlp/versions/1/config", Endpoint::kModelConfig, false, "mlp", "1"},
      {"/v2/models/mlp/stats", Endpoint::kModelStatistics, false, "mlp", ""},
      {"/v2/models/stats", Endpoint::kModelStatistics, false, "", ""},
      {"/v2/models/mlp/infer", Endpoint::kModelInfer, true, "mlp", ""},
      {"/v2/models/mlp/versions/2/infer", Endpoint::kModelInfer, true, "mlp", "2"},
      {"/v2/models/my%20model/infer", Endpoint::kModelInfer, true, "my model", ""},
      {"/v2/models/ready", Endpoint::kModelMetadata, false, "ready", ""},
      {"/v2/repository/index", Endpoint::kRepositoryIndex, true, "", ""},
      {"/v2/repository/models/mlp/load", Endpoint::kModelLoad, true, "mlp", ""},
      {"/v2/repository/models/mlp/unload", Endpoint::kModelUnload, true, "mlp", ""},
  };
  for (const Good& c : cases) {
    auto r = ParseRoute(c.target);
    ASSERT_TRUE(r.ok()) << c.target << ": " << r.status();
    EXPECT_EQ(r->endpoint, c.endpoint) << c.target;
    EXPECT_EQ(r->post, c.post) << c.target;
    EXPECT_EQ(r->model, c.model) << c.target;
    EXPECT_EQ(r->version, c.version) << c.target;
  }
}

TEST(ParseRoute, Refusals) {
  const struct {
    const char* target;
    absl::StatusCode code;
  } cases[] = {
      {"/", absl::StatusCode::kNotFound},
      {"/v1/models/mlp", absl::StatusCode::kNotFound},
      {"/v2/health", absl::StatusCode::kNotFound},
      {"/v2/health/alive", absl::StatusCode::kNotFound},
      {"/v2/models", absl::StatusCode::kNotFound},
      {"/v2/repository/models/mlp/reload", absl::StatusCode::kNotFound},
      {"/v2/models/mlp/versions/abc/infer", absl::StatusCode::kInvalidArgument},
      {"/v2/models/mlp/versions/-1", absl::StatusCode::kInvalidArgument},
      {"/v2/models/mlp/versions//ready", absl::StatusCode::kInvalidArgument},
      {"/v2/models/../infer", absl::StatusCode::kInvalidArgument},
      {"/v2/models/%2E%2E/config", absl::StatusCode::kInvalidArgument},
      {"/v2/models/a/b/infer", absl::StatusCode::kInvalidArgument},
      {"/v2/models/a%2Fb/infer", absl::StatusCode::kInvalidArgument},
      {"/v2/models/a%5Cb", absl::StatusCode::kInvalidArgument},
      {"/v2/models/a%00b", absl::StatusCode::kInvalidArgument},
      {"/v2/models/a%2", absl::StatusCode::kInvalidArgument},
      {"/v2/models/a%zz", absl::StatusCode::kInvalidArgument},
      {"/v2/models//infer", absl::StatusCode::kInvalidArgument},
      {"/v2/repository/models/../load", absl::StatusCode::kInvalidArgument},
      {"/v2/repository/models/x/y/unload", absl::StatusCode::kInvalidArgument},
  };
  for (const auto& c : cases) {
    auto r = ParseRoute(c.target);
    ASSERT_FALSE(r.ok()) << c.target;
    EXPECT_EQ(r.status().code(), c.code) << c.target << ": " << r.status();
  }
}

TEST(ValidateModelName, Names) {
  EXPECT_TRUE(ValidateModelName("resnet50_v1.5-int8").ok());
  EXPECT_TRUE(ValidateModelName("..x").ok());
  EXPECT_FALSE(ValidateModelName("").ok());
  EXPECT_FALSE(ValidateModelName(".").ok());
  EXPECT_FALSE(ValidateModelName("..").ok());
  EXPECT_FALSE(ValidateModelName("a/b").ok());
}

}  // namespace
}  // namespace http
}  // namespace cortado
