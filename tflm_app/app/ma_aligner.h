/* ma_aligner.h: the forced aligner on the device -- the C twin of convert/microalign/align.py.
 *
 *     ma_aligner_params p = ma_aligner_default_params();
 *     p.model = model;                                    // ma_model.h (TFLM or a test double)
 *     ma_aligner_memory mem = {sram, sizeof sram, ext_ram, ext_ram_bytes};
 *     ma_aligner *ctx = NULL;
 *     ma_status s = ma_aligner_init(&p, &mem, &ctx);      // the context lives at the start of sram
 *     s = ma_aligner_align(ctx, &audio, transcript, transcript_bytes, on_word, user);
 *     if (s != MA_OK) printf("%s: %s\n", ma_status_str(s), ma_aligner_error(ctx));
 *
 * What ma_aligner_align does, in align.py's order and with its rules: reads the 16 kHz int16 PCM
 * into external memory (MA_ERR_TOO_SHORT: empty or silent -- peak < MA_SILENT_PEAK); parses the
 * spoken-form transcript (ma_transcript.h; MA_ERR_TOKEN names the byte); refuses more characters
 * than frames (MA_ERR_TOO_SHORT); computes the frontend window by window (frames past the end =
 * MA_FEATURE_FLOOR) and runs the model on each window (MA_WINDOW_FRAMES, MA_WINDOW_MARGIN), keeping
 * each frame's scores from the window whose centre is nearest (ma_windows.h), compacted to the
 * columns the transcript uses plus each frame's maximum (decode.compact); decodes with ma_decode_s8
 * (each character repeated k = max(1, min(MA_MIN_CHAR_FRAMES, frames / characters)) times, default
 * band parameters; spans merged back); and calls on_word once per word, in order, with its JSON
 * line (ma_json.h: word, start, end, confidence, chars -- the fields `microalign align --format
 * jsonl` prints), then once per quality warning (index n_words + k, word NULL) with its line
 * {"warning": code[, "word": i, "start": s, "end": e]}. The confidence and the warnings are
 * microalign.quality's, computed in fixed point by ma_quality.h (bit for bit the host's); the
 * model's output quantisation must be MA_Q_SCORE_SCALE / MA_Q_SCORE_ZERO_POINT (ma_aligner_init
 * refuses another with MA_ERR_MODEL).
 *
 * Memory: SRAM holds the context, one window of features (W x n_mels), the decoder's scratch and
 * the per-word arrays; external RAM holds the audio, the compacted frame scores, each frame's
 * feature sum (2 bytes), the warnings and the decoder's checkpoints (both grow with the audio's length, SRAM does not). ma_aligner_align reports what
 * was missing (MA_ERR_SCRATCH) with the bytes needed in ma_aligner_error.
 */
#ifndef MA_ALIGNER_H
#define MA_ALIGNER_H

#include <stdint.h>

#include "ma_json.h"
#include "ma_model.h"
#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ma_aligner ma_aligner; /* opaque */

typedef struct {
    ma_model *model;          /* required */
    uint32_t window_margin;   /* frames dropped at inner window edges (MA_WINDOW_MARGIN) */
    uint32_t min_char_frames; /* character duration floor (MA_MIN_CHAR_FRAMES), relaxed for short audio */
    uint32_t max_words;       /* transcript limits (arrays sized at init) */
    uint32_t max_tokens;
    int32_t silence_penalty;  /* ma_decode_s8_params.silence_penalty */
} ma_aligner_params;

typedef struct {
    void *sram;          /* 8-byte aligned; context + window + decoder scratch + word arrays */
    uint32_t sram_bytes;
    void *ext;           /* 8-byte aligned external RAM: audio, frame scores, decoder checkpoints */
    uint32_t ext_bytes;
} ma_aligner_memory;

/* 16 kHz mono int16 PCM, n_samples long, delivered by read() in pieces (got == 0: no more). */
typedef struct {
    ma_status (*read)(void *user, int16_t *dst, uint32_t max, uint32_t *got);
    void *user;
    uint32_t n_samples;
} ma_audio_source;

/* One aligned word: the JSON line (NUL-terminated, ending in '\n') and its fields; after the words,
 * one call per warning with index >= the number of words and word == NULL. Return MA_OK to go
 * on; any other status stops ma_aligner_align, which returns it. */
typedef ma_status (*ma_on_word)(void *user, uint32_t index, const char *json_line, uint32_t line_bytes,
                                const ma_json_word *word);

ma_aligner_params ma_aligner_default_params(void);

/* Check params and memory and place the context at the start of memory->sram. */
ma_status ma_aligner_init(const ma_aligner_params *params, const ma_aligner_memory *memory, ma_aligner **ctx);

ma_status ma_aligner_align(ma_aligner *ctx, const ma_audio_source *audio, const char *transcript,
                           uint32_t transcript_bytes, ma_on_word on_word, void *user);

/* Bytes of memory->sram (context included) and memory->ext the last ma_aligner_align that reached
 * the decoder used: its peak, as everything is placed at once. */
ma_status ma_aligner_memory_used(const ma_aligner *ctx, uint32_t *sram_bytes, uint32_t *ext_bytes);

/* What the last failure was about, in one line (never NULL; "" after success). */
const char *ma_aligner_error(const ma_aligner *ctx);

#ifdef __cplusplus
}
#endif

#endif /* MA_ALIGNER_H */
