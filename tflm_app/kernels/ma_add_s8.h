/* int8 ADD of two same-shape tensors, bit-exact with TFLite Micro's reference kernel and CMSIS-NN's.
 *
 * TFLM's int8 ADD (tensorflow/lite/micro/kernels/add_common.cc: CalculateOpDataAdd;
 * tensorflow/lite/kernels/internal/reference/integer_ops/add.h: AddFunc; CMSIS-NN's
 * arm_elementwise_add_s8 computes the same integers) requantises every element three times:
 *
 *   a = MBQM((x1 - zp1) * 2^20, m1, s1)    b = MBQM((x2 - zp2) * 2^20, m2, s2)
 *   out = clamp(MBQM(a + b, mo, so) + zp_out, act_min, act_max)
 *
 * (MBQM = MultiplyByQuantizedMultiplierSmallerThanOneExp, double rounding.) a depends on the byte
 * x1 only and b on x2 only, so this kernel looks both up in two 256-entry int32 tables
 * (ma_add_s8_tables, 2 KB, built from the parameters) and requantises only the sum: on the
 * Cortex-M7 one SMMLAR (the doubling high multiply with its rounding, plus the final rounding's
 * offset and the output zero point), one shift and one SSAT per element, 11.3 instructions per
 * element in all (CMSIS-NN's arm_elementwise_add_s8: 80.7; python eval/bench_add.py). Every output byte is
 * TFLM's, for any quantisation TFLM's Prepare accepts (default build: TFLITE_SINGLE_ROUNDING
 * unset), any fused activation range and any length.
 *
 * Usage:
 *
 *     ma_add_s8_params p;                       // what TFLM's Prepare computes, 48 bytes
 *     static int32_t tables[MA_ADD_S8_TABLE_WORDS];
 *     if (ma_add_s8_params_init(&p, s1, zp1, s2, zp2, so, zpo, act_min, act_max) != MA_OK) ...
 *     ma_add_s8_tables(&p, tables);              // ~8 k Cortex-M7 instructions
 *     ma_add_s8(&p, tables, x1, x2, out, n);     // out may be x1 or x2
 *
 * Plain C99, no allocation, no libm, no TFLM types (on Arm with the DSP extension the inner loop
 * uses SMMLAR and SSAT; elsewhere the same arithmetic in C). The numpy reference is
 * convert/microalign/kernels/add.py (three requantisations per element, no tables); the tests
 * compare both with TFLM and CMSIS-NN (tests/test_add.py).
 */
#ifndef MA_ADD_S8_H
#define MA_ADD_S8_H

#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TFLM's left shift of int8 ADD inputs. */
#define MA_ADD_S8_LEFT_SHIFT 20
/* int32 words of the tables: [0, 256) input 1, [256, 512) input 2. */
#define MA_ADD_S8_TABLE_WORDS 512

typedef struct {
  /* TFLM's OpDataAdd (int8 fields), as its Prepare computes them */
  int32_t input1_offset; /* -zero point, -127 .. 128 */
  int32_t input1_multiplier;
  int32_t input1_shift; /* <= 0 */
  int32_t input2_offset;
  int32_t input2_multiplier;
  int32_t input2_shift;
  int32_t output_offset; /* the output zero point */
  int32_t output_multiplier;
  int32_t output_shift; /* <= 0 */
  int32_t activation_min, activation_max;
  int32_t left_shift; /* MA_ADD_S8_LEFT_SHIFT */
} ma_add_s8_params;

/* TFLM's Prepare for int8 inputs and output of these scales (the float32 values stored in the
 * model) and zero points, with the fused activation's range act_min .. act_max (TFLM's
 * CalculateActivationRangeQuantized; -128 .. 127 without activation).
 * MA_ERR_ARGUMENT: p is NULL, a zero point outside -128 .. 127, or act_min .. act_max not a
 * non-empty part of -128 .. 127. MA_ERR_QUANT: a scale not positive and finite, or an output
 * scale so small that TFLM's Prepare aborts (2 * max(s1, s2) / (2^20 * so) >= 1). */
int32_t ma_add_s8_params_init(ma_add_s8_params *p, float input1_scale, int32_t input1_zero_point,
                              float input2_scale, int32_t input2_zero_point, float output_scale,
                              int32_t output_zero_point, int32_t act_min, int32_t act_max);

/* The tables for p: tables[i] = 2 * a and tables[256 + i] = 2 * b for the input byte (int8_t)i.
 * MA_ERR_ARGUMENT: a NULL pointer or parameters params_init would not give. */
int32_t ma_add_s8_tables(const ma_add_s8_params *p, int32_t *tables);

/* out[k] = ADD(in1[k], in2[k]) for k < n (out may equal in1 or in2; otherwise no overlap), with the
 * tables ma_add_s8_tables made for p. MA_ERR_ARGUMENT: a NULL pointer or n < 0 (nothing written). */
int32_t ma_add_s8(const ma_add_s8_params *p, const int32_t *tables, const int8_t *in1, const int8_t *in2,
                  int8_t *out, int32_t n);

#ifdef __cplusplus
}
#endif

#endif /* MA_ADD_S8_H */
