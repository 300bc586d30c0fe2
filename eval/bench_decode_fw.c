/*
 * Benchmark firmware for ma_decode_s8 (built by eval/bench_decode.py for QEMU mps2-an500).
 * bench_decode_case.h (generated) holds one realistic score matrix, its transcript and the
 * reference outputs; the kernel runs BENCH_CALLS times (instructions per call = the difference
 * between runs with 2 and 1 calls) and the result is checked against the reference.
 */
#include <stdint.h>
#include <stdio.h>

#include "bench_decode_case.h"
#include "ma_decode_s8.h"

#ifndef BENCH_CALLS
#define BENCH_CALLS 1
#endif

static uint32_t scratch[BENCH_SCRATCH_BYTES / 4 + 1];
static int32_t ts[BENCH_TOKENS], te[BENCH_TOKENS], ws[BENCH_WORDS], we[BENCH_WORDS], wsum[BENCH_WORDS],
    wf[BENCH_WORDS];

int main(void)
{
    const ma_decode_s8_params p = {BENCH_BAND, MA_DECODE_DEFAULT_BEAM, 0};
    const int32_t size = ma_decode_s8_get_buffer_size(BENCH_FRAMES, BENCH_TOKENS, BENCH_WORDS, BENCH_BAND);
    if (size != BENCH_SCRATCH_BYTES) {
        printf("scratch size %ld != %ld\n", (long)size, (long)BENCH_SCRATCH_BYTES);
        return 2;
    }
    int32_t score = 0, status = 0;
    const ma_decode_s8_output out = {ts, te, ws, we, wsum, wf, &score};
    for (int i = 0; i < BENCH_CALLS; ++i) {
        status = ma_decode_s8(&p, bench_scores, BENCH_FRAMES, BENCH_VOCAB, bench_tokens, BENCH_TOKENS, bench_lengths,
                              BENCH_WORDS, scratch, size, &out);
    }
    int bad = status != MA_DECODE_OK || score != BENCH_PATH_SCORE;
    for (int i = 0; i < BENCH_WORDS; ++i) {
        bad |= ws[i] != bench_word_spans[2 * i] || we[i] != bench_word_spans[2 * i + 1];
    }
    printf("bench T=%d status=%ld %s\n", BENCH_FRAMES, (long)status, bad ? "MISMATCH" : "ok");
    return bad;
}
