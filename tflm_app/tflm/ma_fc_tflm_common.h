// What the FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D adapters share (ma_fc_tflm.cc, ma_conv_tflm.cc,
// ma_dwconv_tflm.cc; see ma_fc_tflm.h): their user data, the node checks they make, the temporary tensors of Prepare
// and the call of the kernel in Eval. Separate objects so that the firmware benchmark charges each operator kind its
// own instructions (ma_fc_s8 counts for its caller).
#ifndef MICROALIGN_TFLM_MA_FC_TFLM_COMMON_H
#define MICROALIGN_TFLM_MA_FC_TFLM_COMMON_H

#include "tensorflow/lite/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/internal/compatibility.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "tensorflow/lite/micro/kernels/conv.h"
#include "tensorflow/lite/micro/kernels/depthwise_conv.h"
#include "tensorflow/lite/micro/kernels/fully_connected.h"
#include "tensorflow/lite/micro/kernels/kernel_util.h"
#include "tensorflow/lite/micro/kernels/micro_ops.h"
#include "tensorflow/lite/micro/micro_context.h"
#include "tensorflow/lite/micro/micro_log.h"

#include "ma_tflm_fallback.h"

extern "C" {
#include "ma_fc_s8.h"
}

namespace microalign {
namespace fc_common {

#if (defined(TFLITE_SINGLE_ROUNDING) && TFLITE_SINGLE_ROUNDING) || defined(CMSIS_NN_USE_SINGLE_ROUNDING) || \
    defined(USE_TFLM_COMPRESSION)
// the kernel reproduces the default (double-rounding) arithmetic only, and reads plain (uncompressed) weights
constexpr bool kKernelBuild = false;
#else
constexpr bool kKernelBuild = true;
#endif

enum class Kind { kFullyConnected, kConv, kDepthwise };

struct OpData {
  Fallback fallback;  // the build's own kernel, for the nodes ma_fc_s8 does not take
  int scratch_index;
  int32_t scratch_bytes;
  ma_fc_s8_params params;
  int32_t tensor_multiplier, tensor_shift;  // FULLY_CONNECTED per tensor: params points here
  // CONV_2D, DEPTHWISE_CONV_2D: input width and channels, padding before
  int32_t in_width, in_channels, pad_before;
};

inline void* Init(TfLiteContext* context, const char* buffer, size_t length) {
  auto* data = static_cast<OpData*>(context->AllocatePersistentBuffer(context, sizeof(OpData)));
  if (data != nullptr) {
    data->fallback = Fallback{0, nullptr};
    data->scratch_index = -1;
    data->scratch_bytes = 0;
  }
  return data;
}

// int8 weights whose zero points are all 0 (per tensor or per channel along dimension qdim: 0 for FULLY_CONNECTED and
// CONV_2D, 3 for DEPTHWISE_CONV_2D).
inline bool SymmetricInt8Weights(const TfLiteTensor* w, int qdim = 0) {
  if (w->type != kTfLiteInt8 || w->quantization.type != kTfLiteAffineQuantization ||
      w->quantization.params == nullptr || w->params.zero_point != 0)
    return false;
  const auto* q = static_cast<const TfLiteAffineQuantization*>(w->quantization.params);
  if (q->scale == nullptr || q->scale->size < 1) return false;
  if (q->scale->size > 1 && (q->quantized_dimension != qdim || qdim >= w->dims->size ||
                             q->scale->size != w->dims->data[qdim]))
    return false;
  if (q->zero_point != nullptr)
    for (int i = 0; i < q->zero_point->size; ++i)
      if (q->zero_point->data[i] != 0) return false;
  return true;
}

inline bool Int8Activations(const TfLiteTensor* in, const TfLiteTensor* out) {
  return in->type == kTfLiteInt8 && out->type == kTfLiteInt8 && out->quantization.type != kTfLiteNoQuantization &&
         in->params.zero_point >= -128 && in->params.zero_point <= 127 && out->params.zero_point >= -128 &&
         out->params.zero_point <= 127;
}

struct Tensors {
  tflite::MicroContext* mc;
  TfLiteTensor *input, *filter, *bias, *output;
  Tensors(TfLiteContext* context, TfLiteNode* node) : mc(tflite::GetMicroContext(context)) {
    input = mc->AllocateTempInputTensor(node, 0);
    filter = mc->AllocateTempInputTensor(node, 1);
    bias = node->inputs->size > 2 ? mc->AllocateTempInputTensor(node, 2) : nullptr;
    output = mc->AllocateTempOutputTensor(node, 0);
  }
  ~Tensors() {
    for (TfLiteTensor* t : {input, filter, bias, output})
      if (t != nullptr) mc->DeallocateTempTfLiteTensor(t);
  }
  bool ok() const { return input != nullptr && filter != nullptr && output != nullptr; }
  bool bias_ok() const { return bias == nullptr || (bias->type == kTfLiteInt32); }
};

// The geometry of a convolution over width in NHWC: batch 1, height 1, kernel height 1, dilation 1, SAME or VALID
// padding, a stride >= 1 and the output width TFLM's padding arithmetic gives (ComputeOutSize). False for any other
// node (the build's own kernel runs it). The weights' dimensions 0 and 3 are the caller's to check.
struct Conv1d {
  int width, channels_in, kw, channels_out, out_width;
};
inline bool Conv1dGeometry(const Tensors& t, TfLitePadding padding, int stride_w, int dilation_w, int dilation_h,
                           Conv1d* g) {
  if (t.input->dims->size != 4 || t.filter->dims->size != 4 || t.output->dims->size != 4 || dilation_w != 1 ||
      dilation_h != 1 || (padding != kTfLitePaddingSame && padding != kTfLitePaddingValid) || stride_w < 1)
    return false;
  const int* in = t.input->dims->data;
  const int* f = t.filter->dims->data;
  const int* o = t.output->dims->data;
  *g = Conv1d{in[2], in[3], f[2], o[3], o[2]};
  const int s = stride_w;
  return in[0] == 1 && in[1] == 1 && f[1] == 1 && o[0] == 1 && o[1] == 1 && g->width >= 1 && g->channels_in >= 1 &&
         g->kw >= 1 && g->out_width >= 1 &&
         g->out_width == (padding == kTfLitePaddingSame ? (g->width + s - 1) / s : (g->width - g->kw + s) / s);
}

// A convolution's per-channel multipliers and shifts, persistent as TFLM's ConvPrepare / DepthwiseConvPrepare
// allocate them (CalculateOpDataConv / CalculateOpDataDepthwiseConv fill them).
inline TfLiteStatus AllocatePerChannel(TfLiteContext* context, int channels, tflite::OpDataConv* op) {
  op->per_channel_output_multiplier =
      static_cast<int32_t*>(context->AllocatePersistentBuffer(context, channels * sizeof(int32_t)));
  op->per_channel_output_shift =
      static_cast<int32_t*>(context->AllocatePersistentBuffer(context, channels * sizeof(int32_t)));
  TF_LITE_ENSURE(context, op->per_channel_output_multiplier != nullptr && op->per_channel_output_shift != nullptr);
  return kTfLiteOk;
}

// The kernel's sizes, zero points and activation range as TFLM's Prepare computed them (OpDataFullyConnected,
// OpDataConv: the same field names).
template <typename TflmOpData>
inline void SetParams(const TflmOpData& op, int32_t rows, int32_t depth, int32_t channels, int32_t row_stride,
                      ma_fc_s8_params* q) {
  q->rows = rows;
  q->depth = depth;
  q->channels = channels;
  q->row_stride = row_stride;
  q->input_offset = -op.input_zero_point;
  q->output_offset = op.output_zero_point;
  q->act_min = op.output_activation_min;
  q->act_max = op.output_activation_max;
}

// A convolution's kernel parameters from TFLM's Prepare arithmetic (TFLM's int8 CONV_2D and DEPTHWISE_CONV_2D always
// run per channel: per-tensor scales broadcast), and its input geometry.
inline void UseConvParams(const tflite::OpDataConv& op, int32_t rows, int32_t depth, int32_t channels,
                          int32_t row_stride, int32_t in_width, int32_t in_channels, OpData* data) {
  ma_fc_s8_params& q = data->params;
  SetParams(op, rows, depth, channels, row_stride, &q);
  q.per_channel = 1;
  q.multiplier = op.per_channel_output_multiplier;
  q.shift = op.per_channel_output_shift;
  data->in_width = in_width;
  data->in_channels = in_channels;
  data->pad_before = op.padding.width;
}

// Prepare's last step once the node is ours: the kernel's scratch for dot products of `depth`.
inline TfLiteStatus UseKernel(TfLiteContext* context, OpData* data, int32_t depth) {
  data->fallback.active = 0;
  data->scratch_bytes = ma_fc_s8_scratch_bytes(depth);
  return context->RequestScratchBufferInArena(context, static_cast<size_t>(data->scratch_bytes), &data->scratch_index);
}

inline TfLiteStatus Run(TfLiteContext* context, TfLiteNode* node, const OpData* data, Kind kind, const char* name) {
  const TfLiteEvalTensor* bias = node->inputs->size > 2 ? tflite::micro::GetEvalInput(context, node, 2) : nullptr;
  void* scratch = context->GetScratchBuffer(context, data->scratch_index);
  TF_LITE_ENSURE(context, scratch != nullptr);
  const int8_t* input = tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalInput(context, node, 0));
  const int8_t* weights = tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalInput(context, node, 1));
  const int32_t* b = bias != nullptr ? tflite::micro::GetTensorData<int32_t>(bias) : nullptr;
  int8_t* output = tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalOutput(context, node, 0));
  int32_t rc;
  if (kind == Kind::kConv)
    rc = ma_conv1d_s8(&data->params, data->in_width, data->in_channels, data->pad_before, input, weights, b, output,
                      scratch, data->scratch_bytes);
  else if (kind == Kind::kDepthwise)
    rc = ma_dwconv1d_s8(&data->params, data->in_width, data->pad_before, input, weights, b, output, scratch,
                        data->scratch_bytes);
  else
    rc = ma_fc_s8(&data->params, input, weights, b, output, scratch, data->scratch_bytes);
  if (rc != MA_OK) {
    MicroPrintf("%s: ma_fc_s8 returned %d (%s)", name, static_cast<int>(rc), ma_status_str(rc));
    return kTfLiteError;
  }
  return kTfLiteOk;
}

}  // namespace fc_common
}  // namespace microalign

#endif  // MICROALIGN_TFLM_MA_FC_TFLM_COMMON_H
