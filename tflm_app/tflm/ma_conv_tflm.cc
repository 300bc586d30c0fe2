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
  int width = 0, channels_in = 0, kw = 0, channels_out = 0, out_width = 0;
  {
    Tensors t(context, node);
    TF_LITE_ENSURE(context, t.ok());
    if (kKernelBuild && Int8Activations(t.input, t.output) && SymmetricInt8Weights(t.filter) && t.bias_ok() &&
        t.input->dims->size == 4 && t.filter->dims->size == 4 && t.output->dims->size == 4 &&
        options.dilation_width_factor == 1 && options.dilation_height_factor == 1 &&
        (options.padding == kTfLitePaddingSame || options.padding == kTfLitePaddingValid) &&
        options.stride_width >= 1) {
      const int* in = t.input->dims->data;
      const int* f = t.filter->dims->data;
      const int* o = t.output->dims->data;
      width = in[2];
      channels_in = in[3];
      channels_out = f[0];
      kw = f[2];
      out_width = o[2];
      const int64_t depth = static_cast<int64_t>(kw) * channels_in;
      ours = in[0] == 1 && in[1] == 1 && f[1] == 1 && f[3] == channels_in && o[0] == 1 && o[1] == 1 &&
             o[3] == channels_out && width >= 1 && channels_in >= 1 && kw >= 1 && out_width >= 1 &&
             depth <= MA_FC_S8_MAX_DEPTH && (t.bias == nullptr || tflite::NumElements(t.bias) == channels_out);
      // the output width TFLM's padding arithmetic gives (ComputeOutSize) is the tensor's
      const int s = options.stride_width;
      ours = ours && out_width == (options.padding == kTfLitePaddingSame ? (width + s - 1) / s : (width - kw + s) / s);
    }
  }
  if (!ours) return PrepareFallback(ReferenceConv(), context, node, &data->fallback, data);
  // TFLM's own Prepare arithmetic: padding, per-channel multipliers and shifts (persistent, as its ConvPrepare
  // allocates them), activation range
  tflite::OpDataConv op = {};
  TF_LITE_ENSURE_STATUS(AllocatePerChannel(context, channels_out, &op));
  TF_LITE_ENSURE_STATUS(tflite::CalculateOpDataConv(context, node, options, width, 1, kw, 1, out_width, 1,
                                                    kTfLiteInt8, &op));
  UseConvParams(op, out_width, kw * channels_in, channels_out, options.stride_width * channels_in, width, channels_in,
                data);
  return UseKernel(context, data, kw * channels_in);
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
