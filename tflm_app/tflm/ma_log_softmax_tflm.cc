// LOG_SOFTMAX on ma_log_softmax_s8 (see ma_log_softmax_tflm.h).
#include "ma_log_softmax_tflm.h"

#include "tensorflow/lite/kernels/internal/compatibility.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "tensorflow/lite/micro/kernels/kernel_util.h"
#include "tensorflow/lite/micro/kernels/micro_ops.h"
#include "tensorflow/lite/micro/micro_context.h"
#include "tensorflow/lite/micro/micro_log.h"

#include "ma_tflm_fallback.h"

extern "C" {
#include "ma_log_softmax_s8.h"
}

namespace microalign {
namespace {

struct OpData {
  Fallback fallback;     // TFLM's LOG_SOFTMAX, for the nodes ma_log_softmax_s8 does not take
  int32_t rows, depth;
  ma_log_softmax_s8_params params;
};

const TFLMRegistration& Reference() {
  static const TFLMRegistration r = tflite::Register_LOG_SOFTMAX();
  return r;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  TF_LITE_ENSURE_EQ(context, tflite::NumInputs(node), 1);
  TF_LITE_ENSURE_EQ(context, tflite::NumOutputs(node), 1);
  tflite::MicroContext* mc = tflite::GetMicroContext(context);
  TfLiteTensor* input = mc->AllocateTempInputTensor(node, 0);
  TF_LITE_ENSURE(context, input != nullptr);
  TfLiteTensor* output = mc->AllocateTempOutputTensor(node, 0);
  if (output == nullptr) {
    mc->DeallocateTempTfLiteTensor(input);
    TF_LITE_ENSURE(context, output != nullptr);
  }
  const TfLiteType type = input->type;
  const int dims = tflite::NumDimensions(input);
  const int32_t depth = dims > 0 ? input->dims->data[dims - 1] : 1;
  int use_reference = type != kTfLiteInt8 || depth > MA_LOG_SOFTMAX_S8_MAX_DEPTH;
#if defined(TFLITE_SINGLE_ROUNDING) && TFLITE_SINGLE_ROUNDING
  use_reference = 1;  // the kernel reproduces the default (double-rounding) arithmetic only
#endif
  TfLiteStatus status = kTfLiteOk;
  OpData* data = nullptr;
  if (!use_reference) {
    if (output->type != kTfLiteInt8 || !tflite::HaveSameShapes(input, output)) {
      MicroPrintf("LOG_SOFTMAX: output must be int8 and of the input's shape");
      status = kTfLiteError;
    } else if (output->params.scale != MA_LOG_SOFTMAX_S8_OUTPUT_SCALE ||
               output->params.zero_point != MA_LOG_SOFTMAX_S8_OUTPUT_ZERO_POINT) {
      MicroPrintf("LOG_SOFTMAX: int8 output needs scale 1/16 and zero point 127, has %f and %d",
                  static_cast<double>(output->params.scale), static_cast<int>(output->params.zero_point));
      status = kTfLiteError;
    } else {
      data = static_cast<OpData*>(context->AllocatePersistentBuffer(context, sizeof(OpData)));
      if (data == nullptr) {
        status = kTfLiteError;
      } else {
        const int32_t rc = ma_log_softmax_s8_params_init(&data->params, input->params.scale);
        if (rc != MA_OK) {
          MicroPrintf("LOG_SOFTMAX: int8 input scale %g not supported (TFLM needs scale * 2^26 > 1): %s",
                      static_cast<double>(input->params.scale), ma_status_str(rc));
          status = kTfLiteError;
        }
        data->fallback = Fallback{0, nullptr};
        data->depth = depth;
        data->rows = depth > 0 ? static_cast<int32_t>(tflite::NumElements(input) / depth) : 0;
      }
    }
  }
  mc->DeallocateTempTfLiteTensor(input);
  mc->DeallocateTempTfLiteTensor(output);
  if (use_reference) {
    data = static_cast<OpData*>(context->AllocatePersistentBuffer(context, sizeof(OpData)));
    TF_LITE_ENSURE(context, data != nullptr);
    return PrepareFallback(Reference(), context, node, &data->fallback, data);
  }
  node->user_data = data;
  return status;
}

TfLiteStatus Eval(TfLiteContext* context, TfLiteNode* node) {
  auto* data = static_cast<OpData*>(node->user_data);
  TFLITE_DCHECK(data != nullptr);
  if (data->fallback.active) return InvokeFallback(Reference(), context, node, data->fallback, data);
  if (data->rows == 0) return kTfLiteOk;  // an empty tensor
  const int32_t rc = ma_log_softmax_s8(
      &data->params, tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalInput(context, node, 0)),
      tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalOutput(context, node, 0)), data->rows,
      data->depth);
  if (rc != MA_OK) {
    MicroPrintf("LOG_SOFTMAX: ma_log_softmax_s8 returned %d (%s)", static_cast<int>(rc), ma_status_str(rc));
    return kTfLiteError;
  }
  return kTfLiteOk;
}

}  // namespace

TFLMRegistration Register_LOG_SOFTMAX() { return tflite::micro::RegisterOp(nullptr, Prepare, Eval); }

}  // namespace microalign
