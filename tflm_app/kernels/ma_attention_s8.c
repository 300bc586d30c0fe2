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
 * With get_buffer_size scratch the DSP path first copies each head's v as
 * int16 key pairs (word c of pair row i = v[2i][c], v[2i+1][c]); a term is
 * then a pair row with both weights packed in one word, and P·V is one SMLAD
 * per pair and channel.
 *
 * Scratch: the softmax's per-call tables (exp terms Rescale<12>(exp_lut),
 * uint32[256]; the row's weights by distance to the maximum, uint8[256]),
 * two q rows as int16 (2*round4(dk) bytes each), two rows of scores (int16,
 * kv_len), the list of non-zero terms (a pointer and an int32 each, kv_len +
 * 1), then (optional) the key-pair copy of one head's v (4*ceil(kv/2)*dk).
 */
#include "ma_attention_s8.h"
#include "ma_dsp.h"
#include "ma_fixedpoint.h"

#include <limits.h>
#include <string.h>

/* The DSP path: on a core with the DSP extension (unless MA_ATTENTION_S8_PORTABLE), or on the host with the
 * instructions emulated in C (MA_ATTENTION_S8_EMULATE_DSP: sanitizers and the fuzzer run its loops); ma_dsp.h. */
#if (MA_DSP_NATIVE && !defined(MA_ATTENTION_S8_PORTABLE)) || defined(MA_ATTENTION_S8_EMULATE_DSP)
#define MA_ATT_DSP 1
#else
#define MA_ATT_DSP 0
#endif
typedef uint32_t ma_s16x2; /* two int16 halves */
typedef uint32_t ma_s8x4;  /* four int8 bytes */
#define MA_SXTB16(x) ma_sxtb16(x)
#define MA_SXTB16_ROR8(x) ma_sxtb16_ror8(x)
#define MA_SXTAB16(a, x) ma_sxtab16((a), (x))
#define MA_SXTAB16_ROR8(a, x) ma_sxtab16_ror8((a), (x))
#define MA_SMLAD(a, b, acc) ma_smlad((a), (b), (acc))
#define MA_SMLABB(a, b, acc) ma_smlabb((uint32_t)(a), (uint32_t)(b), (acc))
#define MA_SMLATB(a, b, acc) ma_smlatb((uint32_t)(a), (uint32_t)(b), (acc))
#define MA_SMMULR(a, b) ma_smmulr((a), (b))
#define MA_SSAT8(x) ma_ssat8(x)

#define MA_SCRATCH_ALIGN 4u

/* The per-row stages stay separate functions (registers for each loop; a profile per stage). */
#if defined(__GNUC__)
#define MA_NOINLINE __attribute__((noinline))
#else
#define MA_NOINLINE
#endif

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

/* A non-zero probability of the row: the value row it weights and p + 128. With the key-pair
 * layout of v (ma_unpack_v_pairs), one term covers keys 2i and 2i+1: row is their pair row and
 * weight packs both weights as int16 lanes (key 2i low, key 2i+1 high; a zero lane for a key with
 * a zero probability or outside the row's keys). */
typedef struct {
  const int8_t *row;
  int32_t weight;
} ma_att_term;

static size_t ma_round4(size_t n) { return (n + 3u) & ~(size_t)3u; }

/* Scratch layout: [tables, MA_TABLE_BYTES] [2 q rows int16, round4(dk) each] [2 score rows int16,
 * round4(2 kv) bytes each] [terms, kv + 1] ([v as key pairs]). The DSP path computes the scores of
 * two query rows at once; the portable path uses the first row of each (same size on both, so a
 * caller sizes scratch once). */
static size_t ma_qrow_bytes(int32_t head_dim) { return 2u * ma_round4((size_t)head_dim); }
static size_t ma_score_bytes(int32_t kv_len) { return ma_round4(2u * (size_t)kv_len); }

/* v as key pairs: ceil(kv / 2) rows of head_dim words, word c = (v[2i][c], v[2i+1][c]) as int16. */
static size_t ma_vpair_bytes(const ma_attention_s8_dims *d) {
  return 4u * (((size_t)d->kv_len + 1u) / 2u) * (size_t)d->head_dim;
}

/* The softmax's per-call tables (ma_att_tables): 256 uint32 and 256 uint8. */
#define MA_TABLE_BYTES (256u * 4u + 256u)

/* At most ~5 KB + 20 * 4096 bytes (dims are bounded by the MAX_ constants): fits int32_t. */
int32_t ma_attention_s8_get_min_buffer_size(const ma_attention_s8_dims *d) {
  size_t terms_align = sizeof(void *) > 4 ? sizeof(void *) : 4;
  if (!ma_valid_dims(d)) return MA_ATTENTION_S8_ERR_ARG;
  return (int32_t)(MA_TABLE_BYTES + 2u * ma_qrow_bytes(d->head_dim) + 2u * ma_score_bytes(d->kv_len) +
                   (terms_align - 4u) + sizeof(ma_att_term) * ((size_t)d->kv_len + 1u));
}

/* + the key-pair copy of one head's v: at most 4 * 2048 * 1024 bytes more, still fits int32_t. */
int32_t ma_attention_s8_get_buffer_size(const ma_attention_s8_dims *d) {
  const int32_t n = ma_attention_s8_get_min_buffer_size(d);
  if (n < 0) return n;
  return (int32_t)((size_t)n + ma_vpair_bytes(d));
}

/* ------------------------------------------------------------------------
 * One query row */
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

/* Constants of a fast requantisation (DSP path; see ma_fast_init). */
typedef struct ma_score_fast_s ma_score_fast;

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
struct ma_score_fast_s {
  int32_t mult;   /* qk_multiplier */
  int32_t c;      /* 2^(r-1) + zp 2^r (r >= 1) or zp (r = 0) */
  int32_t negfix; /* -1 (r >= 1) or 0: added where t < 0 */
  int32_t r;
};

/* 1 and the constants of the fast form of MBQM(acc, mult, shift) + zp, clamped, if it applies, else 0. */
static int ma_fast_init(int32_t mult, int32_t shift, int32_t zp, ma_score_fast *f) {
  int64_t c;
  if (shift > 0) return 0;
  f->r = -shift;
  f->mult = mult;
  c = f->r > 0 ? ((int64_t)1 << (f->r - 1)) + (int64_t)zp * ((int64_t)1 << f->r) : zp;
  if (c >= (1ll << 30) || c <= -(1ll << 30)) return 0;
  f->c = (int32_t)c;
  f->negfix = f->r > 0 ? -1 : 0;
  return 1;
}

/* The scores' requantisation (|acc| < 2^27: dk <= 1024 channels of products <= 255 * 255). */
static int ma_score_fast_init(const ma_attention_s8_params *p, ma_score_fast *f) {
  return ma_fast_init(p->qk_multiplier, p->qk_shift, p->qk_out_zp, f);
}

/* The output's requantisation: the same form, because |acc| = |sum_j w_j (v_jc - zv)| <=
 * 255 * 255 * MA_ATTENTION_S8_MAX_KV_LEN < 2^28, so 2 acc fits in int32 too. */
static int ma_out_fast_init(const ma_attention_s8_params *p, ma_score_fast *f) {
  return ma_fast_init(p->pv_multiplier, p->pv_shift, p->pv_out_zp, f);
}

/* MBQM(acc, mult, -r) + zp clamped to int8, from 2 acc (ma_fast_init's constants). */
MA_ALWAYS_INLINE int32_t ma_fast_requant(const ma_score_fast *f, int32_t acc2) {
  const int32_t t = MA_SMMULR(acc2, f->mult);
  return MA_SSAT8((t + f->c + ((t >> 31) & f->negfix)) >> f->r);
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
MA_NOINLINE static void ma_prep_q2(const ma_attention_s8_params *p, const int8_t *qa, const int8_t *qb, int32_t dk,
                                   int16_t *qq, int32_t *suma, int32_t *sumb) {
  const int32_t dk4 = dk & ~3, zq2 = 2 * p->qk_lhs_zp;
  const int8_t *map = p->has_q_map ? p->q_map + 128 : NULL; /* q' = map[q] */
  int32_t c = 0, sa = 0, sb = 0;
#if MA_ATT_DSP
  if (map == NULL) { /* per group: SXTB16 pairs, doubled by SXTAB16, less (zq2, zq2) by SSUB16, summed by SMLAD */
    const uint32_t zz = ((uint32_t)zq2 & 0xFFFFu) * 0x00010001u;
    for (; c < dk4; c += 4) {
      uint32_t g[4];
      const uint32_t wa = ma_rd32(qa + c), wb = ma_rd32(qb + c);
      const uint32_t ea = ma_ssub16(ma_sxtab16(ma_sxtb16(wa), wa), zz);
      const uint32_t eb = ma_ssub16(ma_sxtab16(ma_sxtb16(wb), wb), zz);
      const uint32_t oa = ma_ssub16(ma_sxtab16_ror8(ma_sxtb16_ror8(wa), wa), zz);
      const uint32_t ob = ma_ssub16(ma_sxtab16_ror8(ma_sxtb16_ror8(wb), wb), zz);
      g[0] = ea;
      g[1] = eb;
      g[2] = oa;
      g[3] = ob;
      memcpy(qq + 2 * c, g, sizeof g); /* one STM / two STRD */
      sa = ma_smlad(oa, 0x00010001u, ma_smlad(ea, 0x00010001u, sa));
      sb = ma_smlad(ob, 0x00010001u, ma_smlad(eb, 0x00010001u, sb));
    }
  }
#endif
  for (; c < dk4; c += 4) { /* group of 4: a0 a2 b0 b2 a1 a3 b1 b3 */
    int16_t *g = qq + 2 * c;
    int32_t a0 = qa[c], a1 = qa[c + 1], a2 = qa[c + 2], a3 = qa[c + 3];
    int32_t b0 = qb[c], b1 = qb[c + 1], b2 = qb[c + 2], b3 = qb[c + 3];
    if (map != NULL) {
      a0 = map[a0], a1 = map[a1], a2 = map[a2], a3 = map[a3];
      b0 = map[b0], b1 = map[b1], b2 = map[b2], b3 = map[b3];
    }
    a0 = 2 * a0 - zq2, a1 = 2 * a1 - zq2, a2 = 2 * a2 - zq2, a3 = 2 * a3 - zq2;
    b0 = 2 * b0 - zq2, b1 = 2 * b1 - zq2, b2 = 2 * b2 - zq2, b3 = 2 * b3 - zq2;
    g[0] = (int16_t)a0, g[1] = (int16_t)a2, g[2] = (int16_t)b0, g[3] = (int16_t)b2;
    g[4] = (int16_t)a1, g[5] = (int16_t)a3, g[6] = (int16_t)b1, g[7] = (int16_t)b3;
    sa += a0 + a1 + a2 + a3;
    sb += b0 + b1 + b2 + b3;
  }
  for (; c < dk; ++c) { /* the last dk % 4 channels: a at qq[2 dk4 ..], b at qq[2 dk4 + 4 ..] */
    const int32_t xa = 2 * (map != NULL ? map[qa[c]] : qa[c]) - zq2;
    const int32_t xb = 2 * (map != NULL ? map[qb[c]] : qb[c]) - zq2;
    qq[2 * dk4 + (c - dk4)] = (int16_t)xa;
    qq[2 * dk4 + 4 + (c - dk4)] = (int16_t)xb;
    sa += xa;
    sb += xb;
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

/* One score of a row: requantised and stored. */
MA_ALWAYS_INLINE void ma_put_score(const ma_score_fast *f, int smap, const int8_t *s_map, int32_t acc2,
                                   int16_t *dst) {
  *dst = (int16_t)ma_score_r(f, smap, s_map, acc2);
}

/* Maximum of s[0..n-1] (n >= 1), two scores per step (SSUB16 + SEL) on the M7: cheaper than a
 * running maximum in the score loop, whose registers are all taken. */
static int32_t ma_max_s16(const int16_t *s, int32_t n) {
  int32_t j = 0, mx = -32768;
#if !defined(MA_ATTENTION_S8_EMULATE_DSP) && defined(__GNUC__)
  uint32_t m = 0x80008000u, m2 = 0x80008000u, t;
  if (n >= 4) { /* s is word aligned (scratch layout): LDRD */
    const int16_t *ps = s, *end = s + (n & ~3);
    uint32_t x, y;
    __asm__("1:\n\t"
            "ldrd %[x], %[y], [%[ps]], #8\n\t"
            "ssub16 %[t], %[x], %[m]\n\t"
            "sel %[m], %[x], %[m]\n\t"
            "ssub16 %[t], %[y], %[m2]\n\t"
            "sel %[m2], %[y], %[m2]\n\t"
            "cmp %[ps], %[end]\n\t"
            "bne 1b"
            : [t] "=&r"(t), [m] "+r"(m), [m2] "+r"(m2), [ps] "+r"(ps), [x] "=&r"(x), [y] "=&r"(y)
            : [end] "r"(end)
            : "cc", "memory");
    j = n & ~3;
  }
  for (; j + 2 <= n; j += 2) {
    const uint32_t x = ma_rd32(s + j);
    __asm__("ssub16 %[t], %[x], %[m]\n\tsel %[m], %[x], %[m]" : [t] "=&r"(t), [m] "+r"(m) : [x] "r"(x) : "cc");
  }
  __asm__("ssub16 %[t], %[x], %[m]\n\tsel %[m], %[x], %[m]" : [t] "=&r"(t), [m] "+r"(m) : [x] "r"(m2) : "cc");
  (void)t;
  mx = (int32_t)(int16_t)(m & 0xFFFFu);
  if ((int32_t)(int16_t)(m >> 16) > mx) mx = (int32_t)(int16_t)(m >> 16);
#endif
  for (; j < n; ++j) mx = s[j] > mx ? s[j] : mx;
  return mx;
}

/* Scores of two query rows (qq: ma_prep_q2, with sums za, zb of their doubled values) against keys
 * 0..n-1 into sa[], sb[]; row maxima into *mxa, *mxb. The key zero point is folded into the
 * accumulators' start: sum_c qq_c (k_c - zk) = sum_c qq_c k_c - zk sum_c qq_c. */
MA_ALWAYS_INLINE void ma_row2_scores_dsp(const ma_attention_s8_params *p, const ma_score_fast *f, int smap,
                                         const int16_t *qq, int32_t za, int32_t zb, const int8_t *k,
                                         int32_t k_rs, int32_t n, int32_t dk, int16_t *sa, int16_t *sb,
                                         int32_t *mxa, int32_t *mxb) {
  int16_t *const sa0 = sa, *const sb0 = sb;
  int32_t j, c;
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
    ma_put_score(f, smap, s_map, aa, &sa[0]);
    ma_put_score(f, smap, s_map, ab, &sa[1]);
    ma_put_score(f, smap, s_map, ba, &sb[0]);
    ma_put_score(f, smap, s_map, bb, &sb[1]);
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
    ma_put_score(f, smap, s_map, aa, &sa[0]);
    ma_put_score(f, smap, s_map, ba, &sb[0]);
  }
  *mxa = ma_max_s16(sa0, n);
  *mxb = ma_max_s16(sb0, n);
}

/* Rows i and i+1 of a pair: q rows qa, qb (int8, as stored) into the scratch row pair qq. Not
 * inlined into ma_attention_s8: the score loop then has the registers to itself. */
MA_NOINLINE static void ma_row2_scores(const ma_attention_s8_params *p, const ma_score_fast *f, const int8_t *qa,
                           const int8_t *qb, int16_t *qq, const int8_t *k, int32_t k_rs, int32_t n, int32_t dk,
                           int16_t *sa, int16_t *sb, int32_t *mxa, int32_t *mxb) {
  int32_t za, zb;
  ma_prep_q2(p, qa, qb, dk, qq, &za, &zb);
  /* the usual head sizes with a constant dk: the dot products unroll completely (no loop, no
   * duff entry), about a quarter fewer instructions per multiply-accumulate than the general loop */
  if (dk == 32 && !p->has_s_map) {
    ma_row2_scores_dsp(p, f, 0, qq, za, zb, k, k_rs, n, 32, sa, sb, mxa, mxb);
  } else if (dk == 48 && !p->has_s_map) {
    ma_row2_scores_dsp(p, f, 0, qq, za, zb, k, k_rs, n, 48, sa, sb, mxa, mxb);
  } else if (dk == 64 && !p->has_s_map) {
    ma_row2_scores_dsp(p, f, 0, qq, za, zb, k, k_rs, n, 64, sa, sb, mxa, mxb);
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

/* Per-call tables of the softmax (in scratch): lut12[d] = Rescale<12>(exp_lut[d]), the term each
 * key adds to the row's sum; wtab: the row's weights by a key's score s (ma_row_softmax), at wtab[s + 128], so that
 * the key loop indexes it by the score itself; mono: exp_lut is non-increasing in d (it is for every quantisation
 * we know of; checked, not assumed). */
typedef struct {
  uint32_t *lut12; /* [256] */
  uint8_t *wtab;   /* [256]: 0 outside [wtab_lo, wtab_hi) */
  int32_t wtab_lo, wtab_hi;
  int mono;
} ma_att_tables;

static void ma_tables_init(const ma_attention_s8_params *p, ma_att_tables *t) {
  int d;
  t->mono = 1;
  t->wtab_lo = t->wtab_hi = 0;
  memset(t->wtab, 0, 256);
  for (d = 0; d < 256; ++d) {
    t->lut12[d] = ((uint32_t)p->exp_lut[d] + 2048u) >> 12;
    if (d > 0 && p->exp_lut[d] > p->exp_lut[d - 1]) t->mono = 0;
  }
}

/* TFLM int8 softmax of s[0..n-1] (row maximum mx). The non-zero
 * probabilities become terms (value row, p + 128); returns their count and
 * their weight sum in *psum. A key's weight depends only on d = mx - s, so the row's weights are
 * tabulated by d first: with a non-increasing exp_lut they are non-increasing in d (w(e) is
 * non-decreasing in e), so the table stops at the first zero, typically after a few dozen entries
 * (the shipped model: 26 on average, for 97 non-zero probabilities of 200). */
MA_NOINLINE static int32_t ma_row_softmax(const ma_attention_s8_params *p, ma_att_tables *tb,
                                          const int16_t *s, int32_t n, int32_t mx, const int8_t *v, int32_t v_rs,
                                          const int8_t *vpairs, int32_t lo, int32_t dk, ma_att_term *terms,
                                          int32_t *psum) {
  const int32_t *lut = p->exp_lut; /* indexed by mx - s, in 0..255 */
  const uint32_t *lut12 = tb->lut12;
  uint8_t *wtab = tb->wtab;
  const uint8_t *const wr = wtab + 128; /* a key's weight: wr[s] (s in -128 .. mx) */
  uint32_t sum = 0, sum2 = 0, rnd, nd;
  int32_t j, m = 0, total = 0, exponent, scale, headroom_plus_one;
  for (j = 0; j + 1 < n; j += 2) { /* Rescale<12> of each term; two sums for fewer loop steps */
    sum += lut12[mx - s[j]];
    sum2 += lut12[mx - s[j + 1]];
  }
  if (j < n) sum += lut12[mx - s[j]];
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
  /* w(d) = min(255, (srdhm(scale, e) + rnd) >> exponent), e = exp_lut[d]: srdhm then
   * RoundingDivideByPOT, both operands non-negative (the reciprocal of a sum in [1, 2) is in
   * (2^30, 2^31)) */
  if (tb->wtab_hi > tb->wtab_lo) memset(wtab + tb->wtab_lo, 0, (size_t)(tb->wtab_hi - tb->wtab_lo)); /* last row's */
  for (nd = 0; nd <= (uint32_t)(mx + 128); ++nd) { /* d = mx - s for the scores s >= -128 */
    const uint32_t e = (uint32_t)lut[nd];
    const uint32_t x = (uint32_t)(((uint64_t)(uint32_t)scale * e + (1u << 30)) >> 31);
    uint32_t w = (x + rnd) >> exponent;
    if (w == 0u && tb->mono) break; /* and so are all further d */
    wtab[mx + 128 - (int32_t)nd] = (uint8_t)(w > 255u ? 255u : w);
  }
  tb->wtab_lo = mx + 129 - (int32_t)nd;
  tb->wtab_hi = mx + 129;
  /* from here a key's weight is wr[s], 0 for a zero probability */
  if (vpairs != NULL) { /* key pairs: key g = lo + j is lane g & 1 of pair row g / 2 */
    const size_t pair_bytes = 4u * (size_t)dk;
    const int8_t *row = vpairs + (size_t)(lo >> 1) * pair_bytes;
    uint32_t w0, w1;
    j = 0;
    if (lo & 1) { /* key lo is the high lane of its pair */
      w1 = wr[s[0]];
      if (w1 != 0u) {
        terms[m].row = row;
        terms[m].weight = (int32_t)(w1 << 16);
        ++m;
        total += (int32_t)w1;
      }
      row += pair_bytes;
      j = 1;
    }
    if (j + 1 < n) { /* keys lo + j (low lane) and lo + j + 1; pointers, so that the loop stays in registers */
      const int16_t *sp = s + j, *const send = s + j + ((n - j) & ~1);
      ma_att_term *tp = terms + m;
      for (; sp != send; sp += 2, row += pair_bytes) {
        w0 = wr[sp[0]];
        w1 = wr[sp[1]];
        if ((w0 | w1) != 0u) {
          tp->row = row;
          tp->weight = (int32_t)(w0 | (w1 << 16));
          ++tp;
          total += (int32_t)(w0 + w1);
        }
      }
      m = (int32_t)(tp - terms);
      j = (int32_t)(send - s);
    }
    if (j < n) { /* the last key, a low lane */
      w0 = wr[s[j]];
      if (w0 != 0u) {
        terms[m].row = row;
        terms[m].weight = (int32_t)w0;
        ++m;
        total += (int32_t)w0;
      }
    }
  } else {
    for (j = 0; j < n; ++j) {
      const uint32_t w = wr[s[j]];
      if (w != 0u) {
        terms[m].row = v + (size_t)j * (size_t)v_rs;
        terms[m].weight = (int32_t)w;
        ++m;
        total += (int32_t)w;
      }
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

#if MA_ATT_DSP
/* a0..a7 += sum over the terms of weight * row[c .. c + 7] (SXTB16 + SMLABB/SMLATB). The list ends with a zero
 * weight: no end pointer, so all of this fits in registers. */
#define MA_PV8_TERMS(terms, c, a0, a1, a2, a3, a4, a5, a6, a7)          \
  do {                                                                \
    const ma_att_term *t_;                                            \
    int32_t wt_;                                                      \
    for (t_ = (terms); (wt_ = t_->weight) != 0; ++t_) {               \
      const int8_t *r_ = t_->row + (c);                               \
      const ma_s8x4 w0_ = (ma_s8x4)ma_rd32(r_), w1_ = (ma_s8x4)ma_rd32(r_ + 4); \
      ma_s16x2 e_ = MA_SXTB16(w0_), od_ = MA_SXTB16_ROR8(w0_);        \
      a0 = MA_SMLABB(e_, wt_, a0);                                    \
      a2 = MA_SMLATB(e_, wt_, a2);                                    \
      a1 = MA_SMLABB(od_, wt_, a1);                                   \
      a3 = MA_SMLATB(od_, wt_, a3);                                   \
      e_ = MA_SXTB16(w1_);                                            \
      od_ = MA_SXTB16_ROR8(w1_);                                      \
      a4 = MA_SMLABB(e_, wt_, a4);                                    \
      a6 = MA_SMLATB(e_, wt_, a6);                                    \
      a5 = MA_SMLABB(od_, wt_, a5);                                   \
      a7 = MA_SMLATB(od_, wt_, a7);                                   \
    }                                                                 \
  } while (0)
#endif

/* o_c = requant(sum_t weight_t * row_t[c] - zv * psum); of: the fast output requantisation
 * (ma_out_fast_init) or NULL. */
MA_NOINLINE static void ma_row_pv(const ma_attention_s8_params *p, const ma_score_fast *of, const ma_att_term *terms,
                      int32_t m, int32_t psum, int32_t dk, int8_t *o) {
  const int32_t corr = -p->pv_rhs_zp * psum;
  const ma_att_term *end = terms + m;
  int32_t c = 0;
#if MA_ATT_DSP
  for (; of != NULL && c + 8 <= dk; c += 8) { /* as below, with the fast requantisation */
    int32_t a0 = corr, a1 = corr, a2 = corr, a3 = corr, a4 = corr, a5 = corr, a6 = corr, a7 = corr;
    MA_PV8_TERMS(terms, c, a0, a1, a2, a3, a4, a5, a6, a7);
    o[c + 0] = (int8_t)ma_fast_requant(of, 2 * a0);
    o[c + 1] = (int8_t)ma_fast_requant(of, 2 * a1);
    o[c + 2] = (int8_t)ma_fast_requant(of, 2 * a2);
    o[c + 3] = (int8_t)ma_fast_requant(of, 2 * a3);
    o[c + 4] = (int8_t)ma_fast_requant(of, 2 * a4);
    o[c + 5] = (int8_t)ma_fast_requant(of, 2 * a5);
    o[c + 6] = (int8_t)ma_fast_requant(of, 2 * a6);
    o[c + 7] = (int8_t)ma_fast_requant(of, 2 * a7);
  }
  for (; c + 8 <= dk; c += 8) {
    int32_t a0 = corr, a1 = corr, a2 = corr, a3 = corr, a4 = corr, a5 = corr, a6 = corr, a7 = corr;
    MA_PV8_TERMS(terms, c, a0, a1, a2, a3, a4, a5, a6, a7);
    o[c + 0] = ma_out(p, a0);
    o[c + 1] = ma_out(p, a1);
    o[c + 2] = ma_out(p, a2);
    o[c + 3] = ma_out(p, a3);
    o[c + 4] = ma_out(p, a4);
    o[c + 5] = ma_out(p, a5);
    o[c + 6] = ma_out(p, a6);
    o[c + 7] = ma_out(p, a7);
  }
  for (; c < dk; ++c) {
    int32_t acc = corr;
    const ma_att_term *t;
    for (t = terms; t != end; ++t) acc += t->weight * t->row[c];
    o[c] = of != NULL ? (int8_t)ma_fast_requant(of, 2 * acc) : ma_out(p, acc);
  }
#else
  (void)of;
  for (; c < dk; ++c) {
    int32_t acc = corr;
    const ma_att_term *t;
    for (t = terms; t != end; ++t) acc += t->weight * t->row[c];
    o[c] = ma_out(p, acc);
  }
#endif
}

#if MA_ATT_DSP
/* One head's v in the key-pair layout: word c of pair row i = (v[2i][c], v[2i+1][c]) as int16
 * lanes (0 in the high lane past the last key). */
MA_NOINLINE static void ma_unpack_v_pairs(const int8_t *v, int32_t v_rs, int32_t kv, int32_t dk, uint32_t *vp) {
  int32_t j, c;
  for (j = 0; j + 1 < kv; j += 2) {
    const int8_t *a = v + (size_t)j * (size_t)v_rs, *b = a + v_rs;
    for (c = 0; c < dk; ++c) *vp++ = ((uint32_t)a[c] & 0xFFFFu) | ((uint32_t)b[c] << 16);
  }
  if (j < kv) {
    const int8_t *a = v + (size_t)j * (size_t)v_rs;
    for (c = 0; c < dk; ++c) *vp++ = (uint32_t)a[c] & 0xFFFFu;
  }
}

MA_ALWAYS_INLINE int8_t ma_out2(const ma_attention_s8_params *p, const ma_score_fast *of, int32_t acc) {
  return of != NULL ? (int8_t)ma_fast_requant(of, 2 * acc) : ma_out(p, acc);
}

/* P·V over key-pair terms (ma_row_softmax with vpairs): one SMLAD per pair of keys and channel,
 * 8 channels per pass over the terms (8 accumulators; the rows are word aligned). */
MA_NOINLINE static void ma_row_pv_pairs(const ma_attention_s8_params *p, const ma_score_fast *of_arg,
                                        const ma_att_term *terms, int32_t psum, int32_t dk, int8_t *o) {
  const int32_t corr = -p->pv_rhs_zp * psum;
  ma_score_fast lf; /* a local copy: the int8 stores to o cannot alias it, so it stays in registers */
  const ma_score_fast *of = NULL;
  int32_t c = 0;
  if (of_arg != NULL) {
    lf = *of_arg;
    of = &lf;
  }
  for (; c + 8 <= dk; c += 8) {
    int32_t a0 = corr, a1 = corr, a2 = corr, a3 = corr, a4 = corr, a5 = corr, a6 = corr, a7 = corr;
    const ma_att_term *t;
    int32_t wt;
#if defined(MA_ATTENTION_S8_EMULATE_DSP) || !defined(__GNUC__)
    for (t = terms; (wt = t->weight) != 0; ++t) { /* the list ends with a zero weight */
      const uint32_t *r = (const uint32_t *)(const void *)t->row + c;
      const ma_s16x2 w = (ma_s16x2)wt;
      a0 = MA_SMLAD((ma_s16x2)r[0], w, a0);
      a1 = MA_SMLAD((ma_s16x2)r[1], w, a1);
      a2 = MA_SMLAD((ma_s16x2)r[2], w, a2);
      a3 = MA_SMLAD((ma_s16x2)r[3], w, a3);
      a4 = MA_SMLAD((ma_s16x2)r[4], w, a4);
      a5 = MA_SMLAD((ma_s16x2)r[5], w, a5);
      a6 = MA_SMLAD((ma_s16x2)r[6], w, a6);
      a7 = MA_SMLAD((ma_s16x2)r[7], w, a7);
    }
#else
    /* the same loop in 16 instructions per term: LDM of the term (row, weights), four LDRD of
     * the row's 8 words, eight SMLAD, the end test at the bottom; written as one asm block so that
     * the 14 live registers stay in registers */
    {
      const ma_att_term *tp = terms;
      const uint32_t coff = 4u * (uint32_t)c;
      uint32_t row_, x0_, x1_;
      (void)t;
      __asm__ volatile(
          "ldmia %[tp]!, {%[row], %[wt]}\n\t"
          "cmp %[wt], #0\n\t"
          "beq 2f\n"
          "1:\n\t"
          "add %[row], %[row], %[coff]\n\t"
          "ldrd %[x0], %[x1], [%[row]]\n\t"
          "smlad %[a0], %[x0], %[wt], %[a0]\n\t"
          "smlad %[a1], %[x1], %[wt], %[a1]\n\t"
          "ldrd %[x0], %[x1], [%[row], #8]\n\t"
          "smlad %[a2], %[x0], %[wt], %[a2]\n\t"
          "smlad %[a3], %[x1], %[wt], %[a3]\n\t"
          "ldrd %[x0], %[x1], [%[row], #16]\n\t"
          "smlad %[a4], %[x0], %[wt], %[a4]\n\t"
          "smlad %[a5], %[x1], %[wt], %[a5]\n\t"
          "ldrd %[x0], %[x1], [%[row], #24]\n\t"
          "smlad %[a6], %[x0], %[wt], %[a6]\n\t"
          "smlad %[a7], %[x1], %[wt], %[a7]\n\t"
          "ldmia %[tp]!, {%[row], %[wt]}\n\t"
          "cmp %[wt], #0\n\t"
          "bne 1b\n"
          "2:"
          : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4), [a5] "+r"(a5),
            [a6] "+r"(a6), [a7] "+r"(a7), [tp] "+r"(tp), [row] "=&r"(row_), [wt] "=&r"(wt),
            [x0] "=&r"(x0_), [x1] "=&r"(x1_)
          : [coff] "r"(coff)
          : "cc", "memory");
    }
#endif
    o[c + 0] = ma_out2(p, of, a0);
    o[c + 1] = ma_out2(p, of, a1);
    o[c + 2] = ma_out2(p, of, a2);
    o[c + 3] = ma_out2(p, of, a3);
    o[c + 4] = ma_out2(p, of, a4);
    o[c + 5] = ma_out2(p, of, a5);
    o[c + 6] = ma_out2(p, of, a6);
    o[c + 7] = ma_out2(p, of, a7);
  }
  for (; c < dk; ++c) {
    int32_t acc = corr, wt;
    const ma_att_term *t;
    for (t = terms; (wt = t->weight) != 0; ++t)
      acc = MA_SMLAD((ma_s16x2)((const uint32_t *)(const void *)t->row)[c], (ma_s16x2)wt, acc);
    o[c] = ma_out2(p, of, acc);
  }
}
#endif

/* Softmax and P·V of one row (scores s[0..n-1] of keys lo..lo+n-1, maximum mx) into o; vp: the
 * head's key-pair copy of v or NULL. */
static void ma_row_out(const ma_attention_s8_params *p, const ma_score_fast *of, ma_att_tables *tb,
                       const int16_t *s, int32_t n,
                       int32_t mx, const int8_t *vrow, int32_t v_rs, const int8_t *vp, int32_t lo, int32_t dk,
                       ma_att_term *terms, int8_t *o) {
  int32_t psum;
  const int32_t m = ma_row_softmax(p, tb, s, n, mx, vrow, v_rs, vp, lo, dk, terms, &psum);
#if MA_ATT_DSP
  if (vp != NULL) {
    ma_row_pv_pairs(p, of, terms, psum, dk, o);
    return;
  }
#endif
  ma_row_pv(p, of, terms, m, psum, dk, o);
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
  ma_att_tables tables;
  int32_t h, i;
  const ma_score_fast *outq = NULL;
#if MA_ATT_DSP
  ma_score_fast fast, out_fast;
  int pairs;
#endif
  uint32_t *vpairs = NULL; /* the key-pair copy of v (DSP path, when the scratch holds it) */
  const int32_t need = ma_attention_s8_get_min_buffer_size(d);
  if (p == NULL || q == NULL || k == NULL || v == NULL || out == NULL || need < 0) return MA_ATTENTION_S8_ERR_ARG;
  if (scratch == NULL || scratch_size < need || ((uintptr_t)scratch & (MA_SCRATCH_ALIGN - 1u)) != 0)
    return MA_ATTENTION_S8_ERR_SCRATCH;
  if (p->sm_left_shift < 0 || p->sm_left_shift > 30 || p->qk_shift > 30 || p->qk_shift < -31 ||
      p->pv_shift > 30 || p->pv_shift < -31 || p->qk_multiplier < 0 || p->pv_multiplier < 0 ||
      p->sm_diff_min > 0)
    return MA_ATTENTION_S8_ERR_ARG;
  tables.lut12 = (uint32_t *)scratch;
  tables.wtab = (uint8_t *)scratch + 256u * 4u;
  ma_tables_init(p, &tables);
  qq = (int16_t *)(void *)((uint8_t *)scratch + MA_TABLE_BYTES);
  qq2 = (int16_t *)((uint8_t *)qq + ma_qrow_bytes(d->head_dim));
  s = (int16_t *)((uint8_t *)qq2 + ma_qrow_bytes(d->head_dim));
  s2 = (int16_t *)((uint8_t *)s + ma_score_bytes(d->kv_len));
#if MA_ATT_DSP
  pairs = ma_score_fast_init(p, &fast) && fast.r >= 1; /* the pair path's requantisation needs r >= 1 */
  outq = ma_out_fast_init(p, &out_fast) ? &out_fast : NULL;
#else
  (void)qq2;
  (void)s2;
  (void)vpairs;
#endif
  {
    const uintptr_t a = (uintptr_t)((uint8_t *)s2 + ma_score_bytes(d->kv_len));
    const uintptr_t al = sizeof(void *) > 4 ? sizeof(void *) : 4;
    terms = (ma_att_term *)((a + al - 1u) & ~(al - 1u));
  }
#if MA_ATT_DSP
  if (scratch_size >= ma_attention_s8_get_buffer_size(d)) /* then need + ma_vpair_bytes fit */
    vpairs = (uint32_t *)(void *)((uint8_t *)scratch + need);
#endif

  for (h = 0; h < d->heads; ++h) {
    const int8_t *qh = q + (size_t)h * (size_t)d->q_head_stride;
    const int8_t *kh = k + (size_t)h * (size_t)d->k_head_stride;
    const int8_t *vh = v + (size_t)h * (size_t)d->v_head_stride;
    int8_t *oh = out + (size_t)h * (size_t)d->out_head_stride;
    const int8_t *vp = NULL;
#if MA_ATT_DSP
    if (vpairs != NULL) {
      ma_unpack_v_pairs(vh, d->v_row_stride, d->kv_len, d->head_dim, vpairs);
      vp = (const int8_t *)vpairs;
    }
#endif
    for (i = 0; i < d->q_len; ++i) {
      int32_t lo, hi, n, mx;
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
          ma_row_out(p, outq, &tables, s, n, mx, vrow, d->v_row_stride, vp, lo, d->head_dim, terms, orow);
          ma_row_out(p, outq, &tables, s2, n, mx2, vrow, d->v_row_stride, vp, lo, d->head_dim, terms,
                     orow + d->out_row_stride);
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
      ma_row_out(p, outq, &tables, s, n, mx, vh + (size_t)lo * (size_t)d->v_row_stride, d->v_row_stride, vp, lo,
                 d->head_dim, terms, orow);
    }
  }
  return MA_ATTENTION_S8_OK;
}
