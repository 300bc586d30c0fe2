/* Fused int8 attention, bit-exact with TFLite Micro's reference int8
 * MUL / BATCH_MATMUL / SOFTMAX / BATCH_MATMUL. See ma_attention_s8.h.
 *
 * Arithmetic (names as in TFLite's common.h and gemmlowp's fixedpoint.h):
 *   scores  s_j = clamp(MBQM(sum_c (q'_c - zq)(k_jc - zk), qk_mult, qk_shift) + zs)
 *   softmax p_j = TFLM reference int8 softmax of the row (gemmlowp fixed
 *           point); exp(diff) comes from a 256-entry table because the
 *           difference to the row maximum is an integer in [-255, 0]
 *   output  o_c = clamp(MBQM(sum_j (p_j + 128)(v_jc - zv), pv_mult, pv_shift) + zo)
 * MBQM is MultiplyByQuantizedMultiplier with double rounding. Integer sums
 * are exact, so their order is free: the DSP path (SXTAB16/SMLAD for Q·Kᵀ,
 * SXTB16/SMLABB for P·V) and the portable path give the same bytes. Keys
 * with p_j = -128 add nothing to P·V and are skipped: softmax lists the
 * row's non-zero probabilities (at most ~512, whatever Tk) with their value
 * rows, and P·V runs over that list only.
 *
 * Scratch (reused for every row): the q row as int16 (2*round4(dk) bytes),
 * the row's scores (int16, kv_len), the list of non-zero terms (a pointer and
 * an int32 each, kv_len + 1).
 */
#include "ma_attention_s8.h"

#include <limits.h>
#include <string.h>

#if (defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__ARM_FEATURE_SIMD32) && \
     !defined(MA_ATTENTION_S8_PORTABLE))
#define MA_ATT_DSP 1
#include <arm_acle.h>
typedef int16x2_t ma_s16x2;
typedef int8x4_t ma_s8x4;
#define MA_SXTB16(x) __sxtb16(x)
#define MA_SXTAB16(a, x) __sxtab16((a), (x))
#define MA_SMLAD(a, b, acc) __smlad((a), (b), (acc))
#define MA_SMLABB(a, b, acc) __smlabb((int32_t)(a), (int32_t)(b), (acc))
#define MA_SMLATB(a, b, acc) __smlatb((int32_t)(a), (int32_t)(b), (acc))
/* The rotated forms in one instruction (ACLE has no rotation operand). */
static inline ma_s16x2 MA_SXTB16_ROR8(ma_s8x4 x) {
  ma_s16x2 r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
static inline ma_s16x2 MA_SXTAB16_ROR8(ma_s16x2 a, ma_s8x4 x) {
  ma_s16x2 r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}
#elif defined(MA_ATTENTION_S8_EMULATE_DSP)
/* Host emulation of the five DSP instructions, so sanitizers and the fuzzer
 * also run the DSP path's loop structure. */
#define MA_ATT_DSP 1
typedef uint32_t ma_s16x2;
typedef uint32_t ma_s8x4;
static inline uint32_t ma_pack16(int32_t lo, int32_t hi) {
  return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
}
static inline int32_t ma_lo16(uint32_t x) { return (int32_t)(int16_t)(x & 0xFFFFu); }
static inline int32_t ma_hi16(uint32_t x) { return (int32_t)(int16_t)(x >> 16); }
static inline uint32_t MA_SXTB16(uint32_t x) {
  return ma_pack16((int8_t)(x & 0xFFu), (int8_t)((x >> 16) & 0xFFu));
}
static inline uint32_t MA_SXTAB16(uint32_t a, uint32_t x) {
  return ma_pack16(ma_lo16(a) + (int8_t)(x & 0xFFu), ma_hi16(a) + (int8_t)((x >> 16) & 0xFFu));
}
static inline int32_t MA_SMLAD(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(ma_lo16(a) * ma_lo16(b)) + (uint32_t)(ma_hi16(a) * ma_hi16(b)));
}
static inline int32_t MA_SMLABB(uint32_t a, int32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(ma_lo16(a) * ma_lo16((uint32_t)b)));
}
static inline int32_t MA_SMLATB(uint32_t a, int32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(ma_hi16(a) * ma_lo16((uint32_t)b)));
}
static inline uint32_t MA_SXTB16_ROR8(uint32_t x) { return MA_SXTB16((x >> 8) | (x << 24)); }
static inline uint32_t MA_SXTAB16_ROR8(uint32_t a, uint32_t x) { return MA_SXTAB16(a, (x >> 8) | (x << 24)); }
#else
#define MA_ATT_DSP 0
#endif

#define MA_SCRATCH_ALIGN 4u

/* ------------------------------------------------------------------------
 * gemmlowp / TFLite integer primitives */
/* SaturatingRoundingDoublingHighMul. gemmlowp adds a sign-dependent nudge and
 * divides truncating toward zero; that equals floor((a*b + 2^30) / 2^31),
 * an arithmetic shift (one SMLAL on Arm). */
static inline int32_t ma_srdhm(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  return (int32_t)(((int64_t)a * (int64_t)b + (1ll << 30)) >> 31);
}

/* SaturatingRoundingDoublingHighMul for b >= 0 (a quantized multiplier): the
 * saturating case a == b == INT32_MIN cannot occur. */
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
static inline int32_t ma_shl_wrap(int32_t x, int shift) {
  return (int32_t)((uint32_t)x << shift);
}

/* MultiplyByQuantizedMultiplier(int32, int32 multiplier >= 0, int shift), double rounding. */
static inline int32_t ma_mbqm(int32_t x, int32_t multiplier, int32_t shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return ma_rdbpot(ma_srdhm_pos(ma_shl_wrap(x, left), multiplier), right);
}

static inline int32_t ma_clamp_s8(int32_t x) {
  return x < -128 ? -128 : (x > 127 ? 127 : x);
}

/* SaturatingRoundingMultiplyByPOT<e> for e > 0 */
static int32_t ma_sat_shl(int32_t x, int e) {
  const int32_t threshold = (int32_t)((1u << (31 - e)) - 1u);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return ma_shl_wrap(x, e);
}

static int32_t ma_rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  const int64_t sign = sum >= 0 ? 1 : -1;
  return (int32_t)((sum + sign) / 2);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out). */
static int32_t ma_one_over_one_plus_x(int32_t a) {
  const int32_t half_denominator = ma_rounding_half_sum(a, INT32_MAX);
  int32_t x = 1515870810 + ma_srdhm(half_denominator, -1010580540); /* Q2.29 */
  int i;
  for (i = 0; i < 3; ++i) {
    const int32_t one_minus = (1 << 29) - ma_srdhm(half_denominator, x);
    x = x + ma_sat_shl(ma_srdhm(x, one_minus), 2);
  }
  return ma_sat_shl(x, 1);
}

static int ma_clz32(uint32_t x) {
#if defined(__GNUC__) || defined(__clang__)
  return x ? __builtin_clz(x) : 32;
#else
  int n = 0;
  if (!x) return 32;
  while (!(x & 0x80000000u)) { x <<= 1; ++n; }
  return n;
#endif
}

/* gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl */
static int32_t ma_exp_quarter(int32_t a) {
  const int32_t constant_term = 1895147668;
  const int32_t one_third = 715827883;
  const int32_t x = a + (1 << 28);
  const int32_t x2 = ma_srdhm(x, x);
  const int32_t x3 = ma_srdhm(x2, x);
  const int32_t x4 = ma_srdhm(x2, x2);
  const int32_t x4_over_4 = ma_rdbpot(x4, 2);
  const int32_t poly = ma_rdbpot(ma_srdhm(x4_over_4 + x3, one_third) + x2, 1);
  return constant_term + ma_srdhm(constant_term, x + poly);
}

/* gemmlowp exp_on_negative_values for FixedPoint<int32, 5>; result Q0.31. */
static int32_t ma_exp_on_negative_values_q5(int32_t a) {
  static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                         39332535, 720401, 242};
  const int32_t one_quarter = 1 << 24;
  const int32_t a_mod = (a & (one_quarter - 1)) - one_quarter;
  int32_t result = ma_exp_quarter(ma_sat_shl(a_mod, 5));
  const int32_t remainder = a_mod - a;
  int e;
  for (e = -2; e <= 4; ++e) {
    if (remainder & (int32_t)(1u << (26 + e))) result = ma_srdhm(result, multipliers[e + 2]);
  }
  return a == 0 ? INT32_MAX : result;
}

/* ------------------------------------------------------------------------
 * Prepare */
/* No libm: frexp, round and floor for the finite positive values used here
 * (exact: scaling a double by 2 is exact). */
static int ma_isfinite(double x) { return x == x && x - x == 0.0; }

static double ma_frexp(double x, int *e) { /* x > 0, finite: x = m * 2^e, m in [0.5, 1) */
  int n = 0;
  while (x >= 1.0) { x *= 0.5; ++n; }
  while (x < 0.5) { x *= 2.0; --n; }
  *e = n;
  return x;
}

/* QuantizeMultiplier(double): frexp, q * 2^31 rounded half away from zero (std::round). */
static int32_t ma_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift) {
  int sh = 0;
  double q;
  int64_t q_fixed;
  if (!(real >= 0.0) || !ma_isfinite(real)) return MA_ATTENTION_S8_ERR_QUANT;
  if (real == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return MA_ATTENTION_S8_OK;
  }
  if (real < 1e-30 || real > 1e30) return MA_ATTENTION_S8_ERR_QUANT;
  q = ma_frexp(real, &sh);
  q_fixed = (int64_t)(q * 2147483648.0 + 0.5); /* q > 0: truncation of x + 0.5 = round */
  if (q_fixed > (1ll << 31)) return MA_ATTENTION_S8_ERR_QUANT;
  if (q_fixed == (1ll << 31)) {
    q_fixed /= 2;
    ++sh;
  }
  if (sh < -31) {
    sh = 0;
    q_fixed = 0;
  }
  if (q_fixed > INT32_MAX) return MA_ATTENTION_S8_ERR_QUANT;
  *multiplier = (int32_t)q_fixed;
  *shift = sh;
  return MA_ATTENTION_S8_OK;
}

static int ma_valid_quant(const ma_attention_s8_tensor_quant *t) {
  return t->scale > 0.0f && ma_isfinite((double)t->scale) && t->zero_point >= -128 && t->zero_point <= 127;
}

/* BATCH_MATMUL's GetQuantizedConvolutionMultipler: float product, then double. */
static int32_t ma_bmm_multiplier(float lhs, float rhs, float out, int32_t *m, int32_t *s) {
  volatile float product = lhs * rhs; /* float32 rounding, as TFLM */
  int32_t st = ma_quantize_multiplier((double)product / (double)out, m, s);
  if (st == MA_ATTENTION_S8_OK && *s > 30) st = MA_ATTENTION_S8_ERR_QUANT;
  return st;
}

static int32_t ma_const_mul_map(const ma_attention_s8_tensor_quant *x, const ma_attention_s8_const_mul *mul,
                                int8_t map[256]) {
  int32_t m, s, st;
  int i;
  if (!ma_valid_quant(x) || !ma_valid_quant(&mul->value_q) || !ma_valid_quant(&mul->out) ||
      mul->value < -128 || mul->value > 127)
    return MA_ATTENTION_S8_ERR_QUANT;
  /* MUL's multiplier is computed in double throughout */
  st = ma_quantize_multiplier((double)x->scale * (double)mul->value_q.scale / (double)mul->out.scale, &m, &s);
  if (st != MA_ATTENTION_S8_OK) return st;
  if (s > 30) return MA_ATTENTION_S8_ERR_QUANT;
  for (i = 0; i < 256; ++i) {
    const int32_t prod = (i - 128 - x->zero_point) * (mul->value - mul->value_q.zero_point);
    map[i] = (int8_t)ma_clamp_s8(mul->out.zero_point + ma_mbqm(prod, m, s));
  }
  return MA_ATTENTION_S8_OK;
}

int32_t ma_attention_s8_params_init(ma_attention_s8_params *p, const ma_attention_s8_quant *qt) {
  const ma_attention_s8_tensor_quant *q_lhs, *s_in;
  double real;
  int32_t m, ls;
  int d, st;
  if (p == NULL || qt == NULL) return MA_ATTENTION_S8_ERR_ARG;
  memset(p, 0, sizeof(*p));
  if (!ma_valid_quant(&qt->q) || !ma_valid_quant(&qt->k) || !ma_valid_quant(&qt->v) ||
      !ma_valid_quant(&qt->scores) || !ma_valid_quant(&qt->out) || !(qt->softmax_beta > 0.0f) ||
      !ma_isfinite((double)qt->softmax_beta))
    return MA_ATTENTION_S8_ERR_QUANT;

  q_lhs = &qt->q;
  if (qt->has_q_mul) {
    st = ma_const_mul_map(&qt->q, &qt->q_mul, p->q_map);
    if (st != MA_ATTENTION_S8_OK) return st;
    p->has_q_map = 1;
    q_lhs = &qt->q_mul.out;
  }
  st = ma_bmm_multiplier(q_lhs->scale, qt->k.scale, qt->scores.scale, &p->qk_multiplier, &p->qk_shift);
  if (st != MA_ATTENTION_S8_OK) return st;
  p->qk_lhs_zp = q_lhs->zero_point;
  p->qk_rhs_zp = qt->k.zero_point;
  p->qk_out_zp = qt->scores.zero_point;

  s_in = &qt->scores;
  if (qt->has_score_mul) {
    st = ma_const_mul_map(&qt->scores, &qt->score_mul, p->s_map);
    if (st != MA_ATTENTION_S8_OK) return st;
    p->has_s_map = 1;
    s_in = &qt->score_mul.out;
  }

  /* PreprocessSoftmaxScaling with kScaledDiffIntegerBits = 5 */
  real = (double)qt->softmax_beta * (double)s_in->scale * (double)(1 << 26);
  if (real > 2147483647.0) real = 2147483647.0;
  if (!(real > 1.0)) return MA_ATTENTION_S8_ERR_QUANT; /* TFLM: CHECK_GT(multiplier, 1) */
  st = ma_quantize_multiplier(real, &m, &ls);
  if (st != MA_ATTENTION_S8_OK || ls < 0 || ls > 30) return MA_ATTENTION_S8_ERR_QUANT;
  p->sm_multiplier = m;
  p->sm_left_shift = ls;
  /* CalculateInputRadius: floor of a positive value = truncation */
  p->sm_diff_min = -(int32_t)(31.0 * (double)(1ll << 26) / (double)(1ll << ls));
  for (d = 0; d < 256; ++d) {
    p->exp_lut[d] = (-d >= p->sm_diff_min)
                        ? ma_exp_on_negative_values_q5(ma_srdhm(ma_shl_wrap(-d, ls), m))
                        : 0;
  }

  /* BATCH_MATMUL(p, v): p has scale 1/256, zero point -128 */
  st = ma_bmm_multiplier(1.0f / 256.0f, qt->v.scale, qt->out.scale, &p->pv_multiplier, &p->pv_shift);
  if (st != MA_ATTENTION_S8_OK) return st;
  p->pv_rhs_zp = qt->v.zero_point;
  p->pv_out_zp = qt->out.zero_point;
  return MA_ATTENTION_S8_OK;
}

/* ------------------------------------------------------------------------
 * Shapes and scratch */
void ma_attention_s8_dims_contiguous(ma_attention_s8_dims *d, int32_t heads, int32_t q_len,
                                     int32_t kv_len, int32_t head_dim) {
  if (d == NULL) return;
  d->heads = heads;
  d->q_len = q_len;
  d->kv_len = kv_len;
  d->head_dim = head_dim;
  d->q_row_stride = d->k_row_stride = d->v_row_stride = d->out_row_stride = head_dim;
  d->q_head_stride = d->out_head_stride = q_len * head_dim;
  d->k_head_stride = d->v_head_stride = kv_len * head_dim;
  d->window_left = d->window_right = -1;
}

static int ma_valid_dims(const ma_attention_s8_dims *d) {
  return d != NULL && d->heads >= 1 && d->q_len >= 1 && d->kv_len >= 1 &&
         d->kv_len <= MA_ATTENTION_S8_MAX_KV_LEN && d->head_dim >= 1 &&
         d->head_dim <= MA_ATTENTION_S8_MAX_HEAD_DIM && d->q_row_stride >= 0 && d->k_row_stride >= 0 &&
         d->v_row_stride >= 0 && d->out_row_stride >= d->head_dim && d->q_head_stride >= 0 &&
         d->k_head_stride >= 0 && d->v_head_stride >= 0 && d->out_head_stride >= 0;
}

/* A non-zero probability of the row: the value row it weights and p + 128. */
typedef struct {
  const int8_t *row;
  int32_t weight;
} ma_att_term;

static size_t ma_round4(size_t n) { return (n + 3u) & ~(size_t)3u; }

/* Scratch layout: [q row int16, round4(dk)] [scores int16, round2(kv)] [terms, kv + 1] */
static size_t ma_qrow_bytes(int32_t head_dim) { return 2u * ma_round4((size_t)head_dim); }
static size_t ma_score_bytes(int32_t kv_len) { return ma_round4(2u * (size_t)kv_len); }

/* At most ~2 KB + 16 * 4096 bytes (dims are bounded by the MAX_ constants): fits int32_t. */
int32_t ma_attention_s8_get_buffer_size(const ma_attention_s8_dims *d) {
  size_t terms_align = sizeof(void *) > 4 ? sizeof(void *) : 4;
  if (!ma_valid_dims(d)) return MA_ATTENTION_S8_ERR_ARG;
  return (int32_t)(ma_qrow_bytes(d->head_dim) + ma_score_bytes(d->kv_len) + (terms_align - 4u) +
                   sizeof(ma_att_term) * ((size_t)d->kv_len + 1u));
}

/* ------------------------------------------------------------------------
 * One query row */
#if MA_ATT_DSP
static inline uint32_t ma_rd32(const void *p) {
  uint32_t w;
  memcpy(&w, p, 4); /* one LDR (unaligned access is allowed on v7-M) */
  return w;
}
#endif

/* qq = q' - zq as int16; in DSP order (per 4: q0,q2,q1,q3) for full groups of 4. */
static void ma_prep_q(const ma_attention_s8_params *p, const int8_t *q, int32_t dk, int16_t *qq) {
  int32_t c;
  for (c = 0; c < dk; ++c) {
    const int32_t x = p->has_q_map ? p->q_map[q[c] + 128] : q[c];
    int32_t pos = c;
#if MA_ATT_DSP
    if (c < (dk & ~3)) pos = (c & ~3) + ((c & 1) << 1) + ((c >> 1) & 1); /* 0,2,1,3 */
#endif
    qq[pos] = (int16_t)(x - p->qk_lhs_zp);
  }
}

static inline int32_t ma_score(const ma_attention_s8_params *p, int32_t acc) {
  int32_t s = ma_clamp_s8(ma_mbqm(acc, p->qk_multiplier, p->qk_shift) + p->qk_out_zp);
  if (p->has_s_map) s = p->s_map[s + 128];
  return s;
}

#if MA_ATT_DSP
#if defined(__GNUC__) && !defined(__clang__)
#define MA_ALWAYS_INLINE static inline __attribute__((always_inline))
#define MA_UNROLL _Pragma("GCC unroll 16")
#else
#define MA_ALWAYS_INLINE static inline
#define MA_UNROLL
#endif

/* Dot products of the q row with two key rows (groups of 4; dk4 = dk & ~3). */
MA_ALWAYS_INLINE void ma_dot2(const int16_t *qq, const int8_t *ka, const int8_t *kb, ma_s16x2 koff, int32_t dk4,
                              int32_t *out_a, int32_t *out_b) {
  int32_t acc_a = 0, acc_b = 0, c;
  MA_UNROLL
  for (c = 0; c < dk4; c += 4) {
    const ma_s16x2 q0 = (ma_s16x2)ma_rd32(qq + c), q1 = (ma_s16x2)ma_rd32(qq + c + 2);
    const ma_s8x4 wa = (ma_s8x4)ma_rd32(ka + c), wb = (ma_s8x4)ma_rd32(kb + c);
    acc_a = MA_SMLAD(q0, MA_SXTAB16(koff, wa), acc_a);
    acc_b = MA_SMLAD(q0, MA_SXTAB16(koff, wb), acc_b);
    acc_a = MA_SMLAD(q1, MA_SXTAB16_ROR8(koff, wa), acc_a);
    acc_b = MA_SMLAD(q1, MA_SXTAB16_ROR8(koff, wb), acc_b);
  }
  *out_a = acc_a;
  *out_b = acc_b;
}

/* Scores of keys 0..n-1 into s[]; returns the row maximum. Inlined with a
 * constant dk for the common head sizes, so the dot products unroll. */
MA_ALWAYS_INLINE int32_t ma_row_scores_dsp(const ma_attention_s8_params *p, const int16_t *qq, const int8_t *k,
                                           int32_t k_rs, int32_t n, int32_t dk, int16_t *s) {
  int32_t mx = -128, j = 0, c;
  const int32_t zk = p->qk_rhs_zp, dk4 = dk & ~3;
  const ma_s16x2 koff = (ma_s16x2)(((uint32_t)(-zk) & 0xFFFFu) | ((uint32_t)(-zk) << 16));
  for (; j < n; j += 2) {
    const int8_t *ka = k + (size_t)j * (size_t)k_rs;
    const int8_t *kb = j + 1 < n ? ka + k_rs : ka; /* odd n: the last row twice, one result kept */
    int32_t acc_a, acc_b, sa, sb;
    ma_dot2(qq, ka, kb, koff, dk4, &acc_a, &acc_b);
    for (c = dk4; c < dk; ++c) {
      acc_a += qq[c] * (ka[c] - zk);
      acc_b += qq[c] * (kb[c] - zk);
    }
    sa = ma_score(p, acc_a);
    s[j] = (int16_t)sa;
    if (sa > mx) mx = sa;
    if (j + 1 < n) {
      sb = ma_score(p, acc_b);
      s[j + 1] = (int16_t)sb;
      if (sb > mx) mx = sb;
    }
  }
  return mx;
}
#endif

static int32_t ma_row_scores(const ma_attention_s8_params *p, const int16_t *qq, const int8_t *k,
                             int32_t k_rs, int32_t n, int32_t dk, int16_t *s) {
#if MA_ATT_DSP
  if (dk == 32) return ma_row_scores_dsp(p, qq, k, k_rs, n, 32, s);
  if (dk == 64) return ma_row_scores_dsp(p, qq, k, k_rs, n, 64, s);
  return ma_row_scores_dsp(p, qq, k, k_rs, n, dk, s);
#else
  int32_t mx = -128, j, c;
  const int32_t zk = p->qk_rhs_zp;
  for (j = 0; j < n; ++j) {
    const int8_t *kr = k + (size_t)j * (size_t)k_rs;
    int32_t acc = 0, sj;
    for (c = 0; c < dk; ++c) acc += qq[c] * (kr[c] - zk);
    sj = ma_score(p, acc);
    s[j] = (int16_t)sj;
    if (sj > mx) mx = sj;
  }
  return mx;
#endif
}

/* TFLM int8 softmax of s[0..n-1] (row maximum mx). The non-zero
 * probabilities become terms (value row, p + 128); returns their count and
 * their weight sum in *psum. */
static int32_t ma_row_softmax(const ma_attention_s8_params *p, const int16_t *s, int32_t n, int32_t mx,
                              const int8_t *v, int32_t v_rs, ma_att_term *terms, int32_t *psum) {
  const int32_t *lut = p->exp_lut; /* indexed by mx - s, in 0..255 */
  uint32_t sum = 0, rnd;
  int32_t j, m = 0, total = 0, exponent, scale, headroom_plus_one;
  for (j = 0; j < n; ++j) sum += ((uint32_t)lut[mx - s[j]] + 2048u) >> 12; /* Rescale<12> */
  /* GetReciprocal(sum, 12); sum >= 2^19 because the maximum contributes exp(0) */
  headroom_plus_one = ma_clz32(sum);
  scale = ma_one_over_one_plus_x((int32_t)((sum << headroom_plus_one) - 0x80000000u));
  exponent = (12 - headroom_plus_one) + 31 - 8;
  *psum = 0;
  terms[0].row = v;
  terms[0].weight = 0;
  if (exponent > 31) return 0; /* TFLM aborts here; every probability rounds to 0 */
  rnd = 1u << (exponent - 1);
  for (j = 0; j < n; ++j) {
    const uint32_t e = (uint32_t)lut[mx - s[j]];
    /* srdhm(scale, e) then RoundingDivideByPOT, both operands non-negative */
    const uint32_t x = (uint32_t)(((uint64_t)(uint32_t)scale * e + (1u << 30)) >> 31);
    uint32_t w = (x + rnd) >> exponent;
    if (w) {
      if (w > 255u) w = 255u;
      terms[m].row = v + (size_t)j * (size_t)v_rs;
      terms[m].weight = (int32_t)w;
      ++m;
      total += (int32_t)w;
    }
  }
  terms[m].row = v;
  terms[m].weight = 0; /* sentinel */
  *psum = total;
  return m;
}

static inline int8_t ma_out(const ma_attention_s8_params *p, int32_t acc) {
  return (int8_t)ma_clamp_s8(ma_mbqm(acc, p->pv_multiplier, p->pv_shift) + p->pv_out_zp);
}

/* o_c = requant(sum_t weight_t * row_t[c] - zv * psum) */
static void ma_row_pv(const ma_attention_s8_params *p, const ma_att_term *terms, int32_t m, int32_t psum,
                      int32_t dk, int8_t *o) {
  const int32_t corr = -p->pv_rhs_zp * psum;
  const ma_att_term *end = terms + m;
  int32_t c = 0;
#if MA_ATT_DSP
  for (; c + 8 <= dk; c += 8) {
    int32_t a0 = corr, a1 = corr, a2 = corr, a3 = corr, a4 = corr, a5 = corr, a6 = corr, a7 = corr;
    const ma_att_term *t;
    int32_t wt;
    /* the list ends with a zero weight: no end pointer, so all of this fits in registers */
    for (t = terms; (wt = t->weight) != 0; ++t) {
      const int8_t *r = t->row + c;
      const ma_s8x4 w0 = (ma_s8x4)ma_rd32(r), w1 = (ma_s8x4)ma_rd32(r + 4);
      ma_s16x2 e = MA_SXTB16(w0), od = MA_SXTB16_ROR8(w0);
      a0 = MA_SMLABB(e, wt, a0);
      a2 = MA_SMLATB(e, wt, a2);
      a1 = MA_SMLABB(od, wt, a1);
      a3 = MA_SMLATB(od, wt, a3);
      e = MA_SXTB16(w1);
      od = MA_SXTB16_ROR8(w1);
      a4 = MA_SMLABB(e, wt, a4);
      a6 = MA_SMLATB(e, wt, a6);
      a5 = MA_SMLABB(od, wt, a5);
      a7 = MA_SMLATB(od, wt, a7);
    }
    o[c + 0] = ma_out(p, a0);
    o[c + 1] = ma_out(p, a1);
    o[c + 2] = ma_out(p, a2);
    o[c + 3] = ma_out(p, a3);
    o[c + 4] = ma_out(p, a4);
    o[c + 5] = ma_out(p, a5);
    o[c + 6] = ma_out(p, a6);
    o[c + 7] = ma_out(p, a7);
  }
#endif
  for (; c < dk; ++c) {
    int32_t acc = corr;
    const ma_att_term *t;
    for (t = terms; t != end; ++t) acc += t->weight * t->row[c];
    o[c] = ma_out(p, acc);
  }
}

/* ------------------------------------------------------------------------ */
int32_t ma_attention_s8(const ma_attention_s8_params *p, const ma_attention_s8_dims *d, const int8_t *q,
                        const int8_t *k, const int8_t *v, int8_t *out, void *scratch, int32_t scratch_size) {
  int16_t *qq, *s;
  ma_att_term *terms;
  int32_t h, i;
  const int32_t need = ma_attention_s8_get_buffer_size(d);
  if (p == NULL || q == NULL || k == NULL || v == NULL || out == NULL || need < 0) return MA_ATTENTION_S8_ERR_ARG;
  if (scratch == NULL || scratch_size < need || ((uintptr_t)scratch & (MA_SCRATCH_ALIGN - 1u)) != 0)
    return MA_ATTENTION_S8_ERR_SCRATCH;
  if (p->sm_left_shift < 0 || p->sm_left_shift > 30 || p->qk_shift > 30 || p->qk_shift < -31 ||
      p->pv_shift > 30 || p->pv_shift < -31 || p->qk_multiplier < 0 || p->pv_multiplier < 0 ||
      p->sm_diff_min > 0)
    return MA_ATTENTION_S8_ERR_ARG;
  qq = (int16_t *)scratch;
  s = (int16_t *)((uint8_t *)scratch + ma_qrow_bytes(d->head_dim));
  {
    const uintptr_t a = (uintptr_t)((uint8_t *)s + ma_score_bytes(d->kv_len));
    const uintptr_t al = sizeof(void *) > 4 ? sizeof(void *) : 4;
    terms = (ma_att_term *)((a + al - 1u) & ~(al - 1u));
  }

  for (h = 0; h < d->heads; ++h) {
    const int8_t *qh = q + (size_t)h * (size_t)d->q_head_stride;
    const int8_t *kh = k + (size_t)h * (size_t)d->k_head_stride;
    const int8_t *vh = v + (size_t)h * (size_t)d->v_head_stride;
    int8_t *oh = out + (size_t)h * (size_t)d->out_head_stride;
    for (i = 0; i < d->q_len; ++i) {
      int32_t lo = 0, hi = d->kv_len - 1, n, mx, m, psum;
      int8_t *orow = oh + (size_t)i * (size_t)d->out_row_stride;
      if (d->window_left >= 0 && i - d->window_left > lo) lo = i - d->window_left;
      if (d->window_right >= 0 && (int64_t)i + d->window_right < hi) hi = i + d->window_right;
      n = hi - lo + 1;
      if (n <= 0) { /* no key in the window: a BATCH_MATMUL over nothing */
        int32_t c;
        for (c = 0; c < d->head_dim; ++c) orow[c] = ma_out(p, 0);
        continue;
      }
      ma_prep_q(p, qh + (size_t)i * (size_t)d->q_row_stride, d->head_dim, qq);
      mx = ma_row_scores(p, qq, kh + (size_t)lo * (size_t)d->k_row_stride, d->k_row_stride, n, d->head_dim,
                         s);
      m = ma_row_softmax(p, s, n, mx, vh + (size_t)lo * (size_t)d->v_row_stride, d->v_row_stride, terms,
                         &psum);
      ma_row_pv(p, terms, m, psum, d->head_dim, orow);
    }
  }
  return MA_ATTENTION_S8_OK;
}
