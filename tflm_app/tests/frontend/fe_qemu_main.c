/* fe_qemu_main.c: Cortex-M7 test firmware for the frontend (QEMU mps2-an500, built by tflm_app/app/firmware.py).
 *
 * Runs ma_frontend_compute, and ma_frontend_compute_frames in chunks of 3 frames, on the cases
 * of fe_vectors.h and compares with the features Python computed. fe_vectors.h is written by
 * tests/test_frontend_c.py into the build directory (not committed); it defines
 *   FE_NUM_CASES, FE_MAX_FRAMES and fe_cases[] = {name, pcm, n, frames, want}.
 * Exit status: the number of cases that differ (0 = pass).
 */
#include <stdio.h>

#include "ma_frontend.h"

typedef struct {
    const char *name;
    const int16_t *pcm;
    int32_t n;
    int32_t frames;
    const int8_t *want; /* [frames][MA_FE_N_MELS] */
} fe_case_t;

#include "fe_vectors.h"

static int8_t out[FE_MAX_FRAMES * MA_FE_N_MELS];

static long count_diff(const int8_t *a, const int8_t *b, int32_t bytes)
{
    long d = 0;
    for (int32_t i = 0; i < bytes; i++) d += a[i] != b[i];
    return d;
}

int main(void)
{
    int failed = 0;
    for (int c = 0; c < FE_NUM_CASES; c++) {
        const fe_case_t *t = &fe_cases[c];
        const int32_t bytes = t->frames * MA_FE_N_MELS;
        long whole = -1, chunked = -1;
        if (ma_frontend_compute(t->pcm, t->n, out, FE_MAX_FRAMES) == t->frames)
            whole = count_diff(out, t->want, bytes);
        int ok = 1;
        for (int32_t f = 0; f < t->frames && ok; f += 3) {
            const int32_t cnt = t->frames - f < 3 ? t->frames - f : 3;
            ok = ma_frontend_compute_frames(t->pcm, t->n, f, cnt, out + f * MA_FE_N_MELS) == cnt;
        }
        if (ok) chunked = count_diff(out, t->want, bytes);
        printf("%-28s %5ld frames: %ld / %ld bytes differ (whole / chunked)\n", t->name, (long)t->frames,
               whole, chunked);
        failed += whole != 0 || chunked != 0;
    }
    printf("fe_qemu: %d of %d cases differ\n", failed, FE_NUM_CASES);
    return failed; /* the test-firmware convention: the number of failures */
}
