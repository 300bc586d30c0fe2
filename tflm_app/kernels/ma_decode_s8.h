/*
 * ma_decode_s8: forced alignment (banded Viterbi) over int8 log-softmax scores.
 *
 * Bit-exact with the numpy reference microalign.decode.viterbi_int.viterbi_align_int
 * (tests/test_decode_c.py checks every output on the host and on a Cortex-M7 under QEMU).
 *
 * Usage:
 *
 *     ma_decode_s8_params p = ma_decode_s8_default_params();
 *     int32_t size = ma_decode_s8_get_buffer_size(n_frames, n_tokens, n_words, p.band);
 *     if (size < 0 || size > sizeof(arena)) { ...too long for this device... }
 *     ma_decode_s8_output out = { tok_start, tok_end, word_start, word_end,
 *                                 word_score_sum, word_frames, &path_score };
 *     int32_t status = ma_decode_s8(&p, scores, n_frames, 28, token_ids, n_tokens,
 *                                   word_lengths, n_words, arena, size, &out);
 *     // status == MA_DECODE_OK: word i spans [word_start[i], word_end[i]) frames of 10 ms.
 *
 * The problem. Words w_1..w_n, each a non-empty list of character token ids
 * (1..n_vocab-1; token 0 is silence), give the state sequence
 *     sil_0, chars of w_1, sil_1, chars of w_2, ..., chars of w_n, sil_n
 * (S = n_tokens + n_words + 1 states). Silences are optional and last any
 * number of frames; each character lasts >= 1 frame; states are visited in
 * order (stay, advance, or skip an optional silence between two words). A
 * path starts in sil_0 or w_1's first character and ends in w_n's last
 * character or sil_n. Its score is the sum over frames of the int8 score of
 * its state's token, minus silence_penalty per silence state entered
 * (starting in sil_0 counts). The kernel returns the best path.
 *
 * Tie-breaking: stay over advance over skip (a later candidate must be
 * strictly better); at the last frame the last character over sil_n unless
 * sil_n is strictly better.
 *
 * Band. Only W = min(band, S) consecutive states are kept per frame; the
 * window moves 0..2 states per frame to keep the most advanced hypothesis
 * within `beam` of the best one near its top (see microalign/decode/_core.py).
 * The result is always a valid alignment; it is the exact optimum when W >= S.
 *
 * Scratch (ma_decode_s8_get_buffer_size), W = min(band, S):
 *     8 (W + 4) + 4 ceil(S/4) + 4 ceil(T/16) + 4 (T - 1) ceil(W/16)   bytes
 * i.e. 16 bytes per frame with the default band 64 (48 KB for 30 s of audio).
 *
 * Confidence. word_score_sum[i] = sum over the word's frames t of
 * (scores[t, aligned token] - max_v scores[t, v]) <= 0, word_frames[i] = its
 * frame count; with the scores' quantisation scale (1/16 for int8
 * LOG_SOFTMAX) exp(scale * sum / frames) is a confidence in (0, 1].
 *
 * Plain C99, no allocation, no library calls, reentrant.
 */
#ifndef MA_DECODE_S8_H
#define MA_DECODE_S8_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes (negative = error; outputs are untouched on error). */
#define MA_DECODE_OK 0
#define MA_DECODE_ERR_ARGUMENT (-1)  /* NULL pointer, n_vocab, n_frames, n_words, band, beam or penalty out of range */
#define MA_DECODE_ERR_TOKEN (-2)     /* token id outside 1..n_vocab-1, word length <= 0, lengths not summing to n_tokens */
#define MA_DECODE_ERR_TOO_SHORT (-3) /* more characters than frames: no alignment exists */
#define MA_DECODE_ERR_SCRATCH (-4)   /* scratch NULL, not 4-byte aligned or smaller than get_buffer_size */

/* Limits (they keep every int32 score far from overflow: |score| <= 1152 * n_frames < 2^29). */
#define MA_DECODE_MAX_FRAMES (1 << 18) /* 43.7 minutes of 10 ms frames */
#define MA_DECODE_MAX_PENALTY 1024     /* |silence_penalty| */
#define MA_DECODE_MAX_VOCAB 128
#define MA_DECODE_MAX_BEAM (1 << 20)
#define MA_DECODE_MIN_BAND 3
#define MA_DECODE_DEFAULT_BAND 64 /* used when band == 0 */
#define MA_DECODE_DEFAULT_BEAM 64 /* 4 nats at the int8 LOG_SOFTMAX scale 1/16 */

typedef struct {
    int32_t band;            /* states kept per frame: 0 = MA_DECODE_DEFAULT_BAND, else >= 3 (>= S: exact) */
    int32_t beam;            /* window placement beam, 0..MA_DECODE_MAX_BEAM, in score units */
    int32_t silence_penalty; /* subtracted per silence state entered, |p| <= MA_DECODE_MAX_PENALTY */
} ma_decode_s8_params;

/* Outputs: caller-provided arrays (all required except path_score, which may be NULL). Frames are
 * 0-based, end frames exclusive. */
typedef struct {
    int32_t *token_start;    /* [n_tokens] first frame of each character (all words, in order) */
    int32_t *token_end;      /* [n_tokens] one past its last frame */
    int32_t *word_start;     /* [n_words] = token_start of the word's first character */
    int32_t *word_end;       /* [n_words] = token_end of its last character */
    int32_t *word_score_sum; /* [n_words] sum of scores[t, token] - max_v scores[t, v] over the word (<= 0) */
    int32_t *word_frames;    /* [n_words] word_end - word_start (>= word length) */
    int32_t *path_score;     /* [1] score of the returned path, or NULL */
} ma_decode_s8_output;

static inline ma_decode_s8_params ma_decode_s8_default_params(void)
{
    ma_decode_s8_params p = {0, MA_DECODE_DEFAULT_BEAM, 0};
    return p;
}

/**
 * Scratch bytes ma_decode_s8 needs (a multiple of 4), or MA_DECODE_ERR_ARGUMENT for sizes
 * out of range (n_frames outside 1..MAX_FRAMES, n_words < 1, n_tokens < n_words, band 1..2 or
 * negative, more than INT32_MAX bytes).
 */
int32_t ma_decode_s8_get_buffer_size(int32_t n_frames, int32_t n_tokens, int32_t n_words, int32_t band);

/**
 * Align a transcript to int8 scores.
 *
 * @param params        band, beam, silence_penalty (NULL = ma_decode_s8_default_params()).
 * @param scores        int8 [n_frames, n_vocab], row-major: scores[t * n_vocab + v]; token 0 = silence.
 * @param n_frames      T, 1..MA_DECODE_MAX_FRAMES, >= n_tokens.
 * @param n_vocab       V, 2..MA_DECODE_MAX_VOCAB (28 for microalign: <sil>, ', a..z).
 * @param token_ids     int32 [n_tokens], the characters of all words in order, each in 1..V-1.
 * @param n_tokens      C >= n_words.
 * @param word_lengths  int32 [n_words], each >= 1, summing to n_tokens.
 * @param n_words       n >= 1.
 * @param scratch       4-byte aligned work memory of scratch_size bytes (contents ignored, clobbered).
 * @param scratch_size  >= ma_decode_s8_get_buffer_size(n_frames, n_tokens, n_words, band).
 * @param out           output arrays (see ma_decode_s8_output).
 * @return MA_DECODE_OK or a negative MA_DECODE_ERR_* code.
 */
int32_t ma_decode_s8(const ma_decode_s8_params *params,
                     const int8_t *scores,
                     int32_t n_frames,
                     int32_t n_vocab,
                     const int32_t *token_ids,
                     int32_t n_tokens,
                     const int32_t *word_lengths,
                     int32_t n_words,
                     void *scratch,
                     int32_t scratch_size,
                     const ma_decode_s8_output *out);

#ifdef __cplusplus
}
#endif

#endif /* MA_DECODE_S8_H */
