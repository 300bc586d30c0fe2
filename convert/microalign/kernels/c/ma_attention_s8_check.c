/* Checks ma_attention_s8 against the TFLM oracle's vectors, byte for byte.
 *
 * Build with the generated header on the include path:
 *   python -m microalign.kernels.attention_oracle --out DIR
 *   cc -std=c99 -IDIR -Itflm_app/kernels ma_attention_s8_check.c tflm_app/kernels/ma_attention_s8.c -lm
 * Runs on the host (with sanitizers) and as Cortex-M7 test firmware under
 * QEMU. For every case: ma_attention_s8_params_init from the flatbuffer
 * scales must give the integer parameters the Python reference computed,
 * and the kernel's output must equal TFLM's, for contiguous tensors and for
 * an interleaved [T][H][dk] layout with ma_attention_s8_get_buffer_size bytes
 * of scratch (the DSP path's P·V over key pairs), and for contiguous tensors
 * with ma_attention_s8_get_min_buffer_size bytes (P·V one key at a time). Prints one line per case; the exit
 * status is the number of failing cases (0 = all equal).
 */
#include <stdio.h>
#include <string.h>

#include "ma_attention_s8.h"
#include "ma_attention_s8_vectors.h"

#ifndef MA_CHECK_POOL_BYTES
#define MA_CHECK_POOL_BYTES (160u * 1024u)
#endif

static uint32_t pool_words[MA_CHECK_POOL_BYTES / 4u];
static ma_attention_s8_params params;

static int params_match(const struct ma_att_case *c, const ma_attention_s8_params *p) {
  int ok = p->qk_lhs_zp == c->qk_lhs_zp && p->qk_rhs_zp == c->qk_rhs_zp &&
           p->qk_multiplier == c->qk_multiplier && p->qk_shift == c->qk_shift &&
           p->qk_out_zp == c->qk_out_zp && p->sm_multiplier == c->sm_multiplier &&
           p->sm_left_shift == c->sm_left_shift && p->sm_diff_min == c->sm_diff_min &&
           p->pv_rhs_zp == c->pv_rhs_zp && p->pv_multiplier == c->pv_multiplier &&
           p->pv_shift == c->pv_shift && p->pv_out_zp == c->pv_out_zp &&
           p->has_q_map == (c->qmap != 0) && p->has_s_map == (c->smap != 0) &&
           memcmp(p->exp_lut, c->explut, sizeof(p->exp_lut)) == 0;
  if (ok && c->qmap) ok = memcmp(p->q_map, c->qmap, 256) == 0;
  if (ok && c->smap) ok = memcmp(p->s_map, c->smap, 256) == 0;
  return ok;
}

/* Runs one layout; returns the number of differing output bytes (-1: kernel error, -2: no room).
 * min_scratch: give the kernel its least scratch instead of get_buffer_size's. */
static long run_case(const struct ma_att_case *c, int interleaved, int min_scratch) {
  const size_t H = (size_t)c->heads, TQ = (size_t)c->q_len, TK = (size_t)c->kv_len, DK = (size_t)c->head_dim;
  const size_t qn = H * TQ * DK, kn = H * TK * DK;
  uint8_t *pool = (uint8_t *)pool_words;
  ma_attention_s8_dims d;
  size_t used, h, t, e, i;
  int32_t scratch_bytes;
  int8_t *q, *k, *v, *o;
  long diff = 0;
  ma_attention_s8_dims_contiguous(&d, c->heads, c->q_len, c->kv_len, c->head_dim);
  d.window_left = c->window_left;
  d.window_right = c->window_right;
  scratch_bytes = min_scratch ? ma_attention_s8_get_min_buffer_size(&d) : ma_attention_s8_get_buffer_size(&d);
  if (scratch_bytes < 0) return -1;
  used = ((size_t)scratch_bytes + 3u) & ~(size_t)3u;
  if (!interleaved) {
    if (used + qn > sizeof(pool_words)) return -2;
    o = (int8_t *)pool + used;
    if (ma_attention_s8(&params, &d, c->q, c->k, c->v, o, pool, scratch_bytes) != MA_ATTENTION_S8_OK) return -1;
    for (i = 0; i < qn; ++i) diff += o[i] != c->out[i];
    return diff;
  }
  /* [T][H][dk]: the heads of a time step side by side, as in the model's [T, d_model] tensors */
  if (used + 2 * qn + 2 * kn > sizeof(pool_words)) return -2;
  q = (int8_t *)pool + used;
  k = q + qn;
  v = k + kn;
  o = v + kn;
  for (h = 0; h < H; ++h) {
    for (t = 0; t < TQ; ++t) memcpy(q + (t * H + h) * DK, c->q + (h * TQ + t) * DK, DK);
    for (t = 0; t < TK; ++t) {
      memcpy(k + (t * H + h) * DK, c->k + (h * TK + t) * DK, DK);
      memcpy(v + (t * H + h) * DK, c->v + (h * TK + t) * DK, DK);
    }
  }
  d.q_head_stride = d.k_head_stride = d.v_head_stride = d.out_head_stride = c->head_dim;
  d.q_row_stride = d.k_row_stride = d.v_row_stride = d.out_row_stride = c->heads * c->head_dim;
  if (ma_attention_s8(&params, &d, q, k, v, o, pool, scratch_bytes) != MA_ATTENTION_S8_OK) return -1;
  for (h = 0; h < H; ++h)
    for (t = 0; t < TQ; ++t)
      for (e = 0; e < DK; ++e) diff += o[(t * H + h) * DK + e] != c->out[(h * TQ + t) * DK + e];
  return diff;
}

/* Argument checks: each bad call returns its error code and writes nothing. */
static int check_api_errors(void) {
  static const int8_t x[4 * 8] = {1, 2, 3};
  int8_t o[4 * 8];
  uint8_t *pool = (uint8_t *)pool_words;
  ma_attention_s8_quant qt;
  ma_attention_s8_params p;
  ma_attention_s8_dims d;
  int32_t n, nmin;
  int bad = 0;
  /* the library's codes are the project-wide ones (ma_status.h) */
  bad += MA_ATTENTION_S8_OK != MA_OK || MA_ATTENTION_S8_ERR_ARG != MA_ERR_ARGUMENT ||
         MA_ATTENTION_S8_ERR_SCRATCH != MA_ERR_SCRATCH || MA_ATTENTION_S8_ERR_QUANT != MA_ERR_QUANT;
  memset(&qt, 0, sizeof(qt));
  qt.q.scale = qt.k.scale = qt.v.scale = 0.02f;
  qt.scores.scale = 0.05f;
  qt.out.scale = 0.01f;
  qt.softmax_beta = 1.0f;
  bad += ma_attention_s8_params_init(&p, &qt) != MA_ATTENTION_S8_OK;
  bad += ma_attention_s8_params_init(NULL, &qt) != MA_ATTENTION_S8_ERR_ARG;
  qt.scores.scale = 64.0f; /* softmax left shift > 30 */
  bad += ma_attention_s8_params_init(&p, &qt) != MA_ATTENTION_S8_ERR_QUANT;
  qt.scores.scale = 1e-9f; /* beta * scale * 2^26 <= 1: TFLM rejects */
  bad += ma_attention_s8_params_init(&p, &qt) != MA_ATTENTION_S8_ERR_QUANT;
  qt.scores.scale = 0.05f;
  qt.v.zero_point = 200;
  bad += ma_attention_s8_params_init(&p, &qt) != MA_ATTENTION_S8_ERR_QUANT;
  qt.v.zero_point = 0;
  qt.q.scale = -1.0f;
  bad += ma_attention_s8_params_init(&p, &qt) != MA_ATTENTION_S8_ERR_QUANT;
  qt.q.scale = 0.02f;
  bad += ma_attention_s8_params_init(&p, &qt) != MA_ATTENTION_S8_OK;

  ma_attention_s8_dims_contiguous(&d, 1, 4, 4, 8);
  n = ma_attention_s8_get_buffer_size(&d);
  nmin = ma_attention_s8_get_min_buffer_size(&d);
  memset(o, 0x55, sizeof(o));
  bad += n <= 0 || nmin <= 0 || n - nmin != 4 * 2 * 8; /* + v as 2 key pairs of 8 int16x2 words */
  bad += ma_attention_s8_get_buffer_size(NULL) != MA_ATTENTION_S8_ERR_ARG;
  bad += ma_attention_s8_get_min_buffer_size(NULL) != MA_ATTENTION_S8_ERR_ARG;
  bad += ma_attention_s8(&p, &d, x, x, x, o, pool, nmin) != MA_ATTENTION_S8_OK;
  bad += ma_attention_s8(&p, &d, x, x, x, o, pool, nmin - 1) != MA_ATTENTION_S8_ERR_SCRATCH;
  bad += ma_attention_s8(&p, &d, x, x, x, o, pool, n) != MA_ATTENTION_S8_OK;
  bad += ma_attention_s8(NULL, &d, x, x, x, o, pool, n) != MA_ATTENTION_S8_ERR_ARG;
  bad += ma_attention_s8(&p, NULL, x, x, x, o, pool, n) != MA_ATTENTION_S8_ERR_ARG;
  bad += ma_attention_s8(&p, &d, NULL, x, x, o, pool, n) != MA_ATTENTION_S8_ERR_ARG;
  bad += ma_attention_s8(&p, &d, x, x, x, o, NULL, n) != MA_ATTENTION_S8_ERR_SCRATCH;
  bad += ma_attention_s8(&p, &d, x, x, x, o, pool + 2, n) != MA_ATTENTION_S8_ERR_SCRATCH;
  d.kv_len = MA_ATTENTION_S8_MAX_KV_LEN + 1;
  bad += ma_attention_s8_get_buffer_size(&d) != MA_ATTENTION_S8_ERR_ARG;
  bad += ma_attention_s8_get_min_buffer_size(&d) != MA_ATTENTION_S8_ERR_ARG;
  bad += ma_attention_s8(&p, &d, x, x, x, o, pool, n) != MA_ATTENTION_S8_ERR_ARG;
  d.kv_len = 4;
  d.head_dim = 0;
  bad += ma_attention_s8(&p, &d, x, x, x, o, pool, n) != MA_ATTENTION_S8_ERR_ARG;
  d.head_dim = 8;
  d.out_row_stride = 4; /* rows would overlap */
  bad += ma_attention_s8(&p, &d, x, x, x, o, pool, n) != MA_ATTENTION_S8_ERR_ARG;
  printf("api argument checks: %s\n", bad ? "FAIL" : "PASS");
  return bad != 0;
}

int main(void) {
  int failed = check_api_errors();
  for (int n = 0; n < MA_ATT_NUM_CASES; ++n) {
    const struct ma_att_case *c = &ma_att_cases[n];
    ma_attention_s8_quant qt;
    long d0, d1, d2;
    int pm;
    memset(&qt, 0, sizeof(qt));
    qt.q.scale = c->q_scale, qt.q.zero_point = c->q_zp;
    qt.k.scale = c->k_scale, qt.k.zero_point = c->k_zp;
    qt.v.scale = c->v_scale, qt.v.zero_point = c->v_zp;
    qt.scores.scale = c->s_scale, qt.scores.zero_point = c->s_zp;
    qt.out.scale = c->o_scale, qt.out.zero_point = c->o_zp;
    qt.has_q_mul = c->has_qmul;
    qt.q_mul.value = c->qmul_const;
    qt.q_mul.value_q.scale = c->qmul_const_scale, qt.q_mul.value_q.zero_point = c->qmul_const_zp;
    qt.q_mul.out.scale = c->qmul_out_scale, qt.q_mul.out.zero_point = c->qmul_out_zp;
    qt.has_score_mul = c->has_smul;
    qt.score_mul.value = c->smul_const;
    qt.score_mul.value_q.scale = c->smul_const_scale, qt.score_mul.value_q.zero_point = c->smul_const_zp;
    qt.score_mul.out.scale = c->smul_out_scale, qt.score_mul.out.zero_point = c->smul_out_zp;
    qt.softmax_beta = c->beta;
    pm = ma_attention_s8_params_init(&params, &qt) == MA_ATTENTION_S8_OK && params_match(c, &params);
    d0 = pm ? run_case(c, 0, 0) : -1;
    d1 = pm ? run_case(c, 1, 0) : -1;
    d2 = pm ? run_case(c, 0, 1) : -1;
    /* -2: the case does not fit the pool (only on small targets); not a failure of the kernel */
    if (!pm || d0 == -1 || d1 == -1 || d2 == -1 || d0 > 0 || d1 > 0 || d2 > 0) ++failed;
    printf("%-32s params %s  contiguous %ld  interleaved %ld  min-scratch %ld  %s\n", c->name,
           pm ? "ok" : "MISMATCH", d0, d1, d2,
           (pm && d0 == 0 && (d1 == 0 || d1 == -2) && d2 == 0) ? "PASS" : (d0 == -2 ? "SKIP" : "FAIL"));
  }
  printf("ma_attention_s8_check: %d failures (%d cases and the API checks)\n", failed, MA_ATT_NUM_CASES);
  return failed > 255 ? 255 : failed;
}
