/*
 * ma_refine_s8: word boundaries between frames, from the local posterior of each junction.
 *
 * Bit-exact with the numpy reference microalign.decode.refine.refine_int (tests/test_refine_c.py
 * checks every output on the host and on a Cortex-M7 under QEMU; on the host the aligner runs
 * this file itself through microalign.decode.native).
 *
 * After ma_decode_s8, every junction (between two words that follow each other without a silence
 * frame; with MA_REFINE_PAUSES also before the first word, after the last and around pauses)
 * is re-estimated as the posterior median of the frame at which the paths of a small local graph cross it:
 * the last MA_REFINE_CHARS characters of the left word (each repeated min(k, MAX_COPIES) times: the
 * decoder's duration floor k, capped at (MA_REFINE_MAX_STATES - 1) / (2 MA_REFINE_CHARS)), the
 * optional silence, the first MA_REFINE_CHARS of the right word, over the frames these characters hold on the decoded path, at most MA_REFINE_REACH frames beyond the left
 * word's end and before the right word's start (a longer pause gives one problem per side). Paths
 * start and end where the decoded path does.
 * Log domain (MA_REFINE_LOG_UNITS per nat): emission of state s at frame t is
 * MA_REFINE_EMIT_LOG[frame_max[t] - score] (the temperature is in that table), log(e^x + e^y) the
 * larger plus MA_REFINE_LOGADD[|x - y|]; all tables and constants come from microalign_refine.h,
 * generated from the Python reference. Forward rows are stored; the backward pass turns each frame
 * into posteriors (Q15, MA_REFINE_EXP_Q15 of the distance to the frame's best state) and keeps
 * P(not yet past the left word) and P(not yet past the silence) per frame in Q12; each boundary is
 * where its probability falls through one half (a frame edge's mass spread over half a frame on
 * either side, refine.median_crossing): the left word's end and the right word's start.
 *
 * Usage:
 *
 *     int32_t need = ma_refine_s8_get_scratch_size(k);     // 11,164 bytes for k = 3, any length
 *     int32_t status = ma_refine_s8(scores, frame_max, n_frames, n_cols, token_ids, tok_start, tok_end,
 *                                   n_tokens, word_lengths, n_words, k, scratch, need, start_ms, end_ms);
 *
 * Inputs are ma_decode_s8's: compacted int8 scores [n_frames][n_cols] (column 0 silence),
 * frame_max[t] the maximum of frame t over the model's whole vocabulary (a score above it counts
 * as equal to it), the characters' column ids and their decoded spans MERGED over the k copies
 * (tok_start/tok_end of each character, in frames). Outputs: each word's start and end in
 * milliseconds (start_ms[w] <= end_ms[w] - 1 <= start_ms[w + 1] - 1).
 *
 * Memory: scratch 6 W S + 12 S + 8 W bytes, rounded up to 4 (W = 4 MA_REFINE_REACH frames,
 * S = 2 MA_REFINE_CHARS min(k, MAX_COPIES) + 1 <= MA_REFINE_MAX_STATES states), any length; time linear in the windows' frames. Plain C99, no
 * allocation, no library calls, reentrant. Status codes from ma_status.h; outputs untouched on error.
 */
#ifndef MA_REFINE_S8_H
#define MA_REFINE_S8_H

#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MA_REFINE_Q_BITS 12 /* fraction bits of probabilities and boundaries (frames) */

/* Scratch bytes (a multiple of 4) for duration floor k; negative MA_ERR_ARGUMENT if out of range. */
int32_t ma_refine_s8_get_scratch_size(int32_t k);

/* Refined boundaries of a decoded path (see above). Errors: MA_ERR_ARGUMENT (NULL, sizes, k),
 * MA_ERR_TOKEN (column id, word lengths, spans not a path of >= k frames per character),
 * MA_ERR_SCRATCH (scratch NULL, misaligned or too small). */
int32_t ma_refine_s8(const int8_t *scores, const int8_t *frame_max, int32_t n_frames, int32_t n_cols,
                     const int32_t *token_ids, const int32_t *tok_start, const int32_t *tok_end, int32_t n_tokens,
                     const int32_t *word_lengths, int32_t n_words, int32_t k, void *scratch, int32_t scratch_size,
                     int32_t *start_ms, int32_t *end_ms);

#ifdef __cplusplus
}
#endif

#endif /* MA_REFINE_S8_H */
