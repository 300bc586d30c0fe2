/* int8 LOG_SOFTMAX over the last axis, bit-exact with TFLite Micro's reference kernel.
 *
 * TFLM's int8 LOG_SOFTMAX (tensorflow/lite/micro/kernels/log_softmax.cc: Prepare;
 * tensorflow/lite/kernels/internal/reference/log_softmax.h: LogSoftmaxQuantized) evaluates
 * gemmlowp's exp_on_negative_values for every element. With int8 input and parameters fixed
 * per model, that exponential depends only on d = max(row) - x in [0, 255]: this kernel
 * computes it once per model into a 256-entry table (ma_log_softmax_s8_params_init, what
 * TFLM's Prepare computes plus the tables), so each row costs a maximum, a sum of table
 * entries, one logarithm (the same gemmlowp fixed-point log as TFLM) and one subtraction and
 * rounding shift per element. The sums, the logarithm and every output byte are exactly
 * TFLM's (default build: TFLITE_SINGLE_ROUNDING unset, i.e. double-rounding
 * MultiplyByQuantizedMultiplier), for any input, including elements below diff_min, all-equal
 * rows and input scales up to TFLM's multiplier cap.
 *
 * The output quantisation is TFLM's fixed one: scale 16/256, zero point 127. The input zero
 * point does not matter (only differences within a row are used).
 *
 * Usage:
 *
 *     static ma_log_softmax_s8_params p;          // ~2 KB, compute once
 *     if (ma_log_softmax_s8_params_init(&p, input_scale) != MA_OK) ...
 *     ma_log_softmax_s8(&p, in, out, rows, depth);  // in == out allowed
 *
 * Plain C99, no allocation, no libm, no TFLM types. The numpy reference is
 * convert/microalign/kernels/log_softmax.py (whole-array arithmetic, no tables); the tests
 * compare both with TFLM (tests/test_log_softmax.py).
 */
#ifndef MA_LOG_SOFTMAX_S8_H
#define MA_LOG_SOFTMAX_S8_H

#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest row: the Q12.19 sum of exponentials (each <= 2^19) must fit in int32. */
#define MA_LOG_SOFTMAX_S8_MAX_DEPTH 4095
/* TFLM's int8 LOG_SOFTMAX output quantisation (Prepare rejects anything else). */
#define MA_LOG_SOFTMAX_S8_OUTPUT_SCALE (16.0f / 256.0f)
#define MA_LOG_SOFTMAX_S8_OUTPUT_ZERO_POINT 127

typedef struct {
  /* TFLM's LogSoftmaxOpData, as its Prepare computes them */
  int32_t input_multiplier;
  int32_t input_left_shift;            /* 1 .. 31 */
  int32_t reverse_scaling_divisor;
  int32_t reverse_scaling_right_shift; /* >= 0 */
  int32_t diff_min;                    /* <= 0: differences below it are left out */
  /* per d = max(row) - x, 0 <= d <= 255 (both 0 where -d < diff_min):
   * diff_q5[d]  = MultiplyByQuantizedMultiplier(-d, input_multiplier, input_left_shift), Q5.26
   * exp_q12[d]  = Rescale<12>(exp_on_negative_values(diff_q5[d])), Q12.19 */
  int32_t diff_q5[256];
  int32_t exp_q12[256];
} ma_log_softmax_s8_params;

/* TFLM's Prepare for an int8 input of scale input_scale (the float32 stored in the model), and
 * the tables. MA_ERR_ARGUMENT: p is NULL. MA_ERR_QUANT: input_scale not positive and finite,
 * or so small that TFLM's Prepare aborts (input_scale * 2^26 <= 1). */
int32_t ma_log_softmax_s8_params_init(ma_log_softmax_s8_params *p, float input_scale);

/* out[r][c] = LOG_SOFTMAX(in[r][.])[c] for rows x depth contiguous int8 values (in == out is
 * allowed; otherwise they must not overlap). MA_ERR_ARGUMENT: a NULL pointer, rows < 0, or
 * depth outside 1 .. MA_LOG_SOFTMAX_S8_MAX_DEPTH (nothing is written). */
int32_t ma_log_softmax_s8(const ma_log_softmax_s8_params *p, const int8_t *in, int8_t *out, int32_t rows,
                          int32_t depth);

/* The once-per-row logarithm: TFLM's log_x_for_x_greater_than_or_equal_to_1<5>(sum) of a Q12.19
 * sum of exponentials (>= 2^19, i.e. >= 1.0), result Q5.26. Exposed for the tests. */
int32_t ma_log_softmax_s8_log_q5(int32_t sum_q12);

#ifdef __cplusplus
}
#endif

#endif /* MA_LOG_SOFTMAX_S8_H */
