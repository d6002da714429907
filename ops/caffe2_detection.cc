// Caffe2's Detectron operators (caffe2/operators/generate_proposals_op*.{h,cc},
// bbox_transform_op.cc, box_with_nms_limit_op.cc, roi_align_op.cc), in kCaffe2Domain, for upright
// boxes (x1, y1, x2, y2). `legacy_plus_one` (default 1, as Caffe2) adds one to widths and heights
// and subtracts it from clip limits and predicted x2/y2 (Detectron's pixel convention).
// - BBoxTransform(rois [R, 4|5], deltas [R, 4K], im_info [N, 3]) -> boxes [R, 4K]
//   (+ roi_batch_splits [N]): per image, boxes / scale (im_info[2]) are shifted by the deltas
//   (divided by `weights`, dw/dh clipped at log(1000/16)), clipped to the image of size
//   round(h / scale) x round(w / scale), and multiplied back by the scale when `apply_scale`.
// - GenerateProposals(scores [N, A, H, W], deltas [N, 4A, H, W], im_info [N, 3], anchors
//   [A, 4]) -> rois [R, 5] (batch index, box), probs [R]: anchors shifted by 1/spatial_scale per
//   cell in (h, w, a) order; the pre_nms_topN best scores (all if <= 0); boxes transformed with
//   weights 1, clipped to im_info's height and width (as ints), those narrower or lower than
//   min_size * im_info[2] or whose centre is outside the image dropped; greedy NMS at
//   nms_thresh, at most post_nms_topN kept.
// - BoxWithNMSLimit(scores [R, C], boxes [R, 4C]) -> scores [D], boxes [D, 4], classes [D]
//   (float): for each class from 1 (0 is background), boxes scoring above score_thresh, by
//   descending score, greedy NMS at `nms`; if more than detections_per_im survive, the best ones.
//   Output is class by class, each by descending score.
// - RoIAlign(X [N, C, H, W], rois [R, 4|5]) -> [R, C, pooled_h, pooled_w]: average of
//   bilinear samples, sampling_ratio per bin (ceil(roi size / pooled) if 0); `aligned` shifts
//   by half a pixel and allows rois smaller than one pixel. (The importer turns NHWC into this.)
// NMS suppresses a box whose IoU with a kept one is above the threshold. Ties in scores keep
// index order.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/registry.h"

namespace cortado {
namespace {

absl::Status Invalid(absl::string_view op, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", message));
}

absl::Status CheckFloat(absl::string_view op, const Tensor& t, absl::string_view what, int rank) {
  if (t.dtype() != DType::kFloat32 || t.rank() != rank) {
    return Invalid(op, absl::StrCat(what, " must be float32 of rank ", rank, ", got ",
                                    DTypeName(t.dtype()), " ", ShapeToString(t.shape())));
  }
  return absl::OkStatus();
}

// A roi's image: its first column, which must name one of `batch` images.
absl::StatusOr<int64_t> ImageIndex(absl::string_view op, float index, int64_t batch) {
  if (!(index >= 0.0f && index < static_cast<float>(batch))) {
    return Invalid(op, absl::StrCat("a roi names image ", index, " of ", batch));
  }
  return static_cast<int64_t>(index);
}

struct Box {
  float x1, y1, x2, y2;
};

const float kBBoxXformClip = std::log(1000.0f / 16.0f);

// Detectron's bbox_transform for one box.
Box Transform(const Box& b, const float* d, const float* weights, float plus_one) {
  const float w = b.x2 - b.x1 + plus_one, h = b.y2 - b.y1 + plus_one;
  const float cx = b.x1 + 0.5f * w, cy = b.y1 + 0.5f * h;
  const float dx = d[0] / weights[0], dy = d[1] / weights[1];
  const float dw = std::min(d[2] / weights[2], kBBoxXformClip);
  const float dh = std::min(d[3] / weights[3], kBBoxXformClip);
  const float pcx = dx * w + cx, pcy = dy * h + cy;
  const float pw = std::exp(dw) * w, ph = std::exp(dh) * h;
  return {pcx - 0.5f * pw, pcy - 0.5f * ph, pcx + 0.5f * pw - plus_one, pcy + 0.5f * ph - plus_one};
}

Box Clip(const Box& b, float height, float width, float plus_one) {
  auto c = [](float v, float hi) { return std::max(std::min(v, hi), 0.0f); };
  return {c(b.x1, width - plus_one), c(b.y1, height - plus_one), c(b.x2, width - plus_one),
          c(b.y2, height - plus_one)};
}

float Area(const Box& b, float plus_one) {
  return (b.x2 - b.x1 + plus_one) * (b.y2 - b.y1 + plus_one);
}

// Greedy NMS over `order` (already by descending score); at most `top_n` kept (all if < 0).
std::vector<int64_t> Nms(const std::vector<Box>& boxes, const std::vector<int64_t>& order,
                         float thresh, int64_t top_n, float plus_one) {
  std::vector<int64_t> keep;
  std::vector<bool> suppressed(order.size(), false);
  for (size_t i = 0; i < order.size(); ++i) {
    if (suppressed[i]) continue;
    if (top_n >= 0 && static_cast<int64_t>(keep.size()) >= top_n) break;
    const Box& a = boxes[order[i]];
    keep.push_back(order[i]);
    const float area_a = Area(a, plus_one);
    for (size_t j = i + 1; j < order.size(); ++j) {
      if (suppressed[j]) continue;
      const Box& b = boxes[order[j]];
      const float iw = std::max(0.0f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1) + plus_one);
      const float ih = std::max(0.0f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1) + plus_one);
      const float inter = iw * ih;
      if (inter / (area_a + Area(b, plus_one) - inter) > thresh) suppressed[j] = true;
    }
  }
  return keep;
}

// Indices of `scores` by descending score (ties in index order).
std::vector<int64_t> ByScore(const std::vector<float>& scores) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  return order;
}

// ---- BBoxTransform ----

class BBoxTransformKernel : public Kernel {
 public:
  explicit BBoxTransformKernel(const KernelInfo& info) {
    weights_ = info.attrs->GetFloats("weights", {1.0f, 1.0f, 1.0f, 1.0f});
    apply_scale_ = info.attrs->GetInt("apply_scale", 1) != 0;
    plus_one_ = info.attrs->GetInt("legacy_plus_one", 1) != 0 ? 1.0f : 0.0f;
  }
  absl::Status Compute(KernelContext& ctx) const override {
    constexpr char kOp[] = "BBoxTransform";
    ASSIGN_OR_RETURN(const Tensor* rois, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* deltas, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* im_info, ctx.RequiredInput(2));
    RETURN_IF_ERROR(CheckFloat(kOp, *rois, "rois", 2));
    RETURN_IF_ERROR(CheckFloat(kOp, *deltas, "deltas", 2));
    RETURN_IF_ERROR(CheckFloat(kOp, *im_info, "im_info", 2));
    const int64_t r = rois->dim(0), cols = rois->dim(1);
    const int64_t batch = im_info->dim(0);
    if ((cols != 4 && cols != 5) || deltas->dim(0) != r || deltas->dim(1) % 4 != 0 ||
        im_info->dim(1) != 3 || weights_.size() != 4) {
      return Invalid(
          kOp, absl::StrCat("rois [R, 4|5], deltas [R, 4K], im_info [N, 3] and 4 "
                            "weights expected, got ",
                            ShapeToString(rois->shape()), ", ", ShapeToString(deltas->shape()),
                            ", ", ShapeToString(im_info->shape())));
    }
    const int64_t k = deltas->dim(1) / 4;
    ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, DType::kFloat32, deltas->shape()));
    const float* in = rois->data<float>();
    const float* info = im_info->data<float>();
    std::vector<float> per_image(batch, 0.0f);
    for (int64_t i = 0; i < r; ++i) {
      ASSIGN_OR_RETURN(const int64_t b, ImageIndex(kOp, cols == 5 ? in[i * 5] : 0.0f, batch));
      per_image[b] += 1.0f;
      const float scale = info[b * 3 + 2];
      if (!(scale > 0.0f)) return Invalid(kOp, "im_info's scale must be positive");
      const float h = std::floor(info[b * 3] / scale + 0.5f);
      const float w = std::floor(info[b * 3 + 1] / scale + 0.5f);
      const float* p = in + i * cols + (cols - 4);
      const Box box{p[0] / scale, p[1] / scale, p[2] / scale, p[3] / scale};
      const float after = apply_scale_ ? scale : 1.0f;
      for (int64_t c = 0; c < k; ++c) {
        const Box t = Clip(
            Transform(box, deltas->data<float>() + i * 4 * k + 4 * c, weights_.data(), plus_one_),
            h, w, plus_one_);
        float* o = out->data<float>() + i * 4 * k + 4 * c;
        o[0] = t.x1 * after;
        o[1] = t.y1 * after;
        o[2] = t.x2 * after;
        o[3] = t.y2 * after;
      }
    }
    if (ctx.num_outputs() > 1) {
      ASSIGN_OR_RETURN(Tensor * splits, ctx.AllocateOutput(1, DType::kFloat32, {batch}));
      std::copy(per_image.begin(), per_image.end(), splits->data<float>());
    }
    return absl::OkStatus();
  }

 private:
  std::vector<float> weights_;
  bool apply_scale_ = true;
  float plus_one_ = 1.0f;
};

// ---- GenerateProposals ----

class GenerateProposalsKernel : public Kernel {
 public:
  explicit GenerateProposalsKernel(const KernelInfo& info) {
    const AttributeMap& a = *info.attrs;
    spatial_scale_ = a.GetFloat("spatial_scale", 1.0f / 16.0f);
    pre_nms_top_n_ = a.GetInt("pre_nms_topN", 6000);
    post_nms_top_n_ = a.GetInt("post_nms_topN", 300);
    nms_thresh_ = a.GetFloat("nms_thresh", 0.7f);
    min_size_ = a.GetFloat("min_size", 16.0f);
    plus_one_ = a.GetInt("legacy_plus_one", 1) != 0 ? 1.0f : 0.0f;
  }
  absl::Status Compute(KernelContext& ctx) const override {
    constexpr char kOp[] = "GenerateProposals";
    ASSIGN_OR_RETURN(const Tensor* scores, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* deltas, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* im_info, ctx.RequiredInput(2));
    ASSIGN_OR_RETURN(const Tensor* anchors, ctx.RequiredInput(3));
    RETURN_IF_ERROR(CheckFloat(kOp, *scores, "scores", 4));
    RETURN_IF_ERROR(CheckFloat(kOp, *deltas, "bbox_deltas", 4));
    RETURN_IF_ERROR(CheckFloat(kOp, *im_info, "im_info", 2));
    RETURN_IF_ERROR(CheckFloat(kOp, *anchors, "anchors", 2));
    const int64_t n = scores->dim(0), a = scores->dim(1), h = scores->dim(2), w = scores->dim(3);
    if (deltas->shape() != Shape{n, 4 * a, h, w} || im_info->shape() != Shape{n, 3} ||
        anchors->shape() != Shape{a, 4}) {
      return Invalid(kOp, absl::StrCat("shapes disagree: scores ", ShapeToString(scores->shape()),
                                       ", bbox_deltas ", ShapeToString(deltas->shape()),
                                       ", im_info ", ShapeToString(im_info->shape()), ", anchors ",
                                       ShapeToString(anchors->shape()),
                                       " (anchors must be [A, 4]: upright boxes)"));
    }
    if (!(spatial_scale_ > 0.0f)) return Invalid(kOp, "spatial_scale must be positive");
    const float stride = 1.0f / spatial_scale_;
    const float* anc = anchors->data<float>();
    std::vector<float> rois;
    std::vector<float> probs;
    for (int64_t b = 0; b < n; ++b) {
      const float* info = im_info->data<float>() + b * 3;
      // Scores and boxes in (h, w, a) order.
      const int64_t count = h * w * a;
      std::vector<float> s(count);
      const float* sp = scores->data<float>() + b * count;
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          for (int64_t k = 0; k < a; ++k) s[(y * w + x) * a + k] = sp[(k * h + y) * w + x];
      std::vector<int64_t> order = ByScore(s);
      if (pre_nms_top_n_ > 0 && pre_nms_top_n_ < count) order.resize(pre_nms_top_n_);
      std::vector<Box> boxes(count);
      std::vector<int64_t> kept;
      const float* dp = deltas->data<float>() + b * count * 4;
      const float min_size = min_size_ * info[2];
      static const float kOnes[4] = {1.0f, 1.0f, 1.0f, 1.0f};
      for (int64_t idx : order) {
        const int64_t k = idx % a, x = (idx / a) % w, y = idx / (a * w);
        const Box anchor{anc[k * 4] + x * stride, anc[k * 4 + 1] + y * stride,
                         anc[k * 4 + 2] + x * stride, anc[k * 4 + 3] + y * stride};
        float d[4];
        for (int j = 0; j < 4; ++j) d[j] = dp[((k * 4 + j) * h + y) * w + x];
        // Caffe2 clips to im_info's height and width converted to int.
        const Box box = Clip(Transform(anchor, d, kOnes, plus_one_), std::trunc(info[0]),
                             std::trunc(info[1]), plus_one_);
        boxes[idx] = box;
        const float bw = box.x2 - box.x1 + plus_one_, bh = box.y2 - box.y1 + plus_one_;
        bool keep = bw >= min_size && bh >= min_size;
        if (plus_one_ > 0.0f) {
          keep = keep && box.x1 + bw / 2 < info[1] && box.y1 + bh / 2 < info[0];
        }
        if (keep) kept.push_back(idx);
      }
      const int64_t top = post_nms_top_n_ > 0 ? post_nms_top_n_ : -1;
      for (int64_t idx : Nms(boxes, kept, nms_thresh_, top, plus_one_)) {
        rois.insert(rois.end(), {static_cast<float>(b), boxes[idx].x1, boxes[idx].y1, boxes[idx].x2,
                                 boxes[idx].y2});
        probs.push_back(s[idx]);
      }
    }
    const int64_t r = static_cast<int64_t>(probs.size());
    ASSIGN_OR_RETURN(Tensor * out_rois, ctx.AllocateOutput(0, DType::kFloat32, {r, 5}));
    std::copy(rois.begin(), rois.end(), out_rois->data<float>());
    if (ctx.num_outputs() > 1) {
      ASSIGN_OR_RETURN(Tensor * out_probs, ctx.AllocateOutput(1, DType::kFloat32, {r}));
      std::copy(probs.begin(), probs.end(), out_probs->data<float>());
    }
    return absl::OkStatus();
  }

 private:
  float spatial_scale_, nms_thresh_, min_size_, plus_one_;
  int64_t pre_nms_top_n_, post_nms_top_n_;
};

// ---- BoxWithNMSLimit ----

class BoxWithNMSLimitKernel : public Kernel {
 public:
  explicit BoxWithNMSLimitKernel(const KernelInfo& info) {
    const AttributeMap& a = *info.attrs;
    score_thresh_ = a.GetFloat("score_thresh", 0.05f);
    nms_ = a.GetFloat("nms", 0.3f);
    detections_per_im_ = a.GetInt("detections_per_im", 100);
    plus_one_ = a.GetInt("legacy_plus_one", 1) != 0 ? 1.0f : 0.0f;
  }
  absl::Status Compute(KernelContext& ctx) const override {
    constexpr char kOp[] = "BoxWithNMSLimit";
    ASSIGN_OR_RETURN(const Tensor* scores, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* boxes, ctx.RequiredInput(1));
    RETURN_IF_ERROR(CheckFloat(kOp, *scores, "scores", 2));
    RETURN_IF_ERROR(CheckFloat(kOp, *boxes, "boxes", 2));
    const int64_t r = scores->dim(0), classes = scores->dim(1);
    if (boxes->shape() != Shape{r, 4 * classes}) {
      return Invalid(kOp, absl::StrCat("boxes must be [R, 4 * classes] = [", r, ", ", 4 * classes,
                                       "], got ", ShapeToString(boxes->shape())));
    }
    struct Kept {
      float score;
      int64_t cls, idx;
    };
    std::vector<Kept> all;
    for (int64_t c = 1; c < classes; ++c) {
      std::vector<float> s(r);
      std::vector<Box> bx(r);
      std::vector<int64_t> candidates;
      for (int64_t i = 0; i < r; ++i) {
        s[i] = scores->data<float>()[i * classes + c];
        const float* p = boxes->data<float>() + i * 4 * classes + 4 * c;
        bx[i] = {p[0], p[1], p[2], p[3]};
      }
      for (int64_t i : ByScore(s)) {
        if (s[i] > score_thresh_) candidates.push_back(i);
      }
      // Caffe2 caps each class at detections_per_im too.
      const int64_t cap = detections_per_im_ > 0 ? detections_per_im_ : -1;
      for (int64_t i : Nms(bx, candidates, nms_, cap, plus_one_)) all.push_back({s[i], c, i});
    }
    if (detections_per_im_ > 0 && static_cast<int64_t>(all.size()) > detections_per_im_) {
      std::vector<Kept> best = all;
      std::stable_sort(best.begin(), best.end(),
                       [](const Kept& a, const Kept& b) { return a.score > b.score; });
      best.resize(detections_per_im_);
      // Back to class order, each class by descending score.
      std::stable_sort(best.begin(), best.end(),
                       [](const Kept& a, const Kept& b) { return a.cls < b.cls; });
      all = std::move(best);
    }
    const int64_t d = static_cast<int64_t>(all.size());
    ASSIGN_OR_RETURN(Tensor * out_scores, ctx.AllocateOutput(0, DType::kFloat32, {d}));
    for (int64_t i = 0; i < d; ++i) out_scores->data<float>()[i] = all[i].score;
    if (ctx.num_outputs() > 1) {
      ASSIGN_OR_RETURN(Tensor * out_boxes, ctx.AllocateOutput(1, DType::kFloat32, {d, 4}));
      for (int64_t i = 0; i < d; ++i) {
        std::copy_n(boxes->data<float>() + all[i].idx * 4 * classes + 4 * all[i].cls, 4,
                    out_boxes->data<float>() + i * 4);
      }
    }
    if (ctx.num_outputs() > 2) {
      ASSIGN_OR_RETURN(Tensor * out_classes, ctx.AllocateOutput(2, DType::kFloat32, {d}));
      for (int64_t i = 0; i < d; ++i) {
        out_classes->data<float>()[i] = static_cast<float>(all[i].cls);
      }
    }
    return absl::OkStatus();
  }

 private:
  float score_thresh_, nms_, plus_one_;
  int64_t detections_per_im_;
};

// ---- RoIAlign ----

// Bilinear interpolation at (y, x), as Caffe2's roi_align_op.cc: zero outside [-1, size].
float Bilinear(const float* plane, int64_t height, int64_t width, float y, float x) {
  if (y < -1.0f || y > height || x < -1.0f || x > width) return 0.0f;
  y = std::max(y, 0.0f);
  x = std::max(x, 0.0f);
  int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x), y1, x1;
  if (y0 >= height - 1) {
    y1 = y0 = height - 1;
    y = static_cast<float>(y0);
  } else {
    y1 = y0 + 1;
  }
  if (x0 >= width - 1) {
    x1 = x0 = width - 1;
    x = static_cast<float>(x0);
  } else {
    x1 = x0 + 1;
  }
  const float ly = y - y0, lx = x - x0, hy = 1.0f - ly, hx = 1.0f - lx;
  return hy * hx * plane[y0 * width + x0] + hy * lx * plane[y0 * width + x1] +
         ly * hx * plane[y1 * width + x0] + ly * lx * plane[y1 * width + x1];
}

class RoIAlignKernel : public Kernel {
 public:
  explicit RoIAlignKernel(const KernelInfo& info) {
    const AttributeMap& a = *info.attrs;
    spatial_scale_ = a.GetFloat("spatial_scale", 1.0f);
    pooled_h_ = a.GetInt("pooled_h", 1);
    pooled_w_ = a.GetInt("pooled_w", 1);
    sampling_ratio_ = a.GetInt("sampling_ratio", -1);
    aligned_ = a.GetInt("aligned", 0) != 0;
  }
  absl::Status Compute(KernelContext& ctx) const override {
    constexpr char kOp[] = "RoIAlign";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* rois, ctx.RequiredInput(1));
    RETURN_IF_ERROR(CheckFloat(kOp, *x, "X", 4));
    RETURN_IF_ERROR(CheckFloat(kOp, *rois, "rois", 2));
    const int64_t n = x->dim(0), c = x->dim(1), h = x->dim(2), w = x->dim(3);
    const int64_t r = rois->dim(0), cols = rois->dim(1);
    if (cols != 4 && cols != 5) return Invalid(kOp, "rois must be [R, 4] or [R, 5]");
    if (pooled_h_ < 1 || pooled_w_ < 1) return Invalid(kOp, "pooled_h and pooled_w must be >= 1");
    ASSIGN_OR_RETURN(Tensor * y,
                     ctx.AllocateOutput(0, DType::kFloat32, {r, c, pooled_h_, pooled_w_}));
    const float offset = aligned_ ? 0.5f : 0.0f;
    for (int64_t i = 0; i < r; ++i) {
      const float* roi = rois->data<float>() + i * cols;
      ASSIGN_OR_RETURN(const int64_t b, ImageIndex(kOp, cols == 5 ? roi[0] : 0.0f, n));
      const float* p = roi + (cols - 4);
      const float x1 = p[0] * spatial_scale_ - offset, y1 = p[1] * spatial_scale_ - offset;
      float rw = p[2] * spatial_scale_ - offset - x1, rh = p[3] * spatial_scale_ - offset - y1;
      if (!aligned_) {
        rw = std::max(rw, 1.0f);
        rh = std::max(rh, 1.0f);
      }
      const float bin_h = rh / pooled_h_, bin_w = rw / pooled_w_;
      const int64_t gh =
          sampling_ratio_ > 0 ? sampling_ratio_ : static_cast<int64_t>(std::ceil(rh / pooled_h_));
      const int64_t gw =
          sampling_ratio_ > 0 ? sampling_ratio_ : static_cast<int64_t>(std::ceil(rw / pooled_w_));
      const float count = static_cast<float>(std::max<int64_t>(gh * gw, 1));
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* plane = x->data<float>() + (b * c + ch) * h * w;
        float* out = y->data<float>() + (i * c + ch) * pooled_h_ * pooled_w_;
        for (int64_t ph = 0; ph < pooled_h_; ++ph)
          for (int64_t pw = 0; pw < pooled_w_; ++pw) {
            float sum = 0.0f;
            for (int64_t iy = 0; iy < gh; ++iy) {
              const float yy = y1 + ph * bin_h + (iy + 0.5f) * bin_h / gh;
              for (int64_t ix = 0; ix < gw; ++ix) {
                const float xx = x1 + pw * bin_w + (ix + 0.5f) * bin_w / gw;
                sum += Bilinear(plane, h, w, yy, xx);
              }
            }
            out[ph * pooled_w_ + pw] = sum / count;
          }
      }
    }
    return absl::OkStatus();
  }

 private:
  float spatial_scale_;
  int64_t pooled_h_, pooled_w_, sampling_ratio_;
  bool aligned_;
};

// Float outputs of the given shapes (-1 where the data decide).
InferFn InferFloat(std::vector<Shape> shapes) {
  return [shapes](InferenceContext& ctx) {
    for (int i = 0; i < ctx.num_outputs() && i < static_cast<int>(shapes.size()); ++i) {
      ctx.set_output(i, {DType::kFloat32, shapes[i]});
    }
    return absl::OkStatus();
  };
}

absl::Status InferBBoxTransform(InferenceContext& ctx) {
  ctx.set_output(0, {DType::kFloat32, ctx.input(1).shape});
  const auto& info = ctx.input(2).shape;
  ctx.set_output(1,
                 {DType::kFloat32,
                  info && !info->empty() ? std::optional<Shape>(Shape{(*info)[0]}) : std::nullopt});
  return absl::OkStatus();
}

absl::Status InferRoIAlign(InferenceContext& ctx) {
  const auto& x = ctx.input(0).shape;
  const auto& rois = ctx.input(1).shape;
  ctx.set_output(
      0, {DType::kFloat32,
          Shape{rois && !rois->empty() ? (*rois)[0] : -1, x && x->size() == 4 ? (*x)[1] : -1,
                ctx.attrs().GetInt("pooled_h", 1), ctx.attrs().GetInt("pooled_w", 1)}});
  return absl::OkStatus();
}

}  // namespace

CORTADO_REGISTER_OP(OpSchema("BBoxTransform", kCaffe2Domain)
                        .Versions(1)
                        .Inputs(3, 3)
                        .Outputs(1, 2)
                        .Attr("weights", std::vector<float>{1.0f, 1.0f, 1.0f, 1.0f})
                        .Attr("apply_scale", int64_t{1})
                        .Attr("legacy_plus_one", int64_t{1})
                        .Infer(InferBBoxTransform));
CORTADO_REGISTER_DOMAIN_KERNEL("BBoxTransform", kCaffe2Domain, kCpuBackend, 1, kMaxOpset,
                               {DType::kFloat32}, MakeFactory<BBoxTransformKernel>());
CORTADO_REGISTER_OP(OpSchema("GenerateProposals", kCaffe2Domain)
                        .Versions(1)
                        .Inputs(4, 4)
                        .Outputs(1, 2)
                        .Attr("spatial_scale", 1.0f / 16.0f)
                        .Attr("pre_nms_topN", int64_t{6000})
                        .Attr("post_nms_topN", int64_t{300})
                        .Attr("nms_thresh", 0.7f)
                        .Attr("min_size", 16.0f)
                        .Attr("legacy_plus_one", int64_t{1})
                        .Infer(InferFloat({{-1, 5}, {-1}})));
CORTADO_REGISTER_DOMAIN_KERNEL("GenerateProposals", kCaffe2Domain, kCpuBackend, 1, kMaxOpset,
                               {DType::kFloat32}, MakeFactory<GenerateProposalsKernel>());
CORTADO_REGISTER_OP(OpSchema("BoxWithNMSLimit", kCaffe2Domain)
                        .Versions(1)
                        .Inputs(2, 2)
                        .Outputs(1, 3)
                        .Attr("score_thresh", 0.05f)
                        .Attr("nms", 0.3f)
                        .Attr("detections_per_im", int64_t{100})
                        .Attr("legacy_plus_one", int64_t{1})
                        .Infer(InferFloat({{-1}, {-1, 4}, {-1}})));
CORTADO_REGISTER_DOMAIN_KERNEL("BoxWithNMSLimit", kCaffe2Domain, kCpuBackend, 1, kMaxOpset,
                               {DType::kFloat32}, MakeFactory<BoxWithNMSLimitKernel>());
CORTADO_REGISTER_OP(OpSchema("RoIAlign", kCaffe2Domain)
                        .Versions(1)
                        .Inputs(2, 2)
                        .Attr("spatial_scale", 1.0f)
                        .Attr("pooled_h", int64_t{1})
                        .Attr("pooled_w", int64_t{1})
                        .Attr("sampling_ratio", int64_t{-1})
                        .Attr("aligned", int64_t{0})
                        .Infer(InferRoIAlign));
CORTADO_REGISTER_DOMAIN_KERNEL("RoIAlign", kCaffe2Domain, kCpuBackend, 1, kMaxOpset,
                               {DType::kFloat32}, MakeFactory<RoIAlignKernel>());

}  // namespace cortado
