/* ma_fixedpoint.h: gemmlowp / TFLite integer primitives shared by the int8 kernels.
 *
 * One copy of the fixed-point arithmetic that ma_attention_s8.c (its softmax) and
 * ma_log_softmax_s8.c reproduce bit for bit from TFLite Micro's reference kernels (gemmlowp's
 * scalar code, TFLM's MultiplyByQuantizedMultiplier with double rounding). Plain C99, int32
 * arithmetic; where gemmlowp adds or subtracts without saturation the result wraps, as on
 * two's-complement hardware (ma_add_wrap / ma_sub_wrap keep that defined in C). Also the two
 * libm-free helpers their Prepare steps use (finite positive doubles, exact). */
#ifndef MA_FIXEDPOINT_H
#define MA_FIXEDPOINT_H

#include <stdint.h>

/* SaturatingRoundingDoublingHighMul. gemmlowp adds a sign-dependent nudge and divides truncating
 * toward zero; that equals floor((a*b + 2^30) / 2^31), an arithmetic shift (one SMLAL on Arm). */
static inline int32_t ma_srdhm(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  return (int32_t)(((int64_t)a * (int64_t)b + (1ll << 30)) >> 31);
}

/* SaturatingRoundingDoublingHighMul for b >= 0 (a quantized multiplier): the saturating case
 * a == b == INT32_MIN cannot occur. */
static inline int32_t ma_srdhm_pos(int32_t a, int32_t b) {
  return (int32_t)(((int64_t)a * (int64_t)b + (1ll << 30)) >> 31);
}

/* RoundingDivideByPOT, 0 <= exponent <= 31, as gemmlowp (32-bit arithmetic). */
static inline int32_t ma_rdbpot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)((1u << exponent) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)x >> 31);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^shift wrapped to 32 bits, as TFLM's int32 x * (1 << shift). */
static inline int32_t ma_shl_wrap(int32_t x, int shift) { return (int32_t)((uint32_t)x << shift); }

/* gemmlowp's plain FixedPoint + and - (wrapping). */
static inline int32_t ma_add_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t ma_sub_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

/* MultiplyByQuantizedMultiplier(int32 x, multiplier >= 0, shift), double rounding. */
static inline int32_t ma_mbqm(int32_t x, int32_t multiplier, int32_t shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return ma_rdbpot(ma_srdhm_pos(ma_shl_wrap(x, left), multiplier), right);
}

/* SaturatingRoundingMultiplyByPOTParam / SaturatingRoundingMultiplyByPOT<e>, 0 <= e <= 31. */
static inline int32_t ma_sat_shl(int32_t x, int e) {
  int32_t threshold;
  if (e == 0) return x;
  threshold = (int32_t)((1u << (31 - e)) - 1u);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return ma_shl_wrap(x, e);
}

static inline int32_t ma_rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  const int64_t sign = sum >= 0 ? 1 : -1;
  return (int32_t)((sum + sign) / 2);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out). */
static inline int32_t ma_one_over_one_plus_x(int32_t a) {
  const int32_t half_denominator = ma_rounding_half_sum(a, INT32_MAX);
  int32_t x = 1515870810 + ma_srdhm(half_denominator, -1010580540); /* Q2.29 */
  int i;
  for (i = 0; i < 3; ++i) {
    const int32_t one_minus = (1 << 29) - ma_srdhm(half_denominator, x);
    x = x + ma_sat_shl(ma_srdhm(x, one_minus), 2);
  }
  return ma_sat_shl(x, 1);
}

static inline int ma_clz32(uint32_t x) {
#if defined(__GNUC__) || defined(__clang__)
  return x ? __builtin_clz(x) : 32;
#else
  int n = 0;
  if (!x) return 32;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    ++n;
  }
  return n;
#endif
}

/* gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl */
static inline int32_t ma_exp_quarter(int32_t a) {
  const int32_t constant_term = 1895147668;
  const int32_t one_third = 715827883;
  const int32_t x = ma_add_wrap(a, 1 << 28);
  const int32_t x2 = ma_srdhm(x, x);
  const int32_t x3 = ma_srdhm(x2, x);
  const int32_t x4 = ma_srdhm(x2, x2);
  const int32_t x4_over_4 = ma_rdbpot(x4, 2);
  const int32_t poly = ma_rdbpot(ma_add_wrap(ma_srdhm(ma_add_wrap(x4_over_4, x3), one_third), x2), 1);
  return ma_add_wrap(constant_term, ma_srdhm(constant_term, ma_add_wrap(x, poly)));
}

/* gemmlowp exp_on_negative_values for FixedPoint<int32, 5> (a <= 0); result Q0.31. */
static inline int32_t ma_exp_on_negative_values_q5(int32_t a) {
  static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                         39332535,   720401,     242};
  const int32_t one_quarter = 1 << 24;
  const int32_t a_mod = (a & (one_quarter - 1)) - one_quarter;
  int32_t result = ma_exp_quarter(ma_sat_shl(a_mod, 5));
  const int32_t remainder = ma_sub_wrap(a_mod, a);
  int e;
  for (e = -2; e <= 4; ++e) {
    if (remainder & (int32_t)(1u << (26 + e))) result = ma_srdhm(result, multipliers[e + 2]);
  }
  return a == 0 ? INT32_MAX : result;
}

/* No libm in Prepare: isfinite and frexp of finite positive doubles (exact: scaling by 2 is exact). */
static inline int ma_isfinite(double x) { return x == x && x - x == 0.0; }

static inline double ma_frexp(double x, int *e) { /* x > 0, finite: x = m * 2^e, m in [0.5, 1) */
  int n = 0;
  while (x >= 1.0) {
    x *= 0.5;
    ++n;
  }
  while (x < 0.5) {
    x *= 2.0;
    --n;
  }
  *e = n;
  return x;
}

/* TFLite's QuantizeMultiplier(double) for a finite real > 0 (TFLITE_SINGLE_ROUNDING unset):
 * frexp, q * 2^31 rounded half away from zero (std::round; q > 0), 2^31 carried into the shift, and
 * multipliers below 2^-31 flushed to zero. */
static inline void ma_quantize_multiplier_pos(double real, int32_t *multiplier, int32_t *shift) {
  int sh = 0;
  const double q = ma_frexp(real, &sh);
  int64_t q_fixed = (int64_t)(q * 2147483648.0 + 0.5);
  if (q_fixed == (1ll << 31)) {
    q_fixed /= 2;
    ++sh;
  }
  if (sh < -31) {
    sh = 0;
    q_fixed = 0;
  }
  *multiplier = (int32_t)q_fixed;
  *shift = sh;
}

#endif /* MA_FIXEDPOINT_H */
