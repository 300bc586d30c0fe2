/* ma_aligner.h: the forced aligner on the device -- the C twin of convert/microalign/align.py.
 *
 *     ma_aligner_params p = ma_aligner_default_params();
 *     p.model = model;                                    // ma_model.h (TFLM or a test double)
 *     ma_aligner_memory mem = {sram, sizeof sram, ext_ram, ext_ram_bytes}; // sram >= ma_aligner_sram_size(&p)
 *     ma_aligner *ctx = NULL;
 *     ma_status s = ma_aligner_init(&p, &mem, &ctx);      // the context lives at the start of sram
 *     s = ma_aligner_align(ctx, &audio, transcript, transcript_bytes, on_word, user);
 *     if (s != MA_OK) printf("%s: %s\n", ma_status_str(s), ma_aligner_error(ctx));
 *
 * What ma_aligner_align does, in align.py's order and with its rules: reads the 16 kHz int16 PCM
 * into external memory (MA_ERR_TOO_SHORT: empty or silent -- peak < MA_SILENT_PEAK); parses the
 * spoken-form transcript (ma_transcript.h; MA_ERR_TOKEN names the byte); refuses more characters
 * than frames (MA_ERR_TOO_SHORT); computes the frontend window by window (frames past the end =
 * MA_FEATURE_FLOOR; each frame computed once, the frames two windows share carried from one to the
 * next) and runs the model on each window (MA_WINDOW_FRAMES, MA_WINDOW_MARGIN), keeping
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
 * Memory. SRAM is placed once, at init, and is the same for every recording (ma_aligner_sram_size):
 * the context, one JSON line (4 KB) and the decoder's scratch for the widest band it may widen to
 * (ma_decode_s8_get_scratch_size; at most MA_DECODE_SRAM_BYTES, microalign_aligner_config.h). One
 * window of features is computed straight into the model's input buffer (ma_model_input). External
 * RAM holds the frames carried from one window to the next (the schedule's largest overlap, n_mels
 * bytes a frame: 2 * window_margin frames, up to window_frames - 1 when the last window, flush with
 * the end, starts just after its predecessor) and everything that grows with the recording: the transcript's parse arrays, the audio, the
 * compacted frame scores, each frame's maximum and feature sum, the decoder's checkpoints, the
 * per-token and per-word outputs, the quality scratch and the warnings. ma_aligner_init and
 * ma_aligner_align report what was missing (MA_ERR_SCRATCH) with the bytes needed in ma_aligner_error.
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

/* Upper bound of the SRAM beyond the decoder's scratch (context + JSON line; ma_aligner.c checks it
 * at compile time): an SRAM block of MA_DECODE_SRAM_BYTES + MA_ALIGNER_FIXED_SRAM_BYTES always fits
 * the default parameters. */
#define MA_ALIGNER_FIXED_SRAM_BYTES 5120u

typedef struct {
    ma_model *model;          /* required */
    uint32_t window_margin;   /* frames dropped at inner window edges (MA_WINDOW_MARGIN) */
    uint32_t min_char_frames; /* character duration floor (MA_MIN_CHAR_FRAMES), relaxed for short audio */
    uint32_t max_words;       /* transcript limits; the parse arrays (external RAM) are sized by the */
    uint32_t max_tokens;      /* transcript's bytes, up to these */
    int32_t silence_penalty;  /* ma_decode_s8_params.silence_penalty */
} ma_aligner_params;

typedef struct {
    void *sram;          /* 8-byte aligned; context + JSON line + decoder scratch (ma_aligner_sram_size) */
    uint32_t sram_bytes;
    void *ext;           /* 8-byte aligned external RAM: transcript arrays, audio, frame scores, checkpoints, outputs */
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

/* Bytes of SRAM ma_aligner_init needs for these parameters (constant: independent of the recording),
 * or a negative status. */
int32_t ma_aligner_sram_size(const ma_aligner_params *params);

/* Check params and memory, place the context at the start of memory->sram and the SRAM blocks after it.
 * On failure *ctx is NULL (arguments refused) or, once the context is placed, a context that only
 * ma_aligner_error reads (why; ma_aligner_align refuses it with MA_ERR_ARGUMENT). */
ma_status ma_aligner_init(const ma_aligner_params *params, const ma_aligner_memory *memory, ma_aligner **ctx);

ma_status ma_aligner_align(ma_aligner *ctx, const ma_audio_source *audio, const char *transcript,
                           uint32_t transcript_bytes, ma_on_word on_word, void *user);

/* Bytes of memory->sram the context uses (context included; placed at init, the same for every
 * recording) and of memory->ext the last ma_aligner_align that reached the decoder used (its peak). */
ma_status ma_aligner_memory_used(const ma_aligner *ctx, uint32_t *sram_bytes, uint32_t *ext_bytes);

/* What the last ma_aligner_align computed (zeros until it reaches the windows). Every frame goes through
 * the frontend once: the frames two consecutive windows share are carried from one to the next (external
 * RAM, the schedule's largest overlap), so frontend_frames == frames and carried_frames is the overlap. */
typedef struct {
    uint32_t frames;          /* feature frames of the recording (10 ms each) */
    uint32_t windows;         /* model windows run */
    uint32_t frontend_frames; /* frames the frontend computed */
    uint32_t carried_frames;  /* window frames copied from the previous window instead */
} ma_aligner_stats;

ma_status ma_aligner_get_stats(const ma_aligner *ctx, ma_aligner_stats *stats);

/* What the last failure was about, in one line (never NULL; "" after success). */
const char *ma_aligner_error(const ma_aligner *ctx);

#ifdef __cplusplus
}
#endif

#endif /* MA_ALIGNER_H */
