/* Checks ma_attention_s8 against the TFLM oracle's vectors, byte for byte.
 *
 * Build with the generated header on the include path:
 *   python -m microalign.kernels.attention_oracle --out DIR
 *   cc -std=c99 -IDIR -Itflm_app/kernels ma_attention_s8_check.c tflm_app/kernels/ma_attention_s8.c -lm
 * Runs on the host (with sanitizers) and as Cortex-M7 test firmware under
 * QEMU. For every case: ma_attention_s8_params_init from the flatbuffer
 * scales must give the integer parameters the Python reference computed,
 * and the kernel's output must equal TFLM's, for contiguous tensors and for
 * an interleaved [T][H][dk] layout. Prints one line per case; the exit
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

/* Runs one layout; returns the number of differing output bytes (-1: kernel error). */
static long run_case(const struct ma_att_case *c, int interleaved) {
  const size_t qn = (size_t)c->heads * c->q_len * c->head_dim;
  const size_t kn = (size_t)c->heads * c->kv_len * c->head_dim;
  uint8_t *pool = (uint8_t *)pool_words;
  ma_attention_s8_dims d;
  size_t scratch_bytes, used;
  int8_t *q, *k, *v, *o;
  long diff = 0;
  int h, t, st;
  ma_attention_s8_dims_contiguous(&d, c->heads, c->q_len, c->kv_len, c->head_dim);
  d.window_left = c->window_left;
  d.window_right = c->window_right;
  scratch_bytes = ma_attention_s8_get_buffer_size(&d);
  used = (scratch_bytes + 3u) & ~(size_t)3u;
  if (!interleaved) {
    o = (int8_t *)pool + used;
    if (used + qn > sizeof(pool_words)) return -2;
    st = ma_attention_s8(&params, &d, c->q, c->k, c->v, o, pool, scratch_bytes);
    if (st != MA_ATTENTION_S8_OK) return -1;
    for (size_t i = 0; i < qn; ++i) diff += o[i] != c->out[i];
    return diff;
  }
  /* [T][H][dk]: rows of all heads interleaved, as the model's [T, d_model] tensors */
  if (used + 2 * qn + 2 * kn > sizeof(pool_words)) return -2;
  q = (int8_t *)pool + used;
  k = q + qn;
  v = k + kn;
  o = v + kn;
  for (h = 0; h < c->heads; ++h) {
    for (t = 0; t < c->q_len; ++t)
      memcpy(q + ((size_t)t * c->heads + h) * c->head_dim, c->q + ((size_t)h * c->q_len + t) * c->head_dim,
             (size_t)c->head_dim);
    for (t = 0; t < c->kv_len; ++t) {
      memcpy(k + ((size_t)t * c->heads + h) * c->head_dim, c->k + ((size_t)h * c->kv_len + t) * c->head_dim,
             (size_t)c->head_dim);
      memcpy(v + ((size_t)t * c->heads + h) * c->head_dim, c->v + ((size_t)h * c->kv_len + t) * c->head_dim,
             (size_t)c->head_dim);
    }
  }
  d.q_head_stride = d.k_head_stride = d.v_head_stride = d.out_head_stride = c->head_dim;
  d.q_row_stride = d.k_row_stride = d.v_row_stride = d.out_row_stride = c->heads * c->head_dim;
  st = ma_attention_s8(&params, &d, q, k, v, o, pool, scratch_bytes);
  if (st != MA_ATTENTION_S8_OK) return -1;
  for (h = 0; h < c->heads; ++h)
    for (t = 0; t < c->q_len; ++t)
      for (int e = 0; e < c->head_dim; ++e)
        diff += o[((size_t)t * c->heads + h) * c->head_dim + e] !=
                c->out[((size_t)h * c->q_len + t) * c->head_dim + e];
  return diff;
}

int main(void) {
  int failed = 0;
  for (int n = 0; n < MA_ATT_NUM_CASES; ++n) {
    const struct ma_att_case *c = &ma_att_cases[n];
    ma_attention_s8_quant qt;
    long d0, d1;
    int st, pm;
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
    st = ma_attention_s8_params_init(&params, &qt);
    pm = st == MA_ATTENTION_S8_OK && params_match(c, &params);
    d0 = pm ? run_case(c, 0) : -1;
    d1 = pm ? run_case(c, 1) : -1;
    /* -2: the case does not fit the pool (only on small targets); not a failure of the kernel */
    if (!pm || d0 == -1 || d1 == -1 || d0 > 0 || d1 > 0) ++failed;
    printf("%-32s params %s  contiguous %ld  interleaved %ld  %s\n", c->name, pm ? "ok" : "MISMATCH", d0, d1,
           (pm && d0 == 0 && (d1 == 0 || d1 == -2)) ? "PASS" : (d0 == -2 ? "SKIP" : "FAIL"));
  }
  printf("ma_attention_s8_check: %d of %d cases failed\n", failed, MA_ATT_NUM_CASES);
  return failed > 255 ? 255 : failed;
}
