/* int8 LOG_SOFTMAX, bit-exact with TFLite Micro's reference kernel (see ma_log_softmax_s8.h).
 *
 * TFLM, per row (LogSoftmaxQuantized, kInputIntegerBits 5, kAccumulationIntegerBits 12,
 * kOutputIntegerBits 4; MBQM = MultiplyByQuantizedMultiplier, double rounding):
 *
 *   max = max(x);  sum = sum over x - max >= diff_min of Rescale<12>(exp(MBQM(x - max, m, ls)))
 *   L = log_x_for_x_greater_than_or_equal_to_1<5>(sum)                          (Q5.26)
 *   adjusted = max(diff_min - 1, MBQM(L + INT32_MIN, reverse_divisor, -reverse_shift))
 *   out = x - max > adjusted ? clamp(RoundingDivideByPOT(MBQM(x - max) - L, 22) + 127) : -128
 *
 * Here MBQM(x - max) and the exponential are looked up by d = max - x (tables built once in
 * ma_log_softmax_s8_params_init with the same integer functions), so the sums are TFLM's
 * exactly; everything else is TFLM's arithmetic in int32 (where TFLM adds or subtracts int32
 * values without saturation, the result wraps here as on two's-complement hardware; for the
 * subtraction MBQM(...) - L the threshold keeps it in range: no passing element overflowed in a
 * sweep of 3,000 input scales). */
#include "ma_log_softmax_s8.h"
#include "ma_fixedpoint.h"

#include <stddef.h>

/* ------------------------------------------------------------------------
 * Integer helpers (the gemmlowp / TFLite primitives: ma_fixedpoint.h) */
static int32_t ma_sat_add(int32_t a, int32_t b) {
  const int64_t s = (int64_t)a + (int64_t)b;
  return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}

static int32_t ma_sat_sub(int32_t a, int32_t b) {
  const int64_t s = (int64_t)a - (int64_t)b;
  return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}

/* TFLM log_x_for_x_greater_than_or_equal_to_1_impl<OutputIntegerBits 5, InputIntegerBits 12>. */
int32_t ma_log_softmax_s8_log_q5(int32_t z_a) {
  enum { kInputIntegerBits = 12, kAccumIntegerBits = 6 };
  const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
  const int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769, alpha_f = 638450708;
  const int32_t shifted_quarter = ma_rdbpot(536870912, kAccumIntegerBits); /* Rescale<6>(1/4) */
  const int z_a_headroom_plus_1 = ma_clz32((uint32_t)z_a);
  const int32_t r_a_tmp = ma_sat_shl(z_a, z_a_headroom_plus_1 - 1);
  const int32_t r_a_raw = ma_sat_shl(ma_srdhm(r_a_tmp, sqrt_half), 1);
  const int32_t z_a_pow_2_adj =
      ma_sat_add(ma_sat_shl(kInputIntegerBits - z_a_headroom_plus_1, 31 - kAccumIntegerBits), shifted_quarter);
  const int32_t z_b = ma_srdhm(z_a, sqrt_half);
  const int z_b_headroom = ma_clz32((uint32_t)z_b) - 1;
  const int32_t r_b_raw = ma_sat_shl(z_a, z_b_headroom);
  const int32_t z_b_pow_2_adj =
      ma_sat_sub(ma_sat_shl(kInputIntegerBits - z_b_headroom, 31 - kAccumIntegerBits), shifted_quarter);
  const int32_t r = r_a_raw < r_b_raw ? r_a_raw : r_b_raw;
  const int32_t z_pow_2_adj = z_a_pow_2_adj > z_b_pow_2_adj ? z_a_pow_2_adj : z_b_pow_2_adj;
  const int32_t p = ma_rounding_half_sum(r, sqrt_sqrt_half);
  int32_t q = ma_sub_wrap(r, sqrt_sqrt_half);
  int32_t common_sq, num, denom_minus_one_0, recip_denom, num_scaled;
  q = ma_add_wrap(q, q);
  common_sq = ma_srdhm(q, q);
  num = ma_add_wrap(ma_srdhm(q, r), ma_srdhm(ma_srdhm(q, common_sq), alpha_n));
  denom_minus_one_0 = ma_add_wrap(ma_srdhm(p, ma_add_wrap(ma_add_wrap(alpha_i, q), ma_srdhm(alpha_d, common_sq))),
                                  ma_srdhm(alpha_f, q));
  recip_denom = ma_one_over_one_plus_x(denom_minus_one_0);
  num_scaled = ma_rdbpot(num, kAccumIntegerBits); /* Rescale<6>(num) */
  /* Rescale<5> of the FixedPoint<6> sum: a saturating doubling */
  return ma_sat_shl(ma_add_wrap(ma_srdhm(z_pow_2_adj, log_2), ma_srdhm(num_scaled, recip_denom)), 1);
}

/* ------------------------------------------------------------------------
 * Prepare */
int32_t ma_log_softmax_s8_params_init(ma_log_softmax_s8_params *p, float input_scale) {
  double real;
  int32_t m, ls, rm, rs;
  int d;
  if (p == NULL) return MA_ERR_ARGUMENT;
  if (!(input_scale > 0.0f) || !ma_isfinite((double)input_scale)) return MA_ERR_QUANT;
  /* PreprocessLogSoftmaxScalingExp(beta 1, scale, kScaledDiffIntegerBits 5) */
  real = (double)input_scale * 67108864.0; /* 2^26 */
  if (real > 2147483647.0) real = 2147483647.0;
  if (!(real > 1.0)) return MA_ERR_QUANT; /* TFLM: CHECK_GT(multiplier, 1) aborts */
  ma_quantize_multiplier_pos(real, &m, &ls);  /* 1 <= ls <= 31 */
  if (ls < 1 || ls > 31 || m <= 0) return MA_ERR_QUANT;
  /* reverse scaling: (1 << (31 - ls)) / m in (0, 1), QuantizeMultiplierSmallerThanOneExp */
  real = (double)(1ll << (31 - ls)) / (double)m;
  if (!(real > 0.0 && real < 1.0)) return MA_ERR_QUANT;
  ma_quantize_multiplier_pos(real, &rm, &rs);
  if (rs > 0) return MA_ERR_QUANT;
  p->input_multiplier = m;
  p->input_left_shift = ls;
  p->reverse_scaling_divisor = rm;
  p->reverse_scaling_right_shift = -rs;
  /* -CalculateInputRadius(5, ls): floor of a positive double = truncation */
  p->diff_min = -(int32_t)(31.0 * 67108864.0 / (double)(1ll << ls));
  for (d = 0; d < 256; ++d) {
    if (-d >= p->diff_min) {
      p->diff_q5[d] = ma_mbqm(-d, m, ls);
      p->exp_q12[d] = ma_rdbpot(ma_exp_on_negative_values_q5(p->diff_q5[d]), 12); /* Rescale<12> */
    } else {
      p->diff_q5[d] = 0;
      p->exp_q12[d] = 0;
    }
  }
  return MA_OK;
}

/* ------------------------------------------------------------------------
 * Rows */
int32_t ma_log_softmax_s8(const ma_log_softmax_s8_params *p, const int8_t *in, int8_t *out, int32_t rows,
                          int32_t depth) {
  const int32_t *diff_q5, *exp_q12;
  int32_t r;
  if (p == NULL || in == NULL || out == NULL || rows < 0 || depth < 1 || depth > MA_LOG_SOFTMAX_S8_MAX_DEPTH)
    return MA_ERR_ARGUMENT;
  diff_q5 = p->diff_q5;
  exp_q12 = p->exp_q12;
  for (r = 0; r < rows; ++r) {
    const int8_t *x = in + (size_t)r * (size_t)depth;
    int8_t *y = out + (size_t)r * (size_t)depth;
    int32_t max = x[0], sum = 0, log_sum, adjusted, limit, c;
    for (c = 1; c < depth; ++c) max = x[c] > max ? x[c] : max;
    for (c = 0; c < depth; ++c) sum += exp_q12[max - x[c]]; /* <= 4095 * 2^19: no overflow */
    log_sum = ma_log_softmax_s8_log_q5(sum);
    adjusted = ma_mbqm(ma_add_wrap(log_sum, INT32_MIN), p->reverse_scaling_divisor, -p->reverse_scaling_right_shift);
    if (adjusted < p->diff_min - 1) adjusted = p->diff_min - 1;
    /* x - max > adjusted  <=>  d = max - x < -adjusted =: limit (adjusted >= diff_min - 1 >= -256) */
    limit = -adjusted;
    for (c = 0; c < depth; ++c) {
      const int32_t dd = max - x[c];
      int32_t v;
      if (dd < limit) {
        v = ma_rdbpot(ma_sub_wrap(diff_q5[dd], log_sum), 22) + 127;
        v = v > 127 ? 127 : (v < -128 ? -128 : v);
      } else {
        v = -128;
      }
      y[c] = (int8_t)v;
    }
  }
  return MA_OK;
}
