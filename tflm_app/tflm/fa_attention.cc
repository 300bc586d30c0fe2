// FA_ATTENTION: TFLM glue over ma_attention_s8 (layout and options in fa_attention.h).
// Init parses the flexbuffer options, Prepare reads the tensors' quantisation, checks it against
// repeated options and computes the integer parameters, Eval runs the kernel.
#include "fa_attention.h"

#include <cstring>

#include "flatbuffers/flexbuffers.h"
#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "tensorflow/lite/micro/kernels/kernel_util.h"
#include "tensorflow/lite/micro/micro_context.h"
#include "tensorflow/lite/micro/micro_log.h"

extern "C" {
#include "ma_attention_s8.h"
}

namespace microalign {
namespace {

// Quantisation the options may repeat; they must then equal the tensor's.
struct RepeatedQuant {
  int has_scale, has_zp;
  float scale;
  int32_t zero_point;
};

struct OpData {
  int options_ok;      // 0: options missing, not a flexbuffer map, or s_scale / s_zp absent
  ma_attention_s8_quant quant;  // q, k, v, out filled in Prepare from the tensors
  RepeatedQuant repeated[4];    // q, k, v, out
  int32_t window_left, window_right;
  ma_attention_s8_params* params;  // persistent, filled in Prepare
  ma_attention_s8_dims dims;
  int scratch_index;
  int32_t scratch_bytes;
};

constexpr const char* kTensorNames[4] = {"q", "k", "v", "out"};
constexpr const char* kScaleKeys[4] = {"q_scale", "k_scale", "v_scale", "out_scale"};
constexpr const char* kZpKeys[4] = {"q_zp", "k_zp", "v_zp", "out_zp"};

int32_t IntOpt(const flexbuffers::Map& m, const char* key, int32_t dflt) {
  flexbuffers::Reference r = m[key];
  return r.IsNull() ? dflt : static_cast<int32_t>(r.AsInt64());
}

float FloatOpt(const flexbuffers::Map& m, const char* key, float dflt) {
  flexbuffers::Reference r = m[key];
  return r.IsNull() ? dflt : static_cast<float>(r.AsDouble());
}

void ReadConstMul(const flexbuffers::Map& m, const char* prefix, ma_attention_s8_const_mul* mul) {
  char key[32];
  auto k = [&](const char* suffix) {
    std::strcpy(key, prefix);
    std::strcat(key, suffix);
    return key;
  };
  mul->value = IntOpt(m, k("_value"), 0);
  mul->value_q.scale = FloatOpt(m, k("_scale"), 0.f);
  mul->value_q.zero_point = IntOpt(m, k("_zp"), 0);
  mul->out.scale = FloatOpt(m, k("_out_scale"), 0.f);
  mul->out.zero_point = IntOpt(m, k("_out_zp"), 0);
}

void* Init(TfLiteContext* context, const char* buffer, size_t length) {
  auto* data = static_cast<OpData*>(context->AllocatePersistentBuffer(context, sizeof(OpData)));
  if (data == nullptr) return nullptr;
  std::memset(data, 0, sizeof(*data));
  data->window_left = data->window_right = -1;
  const auto* buf = reinterpret_cast<const uint8_t*>(buffer);
  if (buf == nullptr || length == 0 || !flexbuffers::VerifyBuffer(buf, length, nullptr)) return data;
  const flexbuffers::Reference root = flexbuffers::GetRoot(buf, length);
  if (!root.IsMap()) return data;
  const flexbuffers::Map m = root.AsMap();
  if (m["s_scale"].IsNull() || m["s_zp"].IsNull()) return data;
  ma_attention_s8_quant& q = data->quant;
  q.scores = {FloatOpt(m, "s_scale", 0.f), IntOpt(m, "s_zp", 0)};
  q.has_q_mul = IntOpt(m, "has_q_mul", 0);
  if (q.has_q_mul) ReadConstMul(m, "q_mul", &q.q_mul);
  q.has_score_mul = IntOpt(m, "has_s_mul", 0);
  if (q.has_score_mul) ReadConstMul(m, "s_mul", &q.score_mul);
  q.softmax_beta = FloatOpt(m, "softmax_beta", 1.0f);
  for (int i = 0; i < 4; ++i) {
    RepeatedQuant& r = data->repeated[i];
    r.has_scale = !m[kScaleKeys[i]].IsNull();
    r.has_zp = !m[kZpKeys[i]].IsNull();
    r.scale = FloatOpt(m, kScaleKeys[i], 0.f);
    r.zero_point = IntOpt(m, kZpKeys[i], 0);
  }
  data->window_left = IntOpt(m, "window_left", -1);
  data->window_right = IntOpt(m, "window_right", -1);
  data->options_ok = 1;
  return data;
}

// Per-tensor quantisation of t into out; false (with a message) otherwise. TFLM fills
// t->params for per-tensor quantised tensors; affine parameters, when present, must hold one
// scale and one zero point (per-channel activations are not what the kernel computes).
bool TensorQuant(const TfLiteTensor* t, int i, ma_attention_s8_tensor_quant* out) {
  const auto* aq = static_cast<const TfLiteAffineQuantization*>(t->quantization.params);
  if (t->quantization.type != kTfLiteAffineQuantization ||
      (aq != nullptr && (aq->scale == nullptr || aq->scale->size != 1 || aq->zero_point == nullptr ||
                         aq->zero_point->size != 1))) {
    MicroPrintf("FA_ATTENTION: tensor %s needs per-tensor int8 quantisation", kTensorNames[i]);
    return false;
  }
  out->scale = t->params.scale;
  out->zero_point = t->params.zero_point;
  return true;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  TFLITE_DCHECK(node->user_data != nullptr);
  auto* data = static_cast<OpData*>(node->user_data);
  TF_LITE_ENSURE_EQ(context, tflite::NumInputs(node), 3);
  TF_LITE_ENSURE_EQ(context, tflite::NumOutputs(node), 1);
  if (!data->options_ok) {
    MicroPrintf("FA_ATTENTION: custom options missing or not a flexbuffer map with s_scale, s_zp");
    return kTfLiteError;
  }
  tflite::MicroContext* mc = tflite::GetMicroContext(context);
  TfLiteTensor* t[4] = {mc->AllocateTempInputTensor(node, 0), mc->AllocateTempInputTensor(node, 1),
                        mc->AllocateTempInputTensor(node, 2), mc->AllocateTempOutputTensor(node, 0)};
  ma_attention_s8_tensor_quant* tq[4] = {&data->quant.q, &data->quant.k, &data->quant.v,
                                         &data->quant.out};
  TfLiteStatus status = kTfLiteOk;
  int32_t d[4][3] = {};  // heads, rows, head_dim of q, k, v, out
  for (int i = 0; i < 4 && status == kTfLiteOk; ++i) {
    const TfLiteTensor* x = t[i];
    if (x == nullptr || x->type != kTfLiteInt8) {
      MicroPrintf("FA_ATTENTION: tensor %s must be int8", kTensorNames[i]);
      status = kTfLiteError;
      break;
    }
    const int nd = tflite::NumDimensions(x);
    if (!(nd == 3 || (nd == 4 && x->dims->data[0] == 1))) {
      MicroPrintf("FA_ATTENTION: tensor %s must be [1, H, T, D] or [H, T, D], has %d dims",
                  kTensorNames[i], nd);
      status = kTfLiteError;
      break;
    }
    for (int j = 0; j < 3; ++j) d[i][j] = x->dims->data[nd - 3 + j];
    if (!TensorQuant(x, i, tq[i])) {
      status = kTfLiteError;
      break;
    }
    const RepeatedQuant& r = data->repeated[i];
    if ((r.has_scale && r.scale != tq[i]->scale) || (r.has_zp && r.zero_point != tq[i]->zero_point)) {
      MicroPrintf("FA_ATTENTION: options %s/%s (%f, %d) disagree with tensor %s (%f, %d)",
                  kScaleKeys[i], kZpKeys[i], static_cast<double>(r.scale),
                  static_cast<int>(r.zero_point), kTensorNames[i],
                  static_cast<double>(tq[i]->scale), static_cast<int>(tq[i]->zero_point));
      status = kTfLiteError;
    }
  }
  for (TfLiteTensor* x : t)
    if (x != nullptr) mc->DeallocateTempTfLiteTensor(x);
  if (status != kTfLiteOk) return status;
  const int32_t heads = d[0][0], q_len = d[0][1], head_dim = d[0][2], kv_len = d[1][1];
  if (d[1][0] != heads || d[2][0] != heads || d[3][0] != heads || d[1][2] != head_dim ||
      d[2][2] != head_dim || d[3][2] != head_dim || d[2][1] != kv_len || d[3][1] != q_len) {
    MicroPrintf("FA_ATTENTION: shapes q [%d,%d,%d] k [%d,%d,%d] v [%d,%d,%d] out [%d,%d,%d] are not "
                "[H,Tq,D] [H,Tk,D] [H,Tk,D] [H,Tq,D]",
                d[0][0], d[0][1], d[0][2], d[1][0], d[1][1], d[1][2], d[2][0], d[2][1], d[2][2],
                d[3][0], d[3][1], d[3][2]);
    return kTfLiteError;
  }
  data->params = static_cast<ma_attention_s8_params*>(
      context->AllocatePersistentBuffer(context, sizeof(ma_attention_s8_params)));
  TF_LITE_ENSURE(context, data->params != nullptr);
  const int32_t rc = ma_attention_s8_params_init(data->params, &data->quant);
  if (rc != MA_ATTENTION_S8_OK) {
    MicroPrintf("FA_ATTENTION: quantisation rejected by ma_attention_s8_params_init: %s (%d)",
                ma_status_str(rc), static_cast<int>(rc));
    return kTfLiteError;
  }
  ma_attention_s8_dims_contiguous(&data->dims, heads, q_len, kv_len, head_dim);
  data->dims.window_left = data->window_left;
  data->dims.window_right = data->window_right;
#ifdef FA_ATTENTION_MIN_SCRATCH
  data->scratch_bytes = ma_attention_s8_get_min_buffer_size(&data->dims);
#else
  data->scratch_bytes = ma_attention_s8_get_buffer_size(&data->dims);
#endif
  if (data->scratch_bytes < 0) {
    MicroPrintf("FA_ATTENTION: unsupported sizes H=%d Tq=%d Tk=%d D=%d: %s", heads, q_len, kv_len,
                head_dim, ma_status_str(data->scratch_bytes));
    return kTfLiteError;
  }
  return context->RequestScratchBufferInArena(context, static_cast<size_t>(data->scratch_bytes),
                                              &data->scratch_index);
}

TfLiteStatus Eval(TfLiteContext* context, TfLiteNode* node) {
  const auto* data = static_cast<const OpData*>(node->user_data);
  const int32_t rc = ma_attention_s8(
      data->params, &data->dims,
      tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalInput(context, node, 0)),
      tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalInput(context, node, 1)),
      tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalInput(context, node, 2)),
      tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalOutput(context, node, 0)),
      context->GetScratchBuffer(context, data->scratch_index), data->scratch_bytes);
  if (rc != MA_ATTENTION_S8_OK) {
    MicroPrintf("FA_ATTENTION: ma_attention_s8 returned %d (%s)", static_cast<int>(rc),
                ma_status_str(rc));
    return kTfLiteError;
  }
  return kTfLiteOk;
}

}  // namespace

const TFLMRegistration* Register_FA_ATTENTION() {
  static TFLMRegistration r = tflite::micro::RegisterOp(Init, Prepare, Eval);
  return &r;
}

}  // namespace microalign
