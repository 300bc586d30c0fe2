/*
 * ma_refine_s8: word boundaries between frames (see ma_refine_s8.h). The reference is
 * microalign.decode.refine (problems(), _crossings_int(), refine_int(), order()); names follow it.
 */
#include "ma_refine_s8.h"

#include <stddef.h>

#include "microalign_refine.h"

#define W_MAX (4 * MA_REFINE_REACH) /* most frames of one problem */
/* copies of each character in a junction's graph: min(k, MAX_COPIES) (refine.MAX_COPIES) */
#define MAX_COPIES ((MA_REFINE_MAX_STATES - 1) / (2 * MA_REFINE_CHARS))

/* One junction's local graph over frames [a, b): S states (left copies, silence, right copies). */
typedef struct {
    int32_t a, b;
    int32_t S;
    int32_t sil;       /* silence state */
    int32_t last_left; /* last copy of the left word's last character, -1 if none */
    int32_t skip;      /* 1: state sil + 1 may be entered from sil - 1 */
    int32_t start_lo, start_hi, start_extra; /* states allowed at frame a: [lo, hi] and extra (-1: none) */
    int32_t end_lo, end_hi, end_extra;       /* states allowed at frame b - 1 */
} refine_problem;

typedef struct {
    const int8_t *scores;
    const int8_t *frame_max;
    int32_t n_cols;
    int32_t k;
    int32_t *alpha; /* [W_MAX][S] forward rows, log domain */
    int16_t *em;    /* [W_MAX][S] emissions of the window */
    uint32_t *g_left, *g_right; /* [W_MAX] P(not yet past the left word / the silence) per frame, Q12 */
    int32_t *beta;  /* [S] */
    int32_t *y;     /* [S] */
    int32_t *cols;  /* [S] score column per state */
} refine_ctx;

/* log(e^x + e^y) in MA_REFINE_LOG_UNITS per nat (the table ends in 0: a larger difference adds 0) */
static inline int32_t logadd(int32_t x, int32_t y)
{
    int32_t d = x - y, m = x;
    if (d < 0) d = -d, m = y;
    if (d > MA_REFINE_LOGADD_LEN - 1) d = MA_REFINE_LOGADD_LEN - 1;
    return m + MA_REFINE_LOGADD[d];
}

/* posterior weight of a state v below the frame's best (Q15; the table ends in 0) */
static inline uint32_t weight(int32_t best, int32_t v)
{
    uint32_t d = (uint32_t)(best - v);
    if (d > MA_REFINE_EXP_LEN - 1) d = MA_REFINE_EXP_LEN - 1;
    return MA_REFINE_EXP_Q15[d];
}

static inline int32_t in_set(int32_t s, int32_t lo, int32_t hi, int32_t extra)
{
    return (s >= lo && s <= hi) || s == extra;
}

/* The posterior median of a crossing (refine.median_crossing) in Q12 frames after the window's first
 * (from -2^11), from g[t] = P(not yet crossed at frame t), Q12, t < T. */
static int32_t median_crossing(const uint32_t *g, int32_t T)
{
    const uint32_t half = 1u << (MA_REFINE_Q_BITS - 1), one = 1u << MA_REFINE_Q_BITS;
    int32_t t0 = 0;
    while (t0 < T && g[t0] > half) ++t0;
    const uint32_t g0 = t0 > 0 ? g[t0 - 1] : one, g1 = t0 < T ? g[t0] : 0u; /* g0 > half >= g1 */
    return t0 * (int32_t)one - (int32_t)half + (int32_t)(((g0 - half) << MA_REFINE_Q_BITS) / (g0 - g1));
}

/* Crossings in Q12 frames after the window's first (posterior medians): *e_left (the left word's end)
 * and *e_right (the right word's start). Unreachable states start at MA_REFINE_NEG and stay far below
 * every path (they sink by at most 255 T LOG_UNITS / 16 per frame: no int32 overflow in W_MAX frames). */
static void crossings(const refine_ctx *c, const refine_problem *q, int32_t *e_left, int32_t *e_right)
{
    const int32_t S = q->S, T = q->b - q->a, sk = q->skip ? q->sil + 1 : -1;
    int32_t *beta = c->beta, *y = c->y; /* y: a frame's alpha + beta */
    const int32_t *cols = c->cols;
    /* emissions of the window, one row per frame */
    for (int32_t t = 0; t < T; ++t) {
        const int8_t *sr = c->scores + (size_t)(q->a + t) * (size_t)c->n_cols;
        const int32_t fm = c->frame_max[q->a + t];
        int16_t *er = c->em + (size_t)t * (size_t)S;
        for (int32_t s = 0; s < S; ++s) {
            const int32_t d = fm - (int32_t)sr[cols[s]];
            er[s] = MA_REFINE_EMIT_LOG[d < 0 ? 0 : d]; /* a score above frame_max counts as the maximum */
        }
    }
    int32_t *row = c->alpha;
    const int16_t *er = c->em;
    for (int32_t s = 0; s < S; ++s)
        row[s] = in_set(s, q->start_lo, q->start_hi, q->start_extra) ? er[s] : MA_REFINE_NEG;
    for (int32_t t = 1; t < T; ++t) {
        const int32_t *prev = row;
        row += S, er += S;
        row[0] = prev[0] + er[0];
        for (int32_t s = 1; s < S; ++s) row[s] = logadd(prev[s], prev[s - 1]) + er[s];
        if (sk >= 0) row[sk] = logadd(logadd(prev[sk], prev[sk - 1]), prev[sk - 2]) + er[sk];
    }
    for (int32_t s = 0; s < S; ++s) beta[s] = in_set(s, q->end_lo, q->end_hi, q->end_extra) ? 0 : MA_REFINE_NEG;
    const int32_t last_left = q->last_left, sil = q->sil;
    for (int32_t t = T - 1; t >= 0; --t) {
        if (t < T - 1) {
            const int16_t *en = c->em + (size_t)(t + 1) * (size_t)S;
            const int32_t y_skip = sk >= 0 ? beta[sk] + en[sk] : 0; /* before beta[sk] is overwritten */
            int32_t y_next = beta[S - 1] + en[S - 1];
            beta[S - 1] = y_next;
            for (int32_t s = S - 2; s >= 0; --s) {
                const int32_t ys = beta[s] + en[s];
                beta[s] = logadd(ys, y_next);
                y_next = ys;
            }
            if (sk >= 0) beta[sk - 2] = logadd(beta[sk - 2], y_skip);
        }
        const int32_t *a = c->alpha + (size_t)t * (size_t)S;
        int32_t best = a[0] + beta[0];
        for (int32_t s = 0; s < S; ++s) {
            y[s] = a[s] + beta[s];
            best = y[s] > best ? y[s] : best;
        }
        uint32_t num_left = 0, num_sil, den;
        int32_t s = 0;
        for (; s <= last_left; ++s) num_left += weight(best, y[s]);
        num_sil = num_left + weight(best, y[sil]);
        den = num_sil;
        for (s = sil + 1; s < S; ++s) den += weight(best, y[s]);
        /* den >= 2^15 (the best state); num <= den <= 15 * 2^15, so num << 12 < 2^31 */
        c->g_left[t] = last_left >= 0 ? (num_left << MA_REFINE_Q_BITS) / den : 0u;
        c->g_right[t] = (num_sil << MA_REFINE_Q_BITS) / den;
    }
    *e_left = median_crossing(c->g_left, T);
    *e_right = median_crossing(c->g_right, T);
}

/* Frame a plus a Q12 offset (>= -2^12), in milliseconds rounded half up (floor((q12 ms + 2^11) / 2^12),
 * on a non-negative operand) */
static inline int32_t to_ms(int32_t a, int32_t q12, int32_t frame_ms)
{
    const int32_t one = 1 << MA_REFINE_Q_BITS;
    return (a - 1) * frame_ms + (((q12 + one) * frame_ms + (1 << (MA_REFINE_Q_BITS - 1))) >> MA_REFINE_Q_BITS);
}

/* Build and solve one problem (problems().build): left characters [l0, l1), right [r0, r1) (global
 * indices, empty when equal); start_sil / end_sil: 1 silence, 0 a character, -1 the recording's edge. */
static void solve(const refine_ctx *c, const int32_t *token_ids, const int32_t *tok_start,
                     const int32_t *tok_end, int32_t a, int32_t b, int32_t l0, int32_t l1, int32_t r0,
                     int32_t r1, int32_t start_sil, int32_t end_sil, int32_t *e_left, int32_t *e_right)
{
    const int32_t k = c->k;
    while (l0 < l1 && tok_end[l0] <= a) ++l0;  /* characters wholly before the window */
    while (r1 > r0 && tok_start[r1 - 1] >= b) --r1; /* wholly after it */
    refine_problem q;
    int32_t S = 0;
    for (int32_t i = l0; i < l1; ++i)
        for (int32_t j = 0; j < k; ++j) c->cols[S++] = token_ids[i];
    q.sil = S;
    c->cols[S++] = 0;
    for (int32_t i = r0; i < r1; ++i)
        for (int32_t j = 0; j < k; ++j) c->cols[S++] = token_ids[i];
    const int32_t has_left = l1 > l0, has_right = r1 > r0;
    q.a = a, q.b = b, q.S = S;
    q.last_left = has_left ? q.sil - 1 : -1;
    q.skip = has_left && has_right;
    q.start_extra = q.end_extra = -1;
    if (start_sil < 0) { /* the recording's first frame: leading silence or the first character */
        q.start_lo = q.start_hi = q.sil;
        if (has_right) q.start_extra = q.sil + 1;
    } else if (start_sil) {
        q.start_lo = q.start_hi = q.sil;
    } else if (tok_start[l0] == a) {
        q.start_lo = q.start_hi = 0;
    } else { /* inside the left word's first character of the window: any copy */
        q.start_lo = 0, q.start_hi = k - 1;
    }
    if (end_sil < 0) { /* the recording's last frame: the last character or trailing silence */
        q.end_lo = q.end_hi = q.sil;
        if (has_left) q.end_extra = q.sil - 1;
    } else if (end_sil) {
        q.end_lo = q.end_hi = q.sil;
    } else if (tok_end[r1 - 1] == b) {
        q.end_lo = q.end_hi = S - 1;
    } else {
        q.end_lo = S - k, q.end_hi = S - 1;
    }
    crossings(c, &q, e_left, e_right);
}

int32_t ma_refine_s8_get_scratch_size(int32_t k)
{
    if (k < 1) return MA_ERR_ARGUMENT;
    const int32_t S = 2 * MA_REFINE_CHARS * (k < MAX_COPIES ? k : MAX_COPIES) + 1;
    return 4 * W_MAX * S + 12 * S + 8 * W_MAX + ((2 * W_MAX * S + 3) & ~3);
}

int32_t ma_refine_s8(const int8_t *scores, const int8_t *frame_max, int32_t n_frames, int32_t n_cols,
                     const int32_t *token_ids, const int32_t *tok_start, const int32_t *tok_end, int32_t n_tokens,
                     const int32_t *word_lengths, int32_t n_words, int32_t k, void *scratch, int32_t scratch_size,
                     int32_t *start_ms, int32_t *end_ms)
{
    const int32_t need = ma_refine_s8_get_scratch_size(k);
    if (need < 0) return need;
    if (scores == NULL || frame_max == NULL || token_ids == NULL || tok_start == NULL || tok_end == NULL ||
        word_lengths == NULL || start_ms == NULL || end_ms == NULL || n_frames < 1 || n_cols < 1 ||
        n_words < 1 || n_tokens < n_words || n_frames > INT32_MAX / 2 / MA_REFINE_FRAME_MS)
        return MA_ERR_ARGUMENT;
    if (scratch == NULL || ((uintptr_t)scratch & 3u) != 0 || scratch_size < need) return MA_ERR_SCRATCH;
    /* validate: lengths, columns, spans in order inside [0, n_frames), each >= k frames */
    int32_t total = 0;
    for (int32_t w = 0; w < n_words; ++w) {
        if (word_lengths[w] < 1 || word_lengths[w] > n_tokens - total) return MA_ERR_TOKEN;
        total += word_lengths[w];
    }
    if (total != n_tokens) return MA_ERR_TOKEN;
    for (int32_t i = 0; i < n_tokens; ++i) {
        if (token_ids[i] < 1 || token_ids[i] >= n_cols) return MA_ERR_TOKEN;
        if (tok_start[i] < (i ? tok_end[i - 1] : 0) || tok_end[i] - tok_start[i] < k || tok_end[i] > n_frames)
            return MA_ERR_TOKEN;
    }

    const int32_t kr = k < MAX_COPIES ? k : MAX_COPIES;
    const int32_t S_max = 2 * MA_REFINE_CHARS * kr + 1, H = MA_REFINE_REACH, ms = MA_REFINE_FRAME_MS;
    refine_ctx c;
    c.scores = scores, c.frame_max = frame_max, c.n_cols = n_cols, c.k = kr;
    c.alpha = (int32_t *)scratch;
    c.beta = c.alpha + W_MAX * S_max, c.y = c.beta + S_max, c.cols = c.y + S_max;
    c.g_left = (uint32_t *)(c.cols + S_max), c.g_right = c.g_left + W_MAX;
    c.em = (int16_t *)(c.g_right + W_MAX);

    int32_t first = 0; /* index of word g's first character */
    for (int32_t w = 0; w < n_words; ++w) {
        const int32_t last = first + word_lengths[w] - 1;
        start_ms[w] = tok_start[first] * ms;
        end_ms[w] = tok_end[last] * ms;
        first = last + 1;
    }
    first = 0;
    for (int32_t g = 0; g <= n_words; ++g) {
        const int32_t has_left = g > 0, has_right = g < n_words;
        const int32_t next = has_right ? first + word_lengths[g] : first; /* one past word g's characters */
        const int32_t prev_first = has_left ? first - word_lengths[g - 1] : first;
        const int32_t l0 = has_left ? (first - MA_REFINE_CHARS > prev_first ? first - MA_REFINE_CHARS : prev_first) : first;
        const int32_t l1 = first;
        const int32_t r0 = first, r1 = has_right ? (first + MA_REFINE_CHARS < next ? first + MA_REFINE_CHARS : next) : first;
        const int32_t s_lo = has_left ? tok_end[first - 1] : 0;
        const int32_t s_hi = has_right ? tok_start[first] : n_frames;
        if (!MA_REFINE_PAUSES && !(has_left && has_right && s_hi == s_lo)) { /* a decoded pause or an edge */
            first = next;
            continue;
        }
        int32_t fa, fb;
        if (has_left) fa = tok_start[l0] > s_lo - H ? tok_start[l0] : s_lo - H;
        else fa = s_hi - H > 0 ? s_hi - H : 0;
        if (has_right) fb = tok_end[r1 - 1] < s_hi + H ? tok_end[r1 - 1] : s_hi + H;
        else fb = s_lo + H < n_frames ? s_lo + H : n_frames;
        const int32_t start_sil = (!has_left && fa == 0) ? -1 : !has_left;
        const int32_t end_sil = (!has_right && fb == n_frames) ? -1 : !has_right;
        int32_t el, er;
        if (has_left && has_right && s_hi - s_lo > 2 * H) { /* a long pause: one problem per side */
            solve(&c, token_ids, tok_start, tok_end, fa, s_lo + H, l0, l1, r0, r0, 0, 1, &el, &er);
            end_ms[g - 1] = to_ms(fa, el, ms);
            solve(&c, token_ids, tok_start, tok_end, s_hi - H, fb, l1, l1, r0, r1, 1, 0, &el, &er);
            start_ms[g] = to_ms(s_hi - H, er, ms);
        } else {
            solve(&c, token_ids, tok_start, tok_end, fa, fb, l0, l1, r0, r1, start_sil, end_sil, &el, &er);
            if (has_left) end_ms[g - 1] = to_ms(fa, el, ms);
            if (has_right) start_ms[g] = to_ms(fa, er, ms);
        }
        first = next;
    }
    /* order(): every word at least 1 ms, none before the previous one's end */
    int32_t prev = 0;
    for (int32_t w = 0; w < n_words; ++w) {
        if (start_ms[w] < prev) start_ms[w] = prev;
        if (end_ms[w] < start_ms[w] + 1) end_ms[w] = start_ms[w] + 1;
        prev = end_ms[w];
    }
    return MA_OK;
}
