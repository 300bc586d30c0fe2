/* LOG_SOFTMAX: TFLM's builtin operator with the int8 path on ma_log_softmax_s8 (../kernels/).
 *
 *   static tflite::MicroMutableOpResolver<N> resolver;
 *   resolver.AddLogSoftmax(microalign::Register_LOG_SOFTMAX());   // instead of TFLM's kernel
 *
 * A drop-in replacement of tflite::Register_LOG_SOFTMAX (same builtin, same options, the same
 * output bytes): Prepare checks what TFLM's Prepare checks (one input, one output of the same
 * type and shape; int8 output scale 1/16, zero point 127) and builds the kernel's tables once
 * (ma_log_softmax_s8_params_init, ~2 KB persistent arena); Eval runs ma_log_softmax_s8 over the
 * rows of the last axis. Falls back to TFLM's reference kernel, unchanged, for what the table
 * kernel does not compute: float32 tensors, rows longer than MA_LOG_SOFTMAX_S8_MAX_DEPTH (4095,
 * where TFLM's int32 sum can overflow) and builds with TFLITE_SINGLE_ROUNDING. An input scale so
 * small that TFLM's Prepare aborts (scale * 2^26 <= 1) fails Prepare with a message instead.
 */
#ifndef MICROALIGN_TFLM_MA_LOG_SOFTMAX_TFLM_H
#define MICROALIGN_TFLM_MA_LOG_SOFTMAX_TFLM_H

#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/micro_common.h"

namespace microalign {

TFLMRegistration Register_LOG_SOFTMAX();

}  // namespace microalign

#endif  // MICROALIGN_TFLM_MA_LOG_SOFTMAX_TFLM_H
