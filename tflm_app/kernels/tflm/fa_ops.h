/* TFLM adapters for microalign's custom int8 kernels (thin glue over ../ma_*.h).
 *
 *   static tflite::MicroMutableOpResolver<N> resolver;
 *   microalign::AddFaDecode(resolver);      // "FA_DECODE"
 *   microalign::AddFaAttention(resolver);   // "FA_ATTENTION"
 *
 * FA_DECODE (ma_decode_s8), custom options: optional flexbuffer map
 *   {band: int (0 = default 64), beam: int (default 64), silence_penalty: int (default 0)}.
 *   inputs
 *     0 scores        int8  [1, T, V] or [T, V]  (int8 LOG_SOFTMAX output; token 0 = silence)
 *     1 token_ids     int32 [Cmax] or [1, Cmax]  characters of all words in order; entries past
 *                                                 sum(word_lengths) are ignored
 *     2 word_lengths  int32 [Nmax] or [1, Nmax]  characters per word; the first entry <= 0 ends
 *                                                 the list (n_words = count before it, >= 1)
 *   outputs
 *     0 word_spans    int32 [Nmax, 4] (or [1, Nmax, 4]): per word
 *                     (start_frame, end_frame_exclusive, score_sum, frames); rows >= n_words = -1
 *     1 token_spans   int32 [Cmax, 2] (optional): (start_frame, end_frame_exclusive); unused = -1
 *     2 status        int32 [2] (optional): (ma_decode_s8 status, path score)
 *   With output 2 present, input-dependent failures (e.g. MA_DECODE_ERR_TOO_SHORT) return
 *   kTfLiteOk with the negative status in status[0] and spans all -1; without it, Invoke fails.
 *   Scratch: one arena buffer of ma_decode_s8_get_buffer_size(T, Cmax, Nmax, band), requested
 *   in Prepare.
 *
 * FA_ATTENTION (ma_attention_s8), custom options: flexbuffer map (all floats/ints):
 *   q_scale q_zp k_scale k_zp v_scale v_zp s_scale s_zp out_scale out_zp   (the replaced
 *     subgraph's tensors: s = BATCH_MATMUL(q', k) output, out = BATCH_MATMUL(p, v) output)
 *   has_q_mul q_mul_value q_mul_scale q_mul_zp q_mul_out_scale q_mul_out_zp   (optional, 0)
 *   has_s_mul s_mul_value s_mul_scale s_mul_zp s_mul_out_scale s_mul_out_zp   (optional, 0)
 *   softmax_beta (default 1.0), window_left / window_right (default -1 = unbounded)
 *   inputs  0 q int8 [1, H, Tq, D] or [H, Tq, D]; 1 k int8 [.., H, Tk, D] (k as the
 *           adj_y BATCH_MATMUL sees it, i.e. not transposed); 2 v int8 [.., H, Tk, D]
 *   output  0 int8 [.., H, Tq, D]
 *   Integer parameters are computed once in Prepare (ma_attention_s8_params_init, ~1.6 KB
 *   persistent); scratch (ma_attention_s8_get_buffer_size) is requested from the arena.
 */
#ifndef MICROALIGN_TFLM_FA_OPS_H
#define MICROALIGN_TFLM_FA_OPS_H

#include "tensorflow/lite/c/common.h"
#include "tensorflow/lite/micro/micro_common.h"

namespace microalign {

constexpr const char kFaDecodeName[] = "FA_DECODE";
constexpr const char kFaAttentionName[] = "FA_ATTENTION";

const TFLMRegistration* Register_FA_DECODE();
const TFLMRegistration* Register_FA_ATTENTION();

// Resolver: tflite::MicroMutableOpResolver<N> (or anything with AddCustom(name, registration));
// a template so that this header does not pull in every builtin kernel's header.
template <typename Resolver>
TfLiteStatus AddFaDecode(Resolver& resolver) {
  return resolver.AddCustom(kFaDecodeName, Register_FA_DECODE());
}

template <typename Resolver>
TfLiteStatus AddFaAttention(Resolver& resolver) {
  return resolver.AddCustom(kFaAttentionName, Register_FA_ATTENTION());
}

}  // namespace microalign

#endif  // MICROALIGN_TFLM_FA_OPS_H
