/*
 * Test firmware for ma_refine_s8 (runs on QEMU mps2-an500 and on the host with sanitizers).
 * Cases and expected outputs come from the generated header ma_refine_s8_vectors.h
 * (microalign.decode.refine_vectors, outputs of the numpy reference refine_int). Every case runs
 * twice, on scratch pre-filled with different garbage; the outputs must equal the reference
 * exactly and, on error, stay untouched. Exit code: number of failed checks (max 100).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ma_check.h"
#include "ma_refine_s8.h"
#include "ma_refine_s8_vectors.h"

#define SCRATCH_BYTES (16 * 1024)
#define MAX_WORDS 512
#define SENTINEL 0x5A5A5A5A

static uint32_t scratch[SCRATCH_BYTES / 4];
static int32_t start_ms[MAX_WORDS], end_ms[MAX_WORDS];

int main(void)
{
    int32_t n_ok = 0;
    for (int32_t i = 0; i < MA_REFINE_N_CASES; ++i) {
        const ma_refine_case *c = &MA_REFINE_CASES[i];
        CHECK(c->n_words <= MAX_WORDS, "%s: %ld words", c->name, (long)c->n_words);
        const int32_t need = ma_refine_s8_get_scratch_size(c->k);
        const int32_t size = c->scratch >= 0 ? c->scratch : need;
        CHECK(size <= SCRATCH_BYTES, "%s: scratch %ld", c->name, (long)size);
        for (int32_t run = 0; run < 2; ++run) {
            memset(scratch, run ? 0xA5 : 0x00, sizeof scratch);
            for (int32_t w = 0; w < MAX_WORDS; ++w) start_ms[w] = end_ms[w] = SENTINEL;
            const int32_t s = ma_refine_s8(c->scores, c->frame_max, c->n_frames, c->n_cols, c->ids, c->tok_start,
                                           c->tok_end, c->n_tokens, c->lens, c->n_words, c->k, scratch, size,
                                           start_ms, end_ms);
            CHECK(s == c->status, "%s: status %ld want %ld", c->name, (long)s, (long)c->status);
            for (int32_t w = 0; w < c->n_words; ++w) {
                const int32_t ws = c->status == 0 ? c->start_ms[w] : SENTINEL;
                const int32_t we = c->status == 0 ? c->end_ms[w] : SENTINEL;
                CHECK(start_ms[w] == ws, "%s run %ld: start_ms[%ld] %ld want %ld", c->name, (long)run, (long)w,
                      (long)start_ms[w], (long)ws);
                CHECK(end_ms[w] == we, "%s run %ld: end_ms[%ld] %ld want %ld", c->name, (long)run, (long)w,
                      (long)end_ms[w], (long)we);
                if (failures > 100) return 100;
            }
        }
        n_ok += c->status == 0;
    }
    /* the API's own argument checks */
    const ma_refine_case *c = &MA_REFINE_CASES[0];
    CHECK(ma_refine_s8_get_scratch_size(0) < 0, "k = 0 accepted");
    CHECK(ma_refine_s8(NULL, c->frame_max, c->n_frames, c->n_cols, c->ids, c->tok_start, c->tok_end, c->n_tokens,
                       c->lens, c->n_words, c->k, scratch, SCRATCH_BYTES, start_ms, end_ms) == MA_ERR_ARGUMENT,
          "NULL scores accepted");
    CHECK(ma_refine_s8(c->scores, c->frame_max, c->n_frames, c->n_cols, c->ids, c->tok_start, c->tok_end,
                       c->n_tokens, c->lens, c->n_words, c->k, (uint8_t *)scratch + 2, SCRATCH_BYTES - 4, start_ms,
                       end_ms) == MA_ERR_SCRATCH,
          "misaligned scratch accepted");
    printf("ma_refine_s8: %ld cases (%ld refined), scratch %ld bytes for k = 3, %d failed checks\n",
           (long)MA_REFINE_N_CASES, (long)n_ok, (long)ma_refine_s8_get_scratch_size(3), failures);
    return failures > 100 ? 100 : failures;
}
