/* ma_aligner.c: see ma_aligner.h. Plain C99; the model runs behind ma_model.h. */
#define MA_TOKENS_DEFINE_TABLES
#include "ma_aligner.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ma_decode_s8.h"
#include "ma_refine_s8.h"
#include "ma_frontend.h"
#include "ma_quality.h"
#include "ma_transcript.h"
#include "ma_windows.h"
#include "microalign_aligner_config.h"
#include "microalign_quality.h"
#include "microalign_tokens.h"

#define LINE_BYTES 4096u /* one word's JSON line; a longer one is MA_ERR_SCRATCH */

/* SRAM, fixed at init and the same for every recording: the context, one JSON line and the decoder's
 * scratch for its widest band (ma_decode_s8_get_scratch_size of a transcript longer than the band). The
 * window of features is the model's own input tensor (ma_model_input); everything that grows with the
 * recording is in external RAM. */
struct ma_aligner {
    ma_aligner_params p;
    ma_model_info model;
    int8_t *feats;         /* ma_model_input: one window [window_frames][n_mels] */
    char *line;            /* LINE_BYTES, SRAM */
    void *scratch;         /* the decoder's scratch, SRAM */
    int32_t scratch_bytes; /* for its widest band */
    uint8_t *ext;
    uint32_t ext_bytes;
    uint32_t sram_used, ext_used; /* SRAM: fixed at init; external: the peak of the last ma_aligner_align */
    ma_aligner_stats stats;       /* of the last ma_aligner_align */
    int32_t ready;                /* ma_aligner_init succeeded */
    char error[192];
};

#define CTX_BYTES ((uint32_t)((sizeof(ma_aligner) + 7u) & ~7u))
typedef char ma_aligner_fixed_sram_check[(CTX_BYTES + LINE_BYTES <= MA_ALIGNER_FIXED_SRAM_BYTES) ? 1 : -1];

/* bump allocation inside one region */
typedef struct {
    uint8_t *base;
    uint32_t size, used;
} arena_t;

/* Bytes take() can still hand out (at its next 8-byte boundary); 0 once an earlier take failed. */
static uint32_t room(const arena_t *a)
{
    uint32_t at = (a->used + 7u) & ~7u;
    return a->used <= a->size && at >= a->used && at <= a->size ? a->size - at : 0u;
}

static void *take(arena_t *a, uint32_t bytes)
{
    uint32_t at = (a->used + 7u) & ~7u;
    if (at < a->used || bytes > a->size || at > a->size - bytes) {
        a->used = 0xFFFFFFFFu; /* sticky: too small */
        return NULL;
    }
    a->used = at + bytes;
    return a->base + at;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static ma_status fail(ma_aligner *ctx, ma_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
    return s;
}

ma_aligner_params ma_aligner_default_params(void)
{
    ma_aligner_params p;
    memset(&p, 0, sizeof p);
    p.window_margin = MA_WINDOW_MARGIN;
    p.min_char_frames = MA_MIN_CHAR_FRAMES;
    p.max_words = 512;
    p.max_tokens = 4096;
    p.silence_penalty = 0;
    return p;
}

const char *ma_aligner_error(const ma_aligner *ctx) { return ctx ? ctx->error : "no context"; }

ma_status ma_aligner_get_stats(const ma_aligner *ctx, ma_aligner_stats *stats)
{
    if (ctx == NULL || stats == NULL) return MA_ERR_ARGUMENT;
    *stats = ctx->stats;
    return MA_OK;
}

ma_status ma_aligner_memory_used(const ma_aligner *ctx, uint32_t *sram_bytes, uint32_t *ext_bytes)
{
    if (ctx == NULL || sram_bytes == NULL || ext_bytes == NULL) return MA_ERR_ARGUMENT;
    *sram_bytes = ctx->sram_used;
    *ext_bytes = ctx->ext_used;
    return MA_OK;
}

/* The decoder's scratch for the widest band it may widen to: a transcript of MA_DECODE_MAX_FRAMES
 * characters has more states than any band, so W = max_band (ma_decode_s8.h's formula). */
static int32_t widest_scratch(const ma_aligner_params *params)
{
    ma_decode_s8_params dp = ma_decode_s8_default_params();
    dp.silence_penalty = params->silence_penalty;
    return ma_decode_s8_get_scratch_size(MA_DECODE_MAX_FRAMES, 1, &dp);
}

int32_t ma_aligner_sram_size(const ma_aligner_params *params)
{
    if (params == NULL) return MA_ERR_ARGUMENT;
    int32_t scratch = widest_scratch(params);
    if (scratch < 0) return scratch;
    return (int32_t)(CTX_BYTES + LINE_BYTES) + scratch;
}

ma_status ma_aligner_init(const ma_aligner_params *params, const ma_aligner_memory *memory, ma_aligner **out)
{
    if (out) *out = NULL;
    if (params == NULL || memory == NULL || out == NULL || params->model == NULL || memory->sram == NULL ||
        ((uintptr_t)memory->sram & 7u) || (memory->ext == NULL && memory->ext_bytes) || ((uintptr_t)memory->ext & 7u) ||
        params->max_words == 0 || params->max_tokens < params->max_words || params->max_tokens > (1u << 20) ||
        params->min_char_frames == 0 || params->min_char_frames > 64) {
        return MA_ERR_ARGUMENT;
    }
    if (memory->sram_bytes < CTX_BYTES) return MA_ERR_SCRATCH;
    ma_aligner *ctx = (ma_aligner *)memory->sram;
    memset(ctx, 0, sizeof *ctx);
    ctx->p = *params;
    ctx->ext = (uint8_t *)memory->ext;
    ctx->ext_bytes = memory->ext_bytes;
    *out = ctx; /* from here on a failure leaves ready == 0 and says why in ma_aligner_error */
    int32_t scratch = widest_scratch(params);
    if (scratch < 0) return fail(ctx, MA_ERR_ARGUMENT, "the decoder's band parameters were refused (status %ld)", (long)scratch);
    if (scratch > MA_DECODE_SRAM_BYTES) {
        return fail(ctx, MA_ERR_SCRATCH, "the decoder's scratch of %ld bytes exceeds its SRAM budget MA_DECODE_SRAM_BYTES (%ld)",
                    (long)scratch, (long)MA_DECODE_SRAM_BYTES);
    }
    const uint32_t need = CTX_BYTES + LINE_BYTES + (uint32_t)scratch;
    if (memory->sram_bytes < need) {
        return fail(ctx, MA_ERR_SCRATCH, "SRAM of %lu bytes is too small: the aligner needs %lu (context %lu, JSON line %lu, "
                    "decoder scratch %ld)", (unsigned long)memory->sram_bytes, (unsigned long)need, (unsigned long)CTX_BYTES,
                    (unsigned long)LINE_BYTES, (long)scratch);
    }
    ctx->line = (char *)memory->sram + CTX_BYTES;
    ctx->scratch = (uint8_t *)memory->sram + CTX_BYTES + LINE_BYTES;
    ctx->scratch_bytes = scratch;
    ctx->sram_used = need;
    ma_status s = ma_model_get_info(params->model, &ctx->model);
    if (s != MA_OK) return fail(ctx, MA_ERR_MODEL, "model info unavailable (status %ld)", (long)s);
    if (ctx->model.n_vocab != MA_NUM_TOKENS || ctx->model.n_mels != MA_FE_N_MELS ||
        ctx->model.window_frames != MA_WINDOW_FRAMES || ma_window_count(1, ctx->model.window_frames, params->window_margin) < 0) {
        return fail(ctx, MA_ERR_MODEL, "model shape (window %lu, vocabulary %lu) differs from the generated headers",
                    (unsigned long)ctx->model.window_frames, (unsigned long)ctx->model.n_vocab);
    }
    if (ctx->model.scale != MA_Q_SCORE_SCALE || ctx->model.zero_point != MA_Q_SCORE_ZERO_POINT) {
        return fail(ctx, MA_ERR_MODEL, "model output quantisation (scale %g, zero point %ld) differs from the quality "
                    "model's (microalign_quality.h: %g, %d)", ctx->model.scale, (long)ctx->model.zero_point,
                    MA_Q_SCORE_SCALE, MA_Q_SCORE_ZERO_POINT);
    }
    ctx->feats = ma_model_input(params->model);
    if (ctx->feats == NULL) return fail(ctx, MA_ERR_MODEL, "the model has no input buffer (ma_model_input)");
    ctx->ready = 1;
    return MA_OK;
}

ma_status ma_aligner_align(ma_aligner *ctx, const ma_audio_source *audio, const char *transcript,
                           uint32_t transcript_bytes, ma_on_word on_word, void *user)
{
    if (ctx == NULL) return MA_ERR_ARGUMENT;
    if (!ctx->ready) return MA_ERR_ARGUMENT; /* init failed; ma_aligner_error still says why */
    ctx->error[0] = 0;
    memset(&ctx->stats, 0, sizeof ctx->stats);
    if (audio == NULL || audio->read == NULL || on_word == NULL || (transcript == NULL && transcript_bytes)) {
        return fail(ctx, MA_ERR_ARGUMENT, "NULL audio source, reader, transcript or callback");
    }
    const ma_aligner_params *p = &ctx->p;
    const uint32_t W = ctx->model.window_frames, M = ctx->model.n_mels, V = ctx->model.n_vocab;
    arena_t ext = {ctx->ext, ctx->ext_bytes, 0};

    /* transcript, parsed into external RAM: at most one word per two bytes and one token per byte */
    uint32_t max_words = transcript_bytes / 2u + 1u, max_tokens = transcript_bytes > 0u ? transcript_bytes : 1u;
    max_words = max_words < p->max_words ? max_words : p->max_words;
    max_tokens = max_tokens < p->max_tokens ? max_tokens : p->max_tokens;
    ma_word_span *words = (ma_word_span *)take(&ext, max_words * (uint32_t)sizeof(ma_word_span));
    uint8_t *tokens = (uint8_t *)take(&ext, max_tokens);
    if (words == NULL || tokens == NULL) {
        return fail(ctx, MA_ERR_SCRATCH, "external RAM of %lu bytes cannot hold the transcript's arrays", (unsigned long)ctx->ext_bytes);
    }
    ma_transcript_info ti;
    ma_status s = ma_transcript_parse(transcript, transcript_bytes, words, max_words, tokens, max_tokens, &ti);
    if (s == MA_ERR_TOKEN && ti.n_words == 0 && ti.error_offset == transcript_bytes) {
        return fail(ctx, s, "empty transcript: nothing to align");
    }
    if (s == MA_ERR_TOKEN) {
        return fail(ctx, s, "transcript byte %lu is not a character of the token table", (unsigned long)ti.error_offset);
    }
    if (s != MA_OK) return fail(ctx, s, "transcript longer than max_words / max_tokens (at byte %lu)", (unsigned long)ti.error_offset);

    /* audio into external memory */
    uint32_t n = audio->n_samples;
    if (n == 0) return fail(ctx, MA_ERR_TOO_SHORT, "audio is empty");
    if (n > 0x7FFFFFFFu / 2u) return fail(ctx, MA_ERR_ARGUMENT, "audio of %lu samples is too long", (unsigned long)n);
    int16_t *pcm = (int16_t *)take(&ext, 2u * n);
    if (pcm == NULL) return fail(ctx, MA_ERR_SCRATCH, "external RAM of %lu bytes cannot hold %lu samples", (unsigned long)ctx->ext_bytes, (unsigned long)n);
    uint32_t have = 0, got = 0;
    while (have < n) {
        s = audio->read(audio->user, pcm + have, n - have, &got);
        if (s != MA_OK) return fail(ctx, MA_ERR_IO, "audio source failed after %lu samples (status %ld)", (unsigned long)have, (long)s);
        if (got == 0 || got > n - have) break;
        have += got;
    }
    if (have != n) return fail(ctx, MA_ERR_IO, "audio source gave %lu of %lu samples", (unsigned long)have, (unsigned long)n);
    int32_t peak = 0; /* the largest |sample|, up to the first one of at least MA_SILENT_PEAK (all that decides) */
    for (uint32_t i = 0; i < n && peak < MA_SILENT_PEAK; ++i) {
        int32_t a = pcm[i] < 0 ? -(int32_t)pcm[i] : pcm[i];
        if (a > peak) peak = a;
    }
    if (peak < MA_SILENT_PEAK) {
        return fail(ctx, MA_ERR_TOO_SHORT, "audio is silent (peak %ld of 32767): nothing to align", (long)peak);
    }
    int32_t n_frames = ma_frontend_num_frames((int32_t)n);
    if (n_frames > MA_DECODE_MAX_FRAMES) {
        return fail(ctx, MA_ERR_TOO_SHORT, "audio of %ld frames exceeds the decoder's %ld", (long)n_frames,
                    (long)MA_DECODE_MAX_FRAMES);
    }
    if (ti.n_tokens > (uint32_t)n_frames) {
        return fail(ctx, MA_ERR_TOO_SHORT, "transcript too long for the audio: %lu characters, %ld frames",
                    (unsigned long)ti.n_tokens, (long)n_frames);
    }

    /* compaction: column 0 silence, then the transcript's distinct token ids ascending (decode.compact) */
    int32_t local[MA_NUM_TOKENS];
    uint32_t cols = 1;
    memset(local, 0, sizeof local);
    for (uint32_t i = 0; i < ti.n_tokens; ++i) local[tokens[i]] = 1;
    int32_t col_token[MA_NUM_TOKENS];
    col_token[0] = MA_SILENCE_ID;
    for (uint32_t id = 1; id < MA_NUM_TOKENS; ++id) {
        if (local[id]) {
            local[id] = (int32_t)cols;
            col_token[cols++] = (int32_t)id;
        }
    }
    int8_t *scores = (int8_t *)take(&ext, (uint32_t)n_frames * cols);
    int8_t *frame_max = (int8_t *)take(&ext, (uint32_t)n_frames);
    int16_t *level = (int16_t *)take(&ext, 2u * (uint32_t)n_frames); /* per-frame feature sums (ma_quality.h) */
    int8_t *feats = ctx->feats; /* the model's input tensor */
    if (scores == NULL || frame_max == NULL || level == NULL) {
        return fail(ctx, MA_ERR_SCRATCH, "memory too small for %ld frames of scores (%lu columns)", (long)n_frames, (unsigned long)cols);
    }

    /* windows: frontend, model, owner rule. A frame's features depend only on the audio around it
     * (ma_frontend.h: samples [t*HOP - PAD_LEFT, t*HOP - PAD_LEFT + WIN), zeros outside the signal), not
     * on the window that asks for it, so the frames window k shares with window k + 1 (2 * margin, more
     * for the last window, flush with the end) are carried in `carry` rather than computed again: every
     * frame of the recording goes through the frontend exactly once. The model may overwrite its input
     * (ma_model.h), hence the copy before each run. `carry` holds the largest overlap of this schedule:
     * 2 * margin frames of M bytes, up to W - 1 frames when the last window starts just after its
     * predecessor; in external RAM, so SRAM does not change. */
    int32_t n_win = ma_window_count((uint32_t)n_frames, W, p->window_margin);
    if (n_win < 0) return fail(ctx, n_win, "bad window schedule");
    uint32_t carry_cap = 0; /* frames */
    for (uint32_t k = 1; k < (uint32_t)n_win; ++k) {
        ma_window a, b;
        ma_window_get((uint32_t)n_frames, W, p->window_margin, k - 1u, &a);
        ma_window_get((uint32_t)n_frames, W, p->window_margin, k, &b);
        uint32_t a_end = (uint32_t)n_frames - a.start < W ? (uint32_t)n_frames : a.start + W;
        if (a_end > b.start && a_end - b.start > carry_cap) carry_cap = a_end - b.start;
    }
    int8_t *carry = carry_cap ? (int8_t *)take(&ext, carry_cap * M) : NULL;
    if (carry_cap && carry == NULL) {
        return fail(ctx, MA_ERR_SCRATCH, "external RAM too small for the %lu frames two windows share", (unsigned long)carry_cap);
    }
    uint32_t carry_first = 0, carry_n = 0; /* carry holds the features of frames [carry_first, carry_first + carry_n) */
    ctx->stats.frames = (uint32_t)n_frames;
    for (uint32_t k = 0; k < (uint32_t)n_win; ++k) {
        ma_window win;
        ma_window_get((uint32_t)n_frames, W, p->window_margin, k, &win);
        if (win.own_begin == win.own_end) continue; /* owns no frame: its scores would be dropped (the carry stays) */
        uint32_t avail = (uint32_t)n_frames - win.start, cnt = avail < W ? avail : W;
        uint32_t reuse = 0; /* the window's first frames, from the previous window */
        if (carry_n && win.start >= carry_first && win.start < carry_first + carry_n) {
            reuse = carry_first + carry_n - win.start;
            reuse = reuse < cnt ? reuse : cnt;
        }
        uint32_t next_start = (uint32_t)n_frames; /* what window k + 1 will need from this one */
        if (k + 1u < (uint32_t)n_win) {
            ma_window nx;
            ma_window_get((uint32_t)n_frames, W, p->window_margin, k + 1u, &nx);
            next_start = nx.start;
        }
        if (reuse) memcpy(feats, carry + (size_t)(win.start - carry_first) * M, (size_t)reuse * M);
        if (ma_frontend_compute_frames(pcm, (int32_t)n, (int32_t)(win.start + reuse), (int32_t)(cnt - reuse),
                                       feats + (size_t)reuse * M) != (int32_t)(cnt - reuse)) {
            return fail(ctx, MA_ERR_ARGUMENT, "frontend refused frames %lu..%lu", (unsigned long)(win.start + reuse),
                        (unsigned long)(win.start + cnt));
        }
        ctx->stats.frontend_frames += cnt - reuse;
        ctx->stats.carried_frames += reuse;
        memset(feats + (size_t)cnt * M, (uint8_t)MA_FEATURE_FLOOR, (size_t)(W - cnt) * M);
        /* before the run (it may overwrite its input): the next window's shared frames, each owned frame's sum */
        carry_n = 0;
        if (next_start > win.start && next_start < win.start + cnt) {
            carry_first = next_start;
            carry_n = win.start + cnt - next_start; /* <= carry_cap */
            memcpy(carry, feats + (size_t)(next_start - win.start) * M, (size_t)carry_n * M);
        }
        for (uint32_t f = win.own_begin; f < win.own_end; ++f) {
            const int8_t *fr = feats + (size_t)(f - win.start) * M;
            int32_t lv = 0;
            for (uint32_t m = 0; m < M; ++m) lv += fr[m];
            level[f] = (int16_t)lv;
        }
        const int8_t *out = NULL;
        s = ma_model_run_window(ctx->p.model, feats, &out);
        if (s != MA_OK || out == NULL) return fail(ctx, MA_ERR_MODEL, "model failed on window %lu (status %ld)", (unsigned long)k, (long)s);
        ctx->stats.windows++;
        for (uint32_t f = win.own_begin; f < win.own_end; ++f) {
            const int8_t *row = out + (size_t)(f - win.start) * V;
            int8_t mx = row[0];
            for (uint32_t v = 1; v < V; ++v) mx = row[v] > mx ? row[v] : mx;
            frame_max[f] = mx;
            for (uint32_t c = 0; c < cols; ++c) scores[(size_t)f * cols + c] = row[col_token[c]];
        }
    }

    /* decode: characters repeated k times (the duration floor, relaxed for short audio) */
    uint32_t kf = (uint32_t)n_frames / ti.n_tokens;
    kf = kf < p->min_char_frames ? kf : p->min_char_frames;
    kf = kf < 1u ? 1u : kf;
    uint32_t nt = ti.n_tokens * kf, nw = ti.n_words;
    /* per-token and per-word arrays grow with the transcript (i.e. the recording): external RAM, so SRAM
     * does not grow with the length (eval/memory_report.py); the JSON line and the decoder's scratch are
     * the SRAM blocks placed at init */
    int32_t *ids = (int32_t *)take(&ext, 4u * nt);
    int32_t *lens = (int32_t *)take(&ext, 4u * nw);
    int32_t *tok_start = (int32_t *)take(&ext, 4u * nt);
    int32_t *tok_end = (int32_t *)take(&ext, 4u * nt);
    int32_t *w_start = (int32_t *)take(&ext, 4u * nw);
    int32_t *w_end = (int32_t *)take(&ext, 4u * nw);
    int32_t *w_sum = (int32_t *)take(&ext, 4u * nw);
    int32_t *w_frames = (int32_t *)take(&ext, 4u * nw);
    int32_t *w_start_ms = (int32_t *)take(&ext, 4u * nw);
    int32_t *w_end_ms = (int32_t *)take(&ext, 4u * nw);
    ma_json_char *jchars = (ma_json_char *)take(&ext, (uint32_t)sizeof(ma_json_char) * ti.n_tokens);
    char *line = ctx->line;
    int32_t q_scratch_size = ma_quality_scratch_size((int32_t)nw);
    void *q_scratch = take(&ext, q_scratch_size > 0 ? (uint32_t)q_scratch_size : 0u);
    uint16_t *conf_q4 = (uint16_t *)take(&ext, 2u * nw);
    uint32_t max_warn = ma_quality_max_warnings((int32_t)nw);
    ma_quality_warning *warn = (ma_quality_warning *)take(&ext, max_warn * (uint32_t)sizeof(ma_quality_warning));
    int32_t edge_free = 1;
    if (q_scratch == NULL || conf_q4 == NULL || w_end_ms == NULL) {
        return fail(ctx, MA_ERR_SCRATCH, "external RAM too small for the decoder's outputs");
    }
    if (warn == NULL) return fail(ctx, MA_ERR_SCRATCH, "external RAM too small for the warnings");
    for (uint32_t i = 0; i < ti.n_tokens; ++i) {
        for (uint32_t r = 0; r < kf; ++r) ids[i * kf + r] = local[tokens[i]];
    }
    for (uint32_t w = 0; w < nw; ++w) lens[w] = (int32_t)(words[w].n_tokens * kf);
    ma_decode_s8_params dp = ma_decode_s8_default_params();
    dp.silence_penalty = p->silence_penalty;
    int32_t scratch_size = ma_decode_s8_get_scratch_size((int32_t)nt, (int32_t)nw, &dp);
    int32_t ckpt_size = ma_decode_s8_get_checkpoint_size(n_frames, (int32_t)nt, (int32_t)nw, &dp);
    if (scratch_size < 0 || ckpt_size < 0) return fail(ctx, MA_ERR_ARGUMENT, "decoder sizes refused (%ld, %ld)", (long)scratch_size, (long)ckpt_size);
    if (scratch_size > ctx->scratch_bytes) { /* cannot happen: init reserved the widest band */
        return fail(ctx, MA_ERR_SCRATCH, "the decoder needs %ld bytes of scratch, %ld reserved", (long)scratch_size, (long)ctx->scratch_bytes);
    }
    void *scratch = ctx->scratch;
    /* the decoder's whole path (40 bytes per frame more: its traceback replays no checkpoint, about half its
     * instructions) where the external RAM has room, else checkpoints alone */
    const int32_t path_size = ma_decode_s8_get_path_size(n_frames, (int32_t)nt, (int32_t)nw, &dp);
    if (path_size > 0 && (uint32_t)path_size <= room(&ext)) ckpt_size = path_size;
    void *ckpt = take(&ext, (uint32_t)ckpt_size);
    if (ckpt == NULL) return fail(ctx, MA_ERR_SCRATCH, "external RAM too small: decoder checkpoints need %ld bytes", (long)ckpt_size);
    ctx->ext_used = ext.used;
    ma_decode_s8_output dout = {tok_start, tok_end, w_start, w_end, w_sum, w_frames, NULL, NULL, &edge_free};
    s = ma_decode_s8(&dp, scores, frame_max, n_frames, (int32_t)cols, ids, (int32_t)nt, lens, (int32_t)nw, scratch,
                     scratch_size, ckpt, ckpt_size, &dout);
    if (s != MA_OK) return fail(ctx, s, "decoder failed (status %ld)", (long)s);

    /* characters: the k repeated spans merged back, their score columns; then confidence and warnings */
    for (uint32_t i = 0; i < ti.n_tokens; ++i) {
        ids[i] = ids[i * kf];
        tok_start[i] = tok_start[i * kf];
        tok_end[i] = tok_end[i * kf + kf - 1u];
    }
    for (uint32_t w = 0; w < nw; ++w) lens[w] = (int32_t)words[w].n_tokens;
    /* word boundaries between frames (decode.refine), in the decoder's scratch, free again */
    const int32_t refine_size = ma_refine_s8_get_scratch_size((int32_t)kf);
    if (refine_size < 0 || refine_size > ctx->scratch_bytes) {
        return fail(ctx, MA_ERR_SCRATCH, "the refinement needs %ld bytes of scratch, %ld reserved", (long)refine_size,
                    (long)ctx->scratch_bytes);
    }
    s = ma_refine_s8(scores, frame_max, n_frames, (int32_t)cols, ids, tok_start, tok_end, (int32_t)ti.n_tokens, lens,
                     (int32_t)nw, (int32_t)kf, scratch, refine_size, w_start_ms, w_end_ms);
    if (s != MA_OK) return fail(ctx, s, "boundary refinement failed (status %ld)", (long)s);
    ma_quality_input qin = {scores, frame_max, level, n_frames, (int32_t)cols, ids, tok_start, tok_end,
                            (int32_t)ti.n_tokens, lens, w_start, w_end, (int32_t)nw, (int32_t)kf, edge_free};
    ma_quality_output qout = {conf_q4, warn, max_warn, 0, 0, NULL};
    s = ma_quality_assess(&qin, q_scratch, q_scratch_size, &qout);
    if (s != MA_OK) return fail(ctx, s, "quality checks failed (status %ld)", (long)s);

    /* one JSON line per word, then one per warning; a word's first character starts and its last
     * ends where the refined word does when that leaves them a positive length (align.edge_char_ms) */
    uint32_t cap = ma_cap_ms(n);
    for (uint32_t w = 0; w < nw; ++w) {
        const ma_word_span *ws = &words[w];
        const uint32_t ws_ms = (uint32_t)w_start_ms[w], we_ms = (uint32_t)w_end_ms[w];
        for (uint32_t c = 0; c < ws->n_tokens; ++c) {
            uint32_t t = ws->first_token + c;
            uint32_t a = ma_frame_ms((uint32_t)tok_start[t]), e = ma_frame_ms((uint32_t)tok_end[t]);
            if (c == 0 && ws_ms < e) a = ws_ms;
            if (c + 1 == ws->n_tokens && we_ms > a) e = we_ms;
            jchars[c].text = MA_TOKEN_STRINGS[tokens[t]];
            jchars[c].start_ms = a;
            jchars[c].end_ms = e < cap ? e : cap;
        }
        ma_json_word jw = {transcript + ws->text_offset, ws->text_bytes, ws_ms, we_ms < cap ? we_ms : cap, conf_q4[w],
                           jchars, ws->n_tokens};
        int32_t len = ma_json_word_line(&jw, line, LINE_BYTES);
        if (len < 0) return fail(ctx, MA_ERR_SCRATCH, "word %lu does not fit a %lu-byte line", (unsigned long)w, (unsigned long)LINE_BYTES);
        s = on_word(user, w, line, (uint32_t)len, &jw);
        if (s != MA_OK) return fail(ctx, s, "stopped by the word callback at word %lu (status %ld)", (unsigned long)w, (long)s);
    }
    for (uint32_t k = 0; k < qout.n_warnings; ++k) {
        const ma_quality_warning *qw = &warn[k];
        uint32_t a = 0, b = 0; /* the words' frames, uncapped (checks.py's spans * FRAME_SECONDS) */
        if (qw->word >= 0) a = ma_frame_ms((uint32_t)w_start[qw->word]), b = ma_frame_ms((uint32_t)w_end[qw->last]);
        int32_t len = ma_quality_warning_line(qw, a, b, line, LINE_BYTES);
        if (len < 0) return fail(ctx, MA_ERR_SCRATCH, "warning %lu does not fit a line", (unsigned long)k);
        s = on_word(user, nw + k, line, (uint32_t)len, NULL);
        if (s != MA_OK) return fail(ctx, s, "stopped by the word callback at warning %lu (status %ld)", (unsigned long)k, (long)s);
    }
    return MA_OK;
}
