// FULLY_CONNECTED on ma_fc_s8 (see ma_fc_tflm.h).
#include "ma_fc_tflm.h"
#include "ma_fc_tflm_common.h"

namespace microalign {
namespace {

using namespace fc_common;  // NOLINT

// ---------------------------------------------------------------- FULLY_CONNECTED
const TFLMRegistration& ReferenceFc() {
  static const TFLMRegistration r = tflite::Register_FULLY_CONNECTED();
  return r;
}

TfLiteStatus PrepareFc(TfLiteContext* context, TfLiteNode* node) {
  auto* data = static_cast<OpData*>(node->user_data);
  TF_LITE_ENSURE(context, data != nullptr && node->builtin_data != nullptr);
  const auto* options = static_cast<const TfLiteFullyConnectedParams*>(node->builtin_data);
  bool ours = false;
  int32_t depth = 0, channels = 0, rows = 0;
  {
    Tensors t(context, node);
    TF_LITE_ENSURE(context, t.ok());
    if (kKernelBuild && Int8Activations(t.input, t.output) && SymmetricInt8Weights(t.filter) && t.bias_ok() &&
        t.filter->dims->size == 2 && t.output->dims->size >= 1) {
      channels = t.filter->dims->data[0];
      depth = t.filter->dims->data[1];
      const int64_t in_elems = tflite::NumElements(t.input);
      const int64_t out_elems = tflite::NumElements(t.output);
      rows = depth > 0 ? static_cast<int32_t>(in_elems / depth) : 0;
      ours = depth >= 1 && depth <= MA_FC_S8_MAX_DEPTH && channels >= 1 && in_elems % depth == 0 &&
             t.output->dims->data[t.output->dims->size - 1] == channels &&
             out_elems == static_cast<int64_t>(rows) * channels &&
             (t.bias == nullptr || tflite::NumElements(t.bias) == channels);
    }
    if (ours) {
      TfLiteFullyConnectedParams p = *options;
      tflite::OpDataFullyConnected op;
      TF_LITE_ENSURE_STATUS(tflite::CalculateOpDataFullyConnected(context, p.activation, kTfLiteInt8, t.input,
                                                                  t.filter, t.bias, t.output, &op));
      ma_fc_s8_params& q = data->params;
      SetParams(op, rows, depth, channels, depth, &q);
      if (op.is_per_channel) {
        q.per_channel = 1;
        q.multiplier = op.per_channel_output_multiplier;
        q.shift = op.per_channel_output_shift;
      } else {
        data->tensor_multiplier = op.output_multiplier;
        data->tensor_shift = op.output_shift;
        q.per_channel = 0;
        q.multiplier = &data->tensor_multiplier;
        q.shift = &data->tensor_shift;
      }
    }
  }
  if (!ours) return PrepareFallback(ReferenceFc(), context, node, &data->fallback, data);
  return UseKernel(context, data, depth);
}

TfLiteStatus EvalFc(TfLiteContext* context, TfLiteNode* node) {
  auto* data = static_cast<OpData*>(node->user_data);
  TFLITE_DCHECK(data != nullptr);
  if (data->fallback.active) return InvokeFallback(ReferenceFc(), context, node, data->fallback, data);
  return Run(context, node, data, Kind::kFullyConnected, "FULLY_CONNECTED");
}

}  // namespace

TFLMRegistration Register_FULLY_CONNECTED() { return tflite::micro::RegisterOp(Init, PrepareFc, EvalFc); }

}  // namespace microalign
