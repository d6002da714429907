#include "server/grpc/grpc_codec.h"

#include <cstring>

#include "gtest/gtest.h"

namespace cortado {
namespace {

using inference::ModelInferRequest;

std::string RawOf(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

ModelInferRequest::InferInputTensor* AddInput(ModelInferRequest* r, const std::string& name,
                                              const std::string& datatype, Shape shape) {
  auto* in = r->add_inputs();
  in->set_name(name);
  in->set_datatype(datatype);
  for (int64_t d : shape) in->add_shape(d);
  return in;
}

TEST(GrpcStatus, EveryCodeMapsAndTheMessageStays) {
  for (int c = 0; c <= 16; ++c) {
    const absl::Status s(static_cast<absl::StatusCode>(c), c == 0 ? "" : "the message");
    const grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), c);
    if (c != 0) {
      EXPECT_EQ(g.error_message(), "the message");
    }
  }
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("unknown model 'x'")).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST(DecodeInferRequest, RawInputs) {
  ModelInferRequest r;
  r.set_model_name("mlp");
  r.set_model_version("2");
  r.set_id("abc");
  AddInput(&r, "x", "FP32", {2, 2});
  r.add_raw_input_contents(RawOf({1, 2, 3, 4}));
  AddInput(&r, "s", "BYTES", {2});
  r.add_raw_input_contents(std::string("\x01\0\0\0a\x03\0\0\0bcd", 12));
  AddInput(&r, "b", "BOOL", {3});
  r.add_raw_input_contents(std::string("\x01\x00\x07", 3));
  r.add_outputs()->set_name("y");
  auto decoded = DecodeInferRequest(r);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->model_name, "mlp");
  EXPECT_EQ(decoded->model_version, "2");
  EXPECT_EQ(decoded->id, "abc");
  EXPECT_EQ(decoded->protocol, Protocol::kGrpc);
  ASSERT_EQ(decoded->inputs.size(), 3u);
  const Tensor& x = decoded->inputs[0].second;
  EXPECT_EQ(x.dtype(), DType::kFloat32);
  EXPECT_EQ(x.shape(), (Shape{2, 2}));
  EXPECT_EQ(x.data<float>()[3], 4.0f);
  const Tensor& s = decoded->inputs[1].second;
  EXPECT_EQ(s.data<std::string>()[0], "a");
  EXPECT_EQ(s.data<std::string>()[1], "bcd");
  const Tensor& b = decoded->inputs[2].second;
  EXPECT_TRUE(b.data<bool>()[0]);
  EXPECT_FALSE(b.data<bool>()[1]);
  EXPECT_TRUE(b.data<bool>()[2]);
  EXPECT_EQ(decoded->requested_outputs, std::vector<std::string>{"y"});
}

TEST(DecodeInferRequest, TypedInputs) {
  ModelInferRequest r;
  r.set_model_name("m");
  auto* f = AddInput(&r, "f", "FP32", {1, 3});
  for (float v : {0.5f, 1.5f, 2.5f}) f->mutable_contents()->add_fp32_contents(v);
  auto* i8 = AddInput(&r, "i8", "INT8", {2});
  i8->mutable_contents()->add_int_contents(-128);
  i8->mutable_contents()->add_int_contents(127);
  auto* u64 = AddInput(&r, "u64", "UINT64", {1});
  u64->mutable_contents()->add_uint64_contents(uint64_t{1} << 63);
  auto* s = AddInput(&r, "s", "BYTES", {1});
  s->mutable_contents()->add_bytes_contents("hello");
  auto decoded = DecodeInferRequest(r);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->inputs[0].second.data<float>()[2], 2.5f);
  EXPECT_EQ(decoded->inputs[1].second.data<int8_t>()[0], -128);
  EXPECT_EQ(decoded->inputs[2].second.data<uint64_t>()[0], uint64_t{1} << 63);
  EXPECT_EQ(decoded->inputs[3].second.data<std::string>()[0], "hello");
}

// Each malformed request is InvalidArgument (or Unimplemented) with a message naming the input.
TEST(DecodeInferRequest, BadRequests) {
  struct Case {
    const char* what;
    std::function<void(ModelInferRequest*)> make;
    absl::StatusCode code;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"raw size short by one byte",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FP32", {1, 4});
         r->add_raw_input_contents(RawOf({1, 2, 3, 4}).substr(1));
       },
       absl::StatusCode::kInvalidArgument,
       "the data is 15 bytes, but shape [1,4] of FP32 needs 16"},
      {"raw size one element too many",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FP32", {1, 3});
         r->add_raw_input_contents(RawOf({1, 2, 3, 4}));
       },
       absl::StatusCode::kInvalidArgument, "input 'x'"},
      {"raw count differs from inputs",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FP32", {1});
         AddInput(r, "y", "FP32", {1});
         r->add_raw_input_contents(RawOf({1}));
       },
       absl::StatusCode::kInvalidArgument, "raw_input_contents has 1 entries for 2 inputs"},
      {"typed count differs from shape",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FP32", {2, 2})->mutable_contents()->add_fp32_contents(1);
       },
       absl::StatusCode::kInvalidArgument, "needs 4 elements, fp32_contents has 1"},
      {"typed data in the wrong field",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FP32", {1})->mutable_contents()->add_int64_contents(1);
       },
       absl::StatusCode::kInvalidArgument, "takes its data in fp32_contents"},
      {"typed value out of range",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "UINT8", {1})->mutable_contents()->add_uint_contents(256);
       },
       absl::StatusCode::kInvalidArgument, "out of range"},
      {"FP16 typed",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FP16", {1})->mutable_contents()->add_fp32_contents(1);
       },
       absl::StatusCode::kInvalidArgument, "send it in raw_input_contents"},
      {"unknown datatype",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FLOAT", {1});
         r->add_raw_input_contents(RawOf({1}));
       },
       absl::StatusCode::kInvalidArgument, "unknown datatype 'FLOAT'"},
      {"negative dimension",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FP32", {-1, 4});
         r->add_raw_input_contents(RawOf({1, 2, 3, 4}));
       },
       absl::StatusCode::kInvalidArgument, "input 'x'"},
      {"huge shape, tiny data",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FP32", {int64_t{1} << 30, int64_t{1} << 30});
         r->add_raw_input_contents(RawOf({1}));
       },
       absl::StatusCode::kInvalidArgument, "input 'x'"},
      {"BYTES length past the end",
       [](ModelInferRequest* r) {
         AddInput(r, "s", "BYTES", {1});
         r->add_raw_input_contents(std::string("\x09\0\0\0ab", 6));
       },
       absl::StatusCode::kInvalidArgument, "claims 9 bytes but only 2 remain"},
      {"BYTES truncated length",
       [](ModelInferRequest* r) {
         AddInput(r, "s", "BYTES", {2});
         r->add_raw_input_contents(std::string("\x01\0\0\0a\x01\0", 7));
       },
       absl::StatusCode::kInvalidArgument, "ends inside the 4-byte length"},
      {"BYTES too few elements",
       [](ModelInferRequest* r) {
         AddInput(r, "s", "BYTES", {3});
         r->add_raw_input_contents(std::string("\x01\0\0\0a", 5));
       },
       absl::StatusCode::kInvalidArgument, "needs 3 BYTES elements, the data holds 1"},
      {"duplicate input",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FP32", {1});
         AddInput(r, "x", "FP32", {1});
         r->add_raw_input_contents(RawOf({1}));
         r->add_raw_input_contents(RawOf({1}));
       },
       absl::StatusCode::kInvalidArgument, "given more than once"},
      {"typed and raw mixed",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FP32", {1})->mutable_contents()->add_fp32_contents(1);
         r->add_raw_input_contents(RawOf({1}));
       },
       absl::StatusCode::kInvalidArgument, "typed contents although"},
      {"shared memory",
       [](ModelInferRequest* r) {
         auto* in = AddInput(r, "x", "FP32", {1});
         (*in->mutable_parameters())["shared_memory_region"].set_string_param("r");
       },
       absl::StatusCode::kUnimplemented, "shared memory is not supported"},
      {"classification",
       [](ModelInferRequest* r) {
         AddInput(r, "x", "FP32", {1})->mutable_contents()->add_fp32_contents(1);
         auto* out = r->add_outputs();
         out->set_name("y");
         (*out->mutable_parameters())["classification"].set_int64_param(3);
       },
       absl::StatusCode::kUnimplemented, "classification is not supported"},
  };
  for (const Case& c : cases) {
    ModelInferRequest r;
    r.set_model_name("m");
    c.make(&r);
    auto decoded = DecodeInferRequest(r);
    ASSERT_FALSE(decoded.ok()) << c.what;
    EXPECT_EQ(decoded.status().code(), c.code) << c.what << ": " << decoded.status();
    EXPECT_NE(decoded.status().message().find(c.message_part), absl::string_view::npos)
        << c.what << ": " << decoded.status();
  }
  ModelInferRequest no_name;
  EXPECT_EQ(DecodeInferRequest(no_name).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EncodeInferResponse, RawOutputsLikeTriton) {
  InferResponse response;
  response.model_name = "mlp";
  response.model_version = "1";
  response.id = "7";
  response.outputs.emplace_back("p", Tensor::FromVector<float>({0.25f, 0.75f}, {1, 2}));
  response.outputs.emplace_back("s", Tensor::FromVector<std::string>({"xy", ""}, {2}));
  response.outputs.emplace_back("b", Tensor::FromVector<bool>({true, false}, {2}));
  response.outputs.emplace_back("i", Tensor::FromVector<int64_t>({-1}, {}));
  inference::ModelInferResponse out;
  ASSERT_TRUE(EncodeInferResponse(response, &out).ok());
  EXPECT_EQ(out.model_name(), "mlp");
  EXPECT_EQ(out.model_version(), "1");
  EXPECT_EQ(out.id(), "7");
  ASSERT_EQ(out.outputs_size(), 4);
  ASSERT_EQ(out.raw_output_contents_size(), 4);
  EXPECT_EQ(out.outputs(0).datatype(), "FP32");
  EXPECT_EQ(out.outputs(0).shape_size(), 2);
  EXPECT_EQ(out.raw_output_contents(0), RawOf({0.25f, 0.75f}));
  EXPECT_EQ(out.outputs(1).datatype(), "BYTES");
  EXPECT_EQ(out.raw_output_contents(1), std::string("\x02\0\0\0xy\0\0\0\0", 10));
  EXPECT_EQ(out.raw_output_contents(2), std::string("\x01\x00", 2));
  EXPECT_EQ(out.outputs(3).shape_size(), 0);
  EXPECT_EQ(out.raw_output_contents(3).size(), 8u);
  EXPECT_FALSE(out.outputs(0).has_contents());
}

}  // namespace
}  // namespace cortado
