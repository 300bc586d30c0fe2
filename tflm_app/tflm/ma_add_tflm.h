/* ADD: TFLM's builtin operator with the same-shape int8 path on ma_add_s8 (../kernels/).
 *
 *   static tflite::MicroMutableOpResolver<N> resolver;
 *   resolver.AddAdd(microalign::Register_ADD());   // instead of TFLM's (or CMSIS-NN's) kernel
 *
 * A drop-in replacement of tflite::Register_ADD (same builtin, same options, the same output bytes).
 * For two int8 inputs of the same shape (right-aligned; extra leading dimensions of 1 allowed, as in
 * [1, 1, 200, 96] + [1, 200, 96], which TFLM adds element-wise too), Prepare checks what TFLM's Prepare checks (two inputs and one
 * output of one type, zero points in the int8 range, the fused activation's range from TFLM's
 * CalculateActivationRangeQuantized), computes TFLM's parameters (ma_add_s8_params_init, 48 bytes
 * persistent) and asks for a 2 KB scratch buffer in the arena; Eval builds the kernel's two tables
 * there (ma_add_s8_tables, once per Eval: the scratch is shared with other operators, so the tables cost
 * no persistent memory) and runs ma_add_s8 over the elements. Everything else runs the build's own ADD,
 * unchanged (TFLM's reference kernel, or CMSIS-NN's in a CMSIS-NN build): broadcasting, int16, int32 and
 * float32 tensors, and builds with TFLITE_SINGLE_ROUNDING or CMSIS_NN_USE_SINGLE_ROUNDING. A quantisation
 * on which TFLM's Prepare aborts (a scale that is not positive, an output scale below 2 * max(input
 * scales) / 2^20) fails Prepare with a message instead.
 */
#ifndef MICROALIGN_TFLM_MA_ADD_TFLM_H
#define MICROALIGN_TFLM_MA_ADD_TFLM_H

#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/micro_common.h"

namespace microalign {

TFLMRegistration Register_ADD();

}  // namespace microalign

#endif  // MICROALIGN_TFLM_MA_ADD_TFLM_H
