/*
 * Test firmware for ma_decode_s8 (runs on QEMU mps2-an500 and on the host with sanitizers).
 * Cases and expected outputs come from the generated header ma_decode_s8_vectors.h
 * (microalign.decode.c_vectors, outputs of the numpy reference viterbi_align_int).
 * Every case runs twice, on scratch and checkpoint memory pre-filled with different garbage; all
 * outputs must equal the reference exactly and, on error, stay untouched. The scratch is a static
 * SRAM array; the checkpoint buffer is the PSRAM of mps2-an500 (0x60000000, 16 MB: the stand-in
 * for the STM32H743's external SDRAM) under QEMU and a heap block of exactly the requested size on
 * the host (so AddressSanitizer sees any overrun). Exit code: number of failed checks (max 100).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ma_decode_s8.h"
#include "ma_decode_s8_vectors.h"

#define SCRATCH_BYTES (64 * 1024) /* the decoder's SRAM budget is 48 KB with the defaults */
#define MAX_TOKENS 8192
#define MAX_WORDS 4096
#define SENTINEL 0x5A5A5A5A

static uint32_t scratch[SCRATCH_BYTES / 4];
#ifdef __arm__
#define PSRAM_BYTES (16 * 1024 * 1024)
static void *checkpoint_alloc(int32_t n) { return n <= PSRAM_BYTES ? (void *)0x60000000u : 0; }
static void checkpoint_free(void *p) { (void)p; }
#else
static void *checkpoint_alloc(int32_t n) { return malloc(n > 0 ? (size_t)n : 4u); }
static void checkpoint_free(void *p) { free(p); }
#endif
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

/* whole_path: give the decoder ma_decode_s8_get_path_size bytes (the first band's traceback reads the stored path
 * instead of replaying checkpoints) where the case sizes the buffer by the API; the same outputs either way. */
static int whole_path_runs;

static void run_case(const ma_decode_case *c, uint8_t garbage, int whole_path)
{
    if (c->n_tokens > MAX_TOKENS || c->n_words > MAX_WORDS) {
        fail(c->name, "test buffers too small", c->n_tokens, MAX_TOKENS);
        return;
    }
    const ma_decode_s8_params p = {c->band, c->max_band, c->interval, c->beam, c->silence_penalty};
    const int32_t size = ma_decode_s8_get_scratch_size(c->n_tokens, c->n_words, &p);
    if (c->expect_scratch >= 0 ? size != c->expect_scratch : size >= 0) {
        fail(c->name, "get_scratch_size", size, c->expect_scratch);
    }
    const int32_t ck_size = ma_decode_s8_get_checkpoint_size(c->n_frames, c->n_tokens, c->n_words, &p);
    if (c->expect_checkpoint >= 0 ? ck_size != c->expect_checkpoint : ck_size >= 0) {
        fail(c->name, "get_checkpoint_size", ck_size, c->expect_checkpoint);
    }
    int32_t pass = c->scratch_size >= 0 ? c->scratch_size : size;
    int32_t ck_pass = c->checkpoint_size >= 0 ? c->checkpoint_size : ck_size;
    if (whole_path) {
        const int32_t path_size = ma_decode_s8_get_path_size(c->n_frames, c->n_tokens, c->n_words, &p);
        if (c->expect_path >= 0 ? path_size != c->expect_path : path_size >= 0)
            fail(c->name, "get_path_size", path_size, c->expect_path);
        if (c->checkpoint_size >= 0 || ck_size < 0) return; /* a buffer the case sizes itself, or no valid size */
        ck_pass = path_size;
        ++whole_path_runs;
    }
    if (pass < 0) {
        pass = 0;
    }
    if (ck_pass < 0) {
        ck_pass = 0;
    }
    if (pass > SCRATCH_BYTES) {
        fail(c->name, "scratch arena too small", pass, SCRATCH_BYTES);
        return;
    }
    void *ckpt = checkpoint_alloc(ck_pass);
    if (ckpt == 0) {
        fail(c->name, "checkpoint memory too small", ck_pass, 0);
        return;
    }
    memset(scratch, garbage, SCRATCH_BYTES);
    memset(ckpt, garbage ^ 0x3C, (size_t)ck_pass);
    fill(tok_start, c->n_tokens + 1);
    fill(tok_end, c->n_tokens + 1);
    fill(w_start, c->n_words + 1);
    fill(w_end, c->n_words + 1);
    fill(w_sum, c->n_words + 1);
    fill(w_frames, c->n_words + 1);
    int32_t score = SENTINEL, band = SENTINEL, edge_free = SENTINEL;
    const ma_decode_s8_output out = {tok_start, tok_end, w_start, w_end, w_sum, w_frames, &score, &band, &edge_free};
    const int8_t *fmax = c->frame_max_offset >= 0 ? ma_decode_frame_max + c->frame_max_offset : 0;
    const int32_t status = ma_decode_s8(&p, ma_decode_scores + c->scores_offset, fmax, c->n_frames, c->n_vocab,
                                        ma_decode_tokens + c->tokens_offset, c->n_tokens,
                                        ma_decode_lengths + c->words_offset, c->n_words, scratch, pass, ckpt, ck_pass,
                                        &out);
    checkpoint_free(ckpt);
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
        if (score != SENTINEL || band != SENTINEL || edge_free != SENTINEL) {
            fail(c->name, "path_score / band / edge_free written on error", score, SENTINEL);
        }
        return;
    }
    if (score != c->path_score) {
        fail(c->name, "path_score", score, c->path_score);
    }
    if (band != c->expect_band) {
        fail(c->name, "band", band, c->expect_band);
    }
    if (edge_free != c->expect_edge_free) {
        fail(c->name, "edge_free", edge_free, c->expect_edge_free);
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

/* API checks the generated cases cannot express: NULL pointers, misalignment, NULL params, limits. */
static void api_checks(void)
{
    static const int8_t sc[4 * 3] = {0, -5, -9, -7, 0, -8, -9, -9, 0, 0, -3, -4};
    static const int32_t tk[2] = {1, 2}, len2[1] = {2};
    static uint32_t ck[64];
    int32_t ts[2], te[2], ws[1], we[1], wsum[1], wf[1], score = 0, band = 0, ef = 0;
    const ma_decode_s8_output out = {ts, te, ws, we, wsum, wf, &score, &band, &ef};
    const ma_decode_s8_output no_score = {ts, te, ws, we, wsum, wf, 0, 0, 0};
    ma_decode_s8_output bad = out;
    const ma_decode_s8_params p = ma_decode_s8_default_params();
    const int32_t size = ma_decode_s8_get_scratch_size(2, 1, &p);
    const int32_t cks = ma_decode_s8_get_checkpoint_size(4, 2, 1, &p);
    uint8_t *s8 = (uint8_t *)scratch;
    if (cks < 0 || cks > (int32_t)sizeof ck) {
        fail("api", "checkpoint size of a 4-frame case", cks, (long)sizeof ck);
        return;
    }
    if (ma_decode_s8(0, sc, 0, 4, 3, tk, 2, len2, 1, scratch, size, ck, cks, &out) != MA_DECODE_OK || ts[0] != 1 ||
        te[0] != 2 || ts[1] != 2 || te[1] != 3 || score != 0 || band != 4 || ef != 1)
        fail("api", "NULL params = defaults (path sil,a,b,b; W = S = 4, exact)", ts[0], 1);
    if (ma_decode_s8_get_scratch_size(2, 1, 0) != size || ma_decode_s8_get_checkpoint_size(4, 2, 1, 0) != cks)
        fail("api", "NULL params in the size functions = defaults", size, cks);
    if (ma_decode_s8(&p, sc, 0, 4, 3, tk, 2, len2, 1, scratch, size, ck, cks, &no_score) != MA_DECODE_OK)
        fail("api", "path_score / band / edge_free NULL allowed", 1, 0);
    if (ma_decode_s8(&p, 0, 0, 4, 3, tk, 2, len2, 1, scratch, size, ck, cks, &out) != MA_DECODE_ERR_ARGUMENT)
        fail("api", "NULL scores", 1, 0);
    if (ma_decode_s8(&p, sc, 0, 4, 3, 0, 2, len2, 1, scratch, size, ck, cks, &out) != MA_DECODE_ERR_ARGUMENT)
        fail("api", "NULL token_ids", 1, 0);
    if (ma_decode_s8(&p, sc, 0, 4, 3, tk, 2, 0, 1, scratch, size, ck, cks, &out) != MA_DECODE_ERR_ARGUMENT)
        fail("api", "NULL word_lengths", 1, 0);
    if (ma_decode_s8(&p, sc, 0, 4, 3, tk, 2, len2, 1, scratch, size, ck, cks, 0) != MA_DECODE_ERR_ARGUMENT)
        fail("api", "NULL out", 1, 0);
    bad.word_frames = 0;
    if (ma_decode_s8(&p, sc, 0, 4, 3, tk, 2, len2, 1, scratch, size, ck, cks, &bad) != MA_DECODE_ERR_ARGUMENT)
        fail("api", "NULL output array", 1, 0);
    if (ma_decode_s8(&p, sc, 0, 4, 3, tk, 2, len2, 1, 0, size, ck, cks, &out) != MA_DECODE_ERR_SCRATCH)
        fail("api", "NULL scratch", 1, 0);
    if (ma_decode_s8(&p, sc, 0, 4, 3, tk, 2, len2, 1, s8 + 2, size, ck, cks, &out) != MA_DECODE_ERR_SCRATCH)
        fail("api", "misaligned scratch", 1, 0);
    if (ma_decode_s8(&p, sc, 0, 4, 3, tk, 2, len2, 1, scratch, size - 1, ck, cks, &out) != MA_DECODE_ERR_SCRATCH)
        fail("api", "scratch one byte short", 1, 0);
    if (ma_decode_s8(&p, sc, 0, 4, 3, tk, 2, len2, 1, scratch, size, 0, cks, &out) != MA_DECODE_ERR_SCRATCH)
        fail("api", "NULL checkpoints", 1, 0);
    if (ma_decode_s8(&p, sc, 0, 4, 3, tk, 2, len2, 1, scratch, size, (uint8_t *)ck + 1, cks, &out) !=
        MA_DECODE_ERR_SCRATCH)
        fail("api", "misaligned checkpoints", 1, 0);
    if (ma_decode_s8(&p, sc, 0, 4, 3, tk, 2, len2, 1, scratch, size, ck, cks - 1, &out) != MA_DECODE_ERR_SCRATCH)
        fail("api", "checkpoints one byte short", 1, 0);
    if (ma_decode_s8_get_checkpoint_size(0, 1, 1, &p) >= 0 ||
        ma_decode_s8_get_checkpoint_size(MA_DECODE_MAX_FRAMES + 1, 1, 1, &p) >= 0 ||
        ma_decode_s8_get_scratch_size(0, 1, &p) >= 0 || ma_decode_s8_get_scratch_size(1, 0, &p) >= 0 ||
        ma_decode_s8_get_checkpoint_size(10, 0, 1, &p) >= 0 || ma_decode_s8_get_checkpoint_size(10, 1, 0, &p) >= 0)
        fail("api", "size functions accept bad sizes", 1, 0);
    {
        ma_decode_s8_params q = p;
        q.band = 2;
        if (ma_decode_s8_get_scratch_size(1, 1, &q) >= 0) fail("api", "band 2 accepted", 1, 0);
        q.band = -1;
        if (ma_decode_s8_get_scratch_size(1, 1, &q) >= 0) fail("api", "band -1 accepted", 1, 0);
        q = p;
        q.checkpoint_interval = -1;
        if (ma_decode_s8_get_checkpoint_size(10, 1, 1, &q) >= 0) fail("api", "interval -1 accepted", 1, 0);
        q = p;
        q.checkpoint_interval = 1;
        q.max_band = MA_DECODE_MAX_BAND;
        if (ma_decode_s8_get_checkpoint_size(MA_DECODE_MAX_FRAMES, MA_DECODE_MAX_FRAMES, 1, &q) >= 0)
            fail("api", "checkpoint size overflow not reported", 1, 0);
    }
    /* the SRAM bound: at most 48 KB with the defaults, whatever the length */
    if (ma_decode_s8_get_scratch_size(MA_DECODE_MAX_FRAMES, 1, &p) > 48 * 1024)
        fail("api", "default scratch exceeds 48 KB", ma_decode_s8_get_scratch_size(MA_DECODE_MAX_FRAMES, 1, &p),
             48 * 1024);
    if (size % 4 != 0 || cks % 4 != 0)
        fail("api", "sizes not a multiple of 4", size, cks);
}

int main(void)
{
    api_checks();
    for (int32_t i = 0; i < MA_DECODE_N_CASES; ++i) {
        run_case(&ma_decode_cases[i], 0x00, 0);
        run_case(&ma_decode_cases[i], 0xA5, 0);
        run_case(&ma_decode_cases[i], 0x5A, 1);
    }
    printf("ma_decode_s8: %d cases (%d also with the whole path stored), %d failed checks\n", MA_DECODE_N_CASES,
           whole_path_runs, failures);
    return failures > 100 ? 100 : failures;
}
