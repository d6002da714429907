/* A test plug-in whose "device" is host memory behind opaque handles, with real queue semantics:
 * work enqueued on a queue (copies, ops) runs only at queue_sync, in order, so a host that reads
 * a result before syncing, or frees a buffer still queued, reads wrong data. Runs Relu and Add
 * (float32, equal shapes) and Reshape (its shape input read on the host). PLUGIN_NAME and
 * PLUGIN_PRIORITY are set by the build, so that one source makes several plug-ins. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/plugin/cortado_plugin.h"

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "host_plugin"
#endif
#ifndef PLUGIN_PRIORITY
#define PLUGIN_PRIORITY 50
#endif

static _Thread_local char error[256];
static const char* last_error(void) { return error; }
static cortado_status fail(const char* message) {
  snprintf(error, sizeof error, "%s", message);
  return CORTADO_ERROR;
}

struct cortado_buffer_s {
  int refs; /* the host's handle, plus one per queued command using it */
  size_t bytes;
  char data[];
};
static void release(cortado_buffer b) {
  if (--b->refs == 0) free(b);
}

enum { kCopyIn, kCopyOut, kRelu, kAdd, kCopyBuffer };
struct command {
  int kind;
  cortado_buffer a, b, out; /* retained */
  void* host;               /* kCopyIn: a staged copy of the source; kCopyOut: the destination */
  size_t bytes;
  struct command* next;
};
struct cortado_queue_s {
  struct command *head, *tail;
};

static cortado_status buffer_alloc(size_t bytes, cortado_buffer* out) {
  *out = malloc(sizeof(struct cortado_buffer_s) + bytes);
  if (*out == NULL) return fail("out of memory");
  (*out)->refs = 1;
  (*out)->bytes = bytes;
  return CORTADO_OK;
}
static void buffer_free(cortado_buffer b) { release(b); }

static cortado_buffer retain(cortado_buffer b) {
  if (b != NULL) ++b->refs;
  return b;
}

static void execute(struct command* c) {
  size_t n = c->bytes / sizeof(float);
  switch (c->kind) {
    case kCopyIn:
      memcpy(c->out->data, c->host, c->bytes);
      free(c->host);
      break;
    case kCopyOut:
      memcpy(c->host, c->a->data, c->bytes);
      break;
    case kCopyBuffer:
      memcpy(c->out->data, c->a->data, c->bytes);
      break;
    case kRelu:
      for (size_t i = 0; i < n; ++i) {
        float x = ((float*)c->a->data)[i];
        ((float*)c->out->data)[i] = x > 0 ? x : 0;
      }
      break;
    case kAdd:
      for (size_t i = 0; i < n; ++i)
        ((float*)c->out->data)[i] = ((float*)c->a->data)[i] + ((float*)c->b->data)[i];
      break;
  }
  if (c->a) release(c->a);
  if (c->b) release(c->b);
  if (c->out) release(c->out);
  free(c);
}

/* Queued on `q`, or run now when q is NULL. */
static cortado_status submit(cortado_queue q, int kind, cortado_buffer a, cortado_buffer b,
                             cortado_buffer out, void* host, size_t bytes) {
  struct command* c = calloc(1, sizeof *c);
  if (c == NULL) return fail("out of memory");
  c->kind = kind, c->a = retain(a), c->b = retain(b), c->out = retain(out);
  c->host = host, c->bytes = bytes;
  if (q == NULL) {
    execute(c);
  } else if (q->tail == NULL) {
    q->head = q->tail = c;
  } else {
    q->tail = q->tail->next = c;
  }
  return CORTADO_OK;
}

static cortado_status copy_from_host(cortado_queue q, const void* src, cortado_buffer dst,
                                     size_t bytes) {
  if (bytes > dst->bytes) return fail("copy_from_host: the buffer is too small");
  void* staged = malloc(bytes ? bytes : 1); /* the host may free src on return */
  if (staged == NULL) return fail("out of memory");
  memcpy(staged, src, bytes);
  return submit(q, kCopyIn, NULL, NULL, dst, staged, bytes);
}
static cortado_status copy_to_host(cortado_queue q, cortado_buffer src, void* dst, size_t bytes) {
  if (bytes > src->bytes) return fail("copy_to_host: the buffer is too small");
  return submit(q, kCopyOut, src, NULL, NULL, dst, bytes);
}

static cortado_status queue_create(cortado_queue* out) {
  *out = calloc(1, sizeof(struct cortado_queue_s));
  return *out ? CORTADO_OK : fail("out of memory");
}
static cortado_status queue_sync(cortado_queue q) {
  while (q->head != NULL) {
    struct command* c = q->head;
    q->head = c->next;
    execute(c);
  }
  q->tail = NULL;
  return CORTADO_OK;
}
static void queue_destroy(cortado_queue q) {
  queue_sync(q);
  free(q);
}

struct cortado_op_s {
  int kind;
};

static int kind_of(const cortado_op_desc* d) {
  if (d->domain[0] != '\0' || d->num_inputs < 1 || d->inputs[0].dtype != CORTADO_FLOAT32) return -1;
  if (strcmp(d->op_type, "Relu") == 0) return kRelu;
  if (strcmp(d->op_type, "Add") == 0 && d->num_inputs == 2 && d->inputs[1].dtype == CORTADO_FLOAT32)
    return kAdd;
  if (strcmp(d->op_type, "Reshape") == 0 && d->num_inputs == 2) return kCopyBuffer;
  return -1;
}
static int32_t supports(const cortado_op_desc* d) { return kind_of(d) >= 0; }
static cortado_status op_compile(const cortado_op_desc* d, cortado_op* out) {
  if (kind_of(d) < 0) return fail("unsupported node");
  *out = malloc(sizeof(struct cortado_op_s));
  (*out)->kind = kind_of(d);
  return CORTADO_OK;
}
static void op_destroy(cortado_op op) { free(op); }
static int32_t op_input_on_host(cortado_op op, int32_t i) {
  return op->kind == kCopyBuffer && i == 1;
}

static int64_t count(const cortado_tensor* t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; ++i) n *= t->dims[i];
  return n;
}

static cortado_status op_infer(cortado_op op, const cortado_tensor* in, int32_t n_in,
                               cortado_tensor* out, int32_t n_out) {
  if (n_out != 1) return fail("one output expected");
  out[0] = in[0];
  out[0].buffer = NULL;
  if (op->kind == kAdd) {
    if (in[1].rank != in[0].rank || count(&in[1]) != count(&in[0]) ||
        memcmp(in[0].dims, in[1].dims, sizeof(int64_t) * in[0].rank) != 0)
      return fail("Add: the shapes differ (this plug-in does not broadcast)");
  }
  if (op->kind == kCopyBuffer) {
    const int64_t* shape = in[1].host_data;
    int64_t known = 1, infer = -1;
    if (in[1].rank != 1 || in[1].dims[0] > CORTADO_MAX_RANK || shape == NULL)
      return fail("Reshape: bad shape input");
    out[0].rank = (int32_t)in[1].dims[0];
    for (int i = 0; i < out[0].rank; ++i) {
      out[0].dims[i] = shape[i] == 0 && i < in[0].rank ? in[0].dims[i] : shape[i];
      if (out[0].dims[i] == -1)
        infer = i;
      else
        known *= out[0].dims[i];
    }
    if (infer >= 0 && known > 0) out[0].dims[infer] = count(&in[0]) / known;
    if (count(&out[0]) != count(&in[0])) return fail("Reshape: the element counts differ");
  }
  (void)n_in;
  return CORTADO_OK;
}

static cortado_status op_run(cortado_op op, cortado_queue q, const cortado_tensor* in, int32_t n_in,
                             cortado_tensor* out, int32_t n_out) {
  (void)n_in, (void)n_out;
  return submit(q, op->kind, in[0].buffer, op->kind == kAdd ? in[1].buffer : NULL, out[0].buffer,
                NULL, (size_t)count(&out[0]) * sizeof(float));
}

static const cortado_plugin table = {CORTADO_PLUGIN_API_VERSION,
                                     PLUGIN_NAME,
                                     PLUGIN_PRIORITY,
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
