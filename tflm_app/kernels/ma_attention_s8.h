/* Fused int8 attention: Q·Kᵀ → scale → softmax → ·V, one query row at a time.
 *
 * Replaces this int8 TFLite subgraph of the converted model (per head):
 *
 *     q' = MUL(q, c)                   optional (the converter's q * dk^-0.5)
 *     s  = BATCH_MATMUL(q', k, adj_y)  [Tq, Tk] int8
 *     s' = MUL(s, c2)                  optional (a scale on the scores)
 *     p  = SOFTMAX(s', beta)           int8, scale 1/256, zero point -128
 *     o  = BATCH_MATMUL(p, v)          [Tq, dk] int8
 *
 * and is bit-exact with TFLite Micro's reference kernels for it (default
 * build: TFLITE_SINGLE_ROUNDING unset), with O(Tk) scratch instead of the
 * H·Tq·Tk score and probability tensors. The numpy reference is
 * convert/microalign/kernels/attention_ref.py; tests compare both against
 * TFLM itself.
 *
 * Usage:
 *
 *     ma_attention_s8_params params;            // ~1.6 KB, compute once
 *     if (ma_attention_s8_params_init(&params, &quant) != MA_ATTENTION_S8_OK) ...
 *     ma_attention_s8_dims dims;
 *     ma_attention_s8_dims_contiguous(&dims, heads, t, t, head_dim);
 *     int32_t n = ma_attention_s8_get_buffer_size(&dims);  // bytes, or < 0: bad dims
 *     ... scratch = n bytes, 4-byte aligned ...
 *     ma_attention_s8(&params, &dims, q, k, v, out, scratch, n);
 *
 * Plain C99, no allocation, no libm, no TFLM types. On a core with the DSP
 * extension (__ARM_FEATURE_DSP, e.g. Cortex-M7) Q·Kᵀ runs two query rows
 * against two keys at a time (SXTB16/SMLAD, 16 instructions per 16
 * multiply-accumulates; fully unrolled for head_dim 32, 48 and 64), the
 * score and output requantisations take five instructions (SMMULR/SSAT),
 * the row maximum two per two scores (SSUB16/SEL), the softmax's weights
 * come from a per-row table by distance to the maximum, and P·V runs one
 * SMLAD per two keys and channel over one head's v unpacked to int16 key
 * pairs (with get_buffer_size scratch; SXTB16/SMLABB one key at a time with
 * get_min_buffer_size). The portable path computes identical bytes (define
 * MA_ATTENTION_S8_PORTABLE to force it; MA_ATTENTION_S8_EMULATE_DSP runs the
 * DSP path's loops on the host with emulated instructions, for sanitizers and
 * the fuzzer). Zero probabilities (pairs of them, with key pairs) are skipped
 * in P·V, so its cost follows the attention's sparsity (an int8 softmax row
 * has at most ~512 non-zero entries). eval/bench_attention.py --model
 * measures each part on the shipped model's real inputs.
 *
 * Beyond TFLM: TFLM's int8 SOFTMAX aborts (TFLITE_CHECK) on a row whose sum
 * of exponentials reaches 512 (e.g. >= 512 keys tied at the maximum); this
 * kernel finishes that row exactly as the same arithmetic would with a
 * 64-bit final shift (every probability rounds to 0).
 */
#ifndef MA_ATTENTION_S8_H
#define MA_ATTENTION_S8_H

#include <stddef.h>
#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest key/value sequence: the Q12.19 sum of exponentials must fit in int32. */
#define MA_ATTENTION_S8_MAX_KV_LEN 4095
/* Largest head dimension accepted (int32 accumulators never overflow below ~33000). */
#define MA_ATTENTION_S8_MAX_HEAD_DIM 1024

/* Status codes: aliases of ma_status.h (int32_t; MA_OK or a negative MA_ERR_*). */
#define MA_ATTENTION_S8_OK MA_OK
#define MA_ATTENTION_S8_ERR_ARG MA_ERR_ARGUMENT   /* NULL pointer, size or stride out of range */
#define MA_ATTENTION_S8_ERR_SCRATCH MA_ERR_SCRATCH /* scratch too small or not 4-byte aligned */
#define MA_ATTENTION_S8_ERR_QUANT MA_ERR_QUANT     /* quantisation TFLM would reject (or we cannot match) */

/* Per-tensor int8 quantisation, exactly as stored in the flatbuffer. */
typedef struct {
  float scale;        /* > 0 */
  int32_t zero_point; /* -128..127 */
} ma_attention_s8_tensor_quant;

/* MUL by a one-element int8 constant, no fused activation. */
typedef struct {
  int32_t value;                      /* the constant's int8 value, -128..127 */
  ma_attention_s8_tensor_quant value_q;
  ma_attention_s8_tensor_quant out;   /* the MUL's output */
} ma_attention_s8_const_mul;

/* Quantisation of the replaced subgraph (what the flatbuffer holds). */
typedef struct {
  ma_attention_s8_tensor_quant q, k, v;
  ma_attention_s8_tensor_quant scores; /* output of BATCH_MATMUL(q', k) */
  ma_attention_s8_tensor_quant out;    /* output of BATCH_MATMUL(p, v) */
  int32_t has_q_mul;                   /* 0 or 1 */
  ma_attention_s8_const_mul q_mul;
  int32_t has_score_mul;               /* 0 or 1 */
  ma_attention_s8_const_mul score_mul;
  float softmax_beta;                  /* SOFTMAX's beta (1.0 from converters) */
} ma_attention_s8_quant;

/* Integer parameters: what TFLM's Prepare functions compute. Plain data
 * (may be filled from elsewhere, e.g. custom options); field names match
 * attention_ref.AttentionParams. */
typedef struct {
  int32_t qk_lhs_zp, qk_rhs_zp;        /* zero points of q' and k */
  int32_t qk_multiplier, qk_shift, qk_out_zp;
  int32_t sm_multiplier, sm_left_shift, sm_diff_min;
  int32_t pv_rhs_zp;                   /* zero point of v */
  int32_t pv_multiplier, pv_shift, pv_out_zp;
  int32_t has_q_map, has_s_map;
  int8_t q_map[256];                   /* MUL on q as a table, index x + 128 */
  int8_t s_map[256];                   /* MUL on the scores as a table */
  int32_t exp_lut[256];                /* Q0.31 exp of the score difference -d (0 below diff_min) */
} ma_attention_s8_params;

/* Shapes and memory layout. Strides count int8 elements; rows of head_dim
 * elements are contiguous. Query row i of head h starts at
 * q + h*q_head_stride + i*q_row_stride (likewise k, v, out; k and v have
 * kv_len rows). Window: query i sees keys max(0, i-window_left) ..
 * min(kv_len-1, i+window_right); a negative side is unbounded. The result of
 * a windowed row is what the builtin subgraph gives for that row with k and
 * v cut to those keys; a row with no key gets out_zp (clamped). */
typedef struct {
  int32_t heads;    /* >= 1 */
  int32_t q_len;    /* >= 1 */
  int32_t kv_len;   /* 1 .. MA_ATTENTION_S8_MAX_KV_LEN */
  int32_t head_dim; /* 1 .. MA_ATTENTION_S8_MAX_HEAD_DIM */
  int32_t q_head_stride, q_row_stride;
  int32_t k_head_stride, k_row_stride;
  int32_t v_head_stride, v_row_stride;
  int32_t out_head_stride, out_row_stride;
  int32_t window_left, window_right;
} ma_attention_s8_dims;

/* Compute params from the quantisation, as TFLM's Prepare would (double
 * arithmetic, like TFLM). Returns MA_ATTENTION_S8_ERR_QUANT for parameters
 * TFLM rejects or that this kernel cannot reproduce (a softmax input scale
 * >= 2^5 / beta). */
int32_t ma_attention_s8_params_init(ma_attention_s8_params *params, const ma_attention_s8_quant *quant);

/* dims for contiguous [heads][len][head_dim] tensors and no window. */
void ma_attention_s8_dims_contiguous(ma_attention_s8_dims *dims, int32_t heads, int32_t q_len,
                                     int32_t kv_len, int32_t head_dim);

/* Scratch bytes for the fastest path, or MA_ATTENTION_S8_ERR_ARG (< 0) if dims are NULL or
 * invalid: ma_attention_s8_get_min_buffer_size + 4 * ceil(kv_len / 2) * head_dim (one head's v
 * as int16 key pairs, so that P·V runs one SMLAD per two keys and channel on the DSP path), e.g.
 * 23,080 B for kv_len = 200, head_dim = 48 on a Cortex-M7. The same value on every path, so a
 * caller sizes scratch once (the portable path leaves the key-pair part unused). Independent of
 * heads and q_len. */
int32_t ma_attention_s8_get_buffer_size(const ma_attention_s8_dims *dims);

/* The least scratch ma_attention_s8 accepts, or MA_ATTENTION_S8_ERR_ARG:
 * 1280 + 4*round4(head_dim) + 2*round4(2*kv_len) + (kv_len + 1) * (sizeof(void *) + 4)
 * (+ alignment padding on 64-bit hosts); on a Cortex-M7 about 12 bytes per key, e.g. 3,880 B
 * for kv_len = 200, head_dim = 48. With less than ma_attention_s8_get_buffer_size the DSP path
 * runs P·V one key at a time (SMLABB; about 1.9x its instructions on the shipped model);
 * the bytes are the same. */
int32_t ma_attention_s8_get_min_buffer_size(const ma_attention_s8_dims *dims);

/* Run the fused attention. scratch: >= get_min_buffer_size bytes (get_buffer_size for the
 * fastest path), 4-byte aligned, contents ignored. out must not overlap q, k or v. */
int32_t ma_attention_s8(const ma_attention_s8_params *params, const ma_attention_s8_dims *dims,
                        const int8_t *q, const int8_t *k, const int8_t *v, int8_t *out,
                        void *scratch, int32_t scratch_size);

#ifdef __cplusplus
}
#endif

#endif /* MA_ATTENTION_S8_H */
