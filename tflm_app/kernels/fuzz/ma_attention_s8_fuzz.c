/* libFuzzer harness for ma_attention_s8 (differential: portable path vs DSP path).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *     -Itflm_app/kernels tflm_app/kernels/fuzz/ma_attention_s8_fuzz.c tflm_app/kernels/ma_attention_s8.c \
 *     -o build/ma_attention_s8_fuzz
 *   build/ma_attention_s8_fuzz -runs=1000000 -max_len=4096 CORPUS_DIR
 *
 * This file compiles the kernel a second time with the DSP loops on host-emulated
 * intrinsics (MA_ATTENTION_S8_EMULATE_DSP, symbols prefixed dsp_); the normally
 * linked ma_attention_s8.c is the portable path. Each input picks shapes (up to
 * 4 heads, 48 queries, 700 keys, 72 dims), quantisation (valid and invalid),
 * window, memory layout (contiguous or interleaved, odd addresses), then the
 * tensor bytes. Checked: both builds give the same status and the same output
 * bytes, the DSP build with get_buffer_size bytes of scratch (P·V over key pairs)
 * and with get_min_buffer_size bytes (P·V one key at a time); scratch is exactly
 * that many bytes on the heap (ASan sees any overrun) and one byte less than the
 * minimum is refused; inputs are never written; nothing outside the output rows
 * is written. With MA_FUZZ_SMALL set in the environment: at most 2
 * heads, 12 queries, 40 keys and 40 dims (the 10 M-run campaigns).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MA_ATTENTION_S8_EMULATE_DSP 1
#define ma_attention_s8 dsp_ma_attention_s8
#define ma_attention_s8_params_init dsp_ma_attention_s8_params_init
#define ma_attention_s8_get_buffer_size dsp_ma_attention_s8_get_buffer_size
#define ma_attention_s8_get_min_buffer_size dsp_ma_attention_s8_get_min_buffer_size
#define ma_attention_s8_dims_contiguous dsp_ma_attention_s8_dims_contiguous
#include "../ma_attention_s8.c"
#undef ma_attention_s8
#undef ma_attention_s8_params_init
#undef ma_attention_s8_get_buffer_size
#undef ma_attention_s8_get_min_buffer_size
#undef ma_attention_s8_dims_contiguous

/* the portable build (ma_attention_s8.c linked as its own translation unit) */
int32_t ma_attention_s8_params_init(ma_attention_s8_params *params, const ma_attention_s8_quant *quant);
int32_t ma_attention_s8_get_buffer_size(const ma_attention_s8_dims *dims);
int32_t ma_attention_s8_get_min_buffer_size(const ma_attention_s8_dims *dims);
void ma_attention_s8_dims_contiguous(ma_attention_s8_dims *dims, int32_t heads, int32_t q_len, int32_t kv_len,
                                     int32_t head_dim);
int32_t ma_attention_s8(const ma_attention_s8_params *params, const ma_attention_s8_dims *dims, const int8_t *q,
                        const int8_t *k, const int8_t *v, int8_t *out, void *scratch, int32_t scratch_size);

typedef struct {
  const uint8_t *p;
  size_t n, i;
} reader;

/* 1 when the environment variable MA_FUZZ_SMALL is set (read once). */
static int small_mode(void) {
  static int small = -1;
  if (small < 0) small = getenv("MA_FUZZ_SMALL") != NULL;
  return small;
}

static uint8_t rd(reader *r) { return r->i < r->n ? r->p[r->i++] : 0; }

/* A scale from 2^-13 to 2^8 (most of it the range converters produce), or invalid. */
static float rd_scale(reader *r) {
  const uint8_t b = rd(r);
  if (b == 0) return 0.0f;
  if (b == 1) return -0.5f;
  return (float)(1u << (b >> 4)) * (1.0f + (float)(b & 15) / 16.0f) / 8192.0f;
}

static int32_t rd_zp(reader *r) { return (int32_t)(int8_t)rd(r); }

static void abort_if(int cond) {
  if (cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  reader r = {data, size, 0};
  ma_attention_s8_quant qt;
  ma_attention_s8_params pp, pd;
  ma_attention_s8_dims d;
  const uint8_t b0 = rd(&r), b1 = rd(&r), b2 = rd(&r), b3 = rd(&r), flags = rd(&r);
  /* MA_FUZZ_SMALL set: up to 2 heads, 12 queries, 40 keys, 40 dims (~30x more runs per second) */
  const int small = small_mode();
  const int32_t heads = 1 + (b0 & (small ? 1 : 3));
  const int32_t q_len = 1 + b1 % (small ? 12 : 48);
  const int32_t kv_len = small ? 1 + b2 % 40
                               : ((b2 & 0x80) && heads == 1 ? 1 + (int32_t)(b2 & 0x7F) * 6 : 1 + b2 % 96);
  const int32_t head_dim = 1 + b3 % (small ? 40 : 72);
  const int interleaved = (flags >> 3) & 1;
  const size_t skew = (flags >> 4) & 3; /* odd base addresses */
  size_t qn, kn, i, out_bytes;
  int32_t need, need_min;
  int8_t *q, *k, *v, *o1, *o2, *o3, *qs, *ks, *vs;
  void *s1, *s2, *s3;
  int32_t st1, st2, st3, st_init1, st_init2;

  memset(&qt, 0, sizeof(qt));
  qt.q.scale = rd_scale(&r), qt.q.zero_point = rd_zp(&r);
  qt.k.scale = rd_scale(&r), qt.k.zero_point = rd_zp(&r);
  qt.v.scale = rd_scale(&r), qt.v.zero_point = rd_zp(&r);
  qt.scores.scale = rd_scale(&r), qt.scores.zero_point = rd_zp(&r);
  qt.out.scale = rd_scale(&r), qt.out.zero_point = rd_zp(&r);
  qt.has_q_mul = flags & 1;
  qt.q_mul.value = (int8_t)rd(&r);
  qt.q_mul.value_q.scale = rd_scale(&r), qt.q_mul.value_q.zero_point = rd_zp(&r);
  qt.q_mul.out.scale = rd_scale(&r), qt.q_mul.out.zero_point = rd_zp(&r);
  qt.has_score_mul = (flags >> 1) & 1;
  qt.score_mul.value = (int8_t)rd(&r);
  qt.score_mul.value_q.scale = rd_scale(&r), qt.score_mul.value_q.zero_point = rd_zp(&r);
  qt.score_mul.out.scale = rd_scale(&r), qt.score_mul.out.zero_point = rd_zp(&r);
  qt.softmax_beta = (rd(&r) & 7) == 0 ? 0.5f : 1.0f;

  st_init1 = ma_attention_s8_params_init(&pp, &qt);
  st_init2 = dsp_ma_attention_s8_params_init(&pd, &qt);
  abort_if(st_init1 != st_init2);
  if (st_init1 != MA_ATTENTION_S8_OK) return 0;
  abort_if(memcmp(&pp, &pd, sizeof(pp)) != 0);

  ma_attention_s8_dims_contiguous(&d, heads, q_len, kv_len, head_dim);
  if ((flags >> 2) & 1) {
    const uint8_t w = rd(&r);
    d.window_left = (w & 0x0F) == 0x0F ? -1 : (int32_t)(w & 0x0F);
    d.window_right = (w >> 4) == 0x0F ? -1 : (int32_t)(w >> 4);
  }
  if (interleaved) { /* [T][H][dk] */
    d.q_head_stride = d.k_head_stride = d.v_head_stride = d.out_head_stride = head_dim;
    d.q_row_stride = d.k_row_stride = d.v_row_stride = d.out_row_stride = heads * head_dim;
  }
  qn = (size_t)heads * (size_t)q_len * (size_t)head_dim;
  kn = (size_t)heads * (size_t)kv_len * (size_t)head_dim;
  out_bytes = qn;
  q = (int8_t *)malloc(qn + skew);
  k = (int8_t *)malloc(kn + skew);
  v = (int8_t *)malloc(kn + skew);
  qs = (int8_t *)malloc(qn);
  ks = (int8_t *)malloc(kn);
  vs = (int8_t *)malloc(kn);
  o1 = (int8_t *)malloc(out_bytes + skew);
  o2 = (int8_t *)malloc(out_bytes + skew);
  o3 = (int8_t *)malloc(out_bytes + skew);
  abort_if(!q || !k || !v || !qs || !ks || !vs || !o1 || !o2 || !o3);
  /* tensor bytes: the rest of the input, cycled */
  for (i = 0; i < qn; ++i) q[skew + i] = (int8_t)(r.i < r.n ? r.p[r.i + i % (r.n - r.i)] : (uint8_t)(i * 37u));
  for (i = 0; i < kn; ++i) k[skew + i] = (int8_t)(r.i < r.n ? r.p[r.i + (i * 7u) % (r.n - r.i)] : (uint8_t)(i * 11u));
  for (i = 0; i < kn; ++i) v[skew + i] = (int8_t)(r.i < r.n ? r.p[r.i + (i * 13u) % (r.n - r.i)] : (uint8_t)(i * 5u));
  memcpy(qs, q + skew, qn);
  memcpy(ks, k + skew, kn);
  memcpy(vs, v + skew, kn);
  memset(o1, 0x5A, out_bytes + skew);
  memset(o2, 0x5A, out_bytes + skew);
  memset(o3, 0x5A, out_bytes + skew);

  need = ma_attention_s8_get_buffer_size(&d);
  need_min = ma_attention_s8_get_min_buffer_size(&d);
  abort_if(need <= 0 || need != dsp_ma_attention_s8_get_buffer_size(&d));
  abort_if(need_min <= 0 || need_min >= need || need_min != dsp_ma_attention_s8_get_min_buffer_size(&d));
  s1 = malloc((size_t)need);
  s2 = malloc((size_t)need);
  s3 = malloc((size_t)need_min);
  abort_if(!s1 || !s2 || !s3);
  abort_if(ma_attention_s8(&pp, &d, q + skew, k + skew, v + skew, o1 + skew, s1, need_min - 1) !=
           MA_ATTENTION_S8_ERR_SCRATCH);
  abort_if(dsp_ma_attention_s8(&pd, &d, q + skew, k + skew, v + skew, o3 + skew, s3, need_min - 1) !=
           MA_ATTENTION_S8_ERR_SCRATCH);
  st1 = ma_attention_s8(&pp, &d, q + skew, k + skew, v + skew, o1 + skew, s1, need);
  st2 = dsp_ma_attention_s8(&pd, &d, q + skew, k + skew, v + skew, o2 + skew, s2, need);
  st3 = dsp_ma_attention_s8(&pd, &d, q + skew, k + skew, v + skew, o3 + skew, s3, need_min);
  abort_if(st1 != MA_ATTENTION_S8_OK || st2 != MA_ATTENTION_S8_OK || st3 != MA_ATTENTION_S8_OK);
  abort_if(memcmp(o1, o2, out_bytes + skew) != 0 || memcmp(o1, o3, out_bytes + skew) != 0);
  for (i = 0; i < skew; ++i) abort_if(o1[i] != 0x5A);
  abort_if(memcmp(qs, q + skew, qn) != 0 || memcmp(ks, k + skew, kn) != 0 || memcmp(vs, v + skew, kn) != 0);

  free(q);
  free(k);
  free(v);
  free(qs);
  free(ks);
  free(vs);
  free(o1);
  free(o2);
  free(o3);
  free(s1);
  free(s2);
  free(s3);
  return 0;
}
