// CONV_2D of height 1 on ma_fc_s8 (see ma_fc_tflm.h).
#include "ma_fc_tflm.h"
#include "ma_fc_tflm_common.h"

namespace microalign {
namespace {

using namespace fc_common;  // NOLINT

// ---------------------------------------------------------------- CONV_2D of height 1
const TFLMRegistration& ReferenceConv() {
  static const TFLMRegistration r = tflite::Register_CONV_2D();
  return r;
}

TfLiteStatus PrepareConv(TfLiteContext* context, TfLiteNode* node) {
  auto* data = static_cast<OpData*>(node->user_data);
  TF_LITE_ENSURE(context, data != nullptr && node->builtin_data != nullptr);
  const auto& options = *static_cast<const TfLiteConvParams*>(node->builtin_data);
  bool ours = false;
  Conv1d g = {};
  {
    Tensors t(context, node);
    TF_LITE_ENSURE(context, t.ok());
    ours = kKernelBuild && Int8Activations(t.input, t.output) && SymmetricInt8Weights(t.filter) && t.bias_ok() &&
           Conv1dGeometry(t, options.padding, options.stride_width, options.dilation_width_factor,
                          options.dilation_height_factor, &g) &&
           t.filter->dims->data[0] == g.channels_out && t.filter->dims->data[3] == g.channels_in &&
           static_cast<int64_t>(g.kw) * g.channels_in <= MA_FC_S8_MAX_DEPTH &&
           (t.bias == nullptr || tflite::NumElements(t.bias) == g.channels_out);
  }
  if (!ours) return PrepareFallback(ReferenceConv(), context, node, &data->fallback, data);
  // TFLM's own Prepare arithmetic: padding, per-channel multipliers and shifts (persistent, as its ConvPrepare
  // allocates them), activation range
  tflite::OpDataConv op = {};
  TF_LITE_ENSURE_STATUS(AllocatePerChannel(context, g.channels_out, &op));
  TF_LITE_ENSURE_STATUS(tflite::CalculateOpDataConv(context, node, options, g.width, 1, g.kw, 1, g.out_width, 1,
                                                    kTfLiteInt8, &op));
  UseConvParams(op, g.out_width, g.kw * g.channels_in, g.channels_out, options.stride_width * g.channels_in, g.width,
                g.channels_in, data);
  return UseKernel(context, data, g.kw * g.channels_in);
}

TfLiteStatus EvalConv(TfLiteContext* context, TfLiteNode* node) {
  auto* data = static_cast<OpData*>(node->user_data);
  TFLITE_DCHECK(data != nullptr);
  if (data->fallback.active) return InvokeFallback(ReferenceConv(), context, node, data->fallback, data);
  return Run(context, node, data, Kind::kConv, "CONV_2D");
}

}  // namespace

TFLMRegistration Register_CONV_2D() { return tflite::micro::RegisterOp(Init, PrepareConv, EvalConv); }

}  // namespace microalign
