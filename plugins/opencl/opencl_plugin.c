/* The OpenCL plug-in: a cortado accelerator backend through the C ABI of cortado_plugin.h alone,
 * running on any OpenCL 1.2+ device (PoCL's CPU device in CI). Buffers are cl_mem, a run's queue
 * is an in-order cl_command_queue (pooled across runs), copies are clEnqueue{Write,Read}Buffer.
 * Kernels, all float32: elementwise unary ops and activations (Relu, Sigmoid, Tanh, Neg, Abs, Exp,
 * Clip, LeakyRelu, Elu, HardSigmoid, HardSwish) and binary ops (Add, Sub, Mul, Div; equal shapes,
 * or one side broadcast over leading dimensions), MatMul (A of rank >= 2, 2-D B), Gemm, Conv (2-D
 * NCHW, direct: groups, strides, pads, dilations, bias), MaxPool / AveragePool (2-D NCHW),
 * GlobalAveragePool / GlobalMaxPool, Softmax over the last axis, Concat, Flatten, and the graph
 * optimizer's fused ops (ops/fused.h): ai.cortado FusedConv (bias, residual Z, activation) and
 * FusedMatMul (C, activation). What it does not cover it declines in supports(), and the plan
 * runs it on the CPU. Thread-safe: the context and program are built once; kernel objects are per
 * call. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/plugin/cortado_plugin.h"

static const char* kSource =
    "/* An activation by code (ACT_* in opencl_plugin.c), with up to two float parameters. */\n"
    "float act(float v, int op, float p0, float p1) {\n"
    "  switch (op) {\n"
    "    case 1: return fmax(v, 0.0f);\n"
    "    case 2: return 1.0f / (1.0f + exp(-v));\n"
    "    case 3: return tanh(v);\n"
    "    case 4: return -v;\n"
    "    case 5: return fabs(v);\n"
    "    case 6: return exp(v);\n"
    "    case 7: return fmin(fmax(v, p0), p1);\n"
    "    case 8: return v < 0.0f ? p0 * v : v;\n"
    "    case 9: return v < 0.0f ? p0 * (exp(v) - 1.0f) : v;\n"
    "    case 10: return fmax(0.0f, fmin(1.0f, p0 * v + p1));\n"
    "    case 11: return v * fmax(0.0f, fmin(1.0f, v / 6.0f + 0.5f));\n"
    "    case 12: return v / (1.0f + exp(-v));\n"
    "    default: return v;\n"
    "  }\n"
    "}\n"
    "__kernel void unary(__global const float* x, __global float* y, int op, float p0, float p1) "
    "{\n"
    "  size_t i = get_global_id(0); y[i] = act(x[i], op, p0, p1);\n"
    "}\n"
    "__kernel void binary(__global const float* a, int na, __global const float* b, int nb,\n"
    "                     __global float* y, int op) {\n"
    "  size_t i = get_global_id(0); float p = a[i % na], q = b[i % nb];\n"
    "  y[i] = op == 0 ? p + q : op == 1 ? p - q : op == 2 ? p * q : p / q;\n"
    "}\n"
    "__kernel void gemm(__global const float* a, __global const float* b, __global const float* "
    "c,\n"
    "                   int nc, __global float* y, int M, int N, int K, int ta, int tb,\n"
    "                   float alpha, float beta, int op, float p0, float p1) {\n"
    "  int m = get_global_id(0), n = get_global_id(1); float s = 0.0f;\n"
    "  for (int k = 0; k < K; ++k)\n"
    "    s += a[ta ? k * M + m : m * K + k] * b[tb ? n * K + k : k * N + n];\n"
    "  s *= alpha; if (nc > 0) s += beta * c[(m * N + n) % nc];\n"
    "  y[m * N + n] = act(s, op, p0, p1);\n"
    "}\n"
    "__kernel void conv(__global const float* x, __global const float* w, __global const float* "
    "b,\n"
    "                   int has_b, __global const float* z, int has_z, __global float* y,\n"
    "                   __global const int* p, int op, float p0, float p1) {\n"
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
    "  int o = (nm * OH + oh) * OW + ow;\n"
    "  y[o] = act(has_z ? s + z[o] : s, op, p0, p1);\n"
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
    "__kernel void global_pool(__global const float* x, __global float* y, int D, int is_max) {\n"
    "  size_t r = get_global_id(0); __global const float* in = x + r * D;\n"
    "  float s = is_max ? -INFINITY : 0.0f;\n"
    "  for (int i = 0; i < D; ++i) s = is_max ? fmax(s, in[i]) : s + in[i];\n"
    "  y[r] = is_max ? s : s / D;\n"
    "}\n"
    "__kernel void softmax(__global const float* x, __global float* y, int D) {\n"
    "  size_t r = get_global_id(0); __global const float* in = x + r * D; __global float* out = y "
    "+ r * D;\n"
    "  float mx = -INFINITY; for (int i = 0; i < D; ++i) mx = fmax(mx, in[i]);\n"
    "  float s = 0.0f; for (int i = 0; i < D; ++i) { out[i] = exp(in[i] - mx); s += out[i]; }\n"
    "  for (int i = 0; i < D; ++i) out[i] /= s;\n"
    "}\n"
    "/* One Concat input: x as [outer, inner] into y as [outer, total], from column `offset`. */\n"
    "__kernel void concat(__global const float* x, __global float* y, int inner, int total,\n"
    "                     int offset) {\n"
    "  size_t i = get_global_id(0); int o = i / inner, r = i % inner;\n"
    "  y[o * total + offset + r] = x[i];\n"
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

/* Queues are pooled: a run's queue goes back to the pool (drained) when the run ends, so that
 * steady traffic creates none. */
#define kMaxIdleQueues 64
static pthread_mutex_t idle_mu = PTHREAD_MUTEX_INITIALIZER;
static cl_command_queue idle[kMaxIdleQueues];
static int num_idle = 0;

static cortado_status queue_create(cortado_queue* out) {
  cl_int s;
  if (!ready()) return CORTADO_ERROR;
  pthread_mutex_lock(&idle_mu);
  cl_command_queue q = num_idle > 0 ? idle[--num_idle] : NULL;
  pthread_mutex_unlock(&idle_mu);
  if (q == NULL) {
    q = clCreateCommandQueue(cl.context, cl.device, 0, &s);
    if (s != CL_SUCCESS) return fail("clCreateCommandQueue", s);
  }
  *out = (cortado_queue)q;
  return CORTADO_OK;
}
static void queue_destroy(cortado_queue q) {
  if (clFinish((cl_command_queue)q) == CL_SUCCESS) {
    pthread_mutex_lock(&idle_mu);
    int kept = num_idle < kMaxIdleQueues;
    if (kept) idle[num_idle++] = (cl_command_queue)q;
    pthread_mutex_unlock(&idle_mu);
    if (kept) return;
  }
  clReleaseCommandQueue((cl_command_queue)q);
}
static cortado_status queue_sync(cortado_queue q) {
  cl_int s = clFinish((cl_command_queue)q);
  return s == CL_SUCCESS ? CORTADO_OK : fail("clFinish", s);
}

/* ---- ops ---- */

enum kind {
  kUnary,
  kBinary,
  kMatMul,
  kGemm,
  kConv,
  kMaxPool,
  kAvgPool,
  kGlobalMaxPool,
  kGlobalAvgPool,
  kSoftmax,
  kConcat,
  kFlatten
};

/* Activations by code, as the kernels' act() numbers them; params: their float attributes in
 * ai.cortado's activation_params order (ops/fused.h) and defaults. */
enum { ACT_NONE = 0, ACT_CLIP = 7 };
static const struct {
  const char* name;
  const char* params[2];
  float defaults[2];
} kActivations[] = {
    {"", {NULL, NULL}, {0, 0}},
    {"Relu", {NULL, NULL}, {0, 0}},
    {"Sigmoid", {NULL, NULL}, {0, 0}},
    {"Tanh", {NULL, NULL}, {0, 0}},
    {"Neg", {NULL, NULL}, {0, 0}},
    {"Abs", {NULL, NULL}, {0, 0}},
    {"Exp", {NULL, NULL}, {0, 0}},
    {"Clip", {"min", "max"}, {-3.402823466e38f, 3.402823466e38f}},
    {"LeakyRelu", {"alpha", NULL}, {0.01f, 0}},
    {"Elu", {"alpha", NULL}, {1.0f, 0}},
    {"HardSigmoid", {"alpha", "beta"}, {0.2f, 0.5f}},
    {"HardSwish", {NULL, NULL}, {0, 0}},
    {"Swish", {NULL, NULL}, {0, 0}},
};
#define kNumActivations ((int)(sizeof kActivations / sizeof kActivations[0]))

struct cortado_op_s {
  enum kind kind;
  int code; /* binary op */
  int act;  /* activation applied to the result (ACT_NONE for none) */
  float p[2];
  int trans_a, trans_b;
  float alpha, beta;
  int64_t kernel[2], strides[2], dilations[2], pads[4], group;
  int count_include_pad, ceil_mode;
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

static int find_activation(const char* name) {
  for (int i = 1; i < kNumActivations; ++i)
    if (strcmp(kActivations[i].name, name) == 0) return i;
  return -1;
}

/* The activation of a plain op (its attributes; Clip's bounds from opset 11 are inputs, read at
 * run time) or of a fused one (`activation`, `activation_params`). 0 when unknown. */
static int describe_activation(const cortado_op_desc* d, int fused, struct cortado_op_s* op) {
  const cortado_attribute* name = fused ? attr(d, "activation") : NULL;
  op->act = fused ? (name == NULL || name->type != CORTADO_ATTR_STRING || name->s[0] == '\0'
                         ? ACT_NONE
                         : find_activation(name->s))
                  : find_activation(d->op_type);
  if (op->act < 0) return 0;
  const cortado_attribute* params = fused ? attr(d, "activation_params") : NULL;
  for (int i = 0; i < 2; ++i) {
    const char* p = kActivations[op->act].params[i];
    op->p[i] = kActivations[op->act].defaults[i];
    if (p == NULL) continue;
    if (!fused) {
      op->p[i] = attr_float(d, p, op->p[i]);
    } else if (params != NULL && params->type == CORTADO_ATTR_FLOATS && i < params->count) {
      op->p[i] = params->floats[i];
    }
  }
  return 1;
}

static int64_t count(const cortado_tensor* t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; ++i) n *= t->dims[i];
  return n;
}

static const cortado_tensor* broadcast(const cortado_tensor* in);

static const char* kBinaryOps[] = {"Add", "Sub", "Mul", "Div"};

static int is(const cortado_op_desc* d, const char* domain, const char* op_type) {
  return strcmp(d->domain, domain) == 0 && strcmp(d->op_type, op_type) == 0;
}

/* Fills `op` from the node; 0 when the plug-in does not run it. */
static int describe(const cortado_op_desc* d, struct cortado_op_s* op) {
  memset(op, 0, sizeof *op);
  if (d->num_outputs != 1 || d->num_inputs < 1) return 0;
  for (int i = 0; i < d->num_inputs; ++i)
    if (d->inputs[i].dtype != 0 && d->inputs[i].dtype != CORTADO_FLOAT32) return 0;
  const int fused_conv = is(d, "ai.cortado", "FusedConv");
  const int fused_matmul = is(d, "ai.cortado", "FusedMatMul");
  if (d->domain[0] != '\0' && !fused_conv && !fused_matmul) return 0;
  const char* t = d->op_type;
  const int rank0 = d->inputs[0].rank;
  if (strcmp(t, "Clip") == 0) {
    op->kind = kUnary;
    describe_activation(d, 0, op);
    return d->num_inputs <= 3;
  }
  if (find_activation(t) > 0 && strcmp(t, "Swish") != 0) {
    op->kind = kUnary;
    return describe_activation(d, 0, op) && d->num_inputs == 1;
  }
  for (int i = 0; i < 4; ++i)
    if (strcmp(t, kBinaryOps[i]) == 0)
      return op->kind = kBinary, op->code = i, d->num_inputs == 2 && broadcast(d->inputs) != NULL;
  if (strcmp(t, "MatMul") == 0 || fused_matmul) {
    /* A of rank >= 2 as [rows, K], times a 2-D B. */
    op->kind = kMatMul, op->alpha = 1, op->beta = 1;
    if (fused_matmul && !describe_activation(d, 1, op)) return 0;
    return d->num_inputs <= (fused_matmul ? 3 : 2) && rank0 >= 2 && d->inputs[1].rank == 2;
  }
  if (strcmp(t, "Gemm") == 0) {
    op->kind = kGemm;
    op->trans_a = (int)attr_int(d, "transA", 0), op->trans_b = (int)attr_int(d, "transB", 0);
    op->alpha = attr_float(d, "alpha", 1), op->beta = attr_float(d, "beta", 1);
    return rank0 == 2 && d->inputs[1].rank == 2;
  }
  if (strcmp(t, "Conv") == 0 || fused_conv || strcmp(t, "MaxPool") == 0 ||
      strcmp(t, "AveragePool") == 0) {
    int conv = t[0] != 'M' && t[0] != 'A';
    op->kind = conv ? kConv : t[0] == 'M' ? kMaxPool : kAvgPool;
    op->group = attr_int(d, "group", 1);
    op->count_include_pad = (int)attr_int(d, "count_include_pad", 0);
    op->ceil_mode = !conv && attr_int(d, "ceil_mode", 0) != 0;
    if (fused_conv && !describe_activation(d, 1, op)) return 0;
    if (rank0 != 4 || !attr_is(d, "auto_pad", "NOTSET")) return 0;
    /* ceil_mode's last window may overhang the padding; only MaxPool and an average over the
     * input's own elements are indifferent to that. */
    if (!conv && ((op->ceil_mode && op->count_include_pad) || attr_int(d, "storage_order", 0) != 0))
      return 0;
    if (conv && (d->inputs[1].rank != 4 || d->num_inputs > (fused_conv ? 4 : 3))) return 0;
    if (!attr_ints(d, "strides", 2, op->strides, 1) ||
        !attr_ints(d, "dilations", 2, op->dilations, 1) || !attr_ints(d, "pads", 4, op->pads, 0))
      return 0;
    if (!attr_ints(d, "kernel_shape", 2, op->kernel, -1)) return 0;
    if (!conv && (op->dilations[0] != 1 || op->dilations[1] != 1)) return 0;
    if (conv && op->kernel[0] < 0)
      op->kernel[0] = d->inputs[1].dims[2], op->kernel[1] = d->inputs[1].dims[3];
    return op->kernel[0] > 0 && op->kernel[1] > 0;
  }
  if (strcmp(t, "GlobalAveragePool") == 0 || strcmp(t, "GlobalMaxPool") == 0) {
    op->kind = t[6] == 'A' ? kGlobalAvgPool : kGlobalMaxPool;
    return rank0 >= 3;
  }
  if (strcmp(t, "Softmax") == 0) {
    op->kind = kSoftmax;
    op->axis = attr_int(d, "axis", d->opset >= 13 ? -1 : 1);
    return rank0 > 0 && (op->axis == -1 || op->axis == rank0 - 1);
  }
  if (strcmp(t, "Concat") == 0) {
    op->kind = kConcat;
    op->axis = attr_int(d, "axis", 0);
    if (rank0 <= 0) return 0;
    if (op->axis < 0) op->axis += rank0;
    for (int i = 0; i < d->num_inputs; ++i)
      if (d->inputs[i].rank != rank0) return 0;
    return op->axis >= 0 && op->axis < rank0;
  }
  if (strcmp(t, "Flatten") == 0) {
    op->kind = kFlatten;
    op->axis = attr_int(d, "axis", 1);
    if (rank0 < 0) return 0;
    if (op->axis < 0) op->axis += rank0;
    return op->axis >= 0 && op->axis <= rank0;
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
/* Clip's bounds (opset 11 on) are read on the host, as the kernel's arguments. */
static int32_t op_input_on_host(cortado_op op, int32_t i) {
  return op->kind == kUnary && op->act == ACT_CLIP && i >= 1;
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

/* Elements before and after `axis` of t. */
static int64_t outer(const cortado_tensor* t, int64_t axis) {
  int64_t n = 1;
  for (int64_t i = 0; i < axis; ++i) n *= t->dims[i];
  return n;
}
static int64_t inner(const cortado_tensor* t, int64_t axis) {
  int64_t n = 1;
  for (int64_t i = axis; i < t->rank; ++i) n *= t->dims[i];
  return n;
}

static cortado_status op_infer(cortado_op op, const cortado_tensor* in, int32_t n_in,
                               cortado_tensor* out, int32_t n_out) {
  (void)n_out;
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
      int ra = in[0].rank;
      if (ra < 2 || in[1].rank != 2 || (op->kind == kGemm && ra != 2))
        return bad("MatMul/Gemm: A must be at least 2-D and B 2-D");
      int64_t m = op->trans_a ? in[0].dims[1] : outer(&in[0], ra - 1);
      int64_t k = op->trans_a ? in[0].dims[0] : in[0].dims[ra - 1];
      int64_t kb = op->trans_b ? in[1].dims[1] : in[1].dims[0];
      int64_t n = op->trans_b ? in[1].dims[0] : in[1].dims[1];
      if (k != kb) return bad("MatMul/Gemm: shapes do not match");
      if (n_in > 2 && in[2].dtype != 0) {
        int64_t nc = count(&in[2]);
        if (!(nc == 1 || nc == m * n || (nc == n && in[2].dims[in[2].rank - 1] == n)))
          return bad("Gemm: C broadcasts only as a scalar, a row or the whole output");
      }
      y->rank = ra;
      memcpy(y->dims, in[0].dims, sizeof y->dims);
      if (op->kind == kGemm) y->dims[0] = m;
      y->dims[ra - 1] = n;
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
        int64_t room = in[0].dims[2 + i] + op->pads[i] + op->pads[2 + i] - extent;
        int64_t s = op->strides[i];
        if (room < 0) return bad("Conv/Pool: the kernel is larger than the padded input");
        y->dims[2 + i] = (op->ceil_mode ? (room + s - 1) / s : room / s) + 1;
        /* As ONNX Runtime and PyTorch: the last window starts inside the input or its leading
         * padding. */
        if (op->ceil_mode && (y->dims[2 + i] - 1) * s >= in[0].dims[2 + i] + op->pads[i])
          --y->dims[2 + i];
      }
      if (conv && n_in > 3 && in[3].dtype != 0 && count(&in[3]) != count(y))
        return bad("FusedConv: Z must have the output's shape");
      return CORTADO_OK;
    }
    case kGlobalMaxPool:
    case kGlobalAvgPool:
      y->rank = in[0].rank;
      for (int i = 0; i < y->rank; ++i) y->dims[i] = i < 2 ? in[0].dims[i] : 1;
      return CORTADO_OK;
    case kConcat:
      *y = in[0];
      y->buffer = NULL, y->host_data = NULL;
      for (int i = 1; i < n_in; ++i) {
        if (in[i].rank != y->rank) return bad("Concat: inputs of different ranks");
        for (int j = 0; j < y->rank; ++j)
          if (j != op->axis && in[i].dims[j] != y->dims[j])
            return bad("Concat: inputs differ off the axis");
        y->dims[op->axis] += in[i].dims[op->axis];
      }
      return CORTADO_OK;
    case kFlatten:
      y->rank = 2, y->dims[0] = outer(&in[0], op->axis), y->dims[1] = inner(&in[0], op->axis);
      return CORTADO_OK;
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

static cl_kernel make_kernel(const char* name, cl_int* s) {
  return clCreateKernel(cl.program, name, s);
}

static cortado_status op_run(cortado_op op, cortado_queue q, const cortado_tensor* in, int32_t n_in,
                             cortado_tensor* out, int32_t n_out) {
  (void)n_out;
  cl_int s = CL_SUCCESS;
  cl_mem x = (cl_mem)in[0].buffer, y = (cl_mem)out[0].buffer;
  size_t n = (size_t)count(&out[0]);
  if (op->kind == kFlatten) {
    if (n == 0) return CORTADO_OK;
    s = clEnqueueCopyBuffer(queue_of(q), x, y, 0, 0, n * sizeof(float), 0, NULL, NULL);
    return s == CL_SUCCESS ? finish_if_now(q) : fail("clEnqueueCopyBuffer", s);
  }
  if (op->kind == kConcat) {
    const int64_t total = inner(&out[0], op->axis);
    int64_t offset = 0;
    for (int i = 0; i < n_in; ++i) {
      cl_kernel k = make_kernel("concat", &s);
      if (s != CL_SUCCESS) return fail("clCreateKernel", s);
      cl_mem xi = (cl_mem)in[i].buffer;
      int part = (int)inner(&in[i], op->axis), all = (int)total, at = (int)offset;
      size_t m = (size_t)count(&in[i]);
      ARG(k, 0, xi), ARG(k, 1, y), ARG(k, 2, part), ARG(k, 3, all), ARG(k, 4, at);
      cortado_status r = launch(k, q, 1, &m);
      if (r != CORTADO_OK) return r;
      offset += part;
    }
    return CORTADO_OK;
  }
  const char* names[] = {"unary", "binary", "gemm",        "gemm",        "conv",
                         "pool",  "pool",   "global_pool", "global_pool", "softmax"};
  cl_kernel k = make_kernel(names[op->kind], &s);
  if (s != CL_SUCCESS) return fail("clCreateKernel", s);
  switch (op->kind) {
    case kUnary: {
      float p0 = op->p[0], p1 = op->p[1];
      if (op->act == ACT_CLIP) { /* opset 11 on: optional scalar inputs, on the host */
        if (n_in > 1 && in[1].host_data != NULL) p0 = *(const float*)in[1].host_data;
        if (n_in > 2 && in[2].host_data != NULL) p1 = *(const float*)in[2].host_data;
      }
      ARG(k, 0, x), ARG(k, 1, y), ARG(k, 2, op->act), ARG(k, 3, p0), ARG(k, 4, p1);
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
      int N = (int)out[0].dims[out[0].rank - 1], M = N > 0 ? (int)(n / (size_t)N) : 0;
      int K = (int)(op->trans_a ? in[0].dims[0] : in[0].dims[in[0].rank - 1]);
      ARG(k, 0, x), ARG(k, 1, b), ARG(k, 2, c), ARG(k, 3, nc), ARG(k, 4, y), ARG(k, 5, M);
      ARG(k, 6, N), ARG(k, 7, K), ARG(k, 8, op->trans_a), ARG(k, 9, op->trans_b);
      ARG(k, 10, op->alpha), ARG(k, 11, op->beta), ARG(k, 12, op->act);
      ARG(k, 13, op->p[0]), ARG(k, 14, op->p[1]);
      size_t global[2] = {(size_t)M, (size_t)N};
      return launch(k, q, 2, global);
    }
    case kConv: {
      int has_b = n_in > 2 && in[2].dtype != 0, has_z = n_in > 3 && in[3].dtype != 0;
      cl_mem w = (cl_mem)in[1].buffer, b = has_b ? (cl_mem)in[2].buffer : w;
      cl_mem z = has_z ? (cl_mem)in[3].buffer : w;
      int p[15] = {(int)in[0].dims[1],    (int)in[0].dims[2],    (int)in[0].dims[3],
                   (int)out[0].dims[1],   (int)out[0].dims[2],   (int)out[0].dims[3],
                   (int)op->kernel[0],    (int)op->kernel[1],    (int)op->strides[0],
                   (int)op->strides[1],   (int)op->pads[0],      (int)op->pads[1],
                   (int)op->dilations[0], (int)op->dilations[1], (int)op->group};
      cl_mem pm = params(p, 15, &s);
      if (s != CL_SUCCESS) return clReleaseKernel(k), fail("clCreateBuffer", s);
      ARG(k, 0, x), ARG(k, 1, w), ARG(k, 2, b), ARG(k, 3, has_b), ARG(k, 4, z), ARG(k, 5, has_z);
      ARG(k, 6, y), ARG(k, 7, pm), ARG(k, 8, op->act), ARG(k, 9, op->p[0]), ARG(k, 10, op->p[1]);
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
    case kGlobalMaxPool:
    case kGlobalAvgPool: {
      int d = (int)inner(&in[0], 2), is_max = op->kind == kGlobalMaxPool;
      ARG(k, 0, x), ARG(k, 1, y), ARG(k, 2, d), ARG(k, 3, is_max);
      return launch(k, q, 1, &n);
    }
    case kSoftmax: {
      int d = (int)out[0].dims[out[0].rank - 1];
      size_t rows = d > 0 ? n / (size_t)d : 0;
      ARG(k, 0, x), ARG(k, 1, y), ARG(k, 2, d);
      return launch(k, q, 1, &rows);
    }
    default:
      break;
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
