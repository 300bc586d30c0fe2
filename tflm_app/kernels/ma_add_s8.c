/* int8 ADD, bit-exact with TFLite Micro's reference kernel and CMSIS-NN's (see ma_add_s8.h).
 *
 * The sum's requantisation, MBQM(r, mo, so) + zp = RoundingDivideByPOT(SRDHM(r, mo), e) + zp with
 * e = -so, in three instructions:
 *  - the tables hold 2a and 2b, so s = 2r and SRDHM(r, mo) = floor((r mo + 2^30) / 2^31)
 *    = floor((s mo + 2^31) / 2^32), SMMLAR's rounded high word, exactly (|s| < 2^29: |a|, |b| <=
 *    255 * 2^19 + 1 because TFLM's input multipliers are at most 1/2);
 *  - RoundingDivideByPOT(v, e), e >= 1, is (v + 2^(e-1) - [v < 0]) >> e (gemmlowp rounds half away
 *    from zero), and v < 0 only where s < 0 (mo >= 0; where s < 0 and v = 0 both forms give 0);
 *  - adding zp * 2^e before the shift adds zp after it.
 * So out = SSAT8((SMMLAR(s, mo, 2^(e-1) + zp 2^e + (s >> 31))) >> e), the accumulator within
 * int32 for 1 <= e <= 23 (|v| < 2^28). Other output shifts (e = 0: an output scale within a factor
 * 2 of TFLM's lower limit, or so large that the multiplier is flushed to 0; e >= 24: more than 32
 * times the larger input scale) take the plain per-element path: TFLM's MBQM of the sum. A fused activation narrower than -128 .. 127 adds a
 * clamp. */
#include "ma_add_s8.h"
#include "ma_dsp.h" /* SMMLAR, SSAT */
#include "ma_fixedpoint.h"

#include <stddef.h>

/* ------------------------------------------------------------------------
 * Prepare */
static int ma_add_scale_ok(float s) { return s > 0.0f && ma_isfinite((double)s); }

int32_t ma_add_s8_params_init(ma_add_s8_params *p, float input1_scale, int32_t input1_zero_point,
                              float input2_scale, int32_t input2_zero_point, float output_scale,
                              int32_t output_zero_point, int32_t act_min, int32_t act_max) {
  double twice_max, real1, real2, real_out;
  if (p == NULL) return MA_ERR_ARGUMENT;
  if (input1_zero_point < -128 || input1_zero_point > 127 || input2_zero_point < -128 || input2_zero_point > 127 ||
      output_zero_point < -128 || output_zero_point > 127 || act_min < -128 || act_max > 127 || act_min > act_max)
    return MA_ERR_ARGUMENT;
  if (!ma_add_scale_ok(input1_scale) || !ma_add_scale_ok(input2_scale) || !ma_add_scale_ok(output_scale))
    return MA_ERR_QUANT;
  /* CalculateOpDataAdd, in double as TFLM */
  twice_max = 2.0 * (double)(input1_scale > input2_scale ? input1_scale : input2_scale);
  real1 = (double)input1_scale / twice_max;
  real2 = (double)input2_scale / twice_max;
  real_out = twice_max / ((double)(1l << MA_ADD_S8_LEFT_SHIFT) * (double)output_scale);
  if (!(real_out < 1.0) || !(real_out > 0.0)) return MA_ERR_QUANT; /* TFLM: CHECK_LT(multiplier, 1) aborts */
  p->input1_offset = -input1_zero_point;
  p->input2_offset = -input2_zero_point;
  p->output_offset = output_zero_point;
  /* QuantizeMultiplierSmallerThanOneExp: 0 < real < 1, so the shift is <= 0 */
  ma_quantize_multiplier_pos(real1, &p->input1_multiplier, &p->input1_shift);
  ma_quantize_multiplier_pos(real2, &p->input2_multiplier, &p->input2_shift);
  ma_quantize_multiplier_pos(real_out, &p->output_multiplier, &p->output_shift);
  p->activation_min = act_min;
  p->activation_max = act_max;
  p->left_shift = MA_ADD_S8_LEFT_SHIFT;
  return MA_OK;
}

static int ma_add_params_ok(const ma_add_s8_params *p) {
  const int32_t mult[3] = {p->input1_multiplier, p->input2_multiplier, p->output_multiplier};
  const int32_t shift[3] = {p->input1_shift, p->input2_shift, p->output_shift};
  int k;
  for (k = 0; k < 3; ++k)
    if (mult[k] < 0 || shift[k] > 0 || shift[k] < -31) return 0;
  return p->input1_offset >= -127 && p->input1_offset <= 128 && p->input2_offset >= -127 &&
         p->input2_offset <= 128 && p->output_offset >= -128 && p->output_offset <= 127 &&
         p->activation_min >= -128 && p->activation_max <= 127 && p->activation_min <= p->activation_max &&
         p->left_shift == MA_ADD_S8_LEFT_SHIFT;
}

/* One input's table: t[(uint8_t)x] = 2 MBQM((x + offset) 2^20, m, shift) for x = -128 .. 127. With v = x + offset,
 * SRDHM(v 2^20, m) = floor((v 2^20 m + 2^30) / 2^31) = floor((v m + 2^10) / 2^11) exactly, and v m + 2^10 grows
 * by m per step: one 64-bit addition and shift per entry instead of a multiplication. */
static void ma_add_table(int32_t *t, int32_t offset, int32_t m, int32_t shift) {
  int64_t acc = (int64_t)(offset - 128) * (int64_t)m + 1024; /* v m + 2^10 for x = -128 */
  int32_t x;
  for (x = -128; x < 128; ++x, acc += m) {
    const int32_t a = ma_rdbpot((int32_t)(acc >> 11), -shift); /* |a| <= 255 * 2^19 + 1 */
    t[(uint8_t)(int8_t)x] = 2 * a;
  }
}

int32_t ma_add_s8_tables(const ma_add_s8_params *p, int32_t *tables) {
  if (p == NULL || tables == NULL || !ma_add_params_ok(p)) return MA_ERR_ARGUMENT;
  ma_add_table(tables, p->input1_offset, p->input1_multiplier, p->input1_shift);
  ma_add_table(tables + 256, p->input2_offset, p->input2_multiplier, p->input2_shift);
  return MA_OK;
}

/* ------------------------------------------------------------------------
 * Elements */

/* One element of the fast path: bias = 2^(e-1) + zp 2^e. */
#define MA_ADD_FAST(k, CLAMP)                                                   \
  do {                                                                          \
    const int32_t s = t1[a[k]] + t2[b[k]];                                      \
    const int32_t v = ma_smmlar(s, mo, bias + (s >> 31)) >> e;              \
    y[k] = (int8_t)CLAMP(v);                                                    \
  } while (0)
#define MA_ADD_SAT(v) ma_ssat8(v)
#define MA_ADD_ACT(v) ma_add_act(ma_ssat8(v), lo, hi)

static inline int32_t ma_add_act(int32_t v, int32_t lo, int32_t hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

static void ma_add_fast_sat(const int32_t *t1, const int32_t *t2, const uint8_t *a, const uint8_t *b, int8_t *y,
                            int32_t n, int32_t mo, int32_t e, int32_t bias) {
  for (; n >= 4; n -= 4, a += 4, b += 4, y += 4) {
    MA_ADD_FAST(0, MA_ADD_SAT);
    MA_ADD_FAST(1, MA_ADD_SAT);
    MA_ADD_FAST(2, MA_ADD_SAT);
    MA_ADD_FAST(3, MA_ADD_SAT);
  }
  for (; n > 0; --n, ++a, ++b, ++y) MA_ADD_FAST(0, MA_ADD_SAT);
}

static void ma_add_fast_act(const int32_t *t1, const int32_t *t2, const uint8_t *a, const uint8_t *b, int8_t *y,
                            int32_t n, int32_t mo, int32_t e, int32_t bias, int32_t lo, int32_t hi) {
  for (; n >= 4; n -= 4, a += 4, b += 4, y += 4) {
    MA_ADD_FAST(0, MA_ADD_ACT);
    MA_ADD_FAST(1, MA_ADD_ACT);
    MA_ADD_FAST(2, MA_ADD_ACT);
    MA_ADD_FAST(3, MA_ADD_ACT);
  }
  for (; n > 0; --n, ++a, ++b, ++y) MA_ADD_FAST(0, MA_ADD_ACT);
}

/* Any output shift: TFLM's arithmetic on the table values. */
static void ma_add_plain(const ma_add_s8_params *p, const int32_t *t1, const int32_t *t2, const uint8_t *a,
                         const uint8_t *b, int8_t *y, int32_t n) {
  int32_t k;
  for (k = 0; k < n; ++k) {
    const int32_t raw = (t1[a[k]] + t2[b[k]]) / 2; /* both even: exact */
    const int32_t v = ma_mbqm(raw, p->output_multiplier, p->output_shift) + p->output_offset;
    y[k] = (int8_t)ma_add_act(v, p->activation_min, p->activation_max);
  }
}

int32_t ma_add_s8(const ma_add_s8_params *p, const int32_t *tables, const int8_t *in1, const int8_t *in2,
                  int8_t *out, int32_t n) {
  const uint8_t *a = (const uint8_t *)in1, *b = (const uint8_t *)in2;
  int32_t e;
  if (p == NULL || tables == NULL || in1 == NULL || in2 == NULL || out == NULL || n < 0 || !ma_add_params_ok(p))
    return MA_ERR_ARGUMENT;
  e = -p->output_shift;
  if (e >= 1 && e <= 23) {
    const int32_t bias = (1 << (e - 1)) + p->output_offset * (1 << e);
    if (p->activation_min == -128 && p->activation_max == 127)
      ma_add_fast_sat(tables, tables + 256, a, b, out, n, p->output_multiplier, e, bias);
    else
      ma_add_fast_act(tables, tables + 256, a, b, out, n, p->output_multiplier, e, bias, p->activation_min,
                      p->activation_max);
  } else {
    ma_add_plain(p, tables, tables + 256, a, b, out, n);
  }
  return MA_OK;
}
