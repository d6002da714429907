#!/usr/bin/python3
"""Writes testdata/caffe2_ops/: cases for cortado's Caffe2 Int8 and detection operators, with
expected outputs computed by an independent implementation written from Caffe2's operator
definitions (caffe2/operators/quantized/int8_*_op.h, int8_utils.h, bbox_transform_op.cc,
generate_proposals_op.cc, generate_proposals_op_util_boxes.h, generate_proposals_op_util_nms.h,
box_with_nms_limit_op.cc, roi_align_op.cc): numpy and torch in float64 for the arithmetic,
torchvision.ops.roi_align and torchvision.ops.nms where their conventions agree with Caffe2's.

Run with Debian's python (python3-numpy, python3-torch 1.13, python3-torchvision 0.14):
    /usr/bin/python3 tools/generate_caffe2_op_tests.py [OUT_DIR]

Each case is a folder: input_<i>.npy, output_<i>.npy and case.txt, whose lines are
    op <type>
    tolerance <max abs difference>          (uint8 outputs: steps; float outputs: absolute)
    <attribute> int|float|ints|floats <values...>
and ops/caffe2_reference_test.cc runs every case.
"""
import os
import shutil
import sys

import numpy as np
import torch
import torchvision

rng = np.random.RandomState(20261204)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "caffe2_ops")


def write_case(name, op, inputs, outputs, attrs, tolerance=0.0):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    for i, x in enumerate(inputs):
        np.save(os.path.join(d, "input_%d.npy" % i), x)
    for i, y in enumerate(outputs):
        np.save(os.path.join(d, "output_%d.npy" % i), y)
    lines = ["op " + op, "tolerance %r" % tolerance]
    for k, v in attrs.items():
        if isinstance(v, (list, tuple)):
            if not v:
                continue   # an empty list is the default
            kind = "floats" if any(isinstance(e, float) for e in v) else "ints"
            lines.append("%s %s %s" % (k, kind, " ".join(repr(e) for e in v)))
        else:
            lines.append("%s %s %r" % (k, "float" if isinstance(v, float) else "int", v))
    with open(os.path.join(d, "case.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------- Int8 (uint8, NHWC) --------

def f32(v):
    return float(np.float32(v))


def requant(real, y_scale, y_zp, lo=0):
    """Caffe2/QNNPACK requantization: round half away from zero, add the zero point, clamp."""
    r = np.asarray(real, np.float64) / np.float64(np.float32(y_scale))
    q = np.sign(r) * np.floor(np.abs(r) + 0.5) + y_zp
    return np.clip(q, lo, 255).astype(np.uint8)


def quant_attrs(scales, zps, y_scale, y_zp):
    return {"input_scales": [f32(s) for s in scales], "input_zero_points": list(zps),
            "Y_scale": f32(y_scale), "Y_zero_point": y_zp}


def u8(*shape):
    return rng.randint(0, 256, size=shape).astype(np.uint8)


def real(q, scale, zp):
    return (q.astype(np.float64) - zp) * np.float64(np.float32(scale))


def nhwc_to_nchw(x):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def int8_quantize():
    scale, zp = 0.5, 3
    # Ties (x / scale = k + 0.5) go to even, as std::nearbyint; saturation at both ends; NaN-free.
    x = np.array([0.25, 0.75, -0.25, -1.75, 1.25, 0.0, 1000.0, -1000.0, 126.0, 127.9,
                  -1.4, 2.6], np.float32).reshape(1, 2, 2, 3)
    q = np.rint(x / np.float32(scale)).astype(np.float64) + zp   # np.rint: ties to even
    y = np.clip(q, 0, 255).astype(np.uint8)
    write_case("int8_quantize_ties_saturation", "Int8Quantize", [x], [y],
               quant_attrs([], [], scale, zp))
    x = (rng.randn(2, 5, 5, 4) * 3).astype(np.float32)
    y = np.clip(np.rint(x / np.float32(0.05)) + 128, 0, 255).astype(np.uint8)
    write_case("int8_quantize_random", "Int8Quantize", [x], [y], quant_attrs([], [], 0.05, 128))


def int8_dequantize():
    x = u8(2, 3, 3, 5)
    y = ((x.astype(np.int32) - 131).astype(np.float32) * np.float32(0.0123)).astype(np.float32)
    write_case("int8_dequantize", "Int8Dequantize", [x], [y], quant_attrs([0.0123], [131], 1, 0),
               tolerance=1e-6)


def conv_ref(x, xs, xz, w, ws, wz, b, stride, pad, group, transpose=False, adj=0):
    """Real-valued (float64) convolution of the dequantized operands, torch layout."""
    xr = nhwc_to_nchw(real(x, xs, xz))
    if transpose:   # Caffe2 NHWC ConvTranspose weights: [C_in, kh, kw, M/group]
        wr = torch.from_numpy(np.ascontiguousarray(real(w, ws, wz).transpose(0, 3, 1, 2)))
        y = torch.nn.functional.conv_transpose2d(xr, wr, None, stride, pad, adj, group)
    else:           # [M, kh, kw, C/group]
        wr = torch.from_numpy(np.ascontiguousarray(real(w, ws, wz).transpose(0, 3, 1, 2)))
        y = torch.nn.functional.conv2d(xr, wr, None, stride, pad, 1, group)
    y = y.numpy().transpose(0, 2, 3, 1)
    return y + b.astype(np.float64) * np.float64(np.float32(xs)) * np.float64(np.float32(ws))


def int8_conv():
    cases = [
        # name, N, H, W, C, M, k, stride, pad, group, relu, (xs, xz), (ws, wz), (ys, yz)
        ("int8_conv_3x3_s2", 1, 7, 6, 5, 4, 3, 2, 1, 1, False, (0.02, 7), (0.004, 120), (0.05, 130)),
        ("int8_conv_relu_zero_point", 2, 5, 5, 8, 6, 1, 1, 0, 1, True, (0.03, 0), (0.01, 128), (0.08, 100)),
        ("int8_conv_depthwise", 1, 6, 6, 6, 6, 3, 1, 1, 6, False, (0.05, 129), (0.02, 135), (0.01, 120)),
        ("int8_conv_grouped_saturating", 1, 4, 4, 4, 4, 3, 1, 1, 2, False, (0.5, 20), (0.5, 100), (0.01, 128)),
    ]
    for name, n, h, w, c, m, k, s, p, g, relu, (xs, xz), (ws, wz), (ys, yz) in cases:
        x, wt = u8(n, h, w, c), u8(m, k, k, c // g)
        b = rng.randint(-3000, 3000, size=m).astype(np.int32)
        y = requant(conv_ref(x, xs, xz, wt, ws, wz, b, s, p, g), ys, yz, yz if relu else 0)
        attrs = quant_attrs([xs, ws, f32(xs) * f32(ws)], [xz, wz, 0], ys, yz)
        attrs.update(strides=[s, s], pads=[p, p, p, p], dilations=[1, 1], group=g)
        write_case(name, "Int8ConvRelu" if relu else "Int8Conv", [x, wt, b], [y], attrs)
    # ConvTranspose as Mask R-CNN 2Go's mask head uses it: k2 s2 p0 and k4 s2 p1.
    for name, k, s, p, c, m in [("int8_conv_transpose_k2s2", 2, 2, 0, 6, 5),
                                ("int8_conv_transpose_k4s2p1", 4, 2, 1, 5, 7)]:
        x, wt = u8(2, 3, 4, c), u8(c, k, k, m)
        b = rng.randint(-2000, 2000, size=m).astype(np.int32)
        y = requant(conv_ref(x, 0.03, 110, wt, 0.002, 125, b, s, p, 1, transpose=True), 0.02, 128)
        attrs = quant_attrs([0.03, 0.002, f32(0.03) * f32(0.002)], [110, 125, 0], 0.02, 128)
        attrs.update(strides=[s, s], pads=[p, p, p, p], dilations=[1, 1], group=1,
                     output_padding=[0, 0])
        write_case(name, "Int8ConvTranspose", [x, wt, b], [y], attrs)


def int8_fc():
    x, w = u8(3, 1, 1, 16), u8(5, 16)
    b = rng.randint(-500, 500, size=5).astype(np.int32)
    xs, xz, ws, wz, ys, yz = 0.05, 3, 0.006, 138, 0.1, 83
    acc = real(x.reshape(3, 16), xs, xz) @ real(w, ws, wz).T + b * np.float64(f32(xs) * f32(ws))
    y = requant(acc, ys, yz)
    write_case("int8_fc", "Int8FC", [x, w, b], [y], quant_attrs([xs, ws, f32(xs) * f32(ws)], [xz, wz, 0], ys, yz))


def int8_average_pool():
    x = u8(2, 3, 3, 5)
    xs, xz, ys, yz = 0.02, 10, 0.05, 0
    pooled = real(x, xs, xz).mean(axis=(1, 2), keepdims=True)
    attrs = quant_attrs([xs], [xz], ys, yz)
    attrs.update(kernel_shape=[3, 3], strides=[1, 1], pads=[0, 0, 0, 0])
    write_case("int8_average_pool_3x3", "Int8AveragePool", [x], [requant(pooled, ys, yz)], attrs)
    x = u8(1, 6, 5, 3)
    t = torch.nn.functional.avg_pool2d(nhwc_to_nchw(real(x, xs, xz)), 2, 2).numpy()
    attrs = quant_attrs([xs], [xz], 0.01, 100)
    attrs.update(kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])
    write_case("int8_average_pool_2x2_s2", "Int8AveragePool", [x],
               [requant(t.transpose(0, 2, 3, 1), 0.01, 100)], attrs)
    attrs = quant_attrs([xs], [xz], 0.01, 100)
    attrs.update(global_pooling=1)
    write_case("int8_average_pool_global", "Int8AveragePool", [x],
               [requant(real(x, xs, xz).mean(axis=(1, 2), keepdims=True), 0.01, 100)], attrs)


def int8_sum():
    a, b = u8(2, 4, 4, 3), u8(2, 4, 4, 3)
    for name, op, lo, ys, yz in [("int8_sum", "Int8Sum", False, 0.03, 120),
                                 ("int8_sum_saturating", "Int8Sum", False, 0.005, 128),
                                 ("int8_sum_relu", "Int8SumRelu", True, 0.03, 120),
                                 ("int8_add_relu", "Int8AddRelu", True, 0.02, 140)]:
        s = real(a, 0.02, 130) + real(b, 0.035, 90)
        write_case(name, op, [a, b], [requant(s, ys, yz, yz if lo else 0)],
                   quant_attrs([0.02, 0.035], [130, 90], ys, yz))


def int8_relu():
    x = u8(1, 3, 3, 4)
    write_case("int8_relu", "Int8Relu", [x], [np.maximum(x, 77).astype(np.uint8)],
               quant_attrs([0.1], [77], 0.1, 77))


def int8_softmax():
    x = u8(4, 81)
    x[3, :] = 200   # a flat row: 256/81 per class
    r = real(x, 0.1, 83)
    e = np.exp(r - r.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    y = np.clip(np.floor(p * 256 + 0.5), 0, 255).astype(np.uint8)
    write_case("int8_softmax", "Int8Softmax", [x], [y], quant_attrs([0.1], [83], 1.0 / 256, 0))


def int8_resize_nearest():
    x = u8(1, 3, 4, 2)
    ys = np.minimum((np.arange(6) / 2.0).astype(int), 2)
    xs = np.minimum((np.arange(6) / 1.5).astype(int), 3)
    y = x[:, ys][:, :, xs]
    attrs = quant_attrs([0.1], [5], 0.1, 5)
    attrs.update(height_scale=2.0, width_scale=1.5)
    write_case("int8_resize_nearest", "Int8ResizeNearest", [x], [y], attrs)


# ---------------------------------------------------------------- detection (float32) --------

CLIP = np.log(1000.0 / 16.0)


def bbox_transform_ref(boxes, deltas, weights, plus_one=1.0):
    """Detectron's bbox_transform (float64), boxes [R, 4], deltas [R, 4]."""
    w = boxes[:, 2] - boxes[:, 0] + plus_one
    h = boxes[:, 3] - boxes[:, 1] + plus_one
    cx, cy = boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h
    dx, dy = deltas[:, 0] / weights[0], deltas[:, 1] / weights[1]
    dw = np.minimum(deltas[:, 2] / weights[2], CLIP)
    dh = np.minimum(deltas[:, 3] / weights[3], CLIP)
    pcx, pcy = dx * w + cx, dy * h + cy
    pw, ph = np.exp(dw) * w, np.exp(dh) * h
    return np.stack([pcx - 0.5 * pw, pcy - 0.5 * ph, pcx + 0.5 * pw - plus_one,
                     pcy + 0.5 * ph - plus_one], axis=1)


def clip_ref(b, height, width, plus_one=1.0):
    b = b.copy()
    b[:, 0::2] = np.clip(b[:, 0::2], 0, width - plus_one)
    b[:, 1::2] = np.clip(b[:, 1::2], 0, height - plus_one)
    return b


def nms_ref(boxes, scores, thresh, plus_one=1.0):
    """Greedy NMS by torchvision; Caffe2's +1 areas are torchvision's on boxes grown by one."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    t = torch.from_numpy(boxes.astype(np.float64))
    t[:, 2:] += plus_one
    return torchvision.ops.nms(t, torch.from_numpy(scores.astype(np.float64)), thresh).numpy()


def bbox_transform():
    r, k = 6, 3
    im_info = np.array([[300, 400, 1.5]], np.float32)
    xy = rng.uniform(0, 350, size=(r, 2))
    wh = rng.uniform(5, 120, size=(r, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    boxes[0] = [-20, -10, 500, 480]          # outside the image: clipped
    rois = np.concatenate([np.zeros((r, 1)), boxes], axis=1).astype(np.float32)
    deltas = (rng.randn(r, 4 * k) * 0.5).astype(np.float32)
    deltas[1, 2:4] = 10.0                    # above the dw/dh clip
    weights = [10.0, 10.0, 5.0, 5.0]
    scale = np.float64(im_info[0, 2])
    img_h, img_w = np.floor(300 / scale + 0.5), np.floor(400 / scale + 0.5)
    out = np.zeros((r, 4 * k))
    for c in range(k):
        t = bbox_transform_ref(rois[:, 1:].astype(np.float64) / scale,
                               deltas[:, 4 * c:4 * c + 4].astype(np.float64), weights)
        out[:, 4 * c:4 * c + 4] = clip_ref(t, img_h, img_w) * scale
    write_case("bbox_transform", "BBoxTransform", [rois, deltas, im_info],
               [out.astype(np.float32), np.array([r], np.float32)],
               {"weights": weights, "apply_scale": 1, "legacy_plus_one": 1}, tolerance=2e-3)
    t = bbox_transform_ref(rois[:, 1:].astype(np.float64) / scale, deltas[:, :4], weights)
    write_case("bbox_transform_no_apply_scale", "BBoxTransform",
               [rois, deltas[:, :4].copy(), im_info],
               [clip_ref(t, img_h, img_w).astype(np.float32)],
               {"weights": weights, "apply_scale": 0, "legacy_plus_one": 1}, tolerance=2e-3)


def generate_proposals_ref(scores, deltas, im_info, anchors, spatial_scale, pre, post, nms_t,
                           min_size):
    a, h, w = scores.shape[1:]
    stride = 1.0 / spatial_scale
    sy, sx = np.meshgrid(np.arange(h) * stride, np.arange(w) * stride, indexing="ij")
    shifts = np.stack([sx, sy, sx, sy], axis=-1).reshape(h, w, 1, 4)
    all_anchors = (anchors.reshape(1, 1, a, 4) + shifts).reshape(-1, 4)
    rois, probs = [], []
    for b in range(scores.shape[0]):
        s = scores[b].transpose(1, 2, 0).reshape(-1).astype(np.float64)
        d = deltas[b].reshape(a, 4, h, w).transpose(2, 3, 0, 1).reshape(-1, 4).astype(np.float64)
        order = np.argsort(-s, kind="stable")
        if 0 < pre < len(order):
            order = order[:pre]
        boxes = bbox_transform_ref(all_anchors[order].astype(np.float64), d[order], [1, 1, 1, 1])
        info = im_info[b].astype(np.float64)
        boxes = clip_ref(boxes, int(info[0]), int(info[1]))   # clip_boxes takes ints
        ws, hs = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
        keep = np.where((ws >= min_size * info[2]) & (hs >= min_size * info[2]) &
                        (boxes[:, 0] + ws / 2 < info[1]) & (boxes[:, 1] + hs / 2 < info[0]))[0]
        boxes, sc = boxes[keep], s[order][keep]
        k = nms_ref(boxes, sc, nms_t)
        if post > 0:
            k = k[:post]
        rois.append(np.concatenate([np.full((len(k), 1), b), boxes[k]], axis=1))
        probs.append(sc[k])
    return (np.concatenate(rois).reshape(-1, 5).astype(np.float32),
            np.concatenate(probs).astype(np.float32))


def generate_proposals():
    n, a, h, w = 2, 3, 5, 6
    anchors = np.array([[-8, -8, 23, 23], [-20, -12, 35, 27], [-40, -40, 55, 55]], np.float32)
    scores = rng.uniform(0, 1, size=(n, a, h, w)).astype(np.float32)
    deltas = (rng.randn(n, 4 * a, h, w) * 0.3).astype(np.float32)
    # The second image's size is fractional: Caffe2 clips to its int part, filters on the float.
    im_info = np.array([[80, 96, 1.0], [70.6, 90.3, 2.0]], np.float32)
    for name, pre, post, nms_t, min_size in [("generate_proposals", 40, 12, 0.7, 0.0),
                                             ("generate_proposals_min_size", 0, 0, 0.5, 10.0),
                                             ("generate_proposals_empty", 20, 10, 0.7, 1000.0)]:
        rois, probs = generate_proposals_ref(scores, deltas, im_info, anchors, 1.0 / 16, pre,
                                             post, nms_t, min_size)
        if name.endswith("empty"):
            assert len(rois) == 0
        write_case(name, "GenerateProposals", [scores, deltas, im_info, anchors], [rois, probs],
                   {"spatial_scale": 1.0 / 16, "pre_nms_topN": pre, "post_nms_topN": post,
                    "nms_thresh": nms_t, "min_size": min_size}, tolerance=1e-3)


def box_with_nms_limit_ref(scores, boxes, score_thresh, nms_t, limit):
    kept = []   # (score, class, index)
    for c in range(1, scores.shape[1]):
        idx = np.where(scores[:, c] > score_thresh)[0]
        if len(idx) == 0:
            continue
        k = nms_ref(boxes[idx, 4 * c:4 * c + 4], scores[idx, c], nms_t)
        kept += [(scores[idx[i], c], c, idx[i]) for i in k]
    if limit > 0 and len(kept) > limit:
        kept = sorted(kept, key=lambda t: -t[0])[:limit]
        kept = sorted(kept, key=lambda t: t[1])    # class-major, stable: scores stay descending
    s = np.array([t[0] for t in kept], np.float32)
    b = np.array([boxes[t[2], 4 * t[1]:4 * t[1] + 4] for t in kept], np.float32).reshape(-1, 4)
    c = np.array([t[1] for t in kept], np.float32)
    return s, b, c


def box_with_nms_limit():
    r, classes = 30, 4
    centers = rng.uniform(20, 80, size=(r, 1, 2)).repeat(classes, axis=1)
    centers[:10] = centers[0]                     # a cluster that NMS must thin out
    wh = rng.uniform(10, 30, size=(r, classes, 2))
    boxes = np.concatenate([centers - wh / 2, centers + wh / 2], axis=2).reshape(r, 4 * classes)
    boxes = boxes.astype(np.float32)
    logits = rng.randn(r, classes) * 2
    scores = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    for name, thresh, nms_t, limit in [("box_with_nms_limit", 0.05, 0.3, 100),
                                       ("box_with_nms_limit_detections_per_im", 0.05, 0.5, 7),
                                       ("box_with_nms_limit_score_thresh", 0.6, 0.3, 100),
                                       ("box_with_nms_limit_empty", 0.999, 0.3, 100)]:
        outs = box_with_nms_limit_ref(scores, boxes, thresh, nms_t, limit)
        if name.endswith("empty"):
            assert len(outs[0]) == 0
        write_case(name, "BoxWithNMSLimit", [scores, boxes], list(outs),
                   {"score_thresh": thresh, "nms": nms_t, "detections_per_im": limit},
                   tolerance=1e-6)


def roi_align():
    x = rng.randn(2, 3, 12, 10).astype(np.float32)
    rois = np.array([[0, 4.0, 4.0, 60.0, 50.0],
                     [1, -10.0, 30.0, 200.0, 300.0],   # partly outside the map
                     [0, 33.0, 20.0, 33.5, 20.4],      # smaller than one pixel
                     [1, 0.0, 0.0, 15.0, 15.0]], np.float32)
    for name, sr, aligned in [("roi_align", 0, False), ("roi_align_sampling_2", 2, False),
                              ("roi_align_aligned", 0, True)]:
        y = torchvision.ops.roi_align(torch.from_numpy(x).double(), torch.from_numpy(rois).double(),
                                      (3, 4), 1.0 / 8, sr, aligned).numpy().astype(np.float32)
        write_case(name, "RoIAlign", [x, rois], [y],
                   {"spatial_scale": 1.0 / 8, "pooled_h": 3, "pooled_w": 4, "sampling_ratio": sr,
                    "aligned": int(aligned)}, tolerance=1e-5)
    y = torchvision.ops.roi_align(torch.from_numpy(x).double(), torch.zeros(0, 5).double(),
                                  (3, 4), 1.0 / 8, 0, False).numpy().astype(np.float32)
    write_case("roi_align_no_rois", "RoIAlign", [x, np.zeros((0, 5), np.float32)], [y],
               {"spatial_scale": 1.0 / 8, "pooled_h": 3, "pooled_w": 4, "sampling_ratio": 0},
               tolerance=1e-5)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for make in [int8_quantize, int8_dequantize, int8_conv, int8_fc, int8_average_pool, int8_sum,
                 int8_relu, int8_softmax, int8_resize_nearest, bbox_transform,
                 generate_proposals, box_with_nms_limit, roi_align]:
        make()
    print("wrote %d cases to %s" % (len(os.listdir(OUT)), OUT))


if __name__ == "__main__":
    main()
