/* C interface of bench_attention_builtin.cc: TFLM's reference kernels for the attention subgraph. */
#ifndef BENCH_ATTENTION_BUILTIN_H
#define BENCH_ATTENTION_BUILTIN_H
#include <stdint.h>

typedef struct {
  float q_scale; int32_t q_zp;   /* MUL input */
  float c_scale; int32_t c_zp;   /* MUL constant */
  float q2_scale; int32_t q2_zp; /* MUL output = BATCH_MATMUL lhs */
  float k_scale; int32_t k_zp;
  float s_scale; int32_t s_zp;   /* scores */
  float beta;
  float v_scale; int32_t v_zp;
  float o_scale; int32_t o_zp;
} bench_attention_quant;

void bench_builtin_prepare(const bench_attention_quant *q);
void bench_builtin_eval(int heads, int t, int dk, const int8_t *q, const int8_t *c, const int8_t *k,
                        const int8_t *v, int8_t *q2, int8_t *scores, int8_t *probs, int8_t *vt, int8_t *out);
#endif
