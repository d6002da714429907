/* cortado_plugin.h: the C ABI between cortadod and an accelerator plug-in (a shared library
 * loaded with dlopen from the folder given by --backend-plugin-dir), in the spirit of Caffe2's
 * ONNXIFI and ggml's backend registry. C only, so that a plug-in can be built with any compiler
 * against this one header.
 *
 * A plug-in exports two functions:
 *   uint32_t cortado_plugin_api_version(void);   returns CORTADO_PLUGIN_API_VERSION it was built
 * with const cortado_plugin* cortado_plugin_get(void);  its table, valid until it is unloaded The
 * host calls the first and refuses the plug-in unless it equals its own version; then it calls the
 * second and refuses a table with a missing entry.
 *
 * Memory: device buffers are opaque handles from buffer_alloc. The host allocates every output
 * (after op_infer has said its shape) and frees what it allocated. Queues: one per run; work
 * enqueued on a queue runs in order; queue_sync waits for it. A null queue means "do it now"
 * (the copy or run has finished when the call returns). Every entry may be called from several
 * threads at once with different queues. Errors: a call returns CORTADO_ERROR and last_error()
 * describes it (thread-local, valid until the thread's next call). */
#ifndef CORTADO_BACKENDS_PLUGIN_CORTADO_PLUGIN_H_
#define CORTADO_BACKENDS_PLUGIN_CORTADO_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CORTADO_PLUGIN_API_VERSION 1u
#define CORTADO_MAX_RANK 8

typedef enum { CORTADO_OK = 0, CORTADO_ERROR = 1 } cortado_status;

/* Element types, numbered as ONNX's TensorProto.DataType. */
typedef enum {
  CORTADO_FLOAT32 = 1,
  CORTADO_UINT8 = 2,
  CORTADO_INT8 = 3,
  CORTADO_INT32 = 6,
  CORTADO_INT64 = 7,
  CORTADO_BOOL = 9,
  CORTADO_FLOAT16 = 10,
  CORTADO_FLOAT64 = 11
} cortado_dtype;

typedef struct cortado_buffer_s* cortado_buffer; /* device memory */
typedef struct cortado_queue_s* cortado_queue;   /* a run's in-order queue */
typedef struct cortado_op_s* cortado_op;         /* a compiled node */

/* A tensor as the plug-in sees it: device memory (buffer) or, for an input the op reads on the
 * host (op_input_on_host) or a constant known at compile time, host memory (host_data). */
typedef struct {
  cortado_buffer buffer;
  const void* host_data;
  int32_t dtype;                  /* cortado_dtype */
  int32_t rank;                   /* -1: unknown (op_desc shapes only) */
  int64_t dims[CORTADO_MAX_RANK]; /* -1: an unknown dimension (op_desc shapes only) */
} cortado_tensor;

typedef enum {
  CORTADO_ATTR_INT = 1,
  CORTADO_ATTR_FLOAT = 2,
  CORTADO_ATTR_STRING = 3,
  CORTADO_ATTR_INTS = 4,
  CORTADO_ATTR_FLOATS = 5
} cortado_attr_type;

typedef struct {
  const char* name;
  int32_t type;        /* cortado_attr_type */
  int64_t i;           /* INT */
  float f;             /* FLOAT */
  const char* s;       /* STRING, NUL-terminated */
  const int64_t* ints; /* INTS */
  const float* floats; /* FLOATS */
  int32_t count;       /* INTS, FLOATS: elements */
} cortado_attribute;

/* One graph node: its op, the model's opset for the domain, attributes (completed with the
 * schema's defaults), and per input what the host knows: dtype, shape (rank -1 if unknown) and,
 * for a constant, host_data. Valid only during the call. */
typedef struct {
  const char* op_type;
  const char* domain; /* "" is ai.onnx */
  int32_t opset;
  const cortado_attribute* attributes;
  int32_t num_attributes;
  const cortado_tensor* inputs; /* an absent optional input has dtype 0 */
  int32_t num_inputs;
  int32_t num_outputs;
} cortado_op_desc;

typedef struct {
  uint32_t api_version; /* CORTADO_PLUGIN_API_VERSION */
  const char* name;     /* the backend's name, e.g. "opencl" */
  int32_t priority;     /* higher is asked first; cortado's reference CPU backend is 0 */

  const char* (*last_error)(void);

  /* Capability: nonzero when op_compile would accept the node (op, opset, dtypes, attributes). */
  int32_t (*supports)(const cortado_op_desc* desc);

  cortado_status (*buffer_alloc)(size_t bytes, cortado_buffer* out);
  void (*buffer_free)(cortado_buffer buffer);
  cortado_status (*copy_from_host)(cortado_queue queue, const void* src, cortado_buffer dst,
                                   size_t bytes);
  cortado_status (*copy_to_host)(cortado_queue queue, cortado_buffer src, void* dst, size_t bytes);

  cortado_status (*queue_create)(cortado_queue* out);
  void (*queue_destroy)(cortado_queue queue);
  cortado_status (*queue_sync)(cortado_queue queue);

  cortado_status (*op_compile)(const cortado_op_desc* desc, cortado_op* out);
  void (*op_destroy)(cortado_op op);
  /* Nonzero when input i must be host memory (shapes, axes). */
  int32_t (*op_input_on_host)(cortado_op op, int32_t i);
  /* Fills each output's dtype, rank and dims from the inputs' (buffers unset). */
  cortado_status (*op_infer)(cortado_op op, const cortado_tensor* inputs, int32_t num_inputs,
                             cortado_tensor* outputs, int32_t num_outputs);
  /* Enqueues the op on `queue`; outputs come with buffers the host allocated for op_infer's
   * shapes. */
  cortado_status (*op_run)(cortado_op op, cortado_queue queue, const cortado_tensor* inputs,
                           int32_t num_inputs, cortado_tensor* outputs, int32_t num_outputs);
} cortado_plugin;

typedef uint32_t (*cortado_plugin_api_version_fn)(void);
typedef const cortado_plugin* (*cortado_plugin_get_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* CORTADO_BACKENDS_PLUGIN_CORTADO_PLUGIN_H_ */
