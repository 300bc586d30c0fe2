/* fe_cli.c: host driver for tests/test_frontend_c.py (not part of the firmware).
 *
 *   fe_cli features IN OUT [CHUNK]  IN: raw int16 little-endian PCM; OUT: int8 [frames][N_MELS].
 *                                   With CHUNK > 0 the frames come from ma_frontend_compute_frames
 *                                   in chunks of CHUNK frames instead of ma_frontend_compute.
 *   fe_cli power IN OUT             IN: int16 frames of WIN samples; OUT: int64 [frames][N_BINS].
 *   fe_cli args                     argument checks of the public API; exit 0 when all pass.
 *   fe_cli fuzz FRAMES SEED         FRAMES random frames (uniform, +-full scale, scaled, impulses,
 *                                   constants, square waves): ma_frontend_power_frame_dft (the
 *                                   folded "dft" definition) against the direct DFT of
 *                                   fe_reference.c; exit 0 when all are equal. (The "fft"
 *                                   definition is compared with Python on random frames instead.)
 * Build with -DMA_FE_DEFINITION_FFT=0/1 to select the definition `features` and `power` use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fe_reference.h"
#include "ma_frontend.h"

static int16_t *read_pcm(const char *path, int32_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    int16_t *pcm = malloc(bytes > 0 ? (size_t)bytes : 1);
    if (pcm && fread(pcm, 1, (size_t)bytes, f) != (size_t)bytes) {
        free(pcm);
        pcm = NULL;
    }
    fclose(f);
    *n = (int32_t)(bytes / 2);
    return pcm;
}

static int write_all(const char *path, const void *data, size_t bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 1;
    int bad = fwrite(data, 1, bytes, f) != bytes;
    return fclose(f) != 0 || bad;
}

#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond)) {                                               \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
            fails++;                                                 \
        }                                                            \
    } while (0)

static int check_args(void)
{
    int fails = 0;
    int16_t pcm[MA_FE_HOP * 3 + 1];
    int8_t out[4 * MA_FE_N_MELS];
    memset(pcm, 0, sizeof pcm);
    CHECK(ma_frontend_num_frames(0) == 0);
    CHECK(ma_frontend_num_frames(-5) == 0);
    CHECK(ma_frontend_num_frames(1) == 1);
    CHECK(ma_frontend_num_frames(MA_FE_HOP) == 1);
    CHECK(ma_frontend_num_frames(MA_FE_HOP + 1) == 2);
    CHECK(ma_frontend_num_frames(INT32_MAX) == INT32_MAX / MA_FE_HOP + 1);
    CHECK(ma_frontend_compute(NULL, 10, out, 4) == MA_FRONTEND_ERR_ARG);
    CHECK(ma_frontend_compute(pcm, 10, NULL, 4) == MA_FRONTEND_ERR_ARG);
    CHECK(ma_frontend_compute(pcm, 0, out, 4) == MA_FRONTEND_ERR_ARG);
    CHECK(ma_frontend_compute(pcm, -1, out, 4) == MA_FRONTEND_ERR_ARG);
    CHECK(ma_frontend_compute(pcm, 10, out, -1) == MA_FRONTEND_ERR_ARG);
    CHECK(ma_frontend_compute(pcm, 10, out, 0) == 0);
    CHECK(ma_frontend_compute(pcm, MA_FE_HOP * 3 + 1, out, 2) == 2);
    CHECK(ma_frontend_compute(pcm, MA_FE_HOP * 3 + 1, out, 4) == 4);
    CHECK(ma_frontend_compute(pcm, MA_FE_HOP * 3 + 1, out, 100) == 4);
    CHECK(ma_frontend_compute_frames(pcm, MA_FE_HOP * 3 + 1, 3, 1, out) == 1);
    CHECK(ma_frontend_compute_frames(pcm, MA_FE_HOP * 3 + 1, 3, 2, out) == MA_FRONTEND_ERR_ARG);
    CHECK(ma_frontend_compute_frames(pcm, MA_FE_HOP * 3 + 1, -1, 1, out) == MA_FRONTEND_ERR_ARG);
    CHECK(ma_frontend_compute_frames(pcm, MA_FE_HOP * 3 + 1, 0, -1, out) == MA_FRONTEND_ERR_ARG);
    CHECK(ma_frontend_compute_frames(pcm, MA_FE_HOP * 3 + 1, 4, 0, NULL) == 0);
    CHECK(ma_frontend_compute_frames(pcm, MA_FE_HOP * 3 + 1, 0, 1, NULL) == MA_FRONTEND_ERR_ARG);
    CHECK(ma_frontend_compute_frames(NULL, 10, 0, 1, out) == MA_FRONTEND_ERR_ARG);
    CHECK(ma_frontend_compute_frames(pcm, INT32_MAX, INT32_MAX, INT32_MAX, out) == MA_FRONTEND_ERR_ARG);
    for (int i = 0; i < 4 * MA_FE_N_MELS; i++) CHECK(out[i] == -128); /* silence */
    return fails != 0;
}

static uint32_t rng_state;

static uint32_t rnd(void) /* xorshift32 */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int fuzz(long frames, uint32_t seed)
{
    int16_t x[MA_FE_WIN];
    int64_t got[MA_FE_N_BINS], want[MA_FE_N_BINS];
    rng_state = seed ? seed : 1u;
    for (long f = 0; f < frames; f++) {
        const uint32_t kind = (uint32_t)(f % 6), scale = rnd() % 16, period = 2 + rnd() % 64, phase = rnd();
        const int16_t level = (int16_t)(rnd() % 4 == 0 ? -32768 : rnd() % 4 == 0 ? 32767 : (int32_t)(rnd() & 0xFFFF) - 32768);
        for (int32_t n = 0; n < MA_FE_WIN; n++) {
            const uint32_t r = rnd();
            switch (kind) {
            case 0: x[n] = (int16_t)((int32_t)(r & 0xFFFF) - 32768); break;
            case 1: x[n] = (r & 1) ? 32767 : -32768; break;
            case 2: x[n] = (int16_t)(((int32_t)(r & 0xFFFF) - 32768) >> scale); break;
            case 3: x[n] = (r % 37 == 0) ? ((r >> 8) & 1 ? 32767 : -32768) : 0; break;
            case 4: x[n] = level; break;
            default: x[n] = (((uint32_t)n + phase) / (period / 2 + 1)) % 2 ? 32767 : -32768; break;
            }
        }
        ma_frontend_power_frame_dft(x, got);
        fe_reference_power_frame(x, want);
        for (int32_t k = 0; k < MA_FE_N_BINS; k++) {
            if (got[k] != want[k]) {
                fprintf(stderr, "frame %ld (kind %u) bin %d: %lld != %lld\n", f, (unsigned)kind, (int)k,
                        (long long)got[k], (long long)want[k]);
                return 1;
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "args") == 0) return check_args();
    if (argc == 4 && strcmp(argv[1], "fuzz") == 0) return fuzz(atol(argv[2]), (uint32_t)strtoul(argv[3], NULL, 10));
    if (argc < 4) {
        fprintf(stderr, "usage: fe_cli features IN OUT [CHUNK] | power IN OUT | args | fuzz FRAMES SEED\n");
        return 2;
    }
    int32_t n;
    int16_t *pcm = read_pcm(argv[2], &n);
    if (!pcm) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 2;
    }
    int rc = 0;
    if (strcmp(argv[1], "features") == 0) {
        const int32_t t = ma_frontend_num_frames(n);
        const int32_t chunk = argc > 4 ? atoi(argv[4]) : 0;
        int8_t *out = malloc((size_t)t * MA_FE_N_MELS + 1);
        int32_t got = 0;
        if (chunk > 0) {
            for (int32_t f = 0; f < t; f += chunk) {
                const int32_t c = t - f < chunk ? t - f : chunk;
                if (ma_frontend_compute_frames(pcm, n, f, c, out + (size_t)f * MA_FE_N_MELS) != c) rc = 1;
                got += c;
            }
        } else {
            got = ma_frontend_compute(pcm, n, out, t);
        }
        if (got != t) rc = 1;
        if (!rc) rc = write_all(argv[3], out, (size_t)t * MA_FE_N_MELS);
        free(out);
    } else if (strcmp(argv[1], "power") == 0) {
        const int32_t frames = n / MA_FE_WIN;
        int64_t *pw = malloc((size_t)frames * MA_FE_N_BINS * sizeof(int64_t) + 1);
        for (int32_t f = 0; f < frames; f++)
            ma_frontend_power_frame(pcm + (size_t)f * MA_FE_WIN, pw + (size_t)f * MA_FE_N_BINS);
        rc = write_all(argv[3], pw, (size_t)frames * MA_FE_N_BINS * sizeof(int64_t));
        free(pw);
    } else {
        rc = 2;
    }
    free(pcm);
    return rc;
}
