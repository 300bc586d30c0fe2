/* fe_reference.c: steps 2-4 straight from the definition in features.py (direct DFT, no folding).
 * The test oracle for ma_frontend_power_frame in C (fe_cli fuzz) and the baseline the benchmark
 * compares against; not part of the firmware. */
#define MA_FE_DEFINE_TABLES
#include "fe_reference.h"

void fe_reference_power_frame(const int16_t *x, int64_t *pw)
{
    int32_t xw[MA_FE_WIN];
    for (int32_t n = 0; n < MA_FE_WIN; n++) xw[n] = ((int32_t)x[n] * MA_FE_WINDOW_Q15[n] + (1 << 14)) >> 15;
    for (int32_t k = 0; k < MA_FE_N_BINS; k++) {
        int64_t re = 0, im = 0;
        for (int32_t n = 0; n < MA_FE_WIN; n++) {
            const int32_t m = (k * n) % MA_FE_N_FFT;
            re += (int64_t)xw[n] * MA_FE_COS_Q15[m];
            im += (int64_t)xw[n] * MA_FE_SIN_Q15[m];
        }
        const int64_t half = (int64_t)1 << (MA_FE_DFT_SHIFT - 1);
        const int64_t r = (re + half) >> MA_FE_DFT_SHIFT, i = (im + half) >> MA_FE_DFT_SHIFT;
        pw[k] = (r * r + i * i) >> MA_FE_POWER_SHIFT;
    }
}
