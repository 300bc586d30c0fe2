// ma_model_tflm.cc: ma_model.h on TFLM (see ma_model_tflm.h).
#include "ma_model_tflm.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>

#include "fa_attention.h"
#include "ma_add_tflm.h"
#include "ma_fc_tflm.h"
#include "ma_log_softmax_tflm.h"
#include "microalign_frontend_config.h"
#include "tensorflow/lite/micro/micro_context.h"

extern "C" {
#include "board.h"
}
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {

// Every builtin the converted students use (and a few neighbours; tflm_app/tflm/ma_tflm_run.cc
// registers the same), plus FA_ATTENTION.
using Resolver = tflite::MicroMutableOpResolver<32>;

#ifdef MA_WEIGHTS_STAGED
// ---- staged weights: each operator's constant tensors copied from the (memory-mapped) image
// into an SRAM staging buffer before the operator runs, double-buffered: while operator k runs
// from one half, operator k+1's constants are copied into the other (ma_board_dma_start: MDMA on
// the H743, memcpy on QEMU). No TFLM patching: every registration's invoke is wrapped
// (StagedInvoke<K> calls the original after repointing the node's constant eval tensors, and
// restores them after). The plan (which tensors, where) is made once from the flatbuffer, and the
// plan and the staging buffer are sized from it: both are taken from the end of the caller's arena
// (two halves of the largest operator's constants, 32-byte aligned for the D-cache maintenance of
// the DMA), the interpreter gets the rest. Nothing is reserved for the staging at build time.
constexpr int kMaxWrapped = 32;
constexpr uint32_t kMaxOpTensors = 16;  // constant inputs of one operator

struct StagedTensor {
  int32_t tensor;      // subgraph tensor index (= eval tensor index)
  const uint8_t* src;  // its bytes in the image
  uint32_t bytes;
  uint32_t offset;     // in the half of the staging buffer
};
struct Staging {
  StagedTensor* tensors;  // [n_tensors], in the arena's tail
  uint32_t* first;        // [n_ops + 1], op k's tensors: [first[k], first[k + 1])
  uint8_t* buffer;        // two halves of half_bytes, in the arena's tail
  uint32_t half_bytes;
  uint32_t tail_bytes;    // plan + buffer: taken from the end of the arena
  uint32_t n_ops, n_tensors;
  uint32_t next_op;  // the op the next wrapped invoke belongs to (reset per Invoke)
  uint32_t bytes_per_invoke, max_op_bytes, copies;
  uint64_t bytes_copied;
  void* saved[kMaxOpTensors];
};
Staging g_plan;
TFLMRegistration g_original[kMaxWrapped];

void CopyOp(uint32_t k) {  // op k's constants -> half (k & 1); returns once the copies are started
  uint8_t* half = g_plan.buffer + (k & 1u) * g_plan.half_bytes;
  for (uint32_t i = g_plan.first[k]; i < g_plan.first[k + 1]; ++i) {
    const StagedTensor& t = g_plan.tensors[i];
    ma_board_dma_wait();
    ma_board_dma_start(half + t.offset, t.src, t.bytes);
    g_plan.bytes_copied += t.bytes;
    ++g_plan.copies;
  }
}

TfLiteStatus RunStaged(TfLiteContext* context, TfLiteNode* node, TfLiteStatus (*invoke)(TfLiteContext*, TfLiteNode*)) {
  const uint32_t k = g_plan.next_op++;
  if (k >= g_plan.n_ops) return kTfLiteError;  // more ops than the subgraph has: not the planned model
  if (k == 0) CopyOp(0);                          // the first op of an Invoke: nothing was prefetched
  ma_board_dma_wait();                            // op k's constants are in place
  uint8_t* half = g_plan.buffer + (k & 1u) * g_plan.half_bytes;
  const uint32_t a = g_plan.first[k], b = g_plan.first[k + 1];
  tflite::MicroContext* mc = tflite::GetMicroContext(context);
  for (uint32_t i = a; i < b; ++i) {
    TfLiteEvalTensor* e = mc->GetEvalTensor(g_plan.tensors[i].tensor);
    g_plan.saved[i - a] = e->data.data;
    e->data.data = half + g_plan.tensors[i].offset;
  }
  if (k + 1 < g_plan.n_ops) CopyOp(k + 1);  // prefetch into the other half while op k computes
  TfLiteStatus status = invoke(context, node);
  for (uint32_t i = a; i < b; ++i) mc->GetEvalTensor(g_plan.tensors[i].tensor)->data.data = g_plan.saved[i - a];
  return status;
}

template <int K>
TfLiteStatus StagedInvoke(TfLiteContext* context, TfLiteNode* node) {
  return RunStaged(context, node, g_original[K].invoke);
}

template <int K>
const TFLMRegistration& Staged(const TFLMRegistration& r) {
  static_assert(K < kMaxWrapped, "raise kMaxWrapped");
  static TFLMRegistration wrapped;
  g_original[K] = r;
  wrapped = r;
  wrapped.invoke = StagedInvoke<K>;
  return wrapped;
}
#define MA_OP(add, reg) r.add(Staged<__COUNTER__>(reg()))

// The plan: for op k of subgraph 0 (TFLM runs them in order), its inputs backed by a non-empty
// buffer (constants), each at a 16-byte aligned offset in one half of the staging buffer. Two
// passes over the flatbuffer: the first sizes the plan and the buffer, which are then taken from
// the end of the arena (*arena_bytes shrinks by as much), the second fills the plan.
const char* PlanStaging(const tflite::Model* model, uint8_t* arena, uint32_t* arena_bytes) {
  Staging& p = g_plan;
  p = Staging{};
  if (model->subgraphs() == nullptr || model->subgraphs()->size() != 1) return "staged weights need one subgraph";
  const tflite::SubGraph* sg = model->subgraphs()->Get(0);
  const auto* ops = sg->operators();
  const auto* tensors = sg->tensors();
  const auto* buffers = model->buffers();
  if (ops == nullptr || tensors == nullptr || buffers == nullptr || ops->size() == 0) {
    return "staged weights: the subgraph has no operators";
  }
  auto constant = [&](int32_t t) -> const flatbuffers::Vector<uint8_t>* {  // the tensor's data, or null
    if (t < 0 || static_cast<uint32_t>(t) >= tensors->size()) return nullptr;
    const uint32_t bi = tensors->Get(t)->buffer();
    if (bi == 0 || bi >= buffers->size()) return nullptr;
    const auto* data = buffers->Get(bi)->data();
    return data != nullptr && data->size() > 0 ? data : nullptr;
  };
  const uint32_t n_ops = ops->size();
  uint32_t n = 0, max_op = 0;
  for (uint32_t k = 0; k < n_ops; ++k) {
    uint32_t off = 0, count = 0;
    const auto* in = ops->Get(k)->inputs();
    for (uint32_t i = 0; in != nullptr && i < in->size(); ++i) {
      const auto* data = constant(in->Get(i));
      if (data == nullptr) continue;
      if (++count > kMaxOpTensors) return "staged weights: an operator has more than 16 constant inputs";
      if (data->size() > (1u << 30) - off) return "staged weights: an operator's constants exceed 1 GB";
      off += (data->size() + 15u) & ~15u;
    }
    n += count;
    if (off > max_op) max_op = off;
  }
  const uintptr_t end = reinterpret_cast<uintptr_t>(arena) + *arena_bytes;
  const uint64_t half = (static_cast<uint64_t>(max_op) + 31u) & ~31ull;
  const uint64_t tail = 2u * half + 4ull * (n_ops + 1u) + sizeof(StagedTensor) * static_cast<uint64_t>(n) + 64u;
  if (tail >= *arena_bytes) return "staged weights: the arena cannot hold the staging buffer and plan";
  const uintptr_t buf = (end - 2u * half) & ~static_cast<uintptr_t>(31u);
  const uintptr_t tens = (buf - sizeof(StagedTensor) * n) & ~static_cast<uintptr_t>(15u);
  const uintptr_t first = (tens - 4u * (n_ops + 1u)) & ~static_cast<uintptr_t>(15u);
  p.buffer = reinterpret_cast<uint8_t*>(buf);
  p.tensors = reinterpret_cast<StagedTensor*>(tens);
  p.first = reinterpret_cast<uint32_t*>(first);
  p.half_bytes = static_cast<uint32_t>(half);
  p.tail_bytes = static_cast<uint32_t>(end - first);
  *arena_bytes = static_cast<uint32_t>(first - reinterpret_cast<uintptr_t>(arena));
  n = 0;
  for (uint32_t k = 0; k < n_ops; ++k) {
    p.first[k] = n;
    uint32_t off = 0, bytes = 0;
    const auto* in = ops->Get(k)->inputs();
    for (uint32_t i = 0; in != nullptr && i < in->size(); ++i) {
      const auto* data = constant(in->Get(i));
      if (data == nullptr) continue;
      p.tensors[n++] = StagedTensor{in->Get(i), data->data(), data->size(), off};
      off += (data->size() + 15u) & ~15u;
      bytes += data->size();
    }
    p.bytes_per_invoke += bytes;
  }
  p.first[n_ops] = n;
  p.n_ops = n_ops;
  p.n_tensors = n;
  p.max_op_bytes = max_op;
  return nullptr;
}
#else
#define MA_OP(add, reg) r.add(reg())  // the registration given, so our own ADD and LOG_SOFTMAX run here too
#endif

void AddOps(Resolver& r) {
  MA_OP(AddAdd, microalign::Register_ADD);  // same-shape int8 on ma_add_s8, bit-exact with TFLM's and CMSIS-NN's
  MA_OP(AddBatchMatMul, tflite::Register_BATCH_MATMUL);
  MA_OP(AddConcatenation, tflite::Register_CONCATENATION);
  MA_OP(AddConv2D, microalign::Register_CONV_2D);  // int8 of height 1 on ma_fc_s8, bit-exact
  MA_OP(AddDepthwiseConv2D, microalign::Register_DEPTHWISE_CONV_2D);  // int8 of height 1 on ma_fc_s8, bit-exact
  MA_OP(AddDequantize, tflite::Register_DEQUANTIZE);
  MA_OP(AddFullyConnected, microalign::Register_FULLY_CONNECTED);  // int8 on ma_fc_s8, bit-exact
  MA_OP(AddGather, tflite::Register_GATHER);
  MA_OP(AddLogSoftmax, microalign::Register_LOG_SOFTMAX);  // int8 on ma_log_softmax_s8, bit-exact with TFLM's
  MA_OP(AddLogistic, tflite::Register_LOGISTIC);
  MA_OP(AddMean, tflite::Register_MEAN);
  MA_OP(AddMul, tflite::Register_MUL);
  MA_OP(AddPad, tflite::Register_PAD);
  MA_OP(AddQuantize, tflite::Register_QUANTIZE);
  MA_OP(AddRelu, tflite::Register_RELU);
  MA_OP(AddReshape, tflite::Register_RESHAPE);
  MA_OP(AddRsqrt, tflite::Register_RSQRT);
  MA_OP(AddSlice, tflite::Register_SLICE);
  MA_OP(AddSoftmax, tflite::Register_SOFTMAX);
  MA_OP(AddSplit, tflite::Register_SPLIT);
  MA_OP(AddSquaredDifference, tflite::Register_SQUARED_DIFFERENCE);
  MA_OP(AddStridedSlice, tflite::Register_STRIDED_SLICE);
  MA_OP(AddSub, tflite::Register_SUB);
  MA_OP(AddTanh, tflite::Register_TANH);
  MA_OP(AddTranspose, tflite::Register_TRANSPOSE);
  MA_OP(AddExpandDims, tflite::Register_EXPAND_DIMS);
  MA_OP(AddSqueeze, tflite::Register_SQUEEZE);
#ifdef MA_WEIGHTS_STAGED
  r.AddCustom(microalign::kFaAttentionName, &Staged<__COUNTER__>(*microalign::Register_FA_ATTENTION()));
#else
  microalign::AddFaAttention(r);
#endif
}

char g_error[160];

}  // namespace

struct ma_model {
  Resolver resolver;
  tflite::MicroInterpreter* interpreter;
  alignas(tflite::MicroInterpreter) unsigned char interpreter_storage[sizeof(tflite::MicroInterpreter)];
  ma_model_info info;
};

namespace {
alignas(ma_model) unsigned char g_storage[sizeof(ma_model)];

ma_status Fail(const char* what) {
  std::snprintf(g_error, sizeof g_error, "%s", what);
  return MA_ERR_MODEL;
}
}  // namespace

extern "C" const char* ma_model_tflm_error(void) { return g_error; }

extern "C" ma_status ma_model_tflm_create(const uint8_t* flatbuffer, uint32_t size, uint8_t* arena,
                                          uint32_t arena_bytes, ma_model** out) {
  g_error[0] = 0;
  if (out == nullptr || flatbuffer == nullptr || arena == nullptr || size < 8) return MA_ERR_ARGUMENT;
  *out = nullptr;
  flatbuffers::Verifier verifier(flatbuffer, size);
  if (!tflite::VerifyModelBuffer(verifier)) return Fail("model section fails the flatbuffers Verifier");
  const tflite::Model* model = tflite::GetModel(flatbuffer);
  if (model->version() != TFLITE_SCHEMA_VERSION) return Fail("model schema version differs from TFLM's");
#ifdef MA_WEIGHTS_STAGED
  if (const char* why = PlanStaging(model, arena, &arena_bytes)) return Fail(why);  // takes the arena's tail
#endif
  ma_model* m = new (g_storage) ma_model();
  AddOps(m->resolver);
  m->interpreter = new (m->interpreter_storage) tflite::MicroInterpreter(model, m->resolver, arena, arena_bytes);
  if (m->interpreter->AllocateTensors() != kTfLiteOk) return Fail("AllocateTensors failed (arena too small or an op is missing)");
  TfLiteTensor* in = m->interpreter->input(0);
  TfLiteTensor* o = m->interpreter->output(0);
  if (in == nullptr || o == nullptr || in->type != kTfLiteInt8 || o->type != kTfLiteInt8 || in->dims->size != 3 ||
      o->dims->size != 3 || in->dims->data[0] != 1 || o->dims->data[0] != 1 || in->dims->data[1] != o->dims->data[1] ||
      in->dims->data[2] != MA_FE_N_MELS) {
    return Fail("model input/output are not int8 [1, W, n_mels] / [1, W, vocabulary]");
  }
  // the int8 features go in unchanged: input scale 1/32, zero point 0 (frontend.INPUT_SCALE)
  if (in->params.zero_point != 0 || std::fabs(in->params.scale * 32.0f - 1.0f) > 1e-6f) {
    return Fail("model input is not quantised as the frontend's features (scale 1/32, zero point 0)");
  }
  m->info.window_frames = static_cast<uint32_t>(in->dims->data[1]);
  m->info.n_mels = static_cast<uint32_t>(in->dims->data[2]);
  m->info.n_vocab = static_cast<uint32_t>(o->dims->data[2]);
  m->info.scale = static_cast<double>(o->params.scale);
  m->info.zero_point = o->params.zero_point;
  *out = m;
  return MA_OK;
}

extern "C" uint32_t ma_model_tflm_arena_used(const ma_model* m) {
  return m ? static_cast<uint32_t>(m->interpreter->arena_used_bytes()) : 0u;  // the interpreter's (staging: see below)
}

extern "C" ma_status ma_model_get_info(ma_model* m, ma_model_info* info) {
  if (m == nullptr || info == nullptr) return MA_ERR_ARGUMENT;
  *info = m->info;
  return MA_OK;
}

extern "C" int8_t* ma_model_input(ma_model* m) { return m ? m->interpreter->input(0)->data.int8 : nullptr; }

extern "C" ma_status ma_model_run_window(ma_model* m, const int8_t* feats, const int8_t** scores) {
  if (m == nullptr || feats == nullptr || scores == nullptr) return MA_ERR_ARGUMENT;
  TfLiteTensor* in = m->interpreter->input(0);
  if (feats != in->data.int8) {  // the aligner writes straight into the input tensor (ma_model_input)
    std::memcpy(in->data.int8, feats, static_cast<size_t>(m->info.window_frames) * m->info.n_mels);
  }
#ifdef MA_WEIGHTS_STAGED
  g_plan.next_op = 0;
#endif
  if (m->interpreter->Invoke() != kTfLiteOk) return Fail("Invoke failed");
#ifdef MA_WEIGHTS_STAGED
  if (g_plan.next_op != g_plan.n_ops) return Fail("staged weights: Invoke ran another number of operators than planned");
#endif
  *scores = m->interpreter->output(0)->data.int8;
  return MA_OK;
}

extern "C" ma_status ma_model_tflm_staging(ma_model_tflm_staging_info* info) {
  if (info == nullptr) return MA_ERR_ARGUMENT;
  *info = ma_model_tflm_staging_info{};
#ifdef MA_WEIGHTS_STAGED
  info->ops = g_plan.n_ops;
  info->tensors = g_plan.n_tensors;
  info->bytes_per_invoke = g_plan.bytes_per_invoke;
  info->max_op_bytes = g_plan.max_op_bytes;
  info->buffer_bytes = 2u * g_plan.half_bytes;
  info->arena_tail_bytes = g_plan.tail_bytes;
  info->bytes_copied = g_plan.bytes_copied;
  info->copies = g_plan.copies;
  return MA_OK;
#else
  return MA_ERR_MODEL;
#endif
}
