/* ma_json.h: one aligned word as one JSON line, byte for byte what the host prints with
 * `microalign align --format jsonl`, i.e. Python's json.dumps(d, ensure_ascii=False) of
 *   {"word": w, "start": round(s, 3), "end": round(e, 3), "confidence": c,
 *    "chars": [{"char": ch, "start": ..., "end": ...}, ...]}
 * followed by '\n' (microalign.formats.jsonl; "confidence" = the calibrated word confidence of
 * ma_quality.h in units of 1e-4, field confidence_q4 here). Times are integer milliseconds and the confidence an integer in units of
 * 1e-4, so the text is exact: Python's repr of k / 1000 is the shortest decimal, e.g. 1400 ms ->
 * 1.4, 0 -> 0.0. The conversions from frames, samples and int8 score sums reproduce align.py's
 * float arithmetic (IEEE double, no contraction: build with -ffp-contract=off). */
#ifndef MA_JSON_H
#define MA_JSON_H

#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *text;        /* UTF-8 of the character (the token table's string) */
    uint32_t start_ms, end_ms;
} ma_json_char;

typedef struct {
    const char *word;        /* UTF-8, word_bytes long (need not be NUL-terminated) */
    uint32_t word_bytes;
    uint32_t start_ms, end_ms;
    uint32_t confidence_q4;  /* round(confidence, 4) * 10000, 0..10000 */
    const ma_json_char *chars;
    uint32_t n_chars;
} ma_json_word;

/* Write the line (with its '\n' and a terminating NUL) into buf[cap]: its length without the NUL,
 * MA_ERR_SCRATCH when cap is too small (nothing useful in buf), MA_ERR_ARGUMENT on NULL pointers
 * or a confidence above 10000. */
int32_t ma_json_word_line(const ma_json_word *w, char *buf, uint32_t cap);

/* Milliseconds of frame f: round(f * hop / rate, 3) * 1000 of align._sec (hop * 1000 must be a
 * multiple of rate, as 160 * 1000 / 16000). */
uint32_t ma_frame_ms(uint32_t frame);

/* align.py's end cap: floor(n_samples / 16000.0 * 1000.0) in IEEE double arithmetic (which is
 * n_samples / 16 - 1 for some n, e.g. 16016: the device repeats that, not the exact value). */
uint32_t ma_cap_ms(uint32_t n_samples);

/* round(x, 4) * 10000 for 0 <= x <= 1, exactly as Python's round (the exact decimal value of the
 * double, ties to even); 0 for x <= 0 or NaN, 10000 for x >= 1. */
uint32_t ma_round_q4(double x);

/* round(exp(scale * score_sum / frames), 4) * 10000 with Python's correctly rounded round():
 * the word confidence of decode.viterbi_int (frames >= 1). */
uint32_t ma_confidence_q4(int64_t score_sum, uint32_t frames, double scale);

#ifdef __cplusplus
}
#endif

#endif /* MA_JSON_H */
