// ADD on ma_add_s8 (see ma_add_tflm.h).
#include "ma_add_tflm.h"

#include "tensorflow/lite/c/builtin_op_data.h"
#include "tensorflow/lite/kernels/internal/compatibility.h"
#include "tensorflow/lite/kernels/kernel_util.h"
#include "tensorflow/lite/micro/kernels/kernel_util.h"
#include "tensorflow/lite/micro/kernels/micro_ops.h"
#include "tensorflow/lite/micro/micro_context.h"
#include "tensorflow/lite/micro/micro_log.h"

#include "ma_tflm_fallback.h"

extern "C" {
#include "ma_add_s8.h"
}

namespace microalign {
namespace {

struct OpData {
  Fallback fallback;     // the build's own ADD, for the nodes ma_add_s8 does not take
  int scratch_index;     // the tables' scratch buffer
  int32_t elements;
  ma_add_s8_params params;
};

const TFLMRegistration& Reference() {
  static const TFLMRegistration r = tflite::Register_ADD();
  return r;
}

void* Init(TfLiteContext* context, const char* buffer, size_t length) {
  auto* data = static_cast<OpData*>(context->AllocatePersistentBuffer(context, sizeof(OpData)));
  if (data != nullptr) {
    data->fallback = Fallback{0, nullptr};
    data->scratch_index = -1;
    data->elements = 0;
  }
  return data;
}

bool ZeroPointInt8(const TfLiteTensor* t) { return t->params.zero_point >= -128 && t->params.zero_point <= 127; }

// Element-wise without broadcasting: the same dimensions, aligned right, and 1 for any extra leading ones
// ([1, 1, 200, 96] + [1, 200, 96]; TFLM's ProcessBroadcastShapes finds no broadcast there either).
bool SameElementwiseShape(const TfLiteTensor* a, const TfLiteTensor* b) {
  const TfLiteIntArray* da = a->dims;
  const TfLiteIntArray* db = b->dims;
  const int na = da->size, nb = db->size, n = na > nb ? na : nb;
  for (int i = 1; i <= n; ++i) {
    const int x = i <= na ? da->data[na - i] : 1;
    const int y = i <= nb ? db->data[nb - i] : 1;
    if (x != y) return false;
  }
  return true;
}

TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  auto* data = static_cast<OpData*>(node->user_data);
  TF_LITE_ENSURE(context, data != nullptr && node->builtin_data != nullptr);
  TF_LITE_ENSURE_EQ(context, tflite::NumInputs(node), 2);
  TF_LITE_ENSURE_EQ(context, tflite::NumOutputs(node), 1);
  tflite::MicroContext* mc = tflite::GetMicroContext(context);
  TfLiteTensor* input1 = mc->AllocateTempInputTensor(node, 0);
  TfLiteTensor* input2 = mc->AllocateTempInputTensor(node, 1);
  TfLiteTensor* output = mc->AllocateTempOutputTensor(node, 0);
  if (input1 == nullptr || input2 == nullptr || output == nullptr) {
    if (input1 != nullptr) mc->DeallocateTempTfLiteTensor(input1);
    if (input2 != nullptr) mc->DeallocateTempTfLiteTensor(input2);
    if (output != nullptr) mc->DeallocateTempTfLiteTensor(output);
    TF_LITE_ENSURE(context, false);
  }
  bool use_reference = input1->type != kTfLiteInt8 || input2->type != kTfLiteInt8 || output->type != kTfLiteInt8 ||
                       !SameElementwiseShape(input1, input2) || !SameElementwiseShape(input1, output) ||
                       output->quantization.type == kTfLiteNoQuantization || !ZeroPointInt8(input1) ||
                       !ZeroPointInt8(input2) || !ZeroPointInt8(output);
#if (defined(TFLITE_SINGLE_ROUNDING) && TFLITE_SINGLE_ROUNDING) || defined(CMSIS_NN_USE_SINGLE_ROUNDING)
  use_reference = true;  // the kernel reproduces the default (double-rounding) arithmetic only
#endif
  TfLiteStatus status = kTfLiteOk;
  if (!use_reference) {
    const auto* options = static_cast<const TfLiteAddParams*>(node->builtin_data);
    int32_t act_min = 0, act_max = 0;
    status = tflite::CalculateActivationRangeQuantized(context, options->activation, output, &act_min, &act_max);
    if (status == kTfLiteOk) {
      const int32_t rc = ma_add_s8_params_init(&data->params, input1->params.scale, input1->params.zero_point,
                                               input2->params.scale, input2->params.zero_point,
                                               output->params.scale, output->params.zero_point, act_min, act_max);
      if (rc != MA_OK) {
        MicroPrintf("ADD: int8 scales %g, %g -> %g not supported (TFLM needs positive scales and an output scale "
                    "above 2 * max(input scales) / 2^20): %s",
                    static_cast<double>(input1->params.scale), static_cast<double>(input2->params.scale),
                    static_cast<double>(output->params.scale), ma_status_str(rc));
        status = kTfLiteError;
      }
    }
    if (status == kTfLiteOk) {
      status = context->RequestScratchBufferInArena(context, MA_ADD_S8_TABLE_WORDS * sizeof(int32_t),
                                                    &data->scratch_index);
    }
    data->fallback.active = 0;
    data->elements = static_cast<int32_t>(tflite::NumElements(input1));
  }
  mc->DeallocateTempTfLiteTensor(input1);
  mc->DeallocateTempTfLiteTensor(input2);
  mc->DeallocateTempTfLiteTensor(output);
  if (use_reference) return PrepareFallback(Reference(), context, node, &data->fallback, data);
  return status;
}

TfLiteStatus Eval(TfLiteContext* context, TfLiteNode* node) {
  auto* data = static_cast<OpData*>(node->user_data);
  TFLITE_DCHECK(data != nullptr);
  if (data->fallback.active) return InvokeFallback(Reference(), context, node, data->fallback, data);
  auto* tables = static_cast<int32_t*>(context->GetScratchBuffer(context, data->scratch_index));
  TF_LITE_ENSURE(context, tables != nullptr);
  int32_t rc = ma_add_s8_tables(&data->params, tables);
  if (rc == MA_OK) {
    rc = ma_add_s8(&data->params, tables,
                   tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalInput(context, node, 0)),
                   tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalInput(context, node, 1)),
                   tflite::micro::GetTensorData<int8_t>(tflite::micro::GetEvalOutput(context, node, 0)),
                   data->elements);
  }
  if (rc != MA_OK) {
    MicroPrintf("ADD: ma_add_s8 returned %d (%s)", static_cast<int>(rc), ma_status_str(rc));
    return kTfLiteError;
  }
  return kTfLiteOk;
}

}  // namespace

TFLMRegistration Register_ADD() { return tflite::micro::RegisterOp(Init, Prepare, Eval); }

}  // namespace microalign
