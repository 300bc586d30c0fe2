/* FA_ATTENTION: TFLM adapter of the fused int8 attention kernel (../kernels/ma_attention_s8.h).
 *
 *   static tflite::MicroMutableOpResolver<N> resolver;
 *   microalign::AddFaAttention(resolver);   // custom op "FA_ATTENTION"
 *
 * Replaces the int8 subgraph  [MUL(q, c)] -> BATCH_MATMUL(q', k, adj_y) -> [MUL(s, c2)] ->
 * SOFTMAX (output scale 1/256, zero point -128) -> BATCH_MATMUL(p, v)  that
 * microalign.export.surgery fuses (the matcher is microalign.export.flatbuffer.match_attention).
 *
 *   inputs  0 q int8 [1, H, Tq, D] or [H, Tq, D]
 *           1 k int8 [.., H, Tk, D] (as the adj_y BATCH_MATMUL reads it, i.e. not transposed)
 *           2 v int8 [.., H, Tk, D]
 *   output  0 int8 [.., H, Tq, D]
 *
 * Quantisation of q, k, v and the output is read from those tensors (per-tensor only).
 * Custom options (flexbuffer map) hold what no tensor of the fused op carries:
 *   s_scale s_zp                 the BATCH_MATMUL(q', k) output (required)
 *   has_q_mul q_mul_value q_mul_scale q_mul_zp q_mul_out_scale q_mul_out_zp   (optional)
 *   has_s_mul s_mul_value s_mul_scale s_mul_zp s_mul_out_scale s_mul_out_zp   (optional)
 *   softmax_beta (default 1.0), window_left / window_right (default -1 = unbounded)
 * Options may also repeat q_scale q_zp k_scale k_zp v_scale v_zp out_scale out_zp: then they
 * must equal the tensors' values, else Prepare fails with a message naming the key.
 * Prepare computes the integer parameters once (ma_attention_s8_params_init, ~1.6 KB
 * persistent) and requests ma_attention_s8_get_buffer_size bytes of arena scratch (with one
 * head's v as int16 key pairs: 23,080 B for the shipped model's T = 200, D = 48); built with
 * -DFA_ATTENTION_MIN_SCRATCH it requests ma_attention_s8_get_min_buffer_size bytes instead
 * (3,880 B there; same outputs, P·V one key at a time: eval/bench_attention.py --model
 * --min-scratch gives both costs).
 */
#ifndef MICROALIGN_TFLM_FA_ATTENTION_H
#define MICROALIGN_TFLM_FA_ATTENTION_H

#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/micro_common.h"

namespace microalign {

constexpr const char kFaAttentionName[] = "FA_ATTENTION";

const TFLMRegistration* Register_FA_ATTENTION();

// Resolver: tflite::MicroMutableOpResolver<N> (anything with AddCustom(name, registration)).
template <typename Resolver>
TfLiteStatus AddFaAttention(Resolver& resolver) {
  return resolver.AddCustom(kFaAttentionName, Register_FA_ATTENTION());
}

}  // namespace microalign

#endif  // MICROALIGN_TFLM_FA_ATTENTION_H
