/* int8 FULLY_CONNECTED (and 1-D CONV_2D and DEPTHWISE_CONV_2D over width), bit-exact with TFLite Micro's reference
 * kernels and CMSIS-NN.
 *
 * For output row t and output channel n (TFLM's reference_integer_ops::FullyConnected /
 * FullyConnectedPerChannel, and ConvPerChannel for a convolution of height 1; CMSIS-NN computes the same
 * integers):
 *
 *   acc = bias[n] + sum_k (x_t[k] + input_offset) * w[n][k]          (int32, wrapping)
 *   out[t][n] = clamp(MBQM(acc, multiplier[n], shift[n]) + output_offset, act_min, act_max)
 *
 * MBQM is TFLM's MultiplyByQuantizedMultiplier with double rounding (ma_mbqm; the default build,
 * TFLITE_SINGLE_ROUNDING unset). Row t's inputs x_t are `depth` bytes at input + t * row_stride: a fully
 * connected layer has row_stride == depth; a 1-D convolution in NHWC (height 1, kernel height 1, dilation 1)
 * is the same product with overlapping rows (depth = kernel_w * C, row_stride = stride_w * C) plus padding
 * at the edges, where padded inputs equal the input zero point (they contribute 0): ma_conv1d_s8.
 *
 * How (Cortex-M7, DSP extension): weight-stationary blocks of 8 output channels (4 where a layer's last block, its
 * clamp, depth or shifts call for it). Each block's weights are sign-extended once per call into a 16-bit scratch
 * (the SXTB16 / SXTB16 ROR 8 order, the same reordering as the inputs get, so pairwise products are unchanged) while
 * their sum is taken, which folds the input zero point into a per-channel start value bias[n] + input_offset *
 * sum_k w[n][k] (no persistent memory); then every row streams through: one input word loaded and sign-extended per
 * 8 channels, two SMLAD per channel and weight word, the quads of a row one unrolled sequence (no loop counter).
 * Each weight byte is read from its tensor (QSPI flash in the XIP build) once per call. Requantisation: one SMMLAR,
 * one shift and one SSAT per output where the shift allows (see ma_fc_s8.c), TFLM's MBQM otherwise. Elsewhere (no
 * DSP, or MA_FC_S8_PORTABLE) a plain loop computes the same bytes; MA_FC_S8_EMULATE_DSP runs the DSP loops on the
 * host with the instructions emulated in C (for the sanitizers and the fuzzer). On the shipped model's 23
 * FULLY_CONNECTED and 2 CONV_2D layers: 0.96 Cortex-M7 instructions per MAC, 33.2 M per 4 s window, where CMSIS-NN's
 * kernels take 1.90 and 65.6 M (python eval/bench_fc.py).
 *
 * Usage:
 *
 *     ma_fc_s8_params p = {rows, depth, channels, row_stride, -zp_in, zp_out, act_min, act_max,
 *                          per_channel, multipliers, shifts};   // TFLM's Prepare computes the integers
 *     int32_t bytes = ma_fc_s8_scratch_bytes(depth);              // 128 + 17 * depth rounded up to a multiple of 4
 *     ma_fc_s8(&p, input, weights, bias_or_NULL, output, scratch, bytes);
 *
 * output is [rows][channels], contiguous; weights [channels][depth]; bias NULL or [channels] int32.
 * Plain C99, no allocation, no libm, no TFLM types. The numpy reference is
 * convert/microalign/kernels/fully_connected.py; the tests compare both with TFLM and CMSIS-NN
 * (tests/test_fc.py).
 */
#ifndef MA_FC_S8_H
#define MA_FC_S8_H

#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest dot product: |sum_k (x + input_offset) * w| < 2^29, so that the accumulator stays exact. */
#define MA_FC_S8_MAX_DEPTH 16384

typedef struct {
  int32_t rows;          /* output rows (FC: the product of the input's leading dimensions; conv: width out) */
  int32_t depth;         /* dot-product length, 1 .. MA_FC_S8_MAX_DEPTH (conv: kernel_w * in_channels) */
  int32_t channels;      /* output channels (>= 1) */
  int32_t row_stride;    /* input bytes from row t's first input to row t + 1's (>= 1; conv: stride_w * C) */
  int32_t input_offset;  /* -input zero point, -127 .. 128 */
  int32_t output_offset; /* output zero point, -128 .. 127 */
  int32_t act_min, act_max; /* the fused activation's range, a non-empty part of -128 .. 127 */
  int32_t per_channel;   /* 1: multiplier[n], shift[n] per output channel; 0: multiplier[0], shift[0] for all */
  const int32_t *multiplier; /* >= 0 (TFLM's QuantizeMultiplier) */
  const int32_t *shift;      /* -31 .. 30 */
} ma_fc_s8_params;

/* Bytes of scratch ma_fc_s8 / ma_conv1d_s8 need for this depth (4-byte aligned); MA_ERR_ARGUMENT for a depth
 * outside 1 .. MA_FC_S8_MAX_DEPTH. */
int32_t ma_fc_s8_scratch_bytes(int32_t depth);

/* FULLY_CONNECTED: row t's inputs at input + t * row_stride. MA_ERR_ARGUMENT: a NULL pointer (bias may be
 * NULL), a size or parameter out of range (nothing written); MA_ERR_SCRATCH: scratch NULL, not 4-byte
 * aligned or smaller than ma_fc_s8_scratch_bytes(depth). output must not overlap input or weights. */
int32_t ma_fc_s8(const ma_fc_s8_params *p, const int8_t *input, const int8_t *weights, const int32_t *bias,
                 int8_t *output, void *scratch, int32_t scratch_bytes);

/* 1-D convolution in NHWC over width (CONV_2D with height 1, kernel height 1, dilation 1): the input is
 * [in_width][in_channels]; output row t's receptive field starts at input column t * stride - pad_before
 * (stride = p->row_stride / in_channels) and spans p->depth / in_channels columns; columns outside
 * 0 .. in_width - 1 are the input zero point (TFLM's padding). weights [channels][kernel_w][in_channels].
 * MA_ERR_ARGUMENT also when depth or row_stride is not a multiple of in_channels or pad_before < 0 (a field
 * partly or wholly in the padding is fine: TFLM's SAME padding). */
int32_t ma_conv1d_s8(const ma_fc_s8_params *p, int32_t in_width, int32_t in_channels, int32_t pad_before,
                     const int8_t *input, const int8_t *weights, const int32_t *bias, int8_t *output,
                     void *scratch, int32_t scratch_bytes);

/* Depthwise 1-D convolution in NHWC (DEPTHWISE_CONV_2D with height 1, kernel height 1, depth multiplier 1,
 * dilation 1; TFLM's DepthwiseConvPerChannel): the input is [in_width][C] with C = p->channels, weights
 * [kernel_w][C] (TFLite's [1, 1, kernel_w, C]), bias NULL or [C]; p->depth is the kernel width, p->row_stride
 * stride * C, p->rows the output width. Output row t, channel c:
 *   acc = bias[c] + sum_j (x[t * stride - pad_before + j][c] + input_offset) * w[j][c] over the taps inside the input,
 *   out[t][c] = clamp(MBQM(acc, multiplier[c], shift[c]) + output_offset, act_min, act_max).
 * Scratch: ma_fc_s8_scratch_bytes(p->depth). The numpy reference: depthwise_conv1d_ref in
 * convert/microalign/kernels/fully_connected.py. MA_ERR_ARGUMENT as ma_conv1d_s8, and when row_stride is not a
 * multiple of channels. About 35 Cortex-M7 instructions per output for the shipped model's 7-tap layer (4 channels
 * per input word, SXTB16 + SMLABB / SMLATT), where CMSIS-NN's arm_depthwise_conv_s8_opt takes 95
 * (python eval/bench_fc.py). */
int32_t ma_dwconv1d_s8(const ma_fc_s8_params *p, int32_t in_width, int32_t pad_before, const int8_t *input,
                       const int8_t *weights, const int32_t *bias, int8_t *output, void *scratch,
                       int32_t scratch_bytes);

#ifdef __cplusplus
}
#endif

#endif /* MA_FC_S8_H */
