// The CUDA backend's data movement, on float32 and float16 tensors: Transpose (a tiled kernel
// for 2-D float32, the strided copy otherwise), Slice with constant starts/ends/axes/steps (the
// strided copy), Concat (one cudaMemcpy2DAsync per input), Gather with indices on the host
// (uploaded per run) and Cast between float32 and float16.
#include <cstring>
#include <vector>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/kernel_params.h"
#include "backends/cuda/kernels.h"
#include "ops/concat.h"
#include "ops/slice.h"

namespace cortado {
namespace cuda {
namespace {

class TransposeKernel final : public Kernel {
 public:
  explicit TransposeKernel(std::vector<int64_t> perm) : perm_(std::move(perm)) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(StridedView v, TransposeView(x->shape(), perm_));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), Shape(v.dims, v.dims + v.rank)));
    if (x->rank() == 2 && x->dtype() == DType::kFloat32) {
      return CudaError(
          LaunchTranspose2D(x->data<float>(), y->data<float>(), x->dim(0), x->dim(1), s->stream),
          "transpose kernel");
    }
    return CudaError(LaunchStridedCopy(x->raw_data(), y->raw_data(),
                                       static_cast<int>(DTypeSize(x->dtype())), v, s->stream),
                     "transpose kernel");
  }

 private:
  const std::vector<int64_t> perm_;
};

class SliceKernel final : public Kernel {
 public:
  SliceKernel(std::vector<int64_t> starts, std::vector<int64_t> ends,
              std::optional<std::vector<int64_t>> axes, std::optional<std::vector<int64_t>> steps)
      : starts_(std::move(starts)),
        ends_(std::move(ends)),
        axes_(std::move(axes)),
        steps_(std::move(steps)) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(std::vector<SliceDim> dims,
                     SliceDims(x->shape(), starts_, ends_, axes_, steps_));
    ASSIGN_OR_RETURN(StridedView v, SliceView(x->shape(), dims));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), Shape(v.dims, v.dims + v.rank)));
    return CudaError(LaunchStridedCopy(x->raw_data(), y->raw_data(),
                                       static_cast<int>(DTypeSize(x->dtype())), v, s->stream),
                     "slice kernel");
  }
  // starts, ends, axes and steps were read when the kernel was made.
  bool InputOnHost(int i) const override { return i >= 1; }
  bool OwnsConstantInput(int i) const override { return i >= 1; }

 private:
  const std::vector<int64_t> starts_, ends_;
  const std::optional<std::vector<int64_t>> axes_, steps_;
};

// A Slice whose starts, ends, axes and steps are attributes (opset < 10) or constant inputs.
std::unique_ptr<Kernel> MakeSlice(const KernelInfo& node) {
  const AttributeMap& attrs = *node.attrs;
  if (node.opset < 10) {
    return std::make_unique<SliceKernel>(
        attrs.GetInts("starts"), attrs.GetInts("ends"),
        attrs.Has("axes") ? std::optional(attrs.GetInts("axes")) : std::nullopt, std::nullopt);
  }
  std::vector<int64_t> values[4];  // starts, ends, axes, steps
  for (size_t i = 1; i < 5; ++i) {
    if (i >= node.input_dtypes.size() || node.input_dtypes[i] == DType::kUndefined) {
      if (i < 3) return nullptr;
      continue;
    }
    if (!IsConstant(node, i)) return nullptr;
    absl::StatusOr<std::vector<int64_t>> v = node.constant_inputs[i]->ToInt64Vector();
    if (!v.ok()) return nullptr;
    values[i - 1] = *std::move(v);
  }
  return std::make_unique<SliceKernel>(values[0], values[1], values[2], values[3]);
}

class ConcatKernel final : public Kernel {
 public:
  explicit ConcatKernel(int64_t axis) : axis_(axis) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(ConcatOperands c, CheckConcat(ctx, axis_));
    const DType dtype = c.inputs[0]->dtype();
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, dtype, c.out));
    if (y->num_elements() == 0) return absl::OkStatus();
    const size_t bytes = DTypeSize(dtype);
    int64_t rows = 1, inner = 1;
    for (int d = 0; d < c.axis; ++d) rows *= c.out[d];
    for (size_t d = c.axis + 1; d < c.out.size(); ++d) inner *= c.out[d];
    const size_t pitch = static_cast<size_t>(c.out[c.axis] * inner) * bytes;
    size_t offset = 0;
    for (const Tensor* x : c.inputs) {
      const size_t width = static_cast<size_t>(x->dim(c.axis) * inner) * bytes;
      if (width > 0) {
        RETURN_IF_ERROR(
            CudaError(cudaMemcpy2DAsync(static_cast<char*>(y->raw_data()) + offset, pitch,
                                        x->raw_data(), width, width, static_cast<size_t>(rows),
                                        cudaMemcpyDeviceToDevice, s->stream),
                      "concat copy"));
      }
      offset += width;
    }
    return absl::OkStatus();
  }

 private:
  const int64_t axis_;
};

// Gather along `axis` with int32 or int64 indices on the host, checked and uploaded per run.
class GatherKernel final : public Kernel {
 public:
  explicit GatherKernel(int64_t axis) : axis_(axis) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* indices, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(GatherDims g, GatherFor(x->shape(), indices->shape(), axis_));
    ASSIGN_OR_RETURN(std::vector<int64_t> host, GatherIndices(*indices, g.axis_dim));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), g.out));
    if (y->num_elements() == 0) return absl::OkStatus();
    ASSIGN_OR_RETURN(Tensor device, Tensor::Create(DType::kInt64, {g.count}, ctx.allocator()));
    // From pageable memory: returns once `host` has been staged, so it may go.
    RETURN_IF_ERROR(CudaError(cudaMemcpyAsync(device.raw_data(), host.data(), device.nbytes(),
                                              cudaMemcpyHostToDevice, s->stream),
                              "upload the indices"));
    return CudaError(
        LaunchGather(x->raw_data(), y->raw_data(), static_cast<int>(DTypeSize(x->dtype())),
                     device.data<int64_t>(), g.outer, g.axis_dim, g.inner, g.count, s->stream),
        "gather kernel");
  }
  bool InputOnHost(int i) const override { return i == 1; }

 private:
  const int64_t axis_;
};

class CastKernel final : public Kernel {
 public:
  explicit CastKernel(DType to) : to_(to) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const DType from = to_ == DType::kFloat16 ? DType::kFloat32 : DType::kFloat16;
    if (x->dtype() != from) {
      return absl::InvalidArgumentError(
          absl::StrCat("Cast on CUDA: ", DTypeName(x->dtype()), " to ", DTypeName(to_)));
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, to_, x->shape()));
    const int code =
        to_ == DType::kFloat16
            ? LaunchFloatToHalf(x->data<float>(), y->raw_data(), x->num_elements(), s->stream)
            : LaunchHalfToFloat(x->raw_data(), y->data<float>(), x->num_elements(), s->stream);
    return CudaError(code, "cast kernel");
  }

 private:
  const DType to_;
};

}  // namespace

std::unique_ptr<Kernel> MakeTensorKernel(const KernelInfo& node) {
  if (!node.domain.empty()) return nullptr;
  if (std::optional<DType> to = CastFor(node)) return std::make_unique<CastKernel>(*to);
  const AttributeMap& attrs = *node.attrs;
  auto rank_fits = [&](size_t i) {
    return i >= node.input_shapes.size() || !node.input_shapes[i] ||
           node.input_shapes[i]->size() <= static_cast<size_t>(kMaxRank);
  };
  if (!InputDTypeIn(node, 0, {DType::kFloat32, DType::kFloat16}) || !rank_fits(0)) return nullptr;
  if (node.op_type == "Transpose") {
    return std::make_unique<TransposeKernel>(attrs.GetInts("perm"));
  }
  if (node.op_type == "Slice") return MakeSlice(node);
  if (node.op_type == "Gather") {
    if (!InputDTypeIn(node, 1, {DType::kInt64, DType::kInt32})) return nullptr;
    return std::make_unique<GatherKernel>(attrs.GetInt("axis", 0));
  }
  if (node.op_type == "Concat" && node.opset >= 4) {
    for (size_t i = 1; i < node.input_dtypes.size(); ++i) {
      if (node.input_dtypes[i] != node.input_dtypes[0]) return nullptr;
    }
    return std::make_unique<ConcatKernel>(attrs.GetInt("axis"));
  }
  return nullptr;
}

}  // namespace cuda
}  // namespace cortado
