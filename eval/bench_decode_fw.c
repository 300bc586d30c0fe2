/*
 * Benchmark firmware for ma_decode_s8 (built by eval/bench_decode.py for QEMU mps2-an500).
 * bench_decode_case.h (generated) holds one realistic score matrix (the transcript's columns),
 * its frame maxima, its transcript and the reference outputs; the kernel runs BENCH_CALLS times
 * (instructions per call = the difference between runs with 2 and 1 calls) and the result is
 * checked against the reference. Scratch in SRAM, checkpoints in PSRAM (0x60000000, 16 MB); with BENCH_WHOLE_PATH
 * the buffer has room for the first band's whole path (ma_decode_s8_get_path_size: no replay), as the aligner gives
 * it where the external RAM allows.
 */
#include <stdint.h>
#include <stdio.h>

#include "bench_decode_case.h"
#include "ma_decode_s8.h"

#ifndef BENCH_CALLS
#define BENCH_CALLS 1
#endif
#ifndef BENCH_WHOLE_PATH
#define BENCH_WHOLE_PATH 1
#endif

static uint32_t scratch[BENCH_SCRATCH_BYTES / 4 + 1];
static int32_t ts[BENCH_TOKENS], te[BENCH_TOKENS], ws[BENCH_WORDS], we[BENCH_WORDS], wsum[BENCH_WORDS],
    wf[BENCH_WORDS];

int main(void)
{
    ma_decode_s8_params p = ma_decode_s8_default_params();
    p.band = BENCH_BAND;
    p.max_band = BENCH_MAX_BAND;
    const int32_t size = ma_decode_s8_get_scratch_size(BENCH_TOKENS, BENCH_WORDS, &p);
    const int32_t ck = BENCH_WHOLE_PATH ? ma_decode_s8_get_path_size(BENCH_FRAMES, BENCH_TOKENS, BENCH_WORDS, &p)
                                        : ma_decode_s8_get_checkpoint_size(BENCH_FRAMES, BENCH_TOKENS, BENCH_WORDS, &p);
    const int32_t want = BENCH_WHOLE_PATH ? BENCH_PATH_BYTES : BENCH_CHECKPOINT_BYTES;
    if (size != BENCH_SCRATCH_BYTES || ck != want || ck > 16 * 1024 * 1024) {
        printf("sizes %ld %ld != %ld %ld\n", (long)size, (long)ck, (long)BENCH_SCRATCH_BYTES, (long)want);
        return 2;
    }
    int32_t score = 0, status = 0;
    const ma_decode_s8_output out = {ts, te, ws, we, wsum, wf, &score, 0, 0};
    for (int i = 0; i < BENCH_CALLS; ++i) {
        status = ma_decode_s8(&p, bench_scores, bench_frame_max, BENCH_FRAMES, BENCH_VOCAB, bench_tokens,
                              BENCH_TOKENS, bench_lengths, BENCH_WORDS, scratch, size, (void *)0x60000000u, ck, &out);
    }
    int bad = status != MA_DECODE_OK || score != BENCH_PATH_SCORE;
    for (int i = 0; i < BENCH_WORDS; ++i) {
        bad |= ws[i] != bench_word_spans[2 * i] || we[i] != bench_word_spans[2 * i + 1];
    }
    printf("bench T=%d status=%ld %s\n", BENCH_FRAMES, (long)status, bad ? "MISMATCH" : "ok");
    return bad;
}
