/*
 * ma_decode_s8: forced alignment over int8 log-softmax scores, any length, bounded memory.
 *
 * Bit-exact with the numpy reference microalign.decode.viterbi_int.viterbi_align_int
 * (tests/test_decode_c.py checks every output on the host and on a Cortex-M7 under QEMU; on
 * the host the aligner runs this file itself through microalign.decode.native).
 *
 * Usage:
 *
 *     ma_decode_s8_params p = ma_decode_s8_default_params();
 *     int32_t sram = ma_decode_s8_get_scratch_size(n_tokens, n_words, &p);       // <= 48 KB, any T
 *     int32_t ext = ma_decode_s8_get_checkpoint_size(n_frames, n_tokens, n_words, &p);  // grows with T
 *     if (sram < 0 || ext < 0 || sram > sizeof(arena) || ext > sdram_bytes) { ...too long... }
 *     ma_decode_s8_output out = { tok_start, tok_end, word_start, word_end,
 *                                 word_score_sum, word_frames, &path_score, &band, &edge_free };
 *     int32_t status = ma_decode_s8(&p, scores, frame_max, n_frames, n_cols, token_ids, n_tokens,
 *                                   word_lengths, n_words, arena, sram, sdram, ext, &out);
 *     // status == MA_OK: word i spans [word_start[i], word_end[i]) frames of 10 ms.
 *
 * Score columns. `scores` holds only the columns the transcript needs (microalign.decode.compact):
 * column 0 = silence, column d = the transcript's d-th distinct character, and token_ids are
 * column indices. `frame_max[t]` is the maximum of frame t over the model's WHOLE vocabulary
 * (for the confidence; NULL = the maximum of the given columns). A large character set thus costs
 * nothing per frame.
 *
 * The problem. Words w_1..w_n, each a non-empty list of token ids (1..n_cols-1; 0 is silence),
 * give the state sequence
 *     sil_0, chars of w_1, sil_1, chars of w_2, ..., chars of w_n, sil_n
 * (S = n_tokens + n_words + 1 states). Silences are optional and last any number of frames; each
 * character lasts >= 1 frame; states are visited in order (stay, advance, or skip an optional
 * silence between two words). A path starts in sil_0 or w_1's first character and ends in w_n's
 * last character or sil_n. Its score is the sum over frames of the score of its state's token,
 * minus silence_penalty per silence state entered (starting in sil_0 counts). Tie-breaking: stay
 * over advance over skip (a later candidate must be strictly better); at the last frame the last
 * character over sil_n unless sil_n is strictly better.
 *
 * Algorithm (microalign/decode/_core.py has the full description):
 *  - a band of W states per frame that follows the best partial path (moves 0..2 states/frame);
 *  - checkpointed back-pointers: the forward pass stores the band's score row and position
 *    every K frames in the checkpoint buffer; the traceback replays one K-frame segment at a time
 *    from its checkpoint, rebuilding that segment's 2-bit back-pointers in the scratch (or, given
 *    the room, the forward pass of the first band stores every frame's back-pointers in external
 *    RAM and nothing is replayed);
 *  - exactness check: if the traced path runs next to a cell its band excluded (a successor above
 *    the band, or a predecessor below it that could still finish), or a state within
 *    MA_DECODE_DROP_MARGIN of the frame's best leaves the band at its bottom, the decode is
 *    redone with 2W, 4W, ... up to max_band. out->edge_free says whether the
 *    returned path is edge-free (W >= S is the exact full Viterbi). An edge-free path is the
 *    optimum inside the band; no certificate proves it is the global optimum (see _core.py);
 *  - scores are renormalised every frame (the previous frame's best is subtracted), so int32
 *    never overflows at any length; the path score is accumulated in int64.
 *
 * Memory (W = min(max_band, S), W1 = min(band, S), K = checkpoint_interval):
 *     scratch    (SRAM)     8 (W + 4) + 4 K ceil(W / 16) + 8 (K + 1)             bytes, any T
 *     checkpoint (external) 4 ceil(S / 2) + 4 (floor((T - 1) / K) + 1) (W + 3)   bytes
 *     + whole path (external, optional: ma_decode_s8_get_path_size) T (4 ceil(W1 / 16) + 8) bytes
 * Defaults W 128 -> max 1024, K 128: scratch 42,024 bytes (<= 48 KB) at any length; checkpoints
 * 32 bytes per frame (13.6 KB for 10 s, 223 KB for 60 s, 11.8 MB for 60 min of LJ Speech), and 40 more with
 * the whole path (the audio itself takes 320 bytes per frame). On the STM32H743 the checkpoint buffer lives in FMC
 * SDRAM, on QEMU mps2-an500 in PSRAM (0x60000000); the aligner asks for the whole path where the external RAM has
 * room for it.
 *
 * Confidence. word_score_sum[i] = sum over the word's frames t of
 * (scores[t, aligned column] - frame_max[t]) <= 0, word_frames[i] = its frame count; with the
 * scores' quantisation scale (1/16 for int8 LOG_SOFTMAX) exp(scale * sum / frames) is a
 * confidence in (0, 1].
 *
 * Plain C99, no allocation, no library calls, reentrant. Status codes from ma_status.h.
 */
#ifndef MA_DECODE_S8_H
#define MA_DECODE_S8_H

#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (aliases of ma_status.h; outputs are untouched on error). */
#define MA_DECODE_OK MA_OK
#define MA_DECODE_ERR_ARGUMENT MA_ERR_ARGUMENT   /* NULL pointer, sizes, band, interval, beam or penalty out of range */
#define MA_DECODE_ERR_TOKEN MA_ERR_TOKEN         /* token id outside 1..n_cols-1, word length <= 0, lengths != n_tokens */
#define MA_DECODE_ERR_TOO_SHORT MA_ERR_TOO_SHORT /* more characters than frames: no alignment exists */
#define MA_DECODE_ERR_SCRATCH MA_ERR_SCRATCH     /* scratch/checkpoint buffer NULL, misaligned or too small */

/* Limits. Path scores fit int32 (|score| <= 1152 n_frames < 2^31). */
#define MA_DECODE_MAX_FRAMES 1800000 /* 5 hours of 10 ms frames */
#define MA_DECODE_MAX_PENALTY 1024   /* |silence_penalty| */
#define MA_DECODE_MAX_VOCAB 32768    /* score columns (15-bit token + skip flag per state) */
#define MA_DECODE_MAX_BEAM (1 << 20)
#define MA_DECODE_MIN_BAND 3
#define MA_DECODE_MAX_BAND 65536
#define MA_DECODE_MAX_INTERVAL 65536
/* Defaults (used when the parameter is 0); microalign.decode._core holds the same values
 * (tests/test_decode_c.py checks they agree). */
#define MA_DECODE_DEFAULT_BAND 128
#define MA_DECODE_DEFAULT_MAX_BAND 1024
#define MA_DECODE_DEFAULT_INTERVAL 128
#define MA_DECODE_DEFAULT_BEAM 1024 /* 64 nats at the int8 LOG_SOFTMAX scale 1/16 (= MA_DECODE_DROP_MARGIN) */
/* Renormalisation: a state more than this below the previous frame's best becomes unreachable. */
#define MA_DECODE_CLAMP (1 << 29)
/* Edge check: a state within this of the frame's best leaving the band at its bottom (64 nats). */
#define MA_DECODE_DROP_MARGIN 1024

typedef struct {
    int32_t band;                /* first band W: 0 = MA_DECODE_DEFAULT_BAND, else >= 3 (>= S: exact) */
    int32_t max_band;            /* widest band of a retry: 0 = MA_DECODE_DEFAULT_MAX_BAND; < band: band */
    int32_t checkpoint_interval; /* K frames between checkpoints: 0 = MA_DECODE_DEFAULT_INTERVAL */
    int32_t beam;                /* window placement beam, 0..MA_DECODE_MAX_BEAM, in score units */
    int32_t silence_penalty;     /* subtracted per silence state entered, |p| <= MA_DECODE_MAX_PENALTY */
} ma_decode_s8_params;

/* Outputs: caller-provided arrays (the last three pointers may be NULL). Frames are 0-based,
 * end frames exclusive. */
typedef struct {
    int32_t *token_start;    /* [n_tokens] first frame of each character (all words, in order) */
    int32_t *token_end;      /* [n_tokens] one past its last frame */
    int32_t *word_start;     /* [n_words] = token_start of the word's first character */
    int32_t *word_end;       /* [n_words] = token_end of its last character */
    int32_t *word_score_sum; /* [n_words] sum of scores[t, token] - frame_max[t] over the word (<= 0) */
    int32_t *word_frames;    /* [n_words] word_end - word_start (>= word length) */
    int32_t *path_score;     /* [1] score of the returned path, or NULL */
    int32_t *band;           /* [1] band W of the returned path, or NULL */
    int32_t *edge_free;      /* [1] 1: the path never touches its band's edge (W >= S: exact optimum), or NULL */
} ma_decode_s8_output;

static inline ma_decode_s8_params ma_decode_s8_default_params(void)
{
    ma_decode_s8_params p = {0, 0, 0, MA_DECODE_DEFAULT_BEAM, 0};
    return p;
}

/**
 * Scratch (working memory, SRAM) bytes ma_decode_s8 needs, a multiple of 4: independent of
 * n_frames. Negative MA_ERR_ARGUMENT for sizes or parameters out of range.
 */
int32_t ma_decode_s8_get_scratch_size(int32_t n_tokens, int32_t n_words, const ma_decode_s8_params *params);

/**
 * Checkpoint buffer (external RAM) bytes, a multiple of 4: grows linearly with n_frames.
 * Negative MA_ERR_ARGUMENT for sizes out of range or more than INT32_MAX bytes.
 */
int32_t ma_decode_s8_get_checkpoint_size(int32_t n_frames, int32_t n_tokens, int32_t n_words,
                                         const ma_decode_s8_params *params);

/**
 * The checkpoint buffer with room for the first band's whole path after the checkpoints: every frame's back-pointer
 * row, band position and smin, 4 ceil(W1 / 16) + 8 bytes per frame more (40 with the default first band W1 = 128).
 * Given a buffer of at least this size, ma_decode_s8 stores the first band's path in its forward pass and its
 * traceback reads it instead of replaying each checkpoint segment (about half the decoder's instructions; a wider
 * retry falls back to checkpoints). Same outputs, byte for byte. Negative as get_checkpoint_size.
 */
int32_t ma_decode_s8_get_path_size(int32_t n_frames, int32_t n_tokens, int32_t n_words,
                                   const ma_decode_s8_params *params);

/**
 * Align a transcript to int8 scores.
 *
 * @param params          NULL = ma_decode_s8_default_params().
 * @param scores          int8 [n_frames, n_cols], row-major; column 0 = silence.
 * @param frame_max       int8 [n_frames], per-frame maximum over the full vocabulary (>= every
 *                        score of the row), or NULL (= maximum of the row).
 * @param n_frames        T, 1..MA_DECODE_MAX_FRAMES, >= n_tokens.
 * @param n_cols          V, 2..MA_DECODE_MAX_VOCAB.
 * @param token_ids       int32 [n_tokens], the characters of all words in order, each in 1..V-1.
 * @param n_tokens        C >= n_words.
 * @param word_lengths    int32 [n_words], each >= 1, summing to n_tokens.
 * @param n_words         n >= 1.
 * @param scratch         4-byte aligned SRAM of scratch_size bytes (clobbered).
 * @param scratch_size    >= ma_decode_s8_get_scratch_size(...).
 * @param checkpoints     4-byte aligned buffer of checkpoint_size bytes (clobbered; external RAM).
 * @param checkpoint_size >= ma_decode_s8_get_checkpoint_size(...); >= ma_decode_s8_get_path_size(...): the
 *                        first band's traceback reads its stored path (no replay).
 * @param out             output arrays (see ma_decode_s8_output).
 * @return MA_OK or a negative MA_ERR_* code.
 */
int32_t ma_decode_s8(const ma_decode_s8_params *params,
                     const int8_t *scores,
                     const int8_t *frame_max,
                     int32_t n_frames,
                     int32_t n_cols,
                     const int32_t *token_ids,
                     int32_t n_tokens,
                     const int32_t *word_lengths,
                     int32_t n_words,
                     void *scratch,
                     int32_t scratch_size,
                     void *checkpoints,
                     int32_t checkpoint_size,
                     const ma_decode_s8_output *out);

#ifdef __cplusplus
}
#endif

#endif /* MA_DECODE_S8_H */
