// TFLM glue for FA_DECODE and FA_ATTENTION: layouts and options in fa_ops.h.
// Init parses the flexbuffer options, Prepare validates and computes, Eval dispatches.
#include "fa_ops.h"

#include <cstring>

#include "flatbuffers/flexbuffers.h"
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "tensorflow/lite/micro/kernels/kernel_util.h"
#include "tensorflow/lite/micro/micro_context.h"
#include "tensorflow/lite/micro/micro_log.h"

extern "C" {
#include "ma_attention_s8.h"
#include "ma_decode_s8.h"
}

namespace microalign {
namespace {

int32_t IntOpt(const flexbuffers::Map& m, const char* key, int32_t dflt) {
  flexbuffers::Reference r = m[key];
  return r.IsNull() ? dflt : static_cast<int32_t>(r.AsInt64());
}

float FloatOpt(const flexbuffers::Map& m, const char* key, float dflt) {
  flexbuffers::Reference r = m[key];
  return r.IsNull() ? dflt : static_cast<float>(r.AsDouble());
}

int32_t InnerCount(const TfLiteTensor* t) {  // elements, all leading dims must be 1 but the last
  return static_cast<int32_t>(tflite::NumElements(t));
}

// ----------------------------------------------------------------------------- FA_DECODE

struct DecodeData {
  ma_decode_s8_params params;
  int scratch_index;
  int32_t scratch_bytes;
  int32_t n_frames, n_vocab, max_tokens, max_words;
};

void* DecodeInit(TfLiteContext* context, const char* buffer, size_t length) {
  auto* data = static_cast<DecodeData*>(
      context->AllocatePersistentBuffer(context, sizeof(DecodeData)));
  if (data == nullptr) return nullptr;
  data->params = ma_decode_s8_default_params();
  if (buffer != nullptr && length > 0) {
    const flexbuffers::Map m =
        flexbuffers::GetRoot(reinterpret_cast<const uint8_t*>(buffer), length).AsMap();
    data->params.band = IntOpt(m, "band", data->params.band);
    data->params.beam = IntOpt(m, "beam", data->params.beam);
    data->params.silence_penalty = IntOpt(m, "silence_penalty", data->params.silence_penalty);
  }
  return data;
}

TfLiteStatus DecodePrepare(TfLiteContext* context, TfLiteNode* node) {
  TFLITE_DCHECK(node->user_data != nullptr);
  auto* data = static_cast<DecodeData*>(node->user_data);
  TF_LITE_ENSURE_EQ(context, tflite::NumInputs(node), 3);
  const int n_out = tflite::NumOutputs(node);
  TF_LITE_ENSURE(context, n_out >= 1 && n_out <= 3);
  tflite::MicroContext* mc = tflite::GetMicroContext(context);
  TfLiteTensor* scores = mc->AllocateTempInputTensor(node, 0);
  TfLiteTensor* ids = mc->AllocateTempInputTensor(node, 1);
  TfLiteTensor* lens = mc->AllocateTempInputTensor(node, 2);
  TfLiteTensor* words = mc->AllocateTempOutputTensor(node, 0);
  TF_LITE_ENSURE(context, scores && ids && lens && words);
  TF_LITE_ENSURE_TYPES_EQ(context, scores->type, kTfLiteInt8);
  TF_LITE_ENSURE_TYPES_EQ(context, ids->type, kTfLiteInt32);
  TF_LITE_ENSURE_TYPES_EQ(context, lens->type, kTfLiteInt32);
  TF_LITE_ENSURE_TYPES_EQ(context, words->type, kTfLiteInt32);
  const int sd = tflite::NumDimensions(scores);
  TF_LITE_ENSURE(context, sd == 2 || (sd == 3 && scores->dims->data[0] == 1));
  data->n_frames = scores->dims->data[sd - 2];
  data->n_vocab = scores->dims->data[sd - 1];
  data->max_tokens = InnerCount(ids);
  data->max_words = InnerCount(lens);
  TF_LITE_ENSURE(context, data->max_words >= 1 && data->max_tokens >= data->max_words);
  TF_LITE_ENSURE_EQ(context, InnerCount(words), 4 * data->max_words);
  if (n_out >= 2) {
    TfLiteTensor* toks = mc->AllocateTempOutputTensor(node, 1);
    TF_LITE_ENSURE(context, toks != nullptr);
    TF_LITE_ENSURE_TYPES_EQ(context, toks->type, kTfLiteInt32);
    TF_LITE_ENSURE_EQ(context, InnerCount(toks), 2 * data->max_tokens);
    mc->DeallocateTempTfLiteTensor(toks);
  }
  if (n_out >= 3) {
    TfLiteTensor* st = mc->AllocateTempOutputTensor(node, 2);
    TF_LITE_ENSURE(context, st != nullptr);
    TF_LITE_ENSURE_TYPES_EQ(context, st->type, kTfLiteInt32);
    TF_LITE_ENSURE_EQ(context, InnerCount(st), 2);
    mc->DeallocateTempTfLiteTensor(st);
  }
  mc->DeallocateTempTfLiteTensor(scores);
  mc->DeallocateTempTfLiteTensor(ids);
  mc->DeallocateTempTfLiteTensor(lens);
  mc->DeallocateTempTfLiteTensor(words);
  // The buffer size grows with n_tokens and n_words: the maxima bound every call.
  data->scratch_bytes = ma_decode_s8_get_buffer_size(data->n_frames, data->max_tokens,
                                                     data->max_words, data->params.band);
  if (data->scratch_bytes < 0) {
    MicroPrintf("FA_DECODE: unsupported sizes T=%d C=%d N=%d band=%d", data->n_frames,
                data->max_tokens, data->max_words, data->params.band);
    return kTfLiteError;
  }
  const size_t total = static_cast<size_t>(data->scratch_bytes) +
                       sizeof(int32_t) * (2 * data->max_tokens + 4 * data->max_words);
  return context->RequestScratchBufferInArena(context, total, &data->scratch_index);
}

TfLiteStatus DecodeEval(TfLiteContext* context, TfLiteNode* node) {
  const auto* data = static_cast<const DecodeData*>(node->user_data);
  const int n_out = tflite::NumOutputs(node);
  const TfLiteEvalTensor* scores = tflite::micro::GetEvalInput(context, node, 0);
  const TfLiteEvalTensor* ids = tflite::micro::GetEvalInput(context, node, 1);
  const TfLiteEvalTensor* lens = tflite::micro::GetEvalInput(context, node, 2);
  int32_t* words = tflite::micro::GetTensorData<int32_t>(tflite::micro::GetEvalOutput(context, node, 0));
  int32_t* toks = n_out >= 2 ? tflite::micro::GetTensorData<int32_t>(
                                   tflite::micro::GetEvalOutput(context, node, 1))
                             : nullptr;
  int32_t* status = n_out >= 3 ? tflite::micro::GetTensorData<int32_t>(
                                     tflite::micro::GetEvalOutput(context, node, 2))
                               : nullptr;
  const int32_t* len = tflite::micro::GetTensorData<int32_t>(lens);
  int32_t n_words = 0, n_tokens = 0;
  while (n_words < data->max_words && len[n_words] > 0) n_tokens += len[n_words++];

  // Scratch: [decoder work: scratch_bytes][token start, end: 2 Cmax][word arrays: 4 Nmax].
  uint8_t* scratch = static_cast<uint8_t*>(context->GetScratchBuffer(context, data->scratch_index));
  int32_t* t_start = reinterpret_cast<int32_t*>(scratch + data->scratch_bytes);
  int32_t* t_end = t_start + data->max_tokens;
  int32_t* w = t_end + data->max_tokens;  // [4][Nmax]
  for (int32_t i = 0; i < 4 * data->max_words; ++i) words[i] = -1;
  if (toks) for (int32_t i = 0; i < 2 * data->max_tokens; ++i) toks[i] = -1;

  int32_t rc = MA_DECODE_ERR_TOKEN;
  int32_t path_score = 0;
  if (n_words >= 1 && n_tokens <= data->max_tokens) {
    const int32_t nw = data->max_words;
    ma_decode_s8_output out = {t_start, t_end, w, w + nw, w + 2 * nw, w + 3 * nw, &path_score};
    rc = ma_decode_s8(&data->params, tflite::micro::GetTensorData<int8_t>(scores),
                      data->n_frames, data->n_vocab, tflite::micro::GetTensorData<int32_t>(ids),
                      n_tokens, len, n_words, scratch, data->scratch_bytes, &out);
    if (rc == MA_DECODE_OK) {
      for (int32_t i = 0; i < n_words; ++i)
        for (int32_t c = 0; c < 4; ++c) words[4 * i + c] = w[c * nw + i];
      if (toks)
        for (int32_t i = 0; i < n_tokens; ++i) {
          toks[2 * i] = t_start[i];
          toks[2 * i + 1] = t_end[i];
        }
    }
  }
  if (status) {
    status[0] = rc;
    status[1] = rc == MA_DECODE_OK ? path_score : 0;
    return kTfLiteOk;
  }
  if (rc != MA_DECODE_OK) {
    MicroPrintf("FA_DECODE: ma_decode_s8 returned %d", rc);
    return kTfLiteError;
  }
  return kTfLiteOk;
}

// -------------------------------------------------------------------------- FA_ATTENTION

struct AttentionData {
  ma_attention_s8_quant quant;
  int32_t window_left, window_right;
  ma_attention_s8_params* params;  // persistent, filled in Prepare
  ma_attention_s8_dims dims;
  int scratch_index;
  size_t scratch_bytes;
};

void* AttentionInit(TfLiteContext* context, const char* buffer, size_t length) {
  auto* data = static_cast<AttentionData*>(
      context->AllocatePersistentBuffer(context, sizeof(AttentionData)));
  if (data == nullptr) return nullptr;
  std::memset(data, 0, sizeof(*data));
  data->window_left = data->window_right = -1;
  if (buffer == nullptr || length == 0) return data;  // Prepare rejects the zero scales
  const flexbuffers::Map m =
      flexbuffers::GetRoot(reinterpret_cast<const uint8_t*>(buffer), length).AsMap();
  ma_attention_s8_quant& q = data->quant;
  q.q = {FloatOpt(m, "q_scale", 0.f), IntOpt(m, "q_zp", 0)};
  q.k = {FloatOpt(m, "k_scale", 0.f), IntOpt(m, "k_zp", 0)};
  q.v = {FloatOpt(m, "v_scale", 0.f), IntOpt(m, "v_zp", 0)};
  q.scores = {FloatOpt(m, "s_scale", 0.f), IntOpt(m, "s_zp", 0)};
  q.out = {FloatOpt(m, "out_scale", 0.f), IntOpt(m, "out_zp", 0)};
  q.has_q_mul = IntOpt(m, "has_q_mul", 0);
  q.q_mul.value = IntOpt(m, "q_mul_value", 0);
  q.q_mul.value_q = {FloatOpt(m, "q_mul_scale", 0.f), IntOpt(m, "q_mul_zp", 0)};
  q.q_mul.out = {FloatOpt(m, "q_mul_out_scale", 0.f), IntOpt(m, "q_mul_out_zp", 0)};
  q.has_score_mul = IntOpt(m, "has_s_mul", 0);
  q.score_mul.value = IntOpt(m, "s_mul_value", 0);
  q.score_mul.value_q = {FloatOpt(m, "s_mul_scale", 0.f), IntOpt(m, "s_mul_zp", 0)};
  q.score_mul.out = {FloatOpt(m, "s_mul_out_scale", 0.f), IntOpt(m, "s_mul_out_zp", 0)};
  q.softmax_beta = FloatOpt(m, "softmax_beta", 1.0f);
  data->window_left = IntOpt(m, "window_left", -1);
  data->window_right = IntOpt(m, "window_right", -1);
  return data;
}

TfLiteStatus AttentionPrepare(TfLiteContext* context, TfLiteNode* node) {
  TFLITE_DCHECK(node->user_data != nullptr);
  auto* data = static_cast<AttentionData*>(node->user_data);
  TF_LITE_ENSURE_EQ(context, tflite::NumInputs(node), 3);
  TF_LITE_ENSURE_EQ(context, tflite::NumOutputs(node), 1);
  tflite::MicroContext* mc = tflite::GetMicroContext(context);
  TfLiteTensor* t[4] = {mc->AllocateTempInputTensor(node, 0), mc->AllocateTempInputTensor(node, 1),
                        mc->AllocateTempInputTensor(node, 2), mc->AllocateTempOutputTensor(node, 0)};
  for (TfLiteTensor* x : t) {
    TF_LITE_ENSURE(context, x != nullptr);
    TF_LITE_ENSURE_TYPES_EQ(context, x->type, kTfLiteInt8);
    const int nd = tflite::NumDimensions(x);
    TF_LITE_ENSURE(context, nd == 3 || (nd == 4 && x->dims->data[0] == 1));
  }
  const int nd = tflite::NumDimensions(t[0]);
  auto dim = [&](int i, int d) { return t[i]->dims->data[tflite::NumDimensions(t[i]) - 3 + d]; };
  const int32_t heads = dim(0, 0), q_len = dim(0, 1), head_dim = dim(0, 2), kv_len = dim(1, 1);
  for (int i = 1; i < 4; ++i) {
    TF_LITE_ENSURE_EQ(context, dim(i, 0), heads);
    TF_LITE_ENSURE_EQ(context, dim(i, 2), head_dim);
  }
  TF_LITE_ENSURE_EQ(context, dim(2, 1), kv_len);
  TF_LITE_ENSURE_EQ(context, dim(3, 1), q_len);
  (void)nd;
  for (TfLiteTensor* x : t) mc->DeallocateTempTfLiteTensor(x);

  data->params = static_cast<ma_attention_s8_params*>(
      context->AllocatePersistentBuffer(context, sizeof(ma_attention_s8_params)));
  TF_LITE_ENSURE(context, data->params != nullptr);
  if (ma_attention_s8_params_init(data->params, &data->quant) != MA_ATTENTION_S8_OK) {
    MicroPrintf("FA_ATTENTION: quantisation parameters rejected");
    return kTfLiteError;
  }
  ma_attention_s8_dims_contiguous(&data->dims, heads, q_len, kv_len, head_dim);
  data->dims.window_left = data->window_left;
  data->dims.window_right = data->window_right;
  data->scratch_bytes = ma_attention_s8_get_buffer_size(&data->dims);
  TF_LITE_ENSURE(context, data->scratch_bytes > 0);
  return context->RequestScratchBufferInArena(context, data->scratch_bytes, &data->scratch_index);
}

TfLiteStatus AttentionEval(TfLiteContext* context, TfLiteNode* node) {
  const auto* data = static_cast<const AttentionData*>(node->user_data);
  const int rc = ma_attention_s8(
      data->params, &data->dims,
      tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalInput(context, node, 0)),
      tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalInput(context, node, 1)),
      tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalInput(context, node, 2)),
      tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalOutput(context, node, 0)),
      context->GetScratchBuffer(context, data->scratch_index), data->scratch_bytes);
  if (rc != MA_ATTENTION_S8_OK) {
    MicroPrintf("FA_ATTENTION: ma_attention_s8 returned %d", rc);
    return kTfLiteError;
  }
  return kTfLiteOk;
}

}  // namespace

const TFLMRegistration* Register_FA_DECODE() {
  static TFLMRegistration r = tflite::micro::RegisterOp(DecodeInit, DecodePrepare, DecodeEval);
  return &r;
}

const TFLMRegistration* Register_FA_ATTENTION() {
  static TFLMRegistration r =
      tflite::micro::RegisterOp(AttentionInit, AttentionPrepare, AttentionEval);
  return &r;
}

}  // namespace microalign
