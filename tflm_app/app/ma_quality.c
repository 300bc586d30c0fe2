/* ma_quality.c: see ma_quality.h; every step mirrors microalign/quality/fixed.py. */
#define MA_QUALITY_DEFINE_TABLES
#include "ma_quality.h"

#include <stddef.h>
#include <string.h>

#include "microalign_quality.h"

#if defined(__GNUC__) && !defined(__clang__) && !defined(__STRICT_ANSI__) && !defined(MA_FP_CONTRACT_OFF)
#error "build ma_quality.c with -std=c99 (or -ffp-contract=off -DMA_FP_CONTRACT_OFF): the host rounds without FMA"
#endif

/* a / b rounded half away from zero (b > 0): fixed.round_div */
static int64_t rdiv(int64_t a, int64_t b) { return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b); }

static int32_t silence_q16(int8_t q) { return MA_Q_SILENCE_Q16[(int32_t)q + 128]; }

int32_t ma_quality_log2_q16(uint32_t x)
{
    if (x < 1u || x >= (1u << 30)) return MA_ERR_ARGUMENT;
    int32_t k = 0;
    while ((x >> (k + 1)) != 0u) ++k;
    uint64_t y = (uint64_t)x << (30 - k);
    int32_t r = 0;
    for (int i = 0; i < 16; ++i) {
        y = (y * y) >> 30;
        if (y >= (UINT64_C(1) << 31)) {
            y >>= 1;
            r = (r << 1) | 1;
        } else {
            r <<= 1;
        }
    }
    return (k << 16) | r;
}

uint32_t ma_quality_sigmoid_q4(int64_t z_q32)
{
    int64_t z = rdiv(z_q32, MA_Q_ONE);
    int64_t u = z < 0 ? -z : z;
    if (u > MA_Q_Z_CLIP_Q16) u = MA_Q_Z_CLIP_Q16;
    int64_t t = (u * MA_Q_LOG2E_Q16 + (1 << 15)) >> 16;
    int64_t k = t >> 16, f = t & (MA_Q_ONE - 1);
    const int32_t sh = 16 - MA_Q_EXP2_BITS;
    int64_t i = f >> sh, r = f & ((1 << sh) - 1);
    int64_t e = MA_Q_EXP2_Q30[i] - (((int64_t)(MA_Q_EXP2_Q30[i] - MA_Q_EXP2_Q30[i + 1]) * r + (1 << (sh - 1))) >> sh);
    e = k < 31 ? e >> k : 0;
    int64_t p = rdiv(INT64_C(10000) << 30, (INT64_C(1) << 30) + e);
    return (uint32_t)(z >= 0 ? p : 10000 - p);
}

const char *ma_quality_code_name(uint32_t code) { return code < MA_Q_NUM_CODES ? MA_Q_CODE_NAMES[code] : NULL; }

int32_t ma_quality_scratch_size(int32_t n_words)
{
    if (n_words < 1 || n_words > (1 << 24)) return MA_ERR_ARGUMENT;
    return (int32_t)(((uint32_t)n_words * 5u + 7u) & ~7u); /* gap (int32) + flags (uint8) per word */
}

uint32_t ma_quality_max_warnings(int32_t n_words)
{
    /* per word: unspoken + stretched; squeezed runs; no_speech, text_too_*, low_score, unlikely_transcript,
     * band_edge */
    return n_words < 1 ? 5u : 2u * (uint32_t)n_words + (uint32_t)n_words / MA_Q_SQUEEZED_RUN + 5u;
}

/* k-th smallest (0-based) level of the speech frames (all frames when all_frames): two passes of a
 * 256-bin histogram over the biased 16-bit value. */
static int32_t select_level(const ma_quality_input *in, int all_frames, uint32_t k)
{
    uint32_t hist[256];
    uint32_t hi = 0;
    for (int pass = 0; pass < 2; ++pass) {
        memset(hist, 0, sizeof hist);
        for (int32_t t = 0; t < in->n_frames; ++t) {
            if (!all_frames && silence_q16(in->scores[(size_t)t * (size_t)in->cols]) >= MA_Q_SPEECH_BELOW_Q16) continue;
            uint32_t u = (uint32_t)((int32_t)in->level[t] + 32768);
            if (pass == 0) {
                hist[u >> 8]++;
            } else if ((u >> 8) == hi) {
                hist[u & 255u]++;
            }
        }
        uint32_t b = 0;
        while (k >= hist[b]) k -= hist[b++];
        if (pass == 0) {
            hi = b;
        } else {
            return (int32_t)((hi << 8) | b) - 32768;
        }
    }
    return 0; /* not reached */
}

/* aligned minus the best score of frames [a, b) as prev_col, then silence, then next_col (0: none) */
static int64_t removal_gain(const ma_quality_input *in, int32_t a, int32_t b, int64_t aligned, int32_t prev_col,
                            int32_t next_col)
{
    const int32_t C = in->cols, zp = MA_Q_SCORE_ZERO_POINT;
    int64_t Nn = 0;
    if (next_col) {
        for (int32_t t = a; t < b; ++t) Nn += in->scores[(size_t)t * C + next_col] - zp;
    }
    int64_t P = 0, Z = 0, N = 0, best_first = 0, alt = 0;
    int have = 0;
    for (int32_t y = 0; y <= b - a; ++y) {
        if (y > 0) {
            const int8_t *row = in->scores + (size_t)(a + y - 1) * C;
            Z += row[0] - zp;
            if (prev_col) P += row[prev_col] - zp;
            if (next_col) N += row[next_col] - zp;
            if (prev_col && P - Z > best_first) best_first = P - Z;
        }
        if (!next_col && y != b - a) continue;
        int64_t last = next_col ? Z - N + Nn : Z;
        if (!have || best_first + last > alt) alt = best_first + last, have = 1;
    }
    return aligned - alt;
}

/* skip_gain (microalign.quality.features.skip_gain): the decoded path's score over word w's window
 * minus the best path over the same frames without the word; 0 (and *gain untouched) when no path
 * without the word fits. c is the word's first character. One int32 row of at most
 * MA_Q_SKIP_STATES states, updated in place from the last state down (a path's score is at least
 * -255 per frame, above NEG = INT32_MIN / 4 for any MA_DECODE_MAX_FRAMES-frame recording). Also,
 * whatever it returns, *context_loss: the window's context_loss feature in Q16 (0 for an empty window). */
#define MA_Q_SKIP_STATES (2 * MA_Q_SKIP_CONTEXT_CHARS * MA_Q_SKIP_MAX_FLOOR + 1)
static int skip_gain(const ma_quality_input *in, int32_t w, int32_t c, int64_t *gain, int64_t *context_loss)
{
    const int32_t C = in->cols, zp = MA_Q_SCORE_ZERO_POINT, K = MA_Q_SKIP_CONTEXT_CHARS;
    const int32_t k = in->min_char_frames < MA_Q_SKIP_MAX_FLOOR ? in->min_char_frames : MA_Q_SKIP_MAX_FLOOR;
    const int32_t NEG = INT32_MIN / 4;
    int32_t col[MA_Q_SKIP_STATES];
    uint8_t loop[MA_Q_SKIP_STATES];
    int32_t x[MA_Q_SKIP_STATES];
    int32_t S = 0, A, B, c_lo, c_hi;
    if (w > 0) {
        int32_t L = in->word_chars[w - 1];
        c_lo = c - (L < K ? L : K);
        A = in->char_start[c_lo];
        for (int32_t cc = c_lo; cc < c; ++cc) {
            for (int32_t r = 0; r < k; ++r, ++S) col[S] = in->char_col[cc], loop[S] = (uint8_t)(r == k - 1);
        }
    } else {
        c_lo = c;
        A = in->word_start[w];
    }
    const int32_t sil_at = S;
    col[S] = 0, loop[S] = 1, ++S;
    if (w + 1 < in->n_words) {
        int32_t cn = c + in->word_chars[w], L = in->word_chars[w + 1];
        c_hi = cn + (L < K ? L : K);
        B = in->char_end[c_hi - 1];
        for (int32_t cc = cn; cc < c_hi; ++cc) {
            for (int32_t r = 0; r < k; ++r, ++S) col[S] = in->char_col[cc], loop[S] = (uint8_t)(r == k - 1);
        }
    } else {
        c_hi = c + in->word_chars[w];
        B = in->word_end[w];
    }
    *context_loss = 0;
    if (B <= A) return 0;
    /* the decoded path: silence everywhere, the window's characters on their spans; context_loss: each
     * frame's best score minus the decoded path's, summed over the window, clipped (fixed.features_q16) */
    int64_t forced = 0, best_sum = 0;
    for (int32_t t = A; t < B; ++t) forced += in->scores[(size_t)t * C] - zp, best_sum += in->frame_max[t] - zp;
    for (int32_t cc = c_lo; cc < c_hi; ++cc) {
        for (int32_t t = in->char_start[cc]; t < in->char_end[cc]; ++t) {
            const int8_t *row = in->scores + (size_t)t * C;
            forced += row[in->char_col[cc]] - row[0];
        }
    }
    *context_loss = MA_Q_SCALE_Q16 * (best_sum - forced);
    if (*context_loss > MA_Q_CONTEXT_LOSS_CLIP_Q16) *context_loss = MA_Q_CONTEXT_LOSS_CLIP_Q16;
    for (int32_t j = 0; j < S; ++j) x[j] = NEG;
    const int8_t *row = in->scores + (size_t)A * C;
    x[0] = row[col[0]] - zp;
    if (sil_at == 0 && S > 1) x[1] = row[col[1]] - zp;
    const int32_t skip_j = sil_at > 0 ? sil_at + 1 : -1; /* entered from sil_at - 1 over the silence */
    for (int32_t t = A + 1; t < B; ++t) {
        row = in->scores + (size_t)t * C;
        for (int32_t j = S - 1; j >= 1; --j) {
            int32_t b = loop[j] ? x[j] : NEG;
            if (x[j - 1] > b) b = x[j - 1];
            if (j == skip_j && x[j - 2] > b) b = x[j - 2];
            x[j] = b == NEG ? NEG : b + row[col[j]] - zp;
        }
        x[0] = loop[0] && x[0] != NEG ? x[0] + row[col[0]] - zp : NEG;
    }
    int64_t best = x[S - 1];
    if (sil_at == S - 1 && S > 1 && x[S - 2] > best) best = x[S - 2];
    if (best == NEG) return 0;
    *gain = forced - best;
    return 1;
}

static int32_t word_gap(const ma_quality_input *in, int32_t first_char, int32_t n_chars, int64_t *worst, int64_t *aligned)
{
    const int32_t C = in->cols;
    int64_t total = 0, counted = 0;
    *worst = 0, *aligned = 0;
    for (int32_t c = first_char; c < first_char + n_chars; ++c) {
        int32_t s = in->char_start[c], e = in->char_end[c], col = in->char_col[c];
        int64_t g = 0, al = 0;
        for (int32_t t = s; t < e; ++t) {
            int8_t v = in->scores[(size_t)t * C + col];
            g += v - in->frame_max[t];
            al += v;
        }
        total += g, counted += e - s;
        int64_t w = rdiv(MA_Q_SCALE_Q16 * g, e - s > 1 ? e - s : 1);
        if (w < *worst) *worst = w;
        *aligned += al - (int64_t)MA_Q_SCORE_ZERO_POINT * (e - s);
    }
    return (int32_t)rdiv(MA_Q_SCALE_Q16 * total, counted > 1 ? counted : 1);
}

static int64_t dot(const int64_t *w, const int64_t *x, int64_t bias)
{
    int64_t z = bias;
    for (int j = 0; j < MA_Q_NUM_FEATURES; ++j) z += w[j] * x[j];
    return z;
}

static ma_status check_input(const ma_quality_input *in)
{
    if (in->scores == NULL || in->frame_max == NULL || in->level == NULL || in->char_col == NULL ||
        in->char_start == NULL || in->char_end == NULL || in->word_chars == NULL || in->word_start == NULL ||
        in->word_end == NULL || in->n_frames < 1 || in->cols < 2 || in->cols > 256 || in->n_words < 1 ||
        in->n_chars < in->n_words || in->min_char_frames < 1 || in->n_frames >= (1 << 30)) {
        return MA_ERR_ARGUMENT;
    }
    int32_t c = 0, prev_end = 0;
    for (int32_t w = 0; w < in->n_words; ++w) {
        int32_t a = in->word_start[w], b = in->word_end[w];
        if (in->word_chars[w] < 1 || in->word_chars[w] > in->n_chars - c || a < prev_end || b < a || b > in->n_frames) {
            return MA_ERR_ARGUMENT;
        }
        for (int32_t k = 0, last = a; k < in->word_chars[w]; ++k, ++c) {
            if (in->char_start[c] < last || in->char_end[c] < in->char_start[c] || in->char_end[c] > b ||
                in->char_col[c] < 1 || in->char_col[c] >= in->cols) {
                return MA_ERR_ARGUMENT;
            }
            last = in->char_end[c];
        }
        prev_end = b;
    }
    return c == in->n_chars ? MA_OK : MA_ERR_ARGUMENT;
}

ma_status ma_quality_assess(const ma_quality_input *in, void *scratch, int32_t scratch_size, ma_quality_output *out)
{
    if (in == NULL || out == NULL || out->confidence_q4 == NULL || (out->warnings == NULL && out->max_warnings)) {
        return MA_ERR_ARGUMENT;
    }
    out->n_warnings = 0;
    out->confidence_sum_q4 = 0;
    ma_status s = check_input(in);
    if (s != MA_OK) return s;
    const int32_t nw = in->n_words, T = in->n_frames, C = in->cols;
    int32_t need = ma_quality_scratch_size(nw);
    if (scratch == NULL || need < 0 || scratch_size < need) return MA_ERR_SCRATCH;
    if (out->max_warnings < ma_quality_max_warnings(nw)) return MA_ERR_SCRATCH;
    int32_t *gaps = (int32_t *)scratch;
    uint8_t *flags = (uint8_t *)(gaps + nw); /* 1 unspoken, 2 stretched, 4 at floor */

    /* utterance frames: speech count, twice the median speech level; fit loss U - F (fixed.fit_loss_steps):
     * each frame's best score minus the decoded path's (silence, then the characters on their spans) */
    uint32_t n_speech = 0;
    int64_t fit_loss = 0;
    for (int32_t t = 0; t < T; ++t) {
        const int8_t q0 = in->scores[(size_t)t * C];
        n_speech += silence_q16(q0) < MA_Q_SPEECH_BELOW_Q16;
        fit_loss += (int64_t)in->frame_max[t] - q0;
    }
    for (int32_t c = 0; c < in->n_chars; ++c) {
        for (int32_t t = in->char_start[c]; t < in->char_end[c]; ++t) {
            const int8_t *row = in->scores + (size_t)t * C;
            fit_loss -= (int64_t)row[in->char_col[c]] - row[0];
        }
    }
    int all = n_speech == 0;
    uint32_t m = all ? (uint32_t)T : n_speech;
    int64_t level2 = (int64_t)select_level(in, all, (m - 1u) / 2u) + select_level(in, all, m / 2u);

    /* pass 1: each word's gap (its neighbours' is a feature) */
    int64_t worst, aligned;
    for (int32_t w = 0, c = 0; w < nw; c += in->word_chars[w], ++w) gaps[w] = word_gap(in, c, in->word_chars[w], &worst, &aligned);

    /* pass 2: features, confidence, word checks; placed-frame statistics */
    int64_t placed = 0, placed_speech = 0, s1 = 0, s2 = 0;
    for (int32_t w = 0, c = 0; w < nw; c += in->word_chars[w], ++w) {
        const int32_t a = in->word_start[w], b = in->word_end[w], len = in->word_chars[w];
        const int32_t n = b - a > 1 ? b - a : 1;
        int64_t x[MA_Q_NUM_FEATURES];
        x[MA_Q_F_GAP] = word_gap(in, c, len, &worst, &aligned);
        x[MA_Q_F_WORST_CHAR_GAP] = worst;
        int64_t sil = 0, lvl = 0;
        for (int32_t t = a; t < b; ++t) {
            int32_t sq = silence_q16(in->scores[(size_t)t * C]);
            sil += sq;
            lvl += in->level[t];
            placed_speech += sq < MA_Q_SPEECH_BELOW_Q16;
            s1 += in->level[t];
            s2 += (int64_t)in->level[t] * in->level[t];
        }
        placed += b - a;
        x[MA_Q_F_SILENCE] = b > a ? rdiv(sil, b - a) : MA_Q_ONE;
        x[MA_Q_F_LOG_FRAMES_PER_CHAR] =
            rdiv((int64_t)MA_Q_LN2_Q16 * (ma_quality_log2_q16((uint32_t)n) - ma_quality_log2_q16((uint32_t)len)), MA_Q_ONE);
        x[MA_Q_F_AT_FLOOR] = (int64_t)n <= (int64_t)in->min_char_frames * len ? MA_Q_ONE : 0;
        int32_t before = a - (w > 0 ? in->word_end[w - 1] : 0), after = (w + 1 < nw ? in->word_start[w + 1] : T) - b;
        before = before < MA_Q_PAUSE_CAP_FRAMES ? before : MA_Q_PAUSE_CAP_FRAMES;
        after = after < MA_Q_PAUSE_CAP_FRAMES ? after : MA_Q_PAUSE_CAP_FRAMES;
        x[MA_Q_F_PAUSE_BEFORE] = rdiv((int64_t)before * MA_Q_ONE, MA_Q_PAUSE_CAP_FRAMES);
        x[MA_Q_F_PAUSE_AFTER] = rdiv((int64_t)after * MA_Q_ONE, MA_Q_PAUSE_CAP_FRAMES);
        x[MA_Q_F_LEVEL_DB] = b > a ? rdiv((2 * lvl - (int64_t)(b - a) * level2) * MA_Q_DB_STEP_Q16,
                                          (int64_t)2 * (b - a) * MA_Q_N_MELS) : 0;
        if (nw == 1) {
            x[MA_Q_F_NEIGHBOUR_GAP] = gaps[0];
        } else {
            int64_t left = w > 0 ? gaps[w - 1] : gaps[1], right = w + 1 < nw ? gaps[w + 1] : gaps[nw - 2];
            x[MA_Q_F_NEIGHBOUR_GAP] = rdiv(left + right, 2);
        }
        int64_t gain = 0;
        if (b > a) {
            gain = MA_Q_SCALE_Q16 * removal_gain(in, a, b, aligned, w > 0 ? in->char_col[c - 1] : 0,
                                                 w + 1 < nw ? in->char_col[c + len] : 0);
        }
        x[MA_Q_F_REMOVAL_GAIN] = gain < -MA_Q_GAIN_CLIP_Q16 ? -MA_Q_GAIN_CLIP_Q16 : gain > MA_Q_GAIN_CLIP_Q16 ? MA_Q_GAIN_CLIP_Q16 : gain;
        int64_t skip = 0, context_loss = 0;
        if (skip_gain(in, w, c, &skip, &context_loss)) {
            skip *= MA_Q_SCALE_Q16;
            skip = skip < -MA_Q_SKIP_CLIP_Q16 ? -MA_Q_SKIP_CLIP_Q16 : skip > MA_Q_SKIP_CLIP_Q16 ? MA_Q_SKIP_CLIP_Q16 : skip;
        } else {
            skip = MA_Q_SKIP_CLIP_Q16;
        }
        x[MA_Q_F_SKIP_GAIN] = skip;
        x[MA_Q_F_CONTEXT_LOSS] = context_loss;
        x[MA_Q_F_CHARS] = (int64_t)len * MA_Q_ONE;
        if (out->features_q16) memcpy(out->features_q16 + (size_t)w * MA_Q_NUM_FEATURES, x, sizeof x);

        uint32_t q4 = ma_quality_sigmoid_q4(dot(MA_Q_CONF_W_Q16, x, MA_Q_CONF_BIAS_Q32));
        out->confidence_q4[w] = (uint16_t)q4;
        out->confidence_sum_q4 += q4;
        int64_t dur = (int64_t)b - a;
        flags[w] = (uint8_t)((dot(MA_Q_UNSP_W_Q16, x, MA_Q_UNSP_BIAS_Q32) > MA_Q_UNSPOKEN_Z_Q32 ? 1 : 0) |
                             (dur >= MA_Q_STRETCHED_MIN_FRAMES && (dur * MA_Q_FRAME_MS > (int64_t)MA_Q_STRETCHED_MS_PER_CHAR * len ||
                                                                   q4 < MA_Q_STRETCHED_Q4) ? 2 : 0) |
                             (x[MA_Q_F_AT_FLOOR] > 0 ? 4 : 0));
    }

    /* warnings in the host's order */
    ma_quality_warning *wl = out->warnings;
    uint32_t k = 0;
#define PUSH(code_, first_, last_) (wl[k].code = (uint8_t)(code_), wl[k].word = (first_), wl[k].last = (last_), ++k)
    for (int32_t w = 0; w < nw; ++w) {
        if (flags[w] & 1) PUSH(MA_Q_W_UNSPOKEN_WORD, w, w);
        if (flags[w] & 2) PUSH(MA_Q_W_STRETCHED_WORD, w, w);
    }
    for (int32_t i = 0; i < nw;) {
        int32_t j = i;
        while (j < nw && (flags[j] & 4)) ++j;
        if (j - i >= MA_Q_SQUEEZED_RUN) PUSH(MA_Q_W_SQUEEZED_WORDS, i, j - 1);
        i = j == i ? j + 1 : j;
    }
    if (placed == 0) { /* the level over all frames */
        s1 = s2 = 0;
        for (int32_t t = 0; t < T; ++t) s1 += in->level[t], s2 += (int64_t)in->level[t] * in->level[t];
    }
    volatile double nn = placed ? (double)placed : (double)T;
    volatile double mean = (double)s1 / nn;
    volatile double sq = mean * mean;
    volatile double var = (double)s2 / nn - sq;
    if (placed_speech * 1000 < (int64_t)MA_Q_SPEECH_FRACTION_MILLI * placed || placed == 0 || var < MA_Q_LEVEL_VAR_LOW) {
        PUSH(MA_Q_W_NO_SPEECH, -1, -1);
    }
    int64_t sf = n_speech > 0 ? (int64_t)n_speech : 1;
    if ((int64_t)in->n_chars * 10000 > (int64_t)MA_Q_CPS_HIGH_C * sf) {
        PUSH(MA_Q_W_TEXT_TOO_LONG, -1, -1);
    } else if ((int64_t)in->n_chars * 10000 < (int64_t)MA_Q_CPS_LOW_C * sf) {
        PUSH(MA_Q_W_TEXT_TOO_SHORT, -1, -1);
    }
    if (out->confidence_sum_q4 < (int64_t)MA_Q_SCORE_LOW_MILLI * 10 * nw) PUSH(MA_Q_W_LOW_SCORE, -1, -1);
    /* the mismatch detector on the utterance features (fixed.FixedStats.utterance_q16) */
    int64_t xu[MA_Q_NUM_UTT_FEATURES];
    xu[MA_Q_U_FIT_LOSS] = rdiv(MA_Q_SCALE_Q16 * fit_loss, sf);
    if (xu[MA_Q_U_FIT_LOSS] > MA_Q_FIT_LOSS_CLIP_Q16) xu[MA_Q_U_FIT_LOSS] = MA_Q_FIT_LOSS_CLIP_Q16;
    xu[MA_Q_U_SCORE] = rdiv(out->confidence_sum_q4 * MA_Q_ONE, (int64_t)10000 * nw);
    int64_t zm = MA_Q_MISM_BIAS_Q32;
    for (int j = 0; j < MA_Q_NUM_UTT_FEATURES; ++j) zm += MA_Q_MISM_W_Q16[j] * xu[j];
    if (zm > MA_Q_MISMATCH_Z_Q32) PUSH(MA_Q_W_UNLIKELY_TRANSCRIPT, -1, -1);
    if (!in->edge_free) PUSH(MA_Q_W_BAND_EDGE, -1, -1);
#undef PUSH
    out->n_warnings = k;
    return MA_OK;
}

/* ---- the line ---- */
static uint32_t put_str(char *buf, uint32_t cap, uint32_t n, const char *s)
{
    for (; *s; ++s, ++n) {
        if (n < cap) buf[n] = *s;
    }
    return n;
}

static uint32_t put_uint(char *buf, uint32_t cap, uint32_t n, uint32_t v)
{
    char tmp[12];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (k) {
        if (n < cap) buf[n] = tmp[k - 1];
        --k, ++n;
    }
    return n;
}

/* ms / 1000 as Python's repr of round(x, 3): integer part, '.', fraction without trailing zeros */
static uint32_t put_ms(char *buf, uint32_t cap, uint32_t n, uint32_t ms)
{
    n = put_uint(buf, cap, n, ms / 1000u);
    char f[5] = {'.', (char)('0' + ms / 100u % 10u), (char)('0' + ms / 10u % 10u), (char)('0' + ms % 10u), 0};
    int last = 3;
    while (last > 1 && f[last] == '0') f[last--] = 0;
    return put_str(buf, cap, n, f);
}

int32_t ma_quality_warning_line(const ma_quality_warning *w, uint32_t start_ms, uint32_t end_ms, char *buf, uint32_t cap)
{
    if (w == NULL || buf == NULL || w->code >= MA_Q_NUM_CODES || cap > 0x7FFFFFFFu) return MA_ERR_ARGUMENT;
    uint32_t n = put_str(buf, cap, 0, "{\"warning\": \"");
    n = put_str(buf, cap, n, MA_Q_CODE_NAMES[w->code]);
    n = put_str(buf, cap, n, "\"");
    if (w->word >= 0) {
        n = put_str(buf, cap, n, ", \"word\": ");
        n = put_uint(buf, cap, n, (uint32_t)w->word);
        n = put_str(buf, cap, n, ", \"start\": ");
        n = put_ms(buf, cap, n, start_ms);
        n = put_str(buf, cap, n, ", \"end\": ");
        n = put_ms(buf, cap, n, end_ms);
    }
    n = put_str(buf, cap, n, "}\n");
    if (n >= cap) {
        if (cap) buf[0] = 0;
        return MA_ERR_SCRATCH;
    }
    buf[n] = 0;
    return (int32_t)n;
}
