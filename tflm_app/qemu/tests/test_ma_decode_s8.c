/*
 * Test firmware for ma_decode_s8 (runs on QEMU mps2-an500 and on the host with sanitizers).
 * Cases and expected outputs come from the generated header ma_decode_s8_vectors.h
 * (microalign.decode.c_vectors, outputs of the numpy reference viterbi_align_int).
 * Every case runs twice, on scratch pre-filled with different garbage; all outputs must equal
 * the reference exactly and, on error, stay untouched. Exit code: number of failed checks (max 100).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ma_decode_s8.h"
#include "ma_decode_s8_vectors.h"

#define SCRATCH_BYTES (512 * 1024)
#define MAX_TOKENS 4096
#define MAX_WORDS 1024
#define SENTINEL 0x5A5A5A5A

static uint32_t scratch[SCRATCH_BYTES / 4];
static int32_t tok_start[MAX_TOKENS], tok_end[MAX_TOKENS];
static int32_t w_start[MAX_WORDS], w_end[MAX_WORDS], w_sum[MAX_WORDS], w_frames[MAX_WORDS];
static int failures;

static void fail(const char *name, const char *what, long got, long want)
{
    if (failures < 40) {
        printf("FAIL %s: %s got %ld want %ld\n", name, what, got, want);
    }
    ++failures;
}

static void fill(int32_t *a, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        a[i] = SENTINEL;
    }
}

static void run_case(const ma_decode_case *c, uint8_t garbage)
{
    if (c->n_tokens > MAX_TOKENS || c->n_words > MAX_WORDS) {
        fail(c->name, "test buffers too small", c->n_tokens, MAX_TOKENS);
        return;
    }
    const int32_t size = ma_decode_s8_get_buffer_size(c->n_frames, c->n_tokens, c->n_words, c->band);
    if (c->expect_scratch >= 0 ? size != c->expect_scratch : size >= 0) {
        fail(c->name, "get_buffer_size", size, c->expect_scratch);
    }
    int32_t pass = c->scratch_size >= 0 ? c->scratch_size : size;
    if (pass < 0) {
        pass = 0;
    }
    if (pass > SCRATCH_BYTES) {
        fail(c->name, "scratch arena too small", pass, SCRATCH_BYTES);
        return;
    }
    memset(scratch, garbage, SCRATCH_BYTES);
    fill(tok_start, c->n_tokens + 1);
    fill(tok_end, c->n_tokens + 1);
    fill(w_start, c->n_words + 1);
    fill(w_end, c->n_words + 1);
    fill(w_sum, c->n_words + 1);
    fill(w_frames, c->n_words + 1);
    int32_t score = SENTINEL;
    const ma_decode_s8_params p = {c->band, c->beam, c->silence_penalty};
    const ma_decode_s8_output out = {tok_start, tok_end, w_start, w_end, w_sum, w_frames, &score};
    const int32_t status = ma_decode_s8(&p, ma_decode_scores + c->scores_offset, c->n_frames, c->n_vocab,
                                        ma_decode_tokens + c->tokens_offset, c->n_tokens,
                                        ma_decode_lengths + c->words_offset, c->n_words, scratch, pass, &out);
    if (status != c->status) {
        fail(c->name, "status", status, c->status);
        return;
    }
    /* one past the end must never be written; on error nothing is written */
    const int32_t nt = status == MA_DECODE_OK ? c->n_tokens : 0;
    const int32_t nw = status == MA_DECODE_OK ? c->n_words : 0;
    for (int32_t i = nt; i <= c->n_tokens; ++i) {
        if (tok_start[i] != SENTINEL || tok_end[i] != SENTINEL) {
            fail(c->name, "token output written out of range / on error", i, nt);
        }
    }
    for (int32_t i = nw; i <= c->n_words; ++i) {
        if (w_start[i] != SENTINEL || w_end[i] != SENTINEL || w_sum[i] != SENTINEL || w_frames[i] != SENTINEL) {
            fail(c->name, "word output written out of range / on error", i, nw);
        }
    }
    if (status != MA_DECODE_OK) {
        if (score != SENTINEL) {
            fail(c->name, "path_score written on error", score, SENTINEL);
        }
        return;
    }
    if (score != c->path_score) {
        fail(c->name, "path_score", score, c->path_score);
    }
    const int32_t *et = ma_decode_expect_tokens + 2 * c->tokens_offset;
    for (int32_t i = 0; i < c->n_tokens; ++i) {
        if (tok_start[i] != et[2 * i]) fail(c->name, "token_start", tok_start[i], et[2 * i]);
        if (tok_end[i] != et[2 * i + 1]) fail(c->name, "token_end", tok_end[i], et[2 * i + 1]);
    }
    const int32_t *ew = ma_decode_expect_words + 4 * c->words_offset;
    for (int32_t i = 0; i < c->n_words; ++i) {
        if (w_start[i] != ew[4 * i]) fail(c->name, "word_start", w_start[i], ew[4 * i]);
        if (w_end[i] != ew[4 * i + 1]) fail(c->name, "word_end", w_end[i], ew[4 * i + 1]);
        if (w_sum[i] != ew[4 * i + 2]) fail(c->name, "word_score_sum", w_sum[i], ew[4 * i + 2]);
        if (w_frames[i] != ew[4 * i + 3]) fail(c->name, "word_frames", w_frames[i], ew[4 * i + 3]);
    }
}

/* API checks the generated cases cannot express: NULL pointers, misalignment, NULL params. */
static void api_checks(void)
{
    static const int8_t sc[4 * 3] = {0, -5, -9, -7, 0, -8, -9, -9, 0, 0, -3, -4};
    static const int32_t tk[2] = {1, 2}, len2[1] = {2};
    int32_t ts[2], te[2], ws[1], we[1], wsum[1], wf[1], score = 0;
    const ma_decode_s8_output out = {ts, te, ws, we, wsum, wf, &score};
    const ma_decode_s8_output no_score = {ts, te, ws, we, wsum, wf, 0};
    ma_decode_s8_output bad = out;
    const int32_t size = ma_decode_s8_get_buffer_size(4, 2, 1, 0);
    const ma_decode_s8_params p = ma_decode_s8_default_params();
    uint8_t *s8 = (uint8_t *)scratch;
    if (ma_decode_s8(0, sc, 4, 3, tk, 2, len2, 1, scratch, size, &out) != MA_DECODE_OK || ts[0] != 1 ||
        te[0] != 2 || ts[1] != 2 || te[1] != 3 || score != 0)
        fail("api", "NULL params = defaults (path sil,a,b,b)", ts[0], 1);
    if (ma_decode_s8(&p, sc, 4, 3, tk, 2, len2, 1, scratch, size, &no_score) != MA_DECODE_OK)
        fail("api", "path_score NULL allowed", 1, 0);
    if (ma_decode_s8(&p, 0, 4, 3, tk, 2, len2, 1, scratch, size, &out) != MA_DECODE_ERR_ARGUMENT)
        fail("api", "NULL scores", 1, 0);
    if (ma_decode_s8(&p, sc, 4, 3, 0, 2, len2, 1, scratch, size, &out) != MA_DECODE_ERR_ARGUMENT)
        fail("api", "NULL token_ids", 1, 0);
    if (ma_decode_s8(&p, sc, 4, 3, tk, 2, 0, 1, scratch, size, &out) != MA_DECODE_ERR_ARGUMENT)
        fail("api", "NULL word_lengths", 1, 0);
    if (ma_decode_s8(&p, sc, 4, 3, tk, 2, len2, 1, scratch, size, 0) != MA_DECODE_ERR_ARGUMENT)
        fail("api", "NULL out", 1, 0);
    bad.word_frames = 0;
    if (ma_decode_s8(&p, sc, 4, 3, tk, 2, len2, 1, scratch, size, &bad) != MA_DECODE_ERR_ARGUMENT)
        fail("api", "NULL output array", 1, 0);
    if (ma_decode_s8(&p, sc, 4, 3, tk, 2, len2, 1, 0, size, &out) != MA_DECODE_ERR_SCRATCH)
        fail("api", "NULL scratch", 1, 0);
    if (ma_decode_s8(&p, sc, 4, 3, tk, 2, len2, 1, s8 + 2, size, &out) != MA_DECODE_ERR_SCRATCH)
        fail("api", "misaligned scratch", 1, 0);
    if (ma_decode_s8(&p, sc, 4, 3, tk, 2, len2, 1, scratch, size - 1, &out) != MA_DECODE_ERR_SCRATCH)
        fail("api", "scratch one byte short", 1, 0);
    if (ma_decode_s8_get_buffer_size(0, 1, 1, 0) >= 0 || ma_decode_s8_get_buffer_size(MA_DECODE_MAX_FRAMES + 1, 1, 1, 0) >= 0 ||
        ma_decode_s8_get_buffer_size(10, 0, 1, 0) >= 0 || ma_decode_s8_get_buffer_size(10, 1, 0, 0) >= 0 ||
        ma_decode_s8_get_buffer_size(10, 1, 1, 2) >= 0 || ma_decode_s8_get_buffer_size(10, 1, 1, -1) >= 0)
        fail("api", "get_buffer_size accepts bad sizes", 1, 0);
    if (ma_decode_s8_get_buffer_size(MA_DECODE_MAX_FRAMES, MA_DECODE_MAX_FRAMES, 1, 1 << 30) >= 0)
        fail("api", "get_buffer_size overflow not reported", 1, 0);
    if (size % 4 != 0)
        fail("api", "get_buffer_size not a multiple of 4", size, 0);
}

int main(void)
{
    api_checks();
    for (int32_t i = 0; i < MA_DECODE_N_CASES; ++i) {
        run_case(&ma_decode_cases[i], 0x00);
        run_case(&ma_decode_cases[i], 0xA5);
    }
    printf("ma_decode_s8: %d cases, %d failed checks\n", MA_DECODE_N_CASES, failures);
    return failures > 100 ? 100 : failures;
}
