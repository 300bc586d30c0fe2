/* FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D: TFLM's builtin operators with their int8 paths on ma_fc_s8
 * (../kernels/); ma_fc_tflm.cc, ma_conv_tflm.cc and ma_dwconv_tflm.cc (what they share: ma_fc_tflm_common.h).
 *
 *   static tflite::MicroMutableOpResolver<N> resolver;
 *   resolver.AddFullyConnected(microalign::Register_FULLY_CONNECTED());   // instead of TFLM's (or CMSIS-NN's)
 *   resolver.AddConv2D(microalign::Register_CONV_2D());
 *   resolver.AddDepthwiseConv2D(microalign::Register_DEPTHWISE_CONV_2D());
 *
 * DEPTHWISE_CONV_2D likewise with an int8 NHWC input of batch 1 and height 1, weights [1, 1, kw, C] (zero point 0,
 * per tensor or per channel along C), depth multiplier 1, dilation 1, SAME or VALID, any stride: TFLM's own
 * CalculateOpDataDepthwiseConv, then ma_dwconv1d_s8 (scratch ma_fc_s8_scratch_bytes(kw)).
 *
 * Drop-in replacements of tflite::Register_FULLY_CONNECTED / Register_CONV_2D (same builtins, same options, the
 * same output bytes). FULLY_CONNECTED with int8 input and output, int8 weights [N, K] (zero point 0, quantised per
 * tensor or per output channel), an int32 bias or none, keep_num_dims either way, K <= MA_FC_S8_MAX_DEPTH; CONV_2D
 * with an int8 NHWC input of batch 1 and height 1, int8 weights [N, 1, kw, C] (zero point 0), kernel height 1,
 * dilation 1, SAME or VALID padding, any stride: Prepare runs TFLM's own CalculateOpDataFullyConnected /
 * CalculateOpDataConv (the per-channel multipliers and shifts, 8 bytes per output channel persistent, as TFLM's
 * kernels keep them; the activation range) and asks for ma_fc_s8_scratch_bytes(K) of scratch in the arena (the
 * weights of 4 output channels widened to 16 bits, shared with other operators); Eval runs ma_fc_s8 /
 * ma_conv1d_s8, reading the weights where the tensor is at that moment (QSPI flash in the XIP build, the staging
 * buffer in the staged one). Everything else runs the build's own kernel, unchanged (TFLM's reference kernel, or
 * CMSIS-NN's): float32, int16 and int4, other shapes, dilations or heights, and builds with TFLITE_SINGLE_ROUNDING
 * or CMSIS_NN_USE_SINGLE_ROUNDING, and with USE_TFLM_COMPRESSION.
 */
#ifndef MICROALIGN_TFLM_MA_FC_TFLM_H
#define MICROALIGN_TFLM_MA_FC_TFLM_H

#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/micro_common.h"

namespace microalign {

TFLMRegistration Register_FULLY_CONNECTED();
TFLMRegistration Register_CONV_2D();
TFLMRegistration Register_DEPTHWISE_CONV_2D();

}  // namespace microalign

#endif  // MICROALIGN_TFLM_MA_FC_TFLM_H
