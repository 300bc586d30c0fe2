/* Test firmware (host + Cortex-M7 under QEMU) for the aligner application without TFLM: the whole
 * ma_aligner_align path -- audio source, transcript parsing, the C frontend window by window, the
 * owner rule, compaction, ma_decode_s8 with the duration floor, JSON lines -- with a replay model
 * that checks each window's features against Python's and returns the int8 scores the host's TFLM
 * backend computed for that window (ma_aligner_vectors.h, written by tests/test_app_aligner.py).
 * The JSON lines must equal Python's byte for byte; bad inputs must give their status. Prints each
 * line ("line: ...") and returns the number of failed checks. */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "ma_aligner.h"
#include "ma_aligner_vectors.h"
#include "microalign_aligner_config.h"

#include "ma_check.h"

/* ---- the replay model ---- */
struct ma_model {
    const int8_t *feats;  /* expected windows [n][W][M] */
    const int8_t *scores; /* [n][W][V] */
    uint32_t n, next, feature_mismatches;
};

/* ma_model_input: the aligner computes each window here; clobbered by every run, as TFLM's arena
 * planner may reuse an input tensor for activations */
static int8_t replay_input[V_W * V_M];

ma_status ma_model_get_info(ma_model *m, ma_model_info *info)
{
    (void)m;
    info->window_frames = V_W;
    info->n_mels = V_M;
    info->n_vocab = V_V;
    info->scale = V_SCALE;
    info->zero_point = V_ZERO_POINT;
    return MA_OK;
}

int8_t *ma_model_input(ma_model *m)
{
    (void)m;
    return replay_input;
}

ma_status ma_model_run_window(ma_model *m, const int8_t *feats, const int8_t **scores)
{
    if (m->next >= m->n) return MA_ERR_MODEL;
    if (feats != replay_input) ++m->feature_mismatches; /* the aligner must use the model's own buffer */
    if (memcmp(feats, m->feats + (size_t)m->next * V_W * V_M, (size_t)V_W * V_M) != 0) ++m->feature_mismatches;
    memset(replay_input, 0x5A, sizeof replay_input);
    *scores = m->scores + (size_t)m->next * V_W * V_V;
    ++m->next;
    return MA_OK;
}

/* ---- audio source over a const array, in pieces of 997 samples ---- */
typedef struct {
    const int16_t *pcm;
    uint32_t n, pos;
} mem_audio;

static ma_status read_audio(void *user, int16_t *dst, uint32_t max, uint32_t *got)
{
    mem_audio *a = (mem_audio *)user;
    uint32_t k = a->n - a->pos < max ? a->n - a->pos : max;
    k = k < 997u ? k : 997u;
    memcpy(dst, a->pcm + a->pos, 2u * k);
    a->pos += k;
    *got = k;
    return MA_OK;
}

typedef struct {
    const char *expected; /* all lines, concatenated */
    uint32_t offset, words, stop_at;
    int mismatch;
} sink_t;

static ma_status on_word(void *user, uint32_t index, const char *line, uint32_t len, const ma_json_word *w)
{
    sink_t *s = (sink_t *)user;
    (void)w;
    if (s->stop_at && index + 1u == s->stop_at) return MA_ERR_IO;
    printf("line: %s", line);
    if (strncmp(s->expected + s->offset, line, len) != 0 || index != s->words) s->mismatch = 1;
    s->offset += len;
    s->words++;
    return MA_OK;
}

static uint8_t sram[MA_DECODE_SRAM_BYTES + MA_ALIGNER_FIXED_SRAM_BYTES] MA_IN_AXISRAM __attribute__((aligned(8)));
static uint8_t ext_ram[2 * 1024 * 1024] MA_IN_EXTRAM __attribute__((aligned(8)));

static ma_status run(int c, const char *text, uint32_t text_len, const int16_t *pcm, uint32_t n, sink_t *sink,
                     ma_model *model, char *err, size_t err_size, ma_aligner_stats *stats)
{
    ma_aligner_params p = ma_aligner_default_params();
    p.model = model;
    ma_aligner_memory mem = {sram, sizeof sram, ext_ram, sizeof ext_ram};
    ma_aligner *ctx = NULL;
    ma_status s = ma_aligner_init(&p, &mem, &ctx);
    if (s != MA_OK) {
        snprintf(err, err_size, "init: %s", ma_status_str(s));
        return s;
    }
    mem_audio a = {pcm, n, 0};
    ma_audio_source src = {read_audio, &a, n};
    s = ma_aligner_align(ctx, &src, text, text_len, on_word, sink);
    snprintf(err, err_size, "%s", ma_aligner_error(ctx));
    if (stats != NULL && ma_aligner_get_stats(ctx, stats) != MA_OK) memset(stats, 0xFF, sizeof *stats);
    uint32_t used_sram = 0, used_ext = 0;
    if (s == MA_OK && ma_aligner_memory_used(ctx, &used_sram, &used_ext) == MA_OK) {
        printf("memory: %lu samples: aligner SRAM %lu bytes, external %lu bytes\n", (unsigned long)n,
               (unsigned long)used_sram, (unsigned long)used_ext);
    }
    (void)c;
    return s;
}

int main(void)
{
    char err[200];
    for (int c = 0; c < V_N_CASES; ++c) {
        const v_case *vc = &V_CASES[c];
        ma_model model = {vc->feats, vc->scores, vc->n_windows, 0, 0};
        sink_t sink = {vc->lines, 0, 0, 0, 0};
        ma_aligner_stats st;
        ma_status s = run(c, vc->text, (uint32_t)strlen(vc->text), vc->pcm, vc->n_samples, &sink, &model, err, sizeof err, &st);
        CHECK(s == MA_OK, "case %d: %s (%s)", c, ma_status_str(s), err);
        /* each frame through the frontend once, the windows' shared frames carried (the replay model has
         * checked every window's features, carried ones included, against Python's) */
        CHECK(st.frames == vc->n_frames && st.frontend_frames == vc->n_frames && st.carried_frames == vc->carried &&
              st.windows == vc->n_windows, "case %d: stats %lu frames, %lu computed, %lu carried, %lu windows; expected "
              "%lu, %lu, %lu, %lu", c, (unsigned long)st.frames, (unsigned long)st.frontend_frames,
              (unsigned long)st.carried_frames, (unsigned long)st.windows, (unsigned long)vc->n_frames,
              (unsigned long)vc->n_frames, (unsigned long)vc->carried, (unsigned long)vc->n_windows);
        CHECK(model.next == vc->n_windows && model.feature_mismatches == 0, "case %d: %lu windows run, %lu with other features",
              c, (unsigned long)model.next, (unsigned long)model.feature_mismatches);
        CHECK(!sink.mismatch && sink.words == vc->n_words && sink.offset == strlen(vc->lines),
              "case %d: JSON lines differ from Python's (%lu words)", c, (unsigned long)sink.words);
        printf("case %d: %lu words, %lu windows, %lu of %lu frames computed, %lu carried\n", c, (unsigned long)sink.words,
               (unsigned long)model.next, (unsigned long)st.frontend_frames, (unsigned long)st.frames,
               (unsigned long)st.carried_frames);
    }

    /* bad input: each with its status, nothing emitted */
    const v_case *vc = &V_CASES[V_N_CASES - 1];
    static const int16_t silence[4000];
    static const char long_text[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    struct {
        const char *what, *text;
        const int16_t *pcm;
        uint32_t n;
        ma_status want;
        const char *message;
    } bad[] = {
        {"empty transcript", " \n", vc->pcm, vc->n_samples, MA_ERR_TOKEN, "empty transcript: nothing to align"},
        {"upper case", "Hello world", vc->pcm, vc->n_samples, MA_ERR_TOKEN, "transcript byte 0 is not"},
        {"digit", "room 101", vc->pcm, vc->n_samples, MA_ERR_TOKEN, "transcript byte 5 is not"},
        {"empty audio", "hello", vc->pcm, 0, MA_ERR_TOO_SHORT, "audio is empty"},
        {"silent audio", "hello", silence, 4000, MA_ERR_TOO_SHORT, "audio is silent (peak 0 of 32767)"},
        {"more characters than frames", long_text, vc->pcm, 16000, MA_ERR_TOO_SHORT,
         "transcript too long for the audio: 214 characters, 100 frames"},
        {"audio larger than external RAM", "hello", vc->pcm, sizeof ext_ram, MA_ERR_SCRATCH,
         "external RAM of 2097152 bytes cannot hold 2097152 samples"},
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        ma_model model = {vc->feats, vc->scores, vc->n_windows, 0, 0};
        sink_t sink = {"", 0, 0, 0, 0};
        ma_status s = run(0, bad[i].text, (uint32_t)strlen(bad[i].text), bad[i].pcm, bad[i].n, &sink, &model, err, sizeof err,
                          NULL);
        CHECK(s == bad[i].want && sink.words == 0 && strstr(err, bad[i].message) != NULL, "%s: %s (%s), expected %s (%s)",
              bad[i].what, ma_status_str(s), err, ma_status_str(bad[i].want), bad[i].message);
        printf("bad input, %s: %s: %s\n", bad[i].what, ma_status_str(s), err);
    }
    /* the callback stops the run: its status comes back */
    {
        ma_model model = {vc->feats, vc->scores, vc->n_windows, 0, 0};
        sink_t sink = {vc->lines, 0, 0, 2, 0};
        ma_status s = run(0, vc->text, (uint32_t)strlen(vc->text), vc->pcm, vc->n_samples, &sink, &model, err, sizeof err,
                          NULL);
        CHECK(s == MA_ERR_IO && sink.words == 1, "callback stop: %s after %lu words", ma_status_str(s), (unsigned long)sink.words);
    }
    /* SRAM is placed at init, the same for every recording: ma_aligner_sram_size bytes suffice (the
     * sample aligns in exactly that much), fewer are refused at init with the bytes needed, not overrun */
    {
        ma_aligner_params p = ma_aligner_default_params();
        ma_model model = {vc->feats, vc->scores, vc->n_windows, 0, 0};
        p.model = &model;
        const int32_t need = ma_aligner_sram_size(&p);
        CHECK(need > MA_DECODE_SRAM_BYTES / 2 && need <= MA_DECODE_SRAM_BYTES + (int32_t)MA_ALIGNER_FIXED_SRAM_BYTES &&
              need % 8 == 0, "ma_aligner_sram_size %ld", (long)need);
        char want[80];
        snprintf(want, sizeof want, "SRAM of %ld bytes is too small: the aligner needs %ld", (long)need - 8, (long)need);
        ma_aligner_memory mem = {sram, (uint32_t)need - 8u, ext_ram, sizeof ext_ram};
        ma_aligner *ctx = NULL;
        ma_status s = ma_aligner_init(&p, &mem, &ctx);
        CHECK(s == MA_ERR_SCRATCH && ctx != NULL && strstr(ma_aligner_error(ctx), want) != NULL, "%ld bytes of SRAM: %s (%s)",
              (long)need - 8, ma_status_str(s), ctx ? ma_aligner_error(ctx) : "no context");
        mem_audio a = {vc->pcm, vc->n_samples, 0};
        ma_audio_source src = {read_audio, &a, vc->n_samples};
        sink_t sink = {vc->lines, 0, 0, 0, 0};
        if (ctx != NULL) {
            s = ma_aligner_align(ctx, &src, vc->text, (uint32_t)strlen(vc->text), on_word, &sink);
            CHECK(s == MA_ERR_ARGUMENT && sink.words == 0 && model.next == 0, "align after a failed init: %s, %lu words",
                  ma_status_str(s), (unsigned long)sink.words);
        }
        mem.sram_bytes = (uint32_t)need;
        ctx = NULL;
        CHECK(ma_aligner_init(&p, &mem, &ctx) == MA_OK, "init with %ld bytes of SRAM", (long)need);
        s = ma_aligner_align(ctx, &src, vc->text, (uint32_t)strlen(vc->text), on_word, &sink);
        uint32_t used_sram = 0, used_ext = 0;
        ma_aligner_memory_used(ctx, &used_sram, &used_ext);
        CHECK(s == MA_OK && !sink.mismatch && sink.words == vc->n_words && used_sram == (uint32_t)need,
              "%ld bytes of SRAM: %s (%s), %lu words, %lu bytes used", (long)need, ma_status_str(s), ma_aligner_error(ctx),
              (unsigned long)sink.words, (unsigned long)used_sram);
        /* the transcript limits still hold (the arrays are in external RAM, sized by the transcript) */
        p.max_words = 2;
        p.max_tokens = 4096;
        ctx = NULL;
        CHECK(ma_aligner_init(&p, &mem, &ctx) == MA_OK, "init with max_words 2");
        mem_audio a2 = {vc->pcm, vc->n_samples, 0};
        ma_audio_source src2 = {read_audio, &a2, vc->n_samples};
        sink_t sink2 = {"", 0, 0, 0, 0};
        s = ma_aligner_align(ctx, &src2, vc->text, (uint32_t)strlen(vc->text), on_word, &sink2);
        CHECK(s == MA_ERR_TOO_SHORT && sink2.words == 0 && strstr(ma_aligner_error(ctx), "longer than max_words") != NULL,
              "max_words 2: %s (%s)", ma_status_str(s), ma_aligner_error(ctx));
        p.model = NULL;
        CHECK(ma_aligner_init(&p, &mem, &ctx) == MA_ERR_ARGUMENT && ctx == NULL, "init without a model");
    }
#ifndef MA_BOARD_HOST
    printf("stack: %lu bytes used\n", (unsigned long)ma_board_stack_used());
#endif
    printf("aligner: %d cases, %d failures\n", V_N_CASES, failures);
    return failures;
}
