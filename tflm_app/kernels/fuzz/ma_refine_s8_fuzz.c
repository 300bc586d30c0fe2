/*
 * libFuzzer harness for ma_refine_s8 (tflm_app/fuzz.sh ma_refine_s8 builds it with
 * clang -fsanitize=fuzzer,address,undefined).
 *
 * Input bytes -> duration floor k, words and their lengths, a decoded path (character durations and
 * pauses; now and then broken on purpose: overlapping, too short, past the end), scores and frame
 * maxima (some scores above their frame's maximum), the scratch size. Scores, spans and outputs
 * are heap blocks of exactly their size, so ASan sees any overrun. Checks (abort on violation):
 *   - the status equals an independent validation of the arguments;
 *   - on MA_OK: every word lasts >= 1 ms, starts at or after the previous one's end, and both its
 *     boundaries lie within the recording (0 .. n_frames frames, in ms) and within the reach of the
 *     decoded ones (a junction's window: its characters' frames and MA_REFINE_REACH frames beyond);
 *   - on error, outputs are untouched.
 * With MA_FUZZ_SMALL set in the environment, at most 12 words (the short campaigns).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ma_fuzz.h"
#include "ma_refine_s8.h"
#include "microalign_refine.h"

/* Outcome counts, printed at exit when MA_FUZZ_STATS is set: [0] OK, [1..4] error statuses -1..-4. */
static unsigned long long stats[5];

__attribute__((destructor)) static void print_stats(void)
{
    if (getenv("MA_FUZZ_STATS")) {
        fprintf(stderr, "ma_refine_s8_fuzz: ok=%llu err_argument=%llu err_token=%llu err_too_short=%llu "
                "err_scratch=%llu\n", stats[0], stats[1], stats[2], stats[3], stats[4]);
    }
}

#define SENTINEL 0x5A5A5A5A

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    const int small = small_mode();
    const int32_t k = (int32_t)(take(&r) % 7);                 /* 0 is refused */
    const int32_t n_words = (int32_t)(take(&r) % (small ? 12u : 40u)) + 1;
    const int32_t n_cols = (int32_t)(take(&r) % 8u) + 1;       /* 1: no column for a character */
    const uint32_t flags = take(&r);
    int32_t *lens = malloc(sizeof(int32_t) * (size_t)n_words);
    int32_t n_tokens = 0;
    for (int32_t w = 0; w < n_words; ++w) lens[w] = (int32_t)(take(&r) % 5u) + ((flags & 1u) ? 0 : 1), n_tokens += lens[w];
    if (n_tokens == 0) n_tokens = 1; /* keep the arrays non-empty; the kernel must refuse the lengths */
    int32_t *ids = calloc((size_t)n_tokens, sizeof(int32_t));
    int32_t *ts = calloc((size_t)n_tokens, sizeof(int32_t));
    int32_t *te = calloc((size_t)n_tokens, sizeof(int32_t));
    int32_t t = (int32_t)(take(&r) % 80u); /* leading silence */
    int32_t c = 0;
    for (int32_t w = 0; w < n_words; ++w) {
        if (w && (take(&r) & 1u)) t += (int32_t)(take(&r) * 2u % 150u); /* a pause, sometimes past 2 reaches */
        for (int32_t j = 0; j < lens[w] && c < n_tokens; ++j, ++c) {
            ids[c] = (int32_t)(take(&r) % (uint32_t)(n_cols > 1 ? n_cols - 1 : 1)) + 1;
            ts[c] = t;
            t += (k > 0 ? k : 1) + (int32_t)(take(&r) % 60u);
            te[c] = t;
        }
    }
    int32_t n_frames = t + (int32_t)(take(&r) % 80u);
    if (flags & 2u) { /* break the path */
        const int32_t i = (int32_t)(take(&r) % (uint32_t)n_tokens);
        switch (take(&r) % 4u) {
        case 0: ts[i] = i ? te[i - 1] - 1 : -1; break; /* overlap / before frame 0 */
        case 1: te[i] = ts[i] + (k > 1 ? k - 1 : 0); break; /* shorter than k */
        case 2: n_frames = te[n_tokens - 1] - 1; break;   /* past the end */
        default: ids[i] = n_cols; break;                  /* column out of range */
        }
    }
    if (n_frames < 1) n_frames = 1;
    int8_t *scores = malloc((size_t)n_frames * (size_t)n_cols);
    int8_t *fmax = malloc((size_t)n_frames);
    for (int32_t f = 0; f < n_frames; ++f) {
        int32_t mx = -128;
        for (int32_t j = 0; j < n_cols; ++j) {
            const int8_t v = (int8_t)take(&r);
            scores[(size_t)f * (size_t)n_cols + (size_t)j] = v;
            mx = v > mx ? v : mx;
        }
        if ((flags & 4u) && (f & 1)) { /* below a score of its frame: that score counts as the maximum */
            mx -= (int32_t)(take(&r) % 30u);
            mx = mx < -128 ? -128 : mx;
        }
        fmax[f] = (int8_t)mx;
    }
    const int32_t need = ma_refine_s8_get_scratch_size(k);
    const int32_t scratch_size = need > 0 ? need - ((flags & 8u) ? 4 : 0) : 4;
    void *scratch = malloc((size_t)(scratch_size > 0 ? scratch_size : 4));
    int32_t *start_ms = malloc(sizeof(int32_t) * (size_t)n_words), *end_ms = malloc(sizeof(int32_t) * (size_t)n_words);
    for (int32_t w = 0; w < n_words; ++w) start_ms[w] = end_ms[w] = SENTINEL;

    /* the independent validation, in the kernel's order: arguments, scratch, transcript and path */
    int32_t want = MA_OK, total = 0, lens_ok = 1;
    for (int32_t w = 0; w < n_words; ++w) total += lens[w], lens_ok &= lens[w] >= 1;
    if (k < 1 || n_tokens < n_words) {
        want = MA_ERR_ARGUMENT;
    } else if (scratch_size < need) {
        want = MA_ERR_SCRATCH;
    } else if (!lens_ok || total != n_tokens) {
        want = MA_ERR_TOKEN;
    } else {
        for (int32_t i = 0; i < n_tokens; ++i) {
            if (ids[i] < 1 || ids[i] >= n_cols) want = MA_ERR_TOKEN;
            if (ts[i] < (i ? te[i - 1] : 0) || te[i] - ts[i] < k || te[i] > n_frames) want = MA_ERR_TOKEN;
        }
    }

    const int32_t s = ma_refine_s8(scores, fmax, n_frames, n_cols, ids, ts, te, n_tokens, lens, n_words, k, scratch,
                                   scratch_size, start_ms, end_ms);
    CHECK(s == want);
    stats[s == MA_OK ? 0 : -s]++;
    if (s == MA_OK) {
        int32_t first = 0, prev = 0;
        const int32_t ms = MA_REFINE_FRAME_MS, H = MA_REFINE_REACH;
        for (int32_t w = 0; w < n_words; ++w) {
            const int32_t last = first + lens[w] - 1;
            CHECK(start_ms[w] >= prev && end_ms[w] >= start_ms[w] + 1);
            CHECK(start_ms[w] >= 0 && end_ms[w] <= n_frames * ms + 1);
            /* within reach: a junction's window starts at most H frames before the left word's decoded end,
             * which is at most 2 H before the right word's start (else two windows), and ends at most H frames
             * after the right word's start, inside its first MA_REFINE_CHARS characters */
            CHECK(start_ms[w] >= (ts[first] - 3 * H) * ms || start_ms[w] == prev);
            CHECK(start_ms[w] <= te[first + (lens[w] > MA_REFINE_CHARS ? MA_REFINE_CHARS : lens[w]) - 1] * ms ||
                  start_ms[w] == prev);
            CHECK(end_ms[w] <= (te[last] + 3 * H) * ms || end_ms[w] == start_ms[w] + 1);
            prev = end_ms[w];
            first = last + 1;
        }
    } else {
        for (int32_t w = 0; w < n_words; ++w) CHECK(start_ms[w] == SENTINEL && end_ms[w] == SENTINEL);
    }
    free(lens), free(ids), free(ts), free(te), free(scores), free(fmax), free(scratch), free(start_ms), free(end_ms);
    return 0;
}
