/* ma_quality.h: calibrated word confidence and mismatch warnings on the device, bit for bit what
 * the host computes (the C twin of microalign/quality/fixed.py; constants, tables and the fitted
 * weights from the generated microalign_quality.h). Plain C99, integers only except the level
 * variance (IEEE double from exact integer sums, no contraction: build with -ffp-contract=off).
 *
 * Inputs are what the aligner keeps of an utterance: the compacted int8 scores (column 0
 * silence, then the transcript's characters), each frame's maximum over the vocabulary, each
 * frame's sum of its int8 log-mel features, the decoded (merged) character and word spans.
 * The scores must have the quantisation of MA_Q_SCORE_SCALE / MA_Q_SCORE_ZERO_POINT.
 *
 * Warnings: the word checks, then the utterance checks, among them the mismatch detector (a logistic
 * of the fit loss -- each frame's best score over the vocabulary minus the decoded path's, per speech
 * frame -- and the utterance score; code unlikely_transcript).
 *
 * Cost: O(frames) integer work (four passes for the median, one per word span) plus, per word, a
 * Viterbi over its window without the word (skip_gain: at most 2 * MA_Q_SKIP_CONTEXT_CHARS *
 * MA_Q_SKIP_MAX_FLOOR + 1 states, each frame of the window) and the decoded path's loss over the same
 * window (context_loss), no allocation; SRAM: 5 bytes per word
 * of caller scratch (ma_quality_scratch_size), 1 KB of stack. Characters must lie in order inside
 * their word (MA_ERR_ARGUMENT otherwise). */
#ifndef MA_QUALITY_H
#define MA_QUALITY_H

#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const int8_t *scores;      /* [n_frames, cols] compacted int8 scores, column 0 silence */
    const int8_t *frame_max;   /* [n_frames] maximum over the whole vocabulary */
    const int16_t *level;      /* [n_frames] sum of the frame's int8 log-mel features */
    int32_t n_frames, cols;
    const int32_t *char_col;   /* [n_chars] score column of each character (1..cols-1) */
    const int32_t *char_start; /* [n_chars] first frame of each character */
    const int32_t *char_end;   /* [n_chars] one past its last frame */
    int32_t n_chars;
    const int32_t *word_chars; /* [n_words] characters of each word (>= 1; they sum to n_chars) */
    const int32_t *word_start; /* [n_words] */
    const int32_t *word_end;   /* [n_words] */
    int32_t n_words;
    int32_t min_char_frames;   /* the decoder's character floor for this utterance (>= 1) */
    int32_t edge_free;         /* 0: the decoder's path touched its band's edge (warning band_edge) */
} ma_quality_input;

typedef struct {
    uint8_t code;   /* MA_Q_W_* of microalign_quality.h */
    int32_t word;   /* first word, -1 for an utterance warning */
    int32_t last;   /* last word (squeezed_words: the run's last; else = word) */
} ma_quality_warning;

typedef struct {
    uint16_t *confidence_q4;        /* [n_words] calibrated confidence in 1e-4 (0..10000) */
    ma_quality_warning *warnings;   /* [max_warnings] in the host's order */
    uint32_t max_warnings;          /* >= ma_quality_max_warnings(n_words) */
    uint32_t n_warnings;            /* out */
    int64_t confidence_sum_q4;      /* out: sum of confidence_q4 (utterance score = sum / n_words) */
    int64_t *features_q16;          /* [n_words][MA_Q_NUM_FEATURES] Q16 word features, or NULL */
} ma_quality_output;

/* Bytes of scratch ma_quality_assess needs for n_words words (8-byte aligned), or MA_ERR_ARGUMENT. */
int32_t ma_quality_scratch_size(int32_t n_words);

/* The most warnings n_words words can draw (the size of out->warnings). */
uint32_t ma_quality_max_warnings(int32_t n_words);

/* Features, confidences and warnings of one decoded utterance. MA_ERR_ARGUMENT on NULL pointers,
 * inconsistent sizes or spans outside [0, n_frames); MA_ERR_SCRATCH when scratch or the warning
 * array is too small. */
ma_status ma_quality_assess(const ma_quality_input *in, void *scratch, int32_t scratch_size, ma_quality_output *out);

/* The code's name ("unspoken_word", ...), or NULL. */
const char *ma_quality_code_name(uint32_t code);

/* One warning's JSON line (with '\n' and a NUL) as microalign.formats.jsonl writes it:
 * {"warning": code} or {"warning": code, "word": i, "start": s, "end": e} (seconds, 3 decimals).
 * start_ms / end_ms are ignored for utterance warnings. Length without the NUL, MA_ERR_SCRATCH
 * when cap is too small, MA_ERR_ARGUMENT on a bad code or NULL buffer. */
int32_t ma_quality_warning_line(const ma_quality_warning *w, uint32_t start_ms, uint32_t end_ms, char *buf,
                                uint32_t cap);

/* Exposed for tests: the fixed-point primitives of microalign.quality.fixed. */
int32_t ma_quality_log2_q16(uint32_t x);            /* x >= 1, < 2^30; else MA_ERR_ARGUMENT */
uint32_t ma_quality_sigmoid_q4(int64_t z_q32);

#ifdef __cplusplus
}
#endif

#endif /* MA_QUALITY_H */
