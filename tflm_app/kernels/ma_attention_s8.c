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
#include "ma_fixedpoint.h"

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
/* (a * b + 2^31) >> 32, the rounded high word (ACLE has no SMMULR intrinsic) */
static inline int32_t MA_SMMULR(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
/* clamp to -128..127 */
static inline int32_t MA_SSAT8(int32_t x) {
  int32_t r;
  __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
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
static inline int32_t MA_SMMULR(int32_t a, int32_t b) {
  return (int32_t)(((int64_t)a * (int64_t)b + 0x80000000ll) >> 32);
}
static inline int32_t MA_SSAT8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }
#else
#define MA_ATT_DSP 0
#endif

#define MA_SCRATCH_ALIGN 4u

/* ------------------------------------------------------------------------
 * Integer helpers (the gemmlowp / TFLite primitives: ma_fixedpoint.h) */
static inline int32_t ma_clamp_s8(int32_t x) {
  return x < -128 ? -128 : (x > 127 ? 127 : x);
}

/* ------------------------------------------------------------------------
 * Prepare */
/* QuantizeMultiplier(double): frexp, q * 2^31 rounded half away from zero (std::round). */
static int32_t ma_quantize_multiplier(double real, int32_t *multiplier, int32_t *shift) {
  if (!(real >= 0.0) || !ma_isfinite(real)) return MA_ATTENTION_S8_ERR_QUANT;
  if (real == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return MA_ATTENTION_S8_OK;
  }
  if (real < 1e-30 || real > 1e30) return MA_ATTENTION_S8_ERR_QUANT;
  ma_quantize_multiplier_pos(real, multiplier, shift);
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

/* Scratch layout: [2 q rows int16, round4(dk) each] [2 score rows int16, round4(2 kv) bytes each]
 * [terms, kv + 1]. The DSP path computes the scores of two query rows at once; the portable path
 * uses the first row of each (same size on both, so a caller sizes scratch once). */
static size_t ma_qrow_bytes(int32_t head_dim) { return 2u * ma_round4((size_t)head_dim); }
static size_t ma_score_bytes(int32_t kv_len) { return ma_round4(2u * (size_t)kv_len); }

/* At most ~4 KB + 20 * 4096 bytes (dims are bounded by the MAX_ constants): fits int32_t. */
int32_t ma_attention_s8_get_buffer_size(const ma_attention_s8_dims *d) {
  size_t terms_align = sizeof(void *) > 4 ? sizeof(void *) : 4;
  if (!ma_valid_dims(d)) return MA_ATTENTION_S8_ERR_ARG;
  return (int32_t)(2u * ma_qrow_bytes(d->head_dim) + 2u * ma_score_bytes(d->kv_len) + (terms_align - 4u) +
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

/* qq = q' - zq as int16. DSP path: 2 (q' - zq) (|.| <= 510), so that the dot products come out
 * doubled as SMMULR wants them (ma_score_fast), in DSP order (per 4: q0,q2,q1,q3) for full
 * groups of 4. */
static void ma_prep_q(const ma_attention_s8_params *p, const int8_t *q, int32_t dk, int16_t *qq) {
  int32_t c;
  for (c = 0; c < dk; ++c) {
    const int32_t x = p->has_q_map ? p->q_map[q[c] + 128] : q[c];
    int32_t pos = c;
#if MA_ATT_DSP
    if (c < (dk & ~3)) pos = (c & ~3) + ((c & 1) << 1) + ((c >> 1) & 1); /* 0,2,1,3 */
    qq[pos] = (int16_t)(2 * (x - p->qk_lhs_zp));
#else
    qq[pos] = (int16_t)(x - p->qk_lhs_zp);
#endif
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

/* Score requantisation in six instructions, for qk_shift = -r <= 0 (the usual case: the scores'
 * scale is above q'·k's) and a constant that fits (ma_score_fast_init). From the doubled dot
 * product a2 = 2 acc (|acc| <= dk * 255 * 255 < 2^27):
 *   SRDHM(acc, M) = floor((acc M + 2^30) / 2^31) = floor((a2 M + 2^31) / 2^32) = SMMULR(a2, M) = t
 *   RDBPOT(t, r)  = floor((t + 2^(r-1) - [t < 0]) / 2^r) for r >= 1 (gemmlowp's mask/threshold
 *                   form rounds half away from zero: the same integer), t for r = 0
 *   + zp          = floor((t + 2^(r-1) - [t < 0] + zp 2^r) / 2^r) (exact: zp 2^r is a multiple)
 * then SSAT #8 is the clamp to int8. |t| < 2^27, so t + c never overflows for |c| < 2^30. */
typedef struct {
  int32_t mult;   /* qk_multiplier */
  int32_t c;      /* 2^(r-1) + zp 2^r (r >= 1) or zp (r = 0) */
  int32_t negfix; /* -1 (r >= 1) or 0: added where t < 0 */
  int32_t r;
} ma_score_fast;

/* 1 and the constants if the fast form applies to p, else 0. */
static int ma_score_fast_init(const ma_attention_s8_params *p, ma_score_fast *f) {
  int64_t c;
  if (p->qk_shift > 0) return 0;
  f->r = -p->qk_shift;
  f->mult = p->qk_multiplier;
  c = f->r > 0 ? ((int64_t)1 << (f->r - 1)) + (int64_t)p->qk_out_zp * ((int64_t)1 << f->r) : p->qk_out_zp;
  if (c >= (1ll << 30) || c <= -(1ll << 30)) return 0;
  f->c = (int32_t)c;
  f->negfix = f->r > 0 ? -1 : 0;
  return 1;
}

MA_ALWAYS_INLINE int32_t ma_score2(const ma_attention_s8_params *p, const ma_score_fast *f, int fast, int32_t acc2) {
  int32_t s;
  if (!fast) return ma_score(p, acc2 >> 1); /* acc2 is even: exact */
  s = MA_SMMULR(acc2, f->mult);
  s = MA_SSAT8((s + f->c + ((s >> 31) & f->negfix)) >> f->r);
  if (p->has_s_map) s = p->s_map[s + 128];
  return s;
}

/* Scores of keys 0..n-1 into s[]; returns the row maximum. Inlined with a
 * constant dk for the common head sizes, so the dot products unroll. */
MA_ALWAYS_INLINE int32_t ma_row_scores_dsp(const ma_attention_s8_params *p, const ma_score_fast *f, int fast,
                                           const int16_t *qq, const int8_t *k, int32_t k_rs, int32_t n, int32_t dk,
                                           int16_t *s) {
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
    sa = ma_score2(p, f, fast, acc_a);
    s[j] = (int16_t)sa;
    if (sa > mx) mx = sa;
    if (j + 1 < n) {
      sb = ma_score2(p, f, fast, acc_b);
      s[j + 1] = (int16_t)sb;
      if (sb > mx) mx = sb;
    }
  }
  return mx;
}

/* One step of the two-rows x two-keys dot products: 4 channels of key rows ka, kb (post-
 * incremented by 4) against the interleaved q words at qp (ma_prep_q2; post-incremented by 16):
 * 16 instructions for 16 multiply-accumulates. Written as one asm block so the compiler cannot
 * spread the 13 live registers over the stack; the emulated build runs the same operations. */
#if defined(MA_ATTENTION_S8_EMULATE_DSP) || !defined(__GNUC__)
#define MA_DOT2X2_STEP(ka, kb, qp, aa, ab, ba, bb)                             \
  do {                                                                         \
    const ma_s8x4 wa_ = (ma_s8x4)ma_rd32(ka), wb_ = (ma_s8x4)ma_rd32(kb);      \
    ma_s16x2 ea_ = MA_SXTB16(wa_), eb_ = MA_SXTB16(wb_);                       \
    ma_s16x2 qa_ = (ma_s16x2)ma_rd32(qp), qb_ = (ma_s16x2)ma_rd32((qp) + 2);   \
    (aa) = MA_SMLAD(qa_, ea_, (aa));                                           \
    (ab) = MA_SMLAD(qa_, eb_, (ab));                                           \
    (ba) = MA_SMLAD(qb_, ea_, (ba));                                           \
    (bb) = MA_SMLAD(qb_, eb_, (bb));                                           \
    ea_ = MA_SXTB16_ROR8(wa_);                                                 \
    eb_ = MA_SXTB16_ROR8(wb_);                                                 \
    qa_ = (ma_s16x2)ma_rd32((qp) + 4);                                         \
    qb_ = (ma_s16x2)ma_rd32((qp) + 6);                                         \
    (aa) = MA_SMLAD(qa_, ea_, (aa));                                           \
    (ab) = MA_SMLAD(qa_, eb_, (ab));                                           \
    (ba) = MA_SMLAD(qb_, ea_, (ba));                                           \
    (bb) = MA_SMLAD(qb_, eb_, (bb));                                           \
    (ka) += 4;                                                                 \
    (kb) += 4;                                                                 \
    (qp) += 8;                                                                 \
  } while (0)
#else
#define MA_DOT2X2_STEP(ka_, kb_, qp_, aa_, ab_, ba_, bb_)                                                \
  do {                                                                                            \
    uint32_t wa_, wb_, ea_, eb_, qa_, qb_;                                                        \
    __asm__("ldr %[wa], [%[ka]], #4\n\t"                                                          \
            "ldr %[wb], [%[kb]], #4\n\t"                                                          \
            "sxtb16 %[ea], %[wa]\n\t"                                                             \
            "sxtb16 %[eb], %[wb]\n\t"                                                             \
            "ldrd %[qa], %[qb], [%[qp]], #8\n\t"                                                  \
            "smlad %[aa], %[qa], %[ea], %[aa]\n\t"                                                \
            "smlad %[ab], %[qa], %[eb], %[ab]\n\t"                                                \
            "smlad %[ba], %[qb], %[ea], %[ba]\n\t"                                                \
            "smlad %[bb], %[qb], %[eb], %[bb]\n\t"                                                \
            "sxtb16 %[ea], %[wa], ror #8\n\t"                                                     \
            "sxtb16 %[eb], %[wb], ror #8\n\t"                                                     \
            "ldrd %[qa], %[qb], [%[qp]], #8\n\t"                                                  \
            "smlad %[aa], %[qa], %[ea], %[aa]\n\t"                                                \
            "smlad %[ab], %[qa], %[eb], %[ab]\n\t"                                                \
            "smlad %[ba], %[qb], %[ea], %[ba]\n\t"                                                \
            "smlad %[bb], %[qb], %[eb], %[bb]"                                                    \
            : [aa] "+r"(aa_), [ab] "+r"(ab_), [ba] "+r"(ba_), [bb] "+r"(bb_), [ka] "+r"(ka_),           \
              [kb] "+r"(kb_), [qp] "+r"(qp_), [wa] "=&r"(wa_), [wb] "=&r"(wb_), [ea] "=&r"(ea_),     \
              [eb] "=&r"(eb_), [qa] "=&r"(qa_), [qb] "=&r"(qb_)                                    \
            :                                                                                     \
            : "memory");                                                                          \
  } while (0)
#endif

/* q rows a and b of a pair, interleaved for MA_DOT2X2_STEP: per group of 4 channels the words
 * a(0,2) b(0,2) a(1,3) b(1,3); then the last dk % 4 channels of a at qq[2 dk4 ..] and of b at
 * qq[2 dk4 + 4 ..]. Values 2 (q' - zq) as in ma_prep_q. Returns sum_c a_c, sum_c b_c. */
static void ma_prep_q2(const ma_attention_s8_params *p, const int8_t *qa, const int8_t *qb, int32_t dk,
                       int16_t *qq, int32_t *suma, int32_t *sumb) {
  const int32_t dk4 = dk & ~3;
  int32_t c, sa = 0, sb = 0;
  for (c = 0; c < dk; ++c) {
    const int32_t xa = 2 * ((p->has_q_map ? p->q_map[qa[c] + 128] : qa[c]) - p->qk_lhs_zp);
    const int32_t xb = 2 * ((p->has_q_map ? p->q_map[qb[c] + 128] : qb[c]) - p->qk_lhs_zp);
    sa += xa;
    sb += xb;
    if (c < dk4) {
      const int32_t pos = 2 * (c & ~3) + ((c & 1) << 2) + ((c >> 1) & 1); /* 0,4,1,5 (+2 for b) */
      qq[pos] = (int16_t)xa;
      qq[pos + 2] = (int16_t)xb;
    } else {
      qq[2 * dk4 + (c - dk4)] = (int16_t)xa;
      qq[2 * dk4 + 4 + (c - dk4)] = (int16_t)xb;
    }
  }
  *suma = sa;
  *sumb = sb;
}

/* The fast requantisation with r >= 1 (ma_score_fast with negfix = -1): five instructions. */
MA_ALWAYS_INLINE int32_t ma_score_r(const ma_score_fast *f, int smap, const int8_t *s_map, int32_t acc2) {
  const int32_t t = MA_SMMULR(acc2, f->mult);
  int32_t x = MA_SSAT8((t + f->c + (t >> 31)) >> f->r);
  if (smap) x = s_map[x + 128];
  return x;
}

/* One score of a row: requantised, stored, and folded into the row's running maximum. */
MA_ALWAYS_INLINE void ma_put_score(const ma_score_fast *f, int smap, const int8_t *s_map, int32_t acc2,
                                   int16_t *dst, int32_t *mx) {
  const int32_t x = ma_score_r(f, smap, s_map, acc2);
  *dst = (int16_t)x;
  *mx = x > *mx ? x : *mx;
}

/* Scores of two query rows (qq: ma_prep_q2, with sums za, zb of their doubled values) against keys
 * 0..n-1 into sa[], sb[]; row maxima into *mxa, *mxb. The key zero point is folded into the
 * accumulators' start: sum_c qq_c (k_c - zk) = sum_c qq_c k_c - zk sum_c qq_c. */
MA_ALWAYS_INLINE void ma_row2_scores_dsp(const ma_attention_s8_params *p, const ma_score_fast *f, int smap,
                                         const int16_t *qq, int32_t za, int32_t zb, const int8_t *k,
                                         int32_t k_rs, int32_t n, int32_t dk, int16_t *sa, int16_t *sb,
                                         int32_t *mxa, int32_t *mxb) {
  int32_t ma = -128, mb = -128, j, c;
  const int32_t zk = p->qk_rhs_zp, dk4 = dk & ~3;
  const int16_t *ta = qq + 2 * dk4, *tb = qq + 2 * dk4 + 4;
  const int8_t *s_map = p->s_map;
  za *= -zk;
  zb *= -zk;
  for (j = n >> 1; j > 0; --j) { /* pairs of keys; an odd last key below */
    const int8_t *kb = k + k_rs, *pa = k, *pb = kb;
    const int16_t *qp = qq;
    int32_t aa = za, ab = za, ba = zb, bb = zb;
    MA_UNROLL
    for (c = 0; c < dk4; c += 4) MA_DOT2X2_STEP(pa, pb, qp, aa, ab, ba, bb);
    for (c = dk4; c < dk; ++c) {
      aa += ta[c - dk4] * k[c];
      ab += ta[c - dk4] * kb[c];
      ba += tb[c - dk4] * k[c];
      bb += tb[c - dk4] * kb[c];
    }
    ma_put_score(f, smap, s_map, aa, &sa[0], &ma);
    ma_put_score(f, smap, s_map, ab, &sa[1], &ma);
    ma_put_score(f, smap, s_map, ba, &sb[0], &mb);
    ma_put_score(f, smap, s_map, bb, &sb[1], &mb);
    sa += 2;
    sb += 2;
    k = kb + k_rs;
  }
  if (n & 1) {
    int32_t aa = za, ba = zb;
    for (c = 0; c < dk4; c += 4) { /* group order of ma_prep_q2: a(0,2) b(0,2) a(1,3) b(1,3) */
      const int16_t *g = qq + 2 * c;
      aa += g[0] * k[c] + g[1] * k[c + 2] + g[4] * k[c + 1] + g[5] * k[c + 3];
      ba += g[2] * k[c] + g[3] * k[c + 2] + g[6] * k[c + 1] + g[7] * k[c + 3];
    }
    for (c = dk4; c < dk; ++c) {
      aa += ta[c - dk4] * k[c];
      ba += tb[c - dk4] * k[c];
    }
    ma_put_score(f, smap, s_map, aa, &sa[0], &ma);
    ma_put_score(f, smap, s_map, ba, &sb[0], &mb);
  }
  *mxa = ma;
  *mxb = mb;
}

/* Rows i and i+1 of a pair: q rows qa, qb (int8, as stored) into the scratch row pair qq. Not
 * inlined into ma_attention_s8: the score loop then has the registers to itself. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void ma_row2_scores(const ma_attention_s8_params *p, const ma_score_fast *f, const int8_t *qa,
                           const int8_t *qb, int16_t *qq, const int8_t *k, int32_t k_rs, int32_t n, int32_t dk,
                           int16_t *sa, int16_t *sb, int32_t *mxa, int32_t *mxb) {
  int32_t za, zb;
  ma_prep_q2(p, qa, qb, dk, qq, &za, &zb);
  if (dk == 32 && !p->has_s_map) {
    ma_row2_scores_dsp(p, f, 0, qq, za, zb, k, k_rs, n, 32, sa, sb, mxa, mxb);
  } else if (!p->has_s_map) {
    ma_row2_scores_dsp(p, f, 0, qq, za, zb, k, k_rs, n, dk, sa, sb, mxa, mxb);
  } else {
    ma_row2_scores_dsp(p, f, 1, qq, za, zb, k, k_rs, n, dk, sa, sb, mxa, mxb);
  }
}
#endif

static int32_t ma_row_scores(const ma_attention_s8_params *p, const int16_t *qq, const int8_t *k,
                             int32_t k_rs, int32_t n, int32_t dk, int16_t *s) {
#if MA_ATT_DSP
  ma_score_fast f;
  if (ma_score_fast_init(p, &f)) {
    if (dk == 32) return ma_row_scores_dsp(p, &f, 1, qq, k, k_rs, n, 32, s);
    if (dk == 64) return ma_row_scores_dsp(p, &f, 1, qq, k, k_rs, n, 64, s);
    return ma_row_scores_dsp(p, &f, 1, qq, k, k_rs, n, dk, s);
  }
  return ma_row_scores_dsp(p, &f, 0, qq, k, k_rs, n, dk, s);
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
  uint32_t sum = 0, sum2 = 0, rnd, emin;
  int32_t j, m = 0, total = 0, exponent, scale, headroom_plus_one;
  for (j = 0; j + 1 < n; j += 2) { /* Rescale<12> of each term; two sums for fewer loop steps */
    sum += ((uint32_t)lut[mx - s[j]] + 2048u) >> 12;
    sum2 += ((uint32_t)lut[mx - s[j + 1]] + 2048u) >> 12;
  }
  if (j < n) sum += ((uint32_t)lut[mx - s[j]] + 2048u) >> 12;
  sum += sum2; /* < 4096 * 2^19: no wrap */
  /* GetReciprocal(sum, 12); sum >= 2^19 because the maximum contributes exp(0) */
  headroom_plus_one = ma_clz32(sum);
  scale = ma_one_over_one_plus_x((int32_t)((sum << headroom_plus_one) - 0x80000000u));
  exponent = (12 - headroom_plus_one) + 31 - 8;
  *psum = 0;
  terms[0].row = v;
  terms[0].weight = 0;
  if (exponent > 31) return 0; /* TFLM aborts here; every probability rounds to 0 */
  rnd = 1u << (exponent - 1);
  /* w(e) = (srdhm(scale, e) + rnd) >> exponent is non-decreasing in e, and w(e) >= 1 exactly when
   * srdhm(scale, e) >= rnd, i.e. scale e + 2^30 >= rnd 2^31: e >= emin (scale > 0: the reciprocal
   * of a sum in [1, 2) is in (2^30, 2^31)). The row's many zero probabilities cost one compare. */
  if (scale > 0) {
    const uint64_t num = ((uint64_t)rnd << 31) - (1u << 30);
    const uint64_t q64 = (num + (uint32_t)scale - 1u) / (uint32_t)scale;
    emin = q64 > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)q64;
  } else {
    emin = 0xFFFFFFFFu; /* not reached: the reciprocal is positive */
  }
  for (j = 0; j < n; ++j) {
    const uint32_t e = (uint32_t)lut[mx - s[j]];
    if (e >= emin) {
      /* srdhm(scale, e) then RoundingDivideByPOT, both operands non-negative */
      const uint32_t x = (uint32_t)(((uint64_t)(uint32_t)scale * e + (1u << 30)) >> 31);
      uint32_t w = (x + rnd) >> exponent;
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

/* Keys query row i sees: lo..hi (empty when hi < lo). */
static void ma_key_range(const ma_attention_s8_dims *d, int32_t i, int32_t *lo, int32_t *hi) {
  *lo = 0;
  *hi = d->kv_len - 1;
  if (d->window_left >= 0 && i - d->window_left > *lo) *lo = i - d->window_left;
  if (d->window_right >= 0 && (int64_t)i + d->window_right < *hi) *hi = i + d->window_right;
}

/* ------------------------------------------------------------------------ */
int32_t ma_attention_s8(const ma_attention_s8_params *p, const ma_attention_s8_dims *d, const int8_t *q,
                        const int8_t *k, const int8_t *v, int8_t *out, void *scratch, int32_t scratch_size) {
  int16_t *qq, *qq2, *s, *s2;
  ma_att_term *terms;
  int32_t h, i;
#if MA_ATT_DSP
  ma_score_fast fast;
  int pairs;
#endif
  const int32_t need = ma_attention_s8_get_buffer_size(d);
  if (p == NULL || q == NULL || k == NULL || v == NULL || out == NULL || need < 0) return MA_ATTENTION_S8_ERR_ARG;
  if (scratch == NULL || scratch_size < need || ((uintptr_t)scratch & (MA_SCRATCH_ALIGN - 1u)) != 0)
    return MA_ATTENTION_S8_ERR_SCRATCH;
  if (p->sm_left_shift < 0 || p->sm_left_shift > 30 || p->qk_shift > 30 || p->qk_shift < -31 ||
      p->pv_shift > 30 || p->pv_shift < -31 || p->qk_multiplier < 0 || p->pv_multiplier < 0 ||
      p->sm_diff_min > 0)
    return MA_ATTENTION_S8_ERR_ARG;
  qq = (int16_t *)scratch;
  qq2 = (int16_t *)((uint8_t *)qq + ma_qrow_bytes(d->head_dim));
  s = (int16_t *)((uint8_t *)qq2 + ma_qrow_bytes(d->head_dim));
  s2 = (int16_t *)((uint8_t *)s + ma_score_bytes(d->kv_len));
#if MA_ATT_DSP
  pairs = ma_score_fast_init(p, &fast) && fast.r >= 1; /* the pair path's requantisation needs r >= 1 */
#else
  (void)qq2;
  (void)s2;
#endif
  {
    const uintptr_t a = (uintptr_t)((uint8_t *)s2 + ma_score_bytes(d->kv_len));
    const uintptr_t al = sizeof(void *) > 4 ? sizeof(void *) : 4;
    terms = (ma_att_term *)((a + al - 1u) & ~(al - 1u));
  }

  for (h = 0; h < d->heads; ++h) {
    const int8_t *qh = q + (size_t)h * (size_t)d->q_head_stride;
    const int8_t *kh = k + (size_t)h * (size_t)d->k_head_stride;
    const int8_t *vh = v + (size_t)h * (size_t)d->v_head_stride;
    int8_t *oh = out + (size_t)h * (size_t)d->out_head_stride;
    for (i = 0; i < d->q_len; ++i) {
      int32_t lo, hi, n, mx, m, psum;
      int8_t *orow = oh + (size_t)i * (size_t)d->out_row_stride;
      ma_key_range(d, i, &lo, &hi);
      n = hi - lo + 1;
#if MA_ATT_DSP
      if (pairs && n > 0 && i + 1 < d->q_len) { /* rows i and i+1 together when they see the same keys */
        int32_t lo2, hi2;
        ma_key_range(d, i + 1, &lo2, &hi2);
        if (lo2 == lo && hi2 == hi) {
          const int8_t *vrow = vh + (size_t)lo * (size_t)d->v_row_stride;
          int32_t mx2;
          ma_row2_scores(p, &fast, qh + (size_t)i * (size_t)d->q_row_stride,
                         qh + (size_t)(i + 1) * (size_t)d->q_row_stride, qq,
                         kh + (size_t)lo * (size_t)d->k_row_stride, d->k_row_stride, n, d->head_dim, s, s2, &mx,
                         &mx2);
          m = ma_row_softmax(p, s, n, mx, vrow, d->v_row_stride, terms, &psum);
          ma_row_pv(p, terms, m, psum, d->head_dim, orow);
          m = ma_row_softmax(p, s2, n, mx2, vrow, d->v_row_stride, terms, &psum);
          ma_row_pv(p, terms, m, psum, d->head_dim, orow + d->out_row_stride);
          ++i;
          continue;
        }
      }
#endif
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
