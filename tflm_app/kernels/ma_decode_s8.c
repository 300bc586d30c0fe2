/*
 * ma_decode_s8: banded Viterbi forced alignment over int8 scores. See ma_decode_s8.h for the
 * contract and microalign/decode/_core.py for the recurrence this file reproduces bit for bit.
 *
 * Scratch layout (all parts 4-byte aligned):
 *   rows    int32 [2][W + 4]         two score rows, 2 NEG guard entries at each end
 *   states  uint8 [4 ceil(S/4)]      token id per state, bit 7 = skip allowed into the state
 *   steps   uint32 [ceil(T/16)]      window step lo(t) - lo(t-1) in 0..2, 2 bits per frame
 *   bp      uint32 [T - 1][ceil(W/16)] back-pointer codes (0 stay, 1 advance, 2 skip),
 *                                    2 bits per state, state j of frame t at bits
 *                                    30 - 2 (j % 16) of word (t - 1) * stride + j / 16
 */
#include "ma_decode_s8.h"

/* Unreachable states are seeded with NEG and never clamped: reachable scores satisfy
 * |x| <= 1152 T < 2^29, unreachable ones drift at most 1152 per frame from NEG, so they stay in
 * (-2^30 - 2^29, -2^30 + 2^29): below THRESH, below every reachable score, and far from overflow. */
#define NEG (-(1 << 30))
#define THRESH (-(1 << 29))
#define SKIP_FLAG 0x80u
#define TOKEN_MASK 0x7Fu

static int32_t ceil_div(int32_t a, int32_t b) { return (a + b - 1) / b; }

static int32_t resolve_band(int32_t band, int32_t n_states)
{
    if (band == 0) {
        band = MA_DECODE_DEFAULT_BAND;
    }
    if (band < MA_DECODE_MIN_BAND) {
        return -1;
    }
    return band < n_states ? band : n_states;
}

int32_t ma_decode_s8_get_buffer_size(int32_t n_frames, int32_t n_tokens, int32_t n_words, int32_t band)
{
    if (n_frames < 1 || n_frames > MA_DECODE_MAX_FRAMES || n_words < 1 || n_tokens < n_words ||
        n_tokens > MA_DECODE_MAX_FRAMES) {
        return MA_DECODE_ERR_ARGUMENT;
    }
    const int32_t n_states = n_tokens + n_words + 1;
    const int32_t w = resolve_band(band, n_states);
    if (w < 0) {
        return MA_DECODE_ERR_ARGUMENT;
    }
    const int64_t bytes = 8 * (int64_t)(w + 4) + 4 * (int64_t)ceil_div(n_states, 4) +
                          4 * (int64_t)ceil_div(n_frames, 16) +
                          4 * (int64_t)(n_frames - 1) * (int64_t)ceil_div(w, 16);
    return bytes > INT32_MAX ? MA_DECODE_ERR_ARGUMENT : (int32_t)bytes;
}

/* Window of frame t+1 from frame t's best state, its most advanced competitive state `top`,
 * the current window start `lo` (see _core.py: the window moves 0..2 states). */
static int32_t next_lo(int32_t lo, int32_t best, int32_t top, int32_t w, int32_t n_states)
{
    int32_t lower = best - w + 3;
    if (lower > n_states - w) {
        lower = n_states - w;
    }
    if (lower < lo) {
        lower = lo;
    }
    int32_t upper = lo + 2;
    if (upper > best) {
        upper = best;
    }
    if (upper > n_states - w) {
        upper = n_states - w;
    }
    int32_t target = top + 3 - w;
    if (target < lower) {
        target = lower;
    }
    return target > upper ? upper : target;
}

static int32_t row_max(const int8_t *row, int32_t n)
{
    int32_t m = row[0];
    for (int32_t v = 1; v < n; ++v) {
        if (row[v] > m) {
            m = row[v];
        }
    }
    return m;
}

int32_t ma_decode_s8(const ma_decode_s8_params *params,
                     const int8_t *scores,
                     int32_t n_frames,
                     int32_t n_vocab,
                     const int32_t *token_ids,
                     int32_t n_tokens,
                     const int32_t *word_lengths,
                     int32_t n_words,
                     void *scratch,
                     int32_t scratch_size,
                     const ma_decode_s8_output *out)
{
    const ma_decode_s8_params defaults = ma_decode_s8_default_params();
    if (params == 0) {
        params = &defaults;
    }
    /* ---- validation (same order and codes as viterbi_int.py) ---- */
    if (scores == 0 || token_ids == 0 || word_lengths == 0 || out == 0 || out->token_start == 0 ||
        out->token_end == 0 || out->word_start == 0 || out->word_end == 0 || out->word_score_sum == 0 ||
        out->word_frames == 0) {
        return MA_DECODE_ERR_ARGUMENT;
    }
    if (n_vocab < 2 || n_vocab > MA_DECODE_MAX_VOCAB) {
        return MA_DECODE_ERR_ARGUMENT;
    }
    const int32_t pen = params->silence_penalty;
    const int32_t beam = params->beam;
    if (pen < -MA_DECODE_MAX_PENALTY || pen > MA_DECODE_MAX_PENALTY || beam < 0 || beam > MA_DECODE_MAX_BEAM) {
        return MA_DECODE_ERR_ARGUMENT;
    }
    if (n_words < 1) {
        return MA_DECODE_ERR_ARGUMENT;
    }
    int32_t total = 0;
    for (int32_t i = 0; i < n_words; ++i) {
        if (word_lengths[i] < 1 || word_lengths[i] > n_tokens - total) {
            return MA_DECODE_ERR_TOKEN;
        }
        total += word_lengths[i];
    }
    if (total != n_tokens) {
        return MA_DECODE_ERR_TOKEN;
    }
    for (int32_t c = 0; c < n_tokens; ++c) {
        if (token_ids[c] < 1 || token_ids[c] >= n_vocab) {
            return MA_DECODE_ERR_TOKEN;
        }
    }
    if (n_frames < 1 || n_frames > MA_DECODE_MAX_FRAMES) {
        return MA_DECODE_ERR_ARGUMENT;
    }
    if (n_tokens > n_frames) {
        return MA_DECODE_ERR_TOO_SHORT;
    }
    const int32_t n_states = n_tokens + n_words + 1;
    const int32_t w = resolve_band(params->band, n_states);
    if (w < 0) {
        return MA_DECODE_ERR_ARGUMENT;
    }
    const int32_t need = ma_decode_s8_get_buffer_size(n_frames, n_tokens, n_words, w);
    if (scratch == 0 || ((uintptr_t)scratch & 3u) != 0 || need < 0 || scratch_size < need) {
        return MA_DECODE_ERR_SCRATCH;
    }

    /* ---- scratch ---- */
    const int32_t stride = ceil_div(w, 16); /* back-pointer words per frame */
    int32_t *row_a = (int32_t *)scratch;
    int32_t *row_b = row_a + (w + 4);
    uint32_t *state_words = (uint32_t *)(row_b + (w + 4));
    uint8_t *state = (uint8_t *)state_words;
    uint32_t *steps = state_words + ceil_div(n_states, 4);
    uint32_t *bp = steps + ceil_div(n_frames, 16);

    /* state table: sil_0, chars of w_1, sil_1, ... ; skip allowed into the first char of w_2..w_n */
    {
        int32_t s = 0, c = 0;
        state[s++] = 0;
        for (int32_t i = 0; i < n_words; ++i) {
            for (int32_t k = 0; k < word_lengths[i]; ++k, ++c) {
                state[s++] = (uint8_t)((uint32_t)token_ids[c] | ((i > 0 && k == 0) ? SKIP_FLAG : 0u));
            }
            state[s++] = 0;
        }
    }
    for (int32_t i = 0; i < ceil_div(n_frames, 16); ++i) {
        steps[i] = 0;
    }
    row_a[0] = row_a[1] = row_a[w + 2] = row_a[w + 3] = NEG;
    row_b[0] = row_b[1] = row_b[w + 2] = row_b[w + 3] = NEG;
    int32_t *cur = row_a + 2;
    int32_t *prev = row_b + 2;

    /* smin: first state that can still finish (characters after it <= frames left) */
    int32_t smin = 0, smin_after = n_tokens;
    const int32_t last = n_frames - 1;
    while (smin_after > last) {
        ++smin;
        smin_after -= (state[smin] != 0);
    }

    /* ---- frame 0 ---- */
    for (int32_t j = 0; j < w; ++j) {
        cur[j] = NEG;
    }
    if (smin == 0) {
        cur[0] = (int32_t)scores[0] - pen;
    }
    cur[1] = scores[state[1] & TOKEN_MASK]; /* smin <= 1 because n_tokens <= n_frames */
    int32_t lo = 0;
    int32_t best = cur[0] >= cur[1] ? 0 : 1;
    int32_t best_v = cur[best];

    /* ---- forward ---- */
    for (int32_t t = 1; t < n_frames; ++t) {
        int32_t top = w - 1;
        while (top > best && cur[top] < best_v - beam) {
            --top;
        }
        const int32_t lo1 = next_lo(lo, lo + best, lo + top, w, n_states);
        const uint32_t d = (uint32_t)(lo1 - lo);
        steps[t >> 4] |= d << (2 * (t & 15));
        lo = lo1;
        {
            int32_t *tmp = prev;
            prev = cur;
            cur = tmp;
        }
        while (smin_after > last - t) {
            ++smin;
            smin_after -= (state[smin] != 0);
        }
        int32_t j0 = smin - lo;
        j0 = j0 < 0 ? 0 : (j0 > w ? w : j0);

        const int8_t *row = scores + (int32_t)t * n_vocab;
        uint32_t *bpr = bp + (t - 1) * stride;
        best_v = NEG;
        const int32_t *best_c = cur;
        for (int32_t jw = 0; jw < w; jw += 16) {
            const int32_t jend = jw + 16 < w ? jw + 16 : w;
            int32_t j = jw;
            for (; j < jend && j < j0; ++j) {
                cur[j] = NEG;
            }
            /* codes are shifted in from the right: state jw + i ends at bits 30 - 2 i */
            uint32_t word = 0;
            const int32_t *p = prev + d + j;
            const uint8_t *st = state + lo + j;
            int32_t *c = cur + j;
            int32_t *const c_end = cur + jend;
            int32_t x1 = p[-1]; /* prev[s - 1]: carried over, one load per state */
            for (; c < c_end; ++c, ++p, ++st) {
                const uint32_t k = *st;
                const int32_t x0 = p[0];
                int32_t b = x0;
                word <<= 2;
                if (k - 1u < TOKEN_MASK) { /* plain character: stay or advance */
                    if (x1 > b) {
                        b = x1;
                        word |= 1u;
                    }
                    b += row[k];
                } else {
                    if (k == 0) { /* silence: stay or advance (entering it costs pen) */
                        if (x1 - pen > b) {
                            b = x1 - pen;
                            word |= 1u;
                        }
                    } else { /* first character of w_2..w_n: stay, advance or skip sil_{i-1} */
                        const int32_t x2 = p[-2];
                        if (x1 > b) {
                            b = x1;
                            word |= 1u;
                        }
                        if (x2 > b) {
                            b = x2;
                            word = (word & ~3u) | 2u;
                        }
                    }
                    b += row[k & TOKEN_MASK];
                }
                *c = b;
                if (b > best_v) {
                    best_v = b;
                    best_c = c;
                }
                x1 = x0;
            }
            bpr[jw >> 4] = word << (2 * (16 - (jend - jw)));
        }
        best = (int32_t)(best_c - cur);
    }

    /* ---- end state: last character unless sil_n is strictly better ---- */
    int32_t s;
    {
        const int32_t ja = n_states - 2 - lo, jb = n_states - 1 - lo;
        const int32_t va = (ja >= 0 && ja < w) ? cur[ja] : NEG;
        const int32_t vb = (jb >= 0 && jb < w) ? cur[jb] : NEG;
        if (vb <= THRESH || (va > THRESH && va >= vb)) {
            s = n_states - 2;
            best_v = va;
        } else {
            s = n_states - 1;
            best_v = vb;
        }
    }
    if (best_v <= THRESH) { /* unreachable by construction (see _core.py); never return garbage */
        return MA_DECODE_ERR_ARGUMENT;
    }

    /* ---- backtrack ---- */
    for (int32_t i = 0; i < n_words; ++i) {
        out->word_score_sum[i] = 0;
    }
    int32_t nsil = (s == n_states - 1) ? n_words + 1 : n_words; /* silence states <= s */
    if (state[s] != 0) {
        out->token_end[s - nsil] = n_frames;
    }
    for (int32_t t = last;; --t) {
        const uint32_t k = state[s];
        if (k != 0) {
            const int8_t *row = scores + (int32_t)t * n_vocab;
            out->word_score_sum[nsil - 1] += (int32_t)row[k & TOKEN_MASK] - row_max(row, n_vocab);
        }
        if (t == 0) {
            if (k != 0) {
                out->token_start[s - nsil] = 0;
            }
            break;
        }
        const int32_t j = s - lo;
        const uint32_t code = (bp[(t - 1) * stride + (j >> 4)] >> (30 - 2 * (j & 15))) & 3u;
        lo -= (int32_t)((steps[t >> 4] >> (2 * (t & 15))) & 3u);
        if (code != 0) {
            if (k != 0) {
                out->token_start[s - nsil] = t;
            }
            nsil -= (k == 0) + (code == 2);
            s -= (int32_t)code;
            if (state[s] != 0) {
                out->token_end[s - nsil] = t;
            }
        }
    }
    for (int32_t i = 0, c = 0; i < n_words; ++i) {
        out->word_start[i] = out->token_start[c];
        c += word_lengths[i];
        out->word_end[i] = out->token_end[c - 1];
        out->word_frames[i] = out->word_end[i] - out->word_start[i];
    }
    if (out->path_score != 0) {
        *out->path_score = best_v;
    }
    return MA_DECODE_OK;
}
