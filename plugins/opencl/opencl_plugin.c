/* The OpenCL plug-in: a cortado accelerator backend through the C ABI of cortado_plugin.h alone,
 * running on any OpenCL 1.2+ device (PoCL's CPU device in CI). Buffers are cl_mem, a run's queue
 * is an in-order cl_command_queue, copies are clEnqueue{Write,Read}Buffer. Kernels: elementwise
 * unary (Relu, Sigmoid, Tanh, Neg, Abs, Exp) and binary (Add, Sub, Mul, Div; equal shapes, or one
 * side broadcast over leading dimensions), MatMul (2-D), Gemm, Conv (2-D NCHW, direct: groups,
 * strides, pads, dilations, bias), MaxPool / AveragePool (2-D NCHW) and Softmax over the last
 * axis, all float32. What it does not cover it declines in supports(), and the plan runs it on
 * the CPU. Thread-safe: the context and program are built once; kernels objects are per call. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/plugin/cortado_plugin.h"

static const char* kSource =
    "__kernel void unary(__global const float* x, __global float* y, int op) {\n"
    "  size_t i = get_global_id(0); float v = x[i];\n"
    "  y[i] = op == 0 ? fmax(v, 0.0f) : op == 1 ? 1.0f / (1.0f + exp(-v)) : op == 2 ? tanh(v)\n"
    "       : op == 3 ? -v : op == 4 ? fabs(v) : exp(v);\n"
    "}\n"
    "__kernel void binary(__global const float* a, int na, __global const float* b, int nb,\n"
    "                     __global float* y, int op) {\n"
    "  size_t i = get_global_id(0); float p = a[i % na], q = b[i % nb];\n"
    "  y[i] = op == 0 ? p + q : op == 1 ? p - q : op == 2 ? p * q : p / q;\n"
    "}\n"
    "__kernel void gemm(__global const float* a, __global const float* b, __global const float* "
    "c,\n"
    "                   int nc, __global float* y, int M, int N, int K, int ta, int tb,\n"
    "                   float alpha, float beta) {\n"
    "  int m = get_global_id(0), n = get_global_id(1); float s = 0.0f;\n"
    "  for (int k = 0; k < K; ++k)\n"
    "    s += a[ta ? k * M + m : m * K + k] * b[tb ? n * K + k : k * N + n];\n"
    "  s *= alpha; if (nc > 0) s += beta * c[(m * N + n) % nc];\n"
    "  y[m * N + n] = s;\n"
    "}\n"
    "__kernel void conv(__global const float* x, __global const float* w, __global const float* "
    "b,\n"
    "                   int has_b, __global float* y, __global const int* p) {\n"
    "  /* p: C H W  M OH OW  KH KW  SH SW  PT PL  DH DW  G */\n"
    "  int C = p[0], H = p[1], W = p[2], M = p[3], OH = p[4], OW = p[5], KH = p[6], KW = p[7];\n"
    "  int SH = p[8], SW = p[9], PT = p[10], PL = p[11], DH = p[12], DW = p[13], G = p[14];\n"
    "  int ow = get_global_id(0), oh = get_global_id(1), nm = get_global_id(2);\n"
    "  int n = nm / M, m = nm % M, cg = C / G, g = m / (M / G);\n"
    "  float s = has_b ? b[m] : 0.0f;\n"
    "  for (int c = 0; c < cg; ++c)\n"
    "    for (int kh = 0; kh < KH; ++kh) {\n"
    "      int ih = oh * SH - PT + kh * DH; if (ih < 0 || ih >= H) continue;\n"
    "      for (int kw = 0; kw < KW; ++kw) {\n"
    "        int iw = ow * SW - PL + kw * DW; if (iw < 0 || iw >= W) continue;\n"
    "        s += x[((n * C + g * cg + c) * H + ih) * W + iw] * w[((m * cg + c) * KH + kh) * KW + "
    "kw];\n"
    "      }\n"
    "    }\n"
    "  y[(nm * OH + oh) * OW + ow] = s;\n"
    "}\n"
    "__kernel void pool(__global const float* x, __global float* y, __global const int* p) {\n"
    "  /* p: H W  OH OW  KH KW  SH SW  PT PL  max  count_include_pad */\n"
    "  int H = p[0], W = p[1], OH = p[2], OW = p[3], KH = p[4], KW = p[5], SH = p[6], SW = p[7];\n"
    "  int PT = p[8], PL = p[9], is_max = p[10], include_pad = p[11];\n"
    "  int ow = get_global_id(0), oh = get_global_id(1), nc = get_global_id(2);\n"
    "  float s = is_max ? -INFINITY : 0.0f; int count = 0;\n"
    "  for (int kh = 0; kh < KH; ++kh)\n"
    "    for (int kw = 0; kw < KW; ++kw) {\n"
    "      int ih = oh * SH - PT + kh, iw = ow * SW - PL + kw;\n"
    "      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;\n"
    "      float v = x[(nc * H + ih) * W + iw]; s = is_max ? fmax(s, v) : s + v; ++count;\n"
    "    }\n"
    "  y[(nc * OH + oh) * OW + ow] = is_max ? s : s / (include_pad ? KH * KW : count);\n"
    "}\n"
    "__kernel void softmax(__global const float* x, __global float* y, int D) {\n"
    "  size_t r = get_global_id(0); __global const float* in = x + r * D; __global float* out = y "
    "+ r * D;\n"
    "  float mx = -INFINITY; for (int i = 0; i < D; ++i) mx = fmax(mx, in[i]);\n"
    "  float s = 0.0f; for (int i = 0; i < D; ++i) { out[i] = exp(in[i] - mx); s += out[i]; }\n"
    "  for (int i = 0; i < D; ++i) out[i] /= s;\n"
    "}\n";

static _Thread_local char error[640];
static const char* last_error(void) { return error; }
static cortado_status fail(const char* what, cl_int code) {
  snprintf(error, sizeof error, "%s (OpenCL error %d)", what, (int)code);
  return CORTADO_ERROR;
}

static struct {
  pthread_once_t once;
  cl_int status;
  char message[512];
  cl_context context;
  cl_device_id device;
  cl_program program;
  cl_command_queue now; /* for work with no run queue: done before returning */
} cl = {PTHREAD_ONCE_INIT};

static void init(void) {
  cl_platform_id platform;
  cl_uint n = 0;
  if ((cl.status = clGetPlatformIDs(1, &platform, &n)) != CL_SUCCESS || n == 0) {
    snprintf(cl.message, sizeof cl.message, "no OpenCL platform");
    if (cl.status == CL_SUCCESS) cl.status = CL_DEVICE_NOT_FOUND;
    return;
  }
  if ((cl.status = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &cl.device, &n)) != CL_SUCCESS) {
    snprintf(cl.message, sizeof cl.message, "no OpenCL device");
    return;
  }
  cl.context = clCreateContext(NULL, 1, &cl.device, NULL, NULL, &cl.status);
  if (cl.status != CL_SUCCESS) return;
  cl.program = clCreateProgramWithSource(cl.context, 1, &kSource, NULL, &cl.status);
  if (cl.status != CL_SUCCESS) return;
  if ((cl.status = clBuildProgram(cl.program, 1, &cl.device, "", NULL, NULL)) != CL_SUCCESS) {
    size_t len = 0;
    clGetProgramBuildInfo(cl.program, cl.device, CL_PROGRAM_BUILD_LOG, sizeof cl.message - 1,
                          cl.message, &len);
    return;
  }
  cl.now = clCreateCommandQueue(cl.context, cl.device, 0, &cl.status);
}

static int ready(void) {
  pthread_once(&cl.once, init);
  if (cl.status == CL_SUCCESS) return 1;
  snprintf(error, sizeof error, "OpenCL unavailable: %s (error %d)", cl.message, (int)cl.status);
  return 0;
}

static cortado_status buffer_alloc(size_t bytes, cortado_buffer* out) {
  cl_int s;
  if (!ready()) return CORTADO_ERROR;
  *out = (cortado_buffer)clCreateBuffer(cl.context, CL_MEM_READ_WRITE, bytes, NULL, &s);
  return s == CL_SUCCESS ? CORTADO_OK : fail("clCreateBuffer", s);
}
/* OpenCL keeps the memory until the commands already queued on it have finished. */
static void buffer_free(cortado_buffer b) { clReleaseMemObject((cl_mem)b); }

static cl_command_queue queue_of(cortado_queue q) { return q ? (cl_command_queue)q : cl.now; }
static cortado_status finish_if_now(cortado_queue q) {
  cl_int s = q ? CL_SUCCESS : clFinish(cl.now);
  return s == CL_SUCCESS ? CORTADO_OK : fail("clFinish", s);
}

static cortado_status copy_from_host(cortado_queue q, const void* src, cortado_buffer dst,
                                     size_t bytes) {
  if (!ready()) return CORTADO_ERROR;
  if (bytes == 0) return CORTADO_OK;
  /* Blocking: the host may release src as soon as this returns. */
  cl_int s = clEnqueueWriteBuffer(queue_of(q), (cl_mem)dst, CL_TRUE, 0, bytes, src, 0, NULL, NULL);
  return s == CL_SUCCESS ? CORTADO_OK : fail("clEnqueueWriteBuffer", s);
}
static cortado_status copy_to_host(cortado_queue q, cortado_buffer src, void* dst, size_t bytes) {
  if (!ready()) return CORTADO_ERROR;
  if (bytes == 0) return CORTADO_OK;
  cl_int s = clEnqueueReadBuffer(queue_of(q), (cl_mem)src, q ? CL_FALSE : CL_TRUE, 0, bytes, dst, 0,
                                 NULL, NULL);
  return s == CL_SUCCESS ? CORTADO_OK : fail("clEnqueueReadBuffer", s);
}

static cortado_status queue_create(cortado_queue* out) {
  cl_int s;
  if (!ready()) return CORTADO_ERROR;
  *out = (cortado_queue)clCreateCommandQueue(cl.context, cl.device, 0, &s);
  return s == CL_SUCCESS ? CORTADO_OK : fail("clCreateCommandQueue", s);
}
static void queue_destroy(cortado_queue q) {
  clFinish((cl_command_queue)q);
  clReleaseCommandQueue((cl_command_queue)q);
}
static cortado_status queue_sync(cortado_queue q) {
  cl_int s = clFinish((cl_command_queue)q);
  return s == CL_SUCCESS ? CORTADO_OK : fail("clFinish", s);
}

/* ---- ops ---- */

enum kind { kUnary, kBinary, kMatMul, kGemm, kConv, kMaxPool, kAvgPool, kSoftmax };

struct cortado_op_s {
  enum kind kind;
  int code; /* unary / binary op */
  int trans_a, trans_b;
  float alpha, beta;
  int64_t kernel[2], strides[2], dilations[2], pads[4], group;
  int count_include_pad;
  int64_t axis;
};

static const cortado_attribute* attr(const cortado_op_desc* d, const char* name) {
  for (int i = 0; i < d->num_attributes; ++i)
    if (strcmp(d->attributes[i].name, name) == 0) return &d->attributes[i];
  return NULL;
}
static int64_t attr_int(const cortado_op_desc* d, const char* name, int64_t def) {
  const cortado_attribute* a = attr(d, name);
  return a && a->type == CORTADO_ATTR_INT ? a->i : def;
}
static float attr_float(const cortado_op_desc* d, const char* name, float def) {
  const cortado_attribute* a = attr(d, name);
  return a && a->type == CORTADO_ATTR_FLOAT ? a->f : def;
}
/* Copies an INTS attribute of exactly `n` values into out (else leaves `def`); 0 if it has
 * another length. */
static int attr_ints(const cortado_op_desc* d, const char* name, int n, int64_t* out, int64_t def) {
  const cortado_attribute* a = attr(d, name);
  for (int i = 0; i < n; ++i) out[i] = def;
  if (a == NULL) return 1;
  if (a->type != CORTADO_ATTR_INTS || a->count != n) return 0;
  memcpy(out, a->ints, sizeof(int64_t) * n);
  return 1;
}
static int attr_is(const cortado_op_desc* d, const char* name, const char* value) {
  const cortado_attribute* a = attr(d, name);
  return a == NULL || (a->type == CORTADO_ATTR_STRING && strcmp(a->s, value) == 0);
}

static int64_t count(const cortado_tensor* t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; ++i) n *= t->dims[i];
  return n;
}

static const cortado_tensor* broadcast(const cortado_tensor* in);

static const char* kUnaryOps[] = {"Relu", "Sigmoid", "Tanh", "Neg", "Abs", "Exp"};
static const char* kBinaryOps[] = {"Add", "Sub", "Mul", "Div"};

/* Fills `op` from the node; 0 when the plug-in does not run it. */
static int describe(const cortado_op_desc* d, struct cortado_op_s* op) {
  memset(op, 0, sizeof *op);
  if (d->domain[0] != '\0' || d->num_outputs != 1 || d->num_inputs < 1) return 0;
  for (int i = 0; i < d->num_inputs; ++i)
    if (d->inputs[i].dtype != 0 && d->inputs[i].dtype != CORTADO_FLOAT32) return 0;
  const char* t = d->op_type;
  for (int i = 0; i < 6; ++i)
    if (strcmp(t, kUnaryOps[i]) == 0) return op->kind = kUnary, op->code = i, d->num_inputs == 1;
  for (int i = 0; i < 4; ++i)
    if (strcmp(t, kBinaryOps[i]) == 0)
      return op->kind = kBinary, op->code = i, d->num_inputs == 2 && broadcast(d->inputs) != NULL;
  if (strcmp(t, "MatMul") == 0)
    return op->kind = kMatMul, op->alpha = 1, d->inputs[0].rank == 2 && d->inputs[1].rank == 2;
  if (strcmp(t, "Gemm") == 0) {
    op->kind = kGemm;
    op->trans_a = (int)attr_int(d, "transA", 0), op->trans_b = (int)attr_int(d, "transB", 0);
    op->alpha = attr_float(d, "alpha", 1), op->beta = attr_float(d, "beta", 1);
    return d->inputs[0].rank == 2 && d->inputs[1].rank == 2;
  }
  if (strcmp(t, "Conv") == 0 || strcmp(t, "MaxPool") == 0 || strcmp(t, "AveragePool") == 0) {
    int conv = t[0] == 'C';
    op->kind = conv ? kConv : t[0] == 'M' ? kMaxPool : kAvgPool;
    op->group = attr_int(d, "group", 1);
    op->count_include_pad = (int)attr_int(d, "count_include_pad", 0);
    if (d->inputs[0].rank != 4 || !attr_is(d, "auto_pad", "NOTSET")) return 0;
    if (!conv && (attr_int(d, "ceil_mode", 0) != 0 || attr_int(d, "storage_order", 0) != 0))
      return 0;
    if (conv && d->inputs[1].rank != 4) return 0;
    if (!attr_ints(d, "strides", 2, op->strides, 1) ||
        !attr_ints(d, "dilations", 2, op->dilations, 1) || !attr_ints(d, "pads", 4, op->pads, 0))
      return 0;
    if (!attr_ints(d, "kernel_shape", 2, op->kernel, -1)) return 0;
    if (!conv && (op->dilations[0] != 1 || op->dilations[1] != 1)) return 0;
    if (conv && op->kernel[0] < 0)
      op->kernel[0] = d->inputs[1].dims[2], op->kernel[1] = d->inputs[1].dims[3];
    return op->kernel[0] > 0 && op->kernel[1] > 0;
  }
  if (strcmp(t, "Softmax") == 0) {
    op->kind = kSoftmax;
    op->axis = attr_int(d, "axis", d->opset >= 13 ? -1 : 1);
    int rank = d->inputs[0].rank;
    return rank > 0 && (op->axis == -1 || op->axis == rank - 1);
  }
  return 0;
}

static int32_t supports(const cortado_op_desc* d) {
  struct cortado_op_s op;
  return ready() && describe(d, &op);
}
static cortado_status op_compile(const cortado_op_desc* d, cortado_op* out) {
  struct cortado_op_s op;
  if (!describe(d, &op)) {
    snprintf(error, sizeof error, "%s: not supported by the OpenCL plug-in", d->op_type);
    return CORTADO_ERROR;
  }
  *out = malloc(sizeof op);
  if (*out == NULL) return fail("out of memory", 0);
  **out = op;
  return CORTADO_OK;
}
static void op_destroy(cortado_op op) { free(op); }
static int32_t op_input_on_host(cortado_op op, int32_t i) {
  (void)op, (void)i;
  return 0;
}

static cortado_status bad(const char* message) {
  snprintf(error, sizeof error, "%s", message);
  return CORTADO_ERROR;
}

/* b broadcasts over a (a[i] meets b[i % count(b)]) when b, its leading ones dropped, is a's last
 * dimensions. Unknown dimensions (-1) match only each other. */
static int suffix_of(const cortado_tensor* b, const cortado_tensor* a) {
  int lead = 0;
  while (lead < b->rank && b->dims[lead] == 1) ++lead;
  int rb = b->rank - lead;
  if (rb > a->rank) return 0;
  for (int i = 0; i < rb; ++i)
    if (b->dims[b->rank - 1 - i] != a->dims[a->rank - 1 - i]) return 0;
  return 1;
}

/* The larger input of a binary op, or NULL when the other does not broadcast over it. */
static const cortado_tensor* broadcast(const cortado_tensor* in) {
  const cortado_tensor* big = count(&in[0]) >= count(&in[1]) ? &in[0] : &in[1];
  const cortado_tensor* small = big == &in[0] ? &in[1] : &in[0];
  return big->rank >= 0 && small->rank >= 0 && suffix_of(small, big) ? big : NULL;
}

static cortado_status op_infer(cortado_op op, const cortado_tensor* in, int32_t n_in,
                               cortado_tensor* out, int32_t n_out) {
  (void)n_in, (void)n_out;
  cortado_tensor* y = &out[0];
  memset(y, 0, sizeof *y);
  y->dtype = CORTADO_FLOAT32;
  switch (op->kind) {
    case kUnary:
    case kSoftmax:
      y->rank = in[0].rank;
      memcpy(y->dims, in[0].dims, sizeof y->dims);
      return CORTADO_OK;
    case kBinary: {
      const cortado_tensor* big = broadcast(in);
      if (big == NULL)
        return bad("binary op: only equal shapes or broadcasting over leading dimensions");
      *y = *big;
      y->buffer = NULL;
      return CORTADO_OK;
    }
    case kMatMul:
    case kGemm: {
      int64_t m = op->trans_a ? in[0].dims[1] : in[0].dims[0];
      int64_t k = op->trans_a ? in[0].dims[0] : in[0].dims[1];
      int64_t kb = op->trans_b ? in[1].dims[1] : in[1].dims[0];
      int64_t n = op->trans_b ? in[1].dims[0] : in[1].dims[1];
      if (in[0].rank != 2 || in[1].rank != 2 || k != kb)
        return bad("MatMul/Gemm: shapes do not match");
      if (n_in > 2 && in[2].dtype != 0) {
        int64_t nc = count(&in[2]);
        if (!(nc == 1 || nc == m * n || (nc == n && in[2].dims[in[2].rank - 1] == n)))
          return bad("Gemm: C broadcasts only as a scalar, a row or the whole output");
      }
      y->rank = 2, y->dims[0] = m, y->dims[1] = n;
      return CORTADO_OK;
    }
    case kConv:
    case kMaxPool:
    case kAvgPool: {
      int conv = op->kind == kConv;
      if (in[0].rank != 4 || (conv && in[1].rank != 4)) return bad("Conv/Pool: 4-D NCHW only");
      int64_t c = in[0].dims[1], m = conv ? in[1].dims[0] : c;
      if (conv &&
          (op->group <= 0 || c % op->group || m % op->group || in[1].dims[1] != c / op->group ||
           in[1].dims[2] != op->kernel[0] || in[1].dims[3] != op->kernel[1]))
        return bad("Conv: the weight does not match the input and group");
      y->rank = 4, y->dims[0] = in[0].dims[0], y->dims[1] = m;
      for (int i = 0; i < 2; ++i) {
        int64_t extent = (op->kernel[i] - 1) * (conv ? op->dilations[i] : 1) + 1;
        y->dims[2 + i] =
            (in[0].dims[2 + i] + op->pads[i] + op->pads[2 + i] - extent) / op->strides[i] + 1;
        if (y->dims[2 + i] <= 0)
          return bad("Conv/Pool: the kernel is larger than the padded input");
      }
      return CORTADO_OK;
    }
  }
  return bad("unknown op");
}

/* Runs `k` over `dims` work-items on q, after setting its arguments. */
static cortado_status launch(cl_kernel k, cortado_queue q, int work_dims, const size_t* global) {
  for (int i = 0; i < work_dims; ++i)
    if (global[i] == 0) return clReleaseKernel(k), CORTADO_OK;
  cl_int s = clEnqueueNDRangeKernel(queue_of(q), k, work_dims, NULL, global, NULL, 0, NULL, NULL);
  clReleaseKernel(k); /* kept alive by the runtime until the launch has run */
  if (s != CL_SUCCESS) return fail("clEnqueueNDRangeKernel", s);
  return finish_if_now(q);
}

#define ARG(k, i, v) clSetKernelArg(k, i, sizeof(v), &(v))

/* A small read-only buffer of ints, released once the launch that reads it has run. */
static cl_mem params(const int* p, int n, cl_int* s) {
  return clCreateBuffer(cl.context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof(int) * n,
                        (void*)p, s);
}

static cortado_status op_run(cortado_op op, cortado_queue q, const cortado_tensor* in, int32_t n_in,
                             cortado_tensor* out, int32_t n_out) {
  (void)n_out;
  cl_int s = CL_SUCCESS;
  cl_mem x = (cl_mem)in[0].buffer, y = (cl_mem)out[0].buffer;
  size_t n = (size_t)count(&out[0]);
  const char* names[] = {"unary", "binary", "gemm", "gemm", "conv", "pool", "pool", "softmax"};
  cl_kernel k = clCreateKernel(cl.program, names[op->kind], &s);
  if (s != CL_SUCCESS) return fail("clCreateKernel", s);
  switch (op->kind) {
    case kUnary: {
      ARG(k, 0, x), ARG(k, 1, y), ARG(k, 2, op->code);
      return launch(k, q, 1, &n);
    }
    case kBinary: {
      cl_mem b = (cl_mem)in[1].buffer;
      int na = (int)count(&in[0]), nb = (int)count(&in[1]);
      ARG(k, 0, x), ARG(k, 1, na), ARG(k, 2, b), ARG(k, 3, nb), ARG(k, 4, y), ARG(k, 5, op->code);
      return launch(k, q, 1, &n);
    }
    case kMatMul:
    case kGemm: {
      cl_mem b = (cl_mem)in[1].buffer;
      int has_c = n_in > 2 && in[2].dtype != 0;
      cl_mem c = has_c ? (cl_mem)in[2].buffer : b;
      int nc = has_c ? (int)count(&in[2]) : 0;
      int M = (int)out[0].dims[0], N = (int)out[0].dims[1];
      int K = (int)(op->trans_a ? in[0].dims[0] : in[0].dims[1]);
      ARG(k, 0, x), ARG(k, 1, b), ARG(k, 2, c), ARG(k, 3, nc), ARG(k, 4, y), ARG(k, 5, M);
      ARG(k, 6, N), ARG(k, 7, K), ARG(k, 8, op->trans_a), ARG(k, 9, op->trans_b);
      ARG(k, 10, op->alpha), ARG(k, 11, op->beta);
      size_t global[2] = {(size_t)M, (size_t)N};
      return launch(k, q, 2, global);
    }
    case kConv: {
      int has_b = n_in > 2 && in[2].dtype != 0;
      cl_mem w = (cl_mem)in[1].buffer, b = has_b ? (cl_mem)in[2].buffer : w;
      int p[15] = {(int)in[0].dims[1],    (int)in[0].dims[2],    (int)in[0].dims[3],
                   (int)out[0].dims[1],   (int)out[0].dims[2],   (int)out[0].dims[3],
                   (int)op->kernel[0],    (int)op->kernel[1],    (int)op->strides[0],
                   (int)op->strides[1],   (int)op->pads[0],      (int)op->pads[1],
                   (int)op->dilations[0], (int)op->dilations[1], (int)op->group};
      cl_mem pm = params(p, 15, &s);
      if (s != CL_SUCCESS) return clReleaseKernel(k), fail("clCreateBuffer", s);
      ARG(k, 0, x), ARG(k, 1, w), ARG(k, 2, b), ARG(k, 3, has_b), ARG(k, 4, y), ARG(k, 5, pm);
      size_t global[3] = {(size_t)out[0].dims[3], (size_t)out[0].dims[2],
                          (size_t)(out[0].dims[0] * out[0].dims[1])};
      cortado_status r = launch(k, q, 3, global);
      clReleaseMemObject(pm);
      return r;
    }
    case kMaxPool:
    case kAvgPool: {
      int p[12] = {(int)in[0].dims[2],  (int)in[0].dims[3],   (int)out[0].dims[2],
                   (int)out[0].dims[3], (int)op->kernel[0],   (int)op->kernel[1],
                   (int)op->strides[0], (int)op->strides[1],  (int)op->pads[0],
                   (int)op->pads[1],    op->kind == kMaxPool, op->count_include_pad};
      cl_mem pm = params(p, 12, &s);
      if (s != CL_SUCCESS) return clReleaseKernel(k), fail("clCreateBuffer", s);
      ARG(k, 0, x), ARG(k, 1, y), ARG(k, 2, pm);
      size_t global[3] = {(size_t)out[0].dims[3], (size_t)out[0].dims[2],
                          (size_t)(out[0].dims[0] * out[0].dims[1])};
      cortado_status r = launch(k, q, 3, global);
      clReleaseMemObject(pm);
      return r;
    }
    case kSoftmax: {
      int d = (int)out[0].dims[out[0].rank - 1];
      size_t rows = d > 0 ? n / (size_t)d : 0;
      ARG(k, 0, x), ARG(k, 1, y), ARG(k, 2, d);
      return launch(k, q, 1, &rows);
    }
  }
  clReleaseKernel(k);
  return bad("unknown op");
}

static const cortado_plugin table = {CORTADO_PLUGIN_API_VERSION,
                                     "opencl",
                                     40,
                                     last_error,
                                     supports,
                                     buffer_alloc,
                                     buffer_free,
                                     copy_from_host,
                                     copy_to_host,
                                     queue_create,
                                     queue_destroy,
                                     queue_sync,
                                     op_compile,
                                     op_destroy,
                                     op_input_on_host,
                                     op_infer,
                                     op_run};

uint32_t cortado_plugin_api_version(void) { return CORTADO_PLUGIN_API_VERSION; }
const cortado_plugin* cortado_plugin_get(void) { return &table; }
