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
  int width = 0, channels = 0, kw = 0, out_width = 0;
  {
    Tensors t(context, node);
    TF_LITE_ENSURE(context, t.ok());
    if (kKernelBuild && Int8Activations(t.input, t.output) && SymmetricInt8Weights(t.filter, 3) && t.bias_ok() &&
        t.input->dims->size == 4 && t.filter->dims->size == 4 && t.output->dims->size == 4 &&
        options.dilation_width_factor == 1 && options.dilation_height_factor == 1 && options.depth_multiplier == 1 &&
        (options.padding == kTfLitePaddingSame || options.padding == kTfLitePaddingValid) &&
        options.stride_width >= 1) {
      const int* in = t.input->dims->data;
      const int* f = t.filter->dims->data;
      const int* o = t.output->dims->data;
      width = in[2];
      channels = in[3];
      kw = f[2];
      out_width = o[2];
      ours = in[0] == 1 && in[1] == 1 && f[0] == 1 && f[1] == 1 && f[3] == channels && o[0] == 1 && o[1] == 1 &&
             o[3] == channels && width >= 1 && channels >= 1 && kw >= 1 && kw <= MA_FC_S8_MAX_DEPTH &&
             out_width >= 1 && (t.bias == nullptr || tflite::NumElements(t.bias) == channels);
      const int s = options.stride_width;
      ours = ours && out_width == (options.padding == kTfLitePaddingSame ? (width + s - 1) / s : (width - kw + s) / s);
    }
  }
  if (!ours) return PrepareFallback(ReferenceDepthwiseConv(), context, node, &data->fallback, data);
  // TFLM's own Prepare arithmetic: padding, per-channel multipliers and shifts (persistent, as its
  // DepthwiseConvPrepare allocates them), activation range
  tflite::OpDataConv op = {};
  TF_LITE_ENSURE_STATUS(AllocatePerChannel(context, channels, &op));
  TF_LITE_ENSURE_STATUS(tflite::CalculateOpDataDepthwiseConv(context, node, options, width, 1, kw, 1, out_width, 1,
                                                             kTfLiteInt8, &op));
  UseConvParams(op, out_width, kw, channels, options.stride_width * channels, width, channels, data);
  return UseKernel(context, data, kw);
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
