/* fe_insn_main.c: QEMU firmware for eval/bench_frontend.py --qemu-insn (instructions per frame).
 *
 * Computes ma_frontend_compute_frame FE_BENCH_REPEAT times on each frame of fe_bench_frames.h
 * (written by the benchmark into the build directory: FE_BENCH_NUM_FRAMES, fe_bench_frames[][WIN],
 * fe_bench_want[][N_MELS] from features_from_pcm) and checks every result. Built once with
 * FE_BENCH_REPEAT=0 and once with a positive count, the difference of qemu-insn's totals divided by
 * the number of frames computed is the instructions per frame, everything included.
 * Exit status: the number of frames that differ (0 = pass).
 */
#include <stdio.h>
#include <string.h>

#include "ma_frontend.h"

#include "fe_bench_frames.h"

#ifndef FE_BENCH_REPEAT
#define FE_BENCH_REPEAT 1
#endif

int main(void)
{
    int failed = 0;
    for (int f = 0; f < FE_BENCH_NUM_FRAMES; f++) {
        int8_t out[MA_FE_N_MELS];
        memcpy(out, fe_bench_want[f], sizeof out);
        for (int r = 0; r < FE_BENCH_REPEAT; r++) ma_frontend_compute_frame(fe_bench_frames[f], out);
        failed += memcmp(out, fe_bench_want[f], sizeof out) != 0;
    }
    printf("fe_insn: %d frames x %d repeats, %d differ\n", FE_BENCH_NUM_FRAMES, FE_BENCH_REPEAT, failed);
    return failed;
}
