/*
 * libFuzzer harness for ma_decode_s8 (tflm_app/fuzz.sh ma_decode_s8 builds it with
 * clang -fsanitize=fuzzer,address,undefined).
 *
 * Input bytes -> sizes, params, transcript and scores (including invalid values). Scratch and
 * outputs are heap blocks of exactly the requested size, so ASan sees any overrun. Checks (abort
 * on violation):
 *   - the status equals an independent validation of the arguments;
 *   - every valid input gives MA_DECODE_OK, whatever the band (the band always keeps a valid path);
 *   - the alignment is structurally valid, path_score and the confidence sums (against frame_max
 *     when given) equal the values recomputed from the spans;
 *   - the band used is between the first band and max_band (both capped at S);
 *   - with a band >= S, the path is edge-free and path_score equals an independent full Viterbi
 *     (int64, no band); with a narrower band, path_score <= that optimum;
 *   - on error, outputs are untouched.
 * Scratch and checkpoint buffers are exactly the reported sizes (or 4 bytes short: ERR_SCRATCH).
 * With MA_FUZZ_SMALL set in the environment, T < 128 and V < 48 (the 10 M-run campaigns).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ma_decode_s8.h"
#include "ma_fuzz.h"

/* Outcome counts, printed at exit when MA_FUZZ_STATS is set: [0] OK exact, [1] OK banded,
 * [2..5] error statuses -1..-4, [6] banded and widened, [7] banded and not edge-free. */
static unsigned long long stats[8];

__attribute__((destructor)) static void print_stats(void)
{
    if (getenv("MA_FUZZ_STATS")) {
        fprintf(stderr, "ma_decode_s8_fuzz: ok_exact=%llu ok_banded=%llu (widened=%llu, edge_touched=%llu) "
                "err_argument=%llu err_token=%llu err_too_short=%llu err_scratch=%llu\n", stats[0], stats[1],
                stats[6], stats[7], stats[2], stats[3], stats[4], stats[5]);
    }
}

/* Independent full Viterbi: the best path score over all states (int64, -inf = INT64_MIN). */
static int64_t full_viterbi(const int8_t *sc, int32_t T, int32_t V, const int32_t *tok_of_state, int32_t S,
                            int32_t pen)
{
    const int64_t NEG64 = INT64_MIN / 4;
    int64_t *a = malloc(sizeof(int64_t) * (size_t)S), *b = malloc(sizeof(int64_t) * (size_t)S);
    for (int32_t s = 0; s < S; ++s) a[s] = NEG64;
    a[0] = sc[0] - pen;
    a[1] = sc[tok_of_state[1]];
    for (int32_t t = 1; t < T; ++t) {
        for (int32_t s = 0; s < S; ++s) {
            int64_t best = a[s];
            if (s >= 1) {
                int64_t adv = a[s - 1] - (tok_of_state[s] == 0 ? pen : 0);
                if (adv > best) best = adv;
            }
            if (s >= 2 && tok_of_state[s] != 0 && tok_of_state[s - 1] == 0) {
                if (a[s - 2] > best) best = a[s - 2];
            }
            b[s] = best <= NEG64 / 2 ? NEG64 : best + sc[(size_t)t * (size_t)V + (size_t)tok_of_state[s]];
        }
        int64_t *tmp = a; a = b; b = tmp;
    }
    int64_t r = a[S - 2] > a[S - 1] ? a[S - 2] : a[S - 1];
    free(a);
    free(b);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    const uint32_t t_raw = take(&r) | ((take(&r) & 1u) << 8), v_raw = take(&r);
    /* MA_FUZZ_SMALL set: T < 128 and V < 48, ~20x more runs per second (for 10 M-run campaigns) */
    const int32_t T = (int32_t)(small_mode() ? t_raw % 128u : t_raw); /* 0..511 */
    const int32_t V = (int32_t)(v_raw % (small_mode() ? 48u : 300u)); /* 0..299 */
    const int32_t n_words = (int32_t)(take(&r) % 17u);             /* 0..16 */
    const uint32_t bsel = take(&r);
    const int32_t band = bsel < 200 ? (int32_t)(bsel % 12u) : (bsel < 250 ? (int32_t)bsel : 100000); /* 0..11, 200.., big */
    const uint32_t msel = take(&r);
    const int32_t max_band = msel < 200 ? (int32_t)(msel % 40u) : (msel < 250 ? (int32_t)msel * 4 : 70000);
    static const int32_t intervals[8] = {0, 1, 2, 3, 5, 16, 64, 70000};
    const int32_t interval = intervals[take(&r) % 8u];
    const int32_t beam = (int32_t)(take(&r) * 8u) - 8;               /* -8..2032 */
    const int32_t pen = (int32_t)(int16_t)(take(&r) | (take(&r) << 8)) / 24; /* about -1365..1365 */
    const uint32_t scratch_sel = take(&r);
    const int use_fmax = (int)(take(&r) & 1u);

    int32_t lengths[16], n_tokens = 0;
    for (int32_t i = 0; i < n_words; ++i) {
        lengths[i] = (int32_t)(take(&r) % 9u); /* 0 = invalid */
        n_tokens += lengths[i];
    }
    int32_t *tokens = malloc(sizeof(int32_t) * (size_t)(n_tokens + 1));
    for (int32_t c = 0; c < n_tokens; ++c) {
        const uint32_t v = take(&r);
        tokens[c] = v == 255 ? -1 : (v == 254 ? V : (V > 1 ? 1 + (int32_t)(v % (uint32_t)(V - 1)) : 0));
    }
    const size_t n_scores = (size_t)T * (size_t)(V > 0 ? V : 1);
    int8_t *scores = malloc(n_scores + 1);
    for (size_t i = 0; i < n_scores; ++i) {
        scores[i] = (int8_t)(r.n ? take(&r) : (uint32_t)(i * 37u));
    }

    /* independent validation -> expected status */
    int32_t expect = MA_DECODE_OK;
    int lengths_ok = 1, tokens_ok = 1;
    for (int32_t i = 0; i < n_words; ++i) lengths_ok &= lengths[i] >= 1;
    for (int32_t c = 0; c < n_tokens; ++c) tokens_ok &= tokens[c] >= 1 && tokens[c] < V;
    if (V < 2 || V > MA_DECODE_MAX_VOCAB || pen < -MA_DECODE_MAX_PENALTY || pen > MA_DECODE_MAX_PENALTY ||
        beam < 0 || n_words < 1) {
        expect = MA_DECODE_ERR_ARGUMENT;
    } else if (!lengths_ok || !tokens_ok) {
        expect = MA_DECODE_ERR_TOKEN;
    } else if (T < 1) {
        expect = MA_DECODE_ERR_ARGUMENT;
    } else if (n_tokens > T) {
        expect = MA_DECODE_ERR_TOO_SHORT;
    } else if (band == 1 || band == 2 || band > MA_DECODE_MAX_BAND || max_band == 1 || max_band == 2 ||
               max_band > MA_DECODE_MAX_BAND || interval > MA_DECODE_MAX_INTERVAL) {
        expect = MA_DECODE_ERR_ARGUMENT;
    }
    const ma_decode_s8_params params = {band, max_band, interval, beam, pen};
    int32_t need = -1, ck_need = -1;
    if (expect == MA_DECODE_OK) {
        need = ma_decode_s8_get_scratch_size(n_tokens, n_words, &params);
        ck_need = ma_decode_s8_get_checkpoint_size(T, n_tokens, n_words, &params);
        CHECK(need > 0 && need % 4 == 0 && ck_need > 0 && ck_need % 4 == 0);
        if (scratch_sel >= 254) {
            expect = MA_DECODE_ERR_SCRATCH;
        }
    }
    const int32_t give = need < 0 ? 64 : (scratch_sel == 255 ? need - 4 : need);
    const int32_t ck_give = ck_need < 0 ? 64 : (scratch_sel == 254 ? ck_need - 4 : ck_need);
    uint32_t *scratch = malloc((size_t)give);
    uint32_t *ckpt = malloc((size_t)ck_give);
    memset(scratch, (int)scratch_sel, (size_t)give);
    memset(ckpt, (int)scratch_sel ^ 0x55, (size_t)ck_give);
    int8_t *fmax = 0;
    if (use_fmax && T > 0) {
        fmax = malloc((size_t)T);
        for (int32_t t = 0; t < T; ++t) {
            int32_t mx = -128;
            for (int32_t v = 0; v < V; ++v) mx = scores[(size_t)t * (size_t)V + (size_t)v] > mx ? scores[(size_t)t * (size_t)V + (size_t)v] : mx;
            const int32_t extra = (int32_t)((t * 7) % 5);
            fmax[t] = (int8_t)(mx + extra > 127 ? 127 : mx + extra);
        }
    }

    const int32_t nt = n_tokens + 1, nw = n_words + 1;
    int32_t *o = malloc(sizeof(int32_t) * (size_t)(2 * nt + 4 * nw + 1));
    for (int32_t i = 0; i < 2 * nt + 4 * nw + 1; ++i) o[i] = 0x5A5A5A5A;
    int32_t *ts = o, *te = o + nt, *ws = te + nt, *we = ws + nw, *wsum = we + nw, *wf = wsum + nw;
    int32_t *score = wf + nw;
    int32_t band_used = -7, edge_free = -7;
    const ma_decode_s8_output out = {ts, te, ws, we, wsum, wf, score, &band_used, &edge_free};

    const int32_t status = ma_decode_s8(&params, scores, fmax, T, V, tokens, n_tokens, lengths, n_words, scratch, give,
                                        ckpt, ck_give, &out);
    CHECK(status == expect);
    if (status < 0) {
        stats[1 - status]++;
    }
    if (status != MA_DECODE_OK) {
        for (int32_t i = 0; i < 2 * nt + 4 * nw + 1; ++i) CHECK(o[i] == 0x5A5A5A5A);
        CHECK(band_used == -7 && edge_free == -7);
    } else {
        /* structure, and the score recomputed from the spans */
        const int32_t S = n_tokens + n_words + 1;
        int32_t *tok_of_state = malloc(sizeof(int32_t) * (size_t)S);
        int64_t sum = 0;
        int32_t entered = 0, prev_end = 0, c = 0, s = 0;
        tok_of_state[s++] = 0;
        for (int32_t i = 0; i < n_words; ++i) {
            int64_t conf = 0;
            CHECK(ts[c] >= prev_end);
            for (int32_t t = prev_end; t < ts[c]; ++t) sum += scores[(size_t)t * (size_t)V];
            entered += ts[c] > prev_end;
            CHECK(ws[i] == ts[c]);
            for (int32_t k = 0; k < lengths[i]; ++k, ++c) {
                tok_of_state[s++] = tokens[c];
                CHECK(te[c] > ts[c]);
                if (k > 0) CHECK(ts[c] == te[c - 1]);
                for (int32_t t = ts[c]; t < te[c]; ++t) {
                    const int8_t *row = scores + (size_t)t * (size_t)V;
                    int32_t mx = row[0];
                    for (int32_t v = 1; v < V; ++v) mx = row[v] > mx ? row[v] : mx;
                    if (fmax) mx = fmax[t];
                    sum += row[tokens[c]];
                    conf += row[tokens[c]] - mx;
                }
            }
            tok_of_state[s++] = 0;
            CHECK(we[i] == te[c - 1] && wf[i] == we[i] - ws[i] && wsum[i] == conf);
            prev_end = te[c - 1];
        }
        CHECK(prev_end <= T);
        for (int32_t t = prev_end; t < T; ++t) sum += scores[(size_t)t * (size_t)V];
        entered += T > prev_end;
        CHECK(*score == sum - (int64_t)pen * entered);
        const int64_t opt = full_viterbi(scores, T, V, tok_of_state, S, pen);
        const int32_t w0 = band == 0 ? MA_DECODE_DEFAULT_BAND : band;
        const int32_t wm0 = max_band == 0 ? MA_DECODE_DEFAULT_MAX_BAND : max_band;
        const int32_t w = w0 < S ? w0 : S, wm = (wm0 < S ? wm0 : S) > w ? (wm0 < S ? wm0 : S) : w;
        CHECK(band_used >= w && band_used <= wm && (edge_free == 0 || edge_free == 1));
        CHECK(edge_free == 1 || band_used == wm); /* widening stops only when edge-free or at max_band */
        stats[band_used >= S ? 0 : 1]++;
        if (band_used >= S) {
            CHECK(edge_free == 1 && *score == opt);
        } else {
            stats[6] += band_used > w;
            stats[7] += edge_free == 0;
            CHECK(*score <= opt);
        }
        free(tok_of_state);
    }
    free(o);
    free(fmax);
    free(ckpt);
    free(scratch);
    free(scores);
    free(tokens);
    return 0;
}
