// DEPTHWISE_CONV_2D of height 1 on ma_dwconv1d_s8 (see ma_fc_tflm.h).
#include "ma_fc_tflm.h"
#include "ma_fc_tflm_common.h"

namespace microalign {
namespace {

using namespace fc_common;  // NOLINT

const TFLMRegistration& ReferenceDepthwiseConv() {
  static const TFLMRegistration r = tflite::Register_DEPTHWISE_CONV_2D();
  return r;
}

TfLiteStatus PrepareDepthwiseConv(TfLiteContext* context, TfLiteNode* node) {
  auto* data = static_cast<OpData*>(node->user_data);
  TF_LITE_ENSURE(context, data != nullptr && node->builtin_data != nullptr);
  const auto& options = *static_cast<const TfLiteDepthwiseConvParams*>(node->builtin_data);
  bool ours = false;
  Conv1d g = {};
  {
    Tensors t(context, node);
    TF_LITE_ENSURE(context, t.ok());
    ours = kKernelBuild && Int8Activations(t.input, t.output) && SymmetricInt8Weights(t.filter, 3) && t.bias_ok() &&
           options.depth_multiplier == 1 &&
           Conv1dGeometry(t, options.padding, options.stride_width, options.dilation_width_factor,
                          options.dilation_height_factor, &g) &&
           t.filter->dims->data[0] == 1 && t.filter->dims->data[3] == g.channels_in &&
           g.channels_out == g.channels_in && g.kw <= MA_FC_S8_MAX_DEPTH &&
           (t.bias == nullptr || tflite::NumElements(t.bias) == g.channels_in);
  }
  if (!ours) return PrepareFallback(ReferenceDepthwiseConv(), context, node, &data->fallback, data);
  // TFLM's own Prepare arithmetic: padding, per-channel multipliers and shifts (persistent, as its
  // DepthwiseConvPrepare allocates them), activation range
  tflite::OpDataConv op = {};
  TF_LITE_ENSURE_STATUS(AllocatePerChannel(context, g.channels_in, &op));
  TF_LITE_ENSURE_STATUS(tflite::CalculateOpDataDepthwiseConv(context, node, options, g.width, 1, g.kw, 1, g.out_width,
                                                             1, kTfLiteInt8, &op));
  UseConvParams(op, g.out_width, g.kw, g.channels_in, options.stride_width * g.channels_in, g.width, g.channels_in,
                data);
  return UseKernel(context, data, g.kw);
}

TfLiteStatus EvalDepthwiseConv(TfLiteContext* context, TfLiteNode* node) {
  auto* data = static_cast<OpData*>(node->user_data);
  TFLITE_DCHECK(data != nullptr);
  if (data->fallback.active) return InvokeFallback(ReferenceDepthwiseConv(), context, node, data->fallback, data);
  return Run(context, node, data, Kind::kDepthwise, "DEPTHWISE_CONV_2D");
}

}  // namespace

TFLMRegistration Register_DEPTHWISE_CONV_2D() {
  return tflite::micro::RegisterOp(Init, PrepareDepthwiseConv, EvalDepthwiseConv);
}

}  // namespace microalign
