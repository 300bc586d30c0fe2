/*
 * ma_decode_s8: banded, checkpointed Viterbi forced alignment over int8 scores. See
 * ma_decode_s8.h for the contract and microalign/decode/_core.py for the algorithm this file
 * reproduces bit for bit.
 *
 * Scratch (SRAM) layout, W = the widest band tried, K = checkpoint interval (4-byte aligned parts):
 *   rows   int32 [2][W + 4]          two score rows, 2 NEG guard entries at each end
 *   bp     uint32 [K][ceil(W/16)]    back-pointer codes of one segment (0 stay, 1 advance, 2 skip),
 *                                    2 bits per state: state j of segment frame i at bits
 *                                    30 - 2 (j % 16) of word i * stride + j / 16
 *   los    int32 [K + 1]             band position of each frame of the segment
 *   smins  int32 [K + 1]             first state that can still finish, per frame of the segment
 * Checkpoint buffer (external RAM):
 *   states uint16 [2 ceil(S/2)]      token id per state, bit 15 = skip allowed into the state or silence
 *   ckpt   int32 [n_ckpt][W + 3]     every K frames: lo, smin, chars after smin, the band's row
 *   path   (given ma_decode_s8_get_path_size bytes) the first band's whole path: uint32 [T][ceil(W1/16)]
 *          back-pointer rows (frame t's at row t - 1), int32 [T] band positions, int32 [T] smins; the forward pass
 *          of that band writes it instead of checkpoints, and its traceback reads it instead of replaying
 */
#include "ma_decode_s8.h"

/* Unreachable states hold exactly NEG. Rows are renormalised every frame (the previous row's
 * maximum m, always a reachable state, is subtracted), so reachable values stay within
 * [-CLAMP - 128, 1151] and int32 never overflows (see _core.py). */
#define NEG (-(1 << 30))
#define THRESH (-(3 << 28))
#define SKIP_FLAG 0x8000u
#define TOKEN_MASK 0x7FFFu
/* silence states are SKIP_FLAG | 0, so plain characters are exactly the codes below SKIP_FLAG */
#define SIL_STATE SKIP_FLAG
#define IS_CHAR(k) (((k) & TOKEN_MASK) != 0u)
#define CKPT_HEADER 3

static int32_t ceil_div(int32_t a, int32_t b) { return (a + b - 1) / b; }

/* Resolved parameters: first band, widest band, interval; -1 when out of range. */
typedef struct {
    int32_t band, max_band, interval;
} bands;

static int32_t resolve_band(const ma_decode_s8_params *p, int32_t n_states, bands *r)
{
    int32_t band = p->band, max_band = p->max_band, interval = p->checkpoint_interval;
    if (band == 0) {
        band = MA_DECODE_DEFAULT_BAND;
    }
    if (max_band == 0) {
        max_band = MA_DECODE_DEFAULT_MAX_BAND;
    }
    if (interval == 0) {
        interval = MA_DECODE_DEFAULT_INTERVAL;
    }
    if (band < MA_DECODE_MIN_BAND || band > MA_DECODE_MAX_BAND || max_band < MA_DECODE_MIN_BAND ||
        max_band > MA_DECODE_MAX_BAND || interval < 1 || interval > MA_DECODE_MAX_INTERVAL) {
        return -1;
    }
    r->band = band < n_states ? band : n_states;
    r->max_band = max_band < n_states ? max_band : n_states;
    if (r->max_band < r->band) {
        r->max_band = r->band;
    }
    r->interval = interval;
    return 0;
}

static int64_t scratch_size(const bands *b)
{
    const int64_t w = b->max_band, k = b->interval;
    return 8 * (w + 4) + 4 * k * ceil_div((int32_t)w, 16) + 8 * (k + 1);
}

static int64_t checkpoint_size(int32_t n_frames, int32_t n_states, const bands *b)
{
    const int64_t n_ckpt = (n_frames - 1) / b->interval + 1;
    return 4 * (int64_t)ceil_div(n_states, 2) + 4 * n_ckpt * ((int64_t)b->max_band + CKPT_HEADER);
}

/* The whole path of the first band (after the checkpoint area): every frame's back-pointer row, band position and
 * smin, so that its traceback replays nothing. */
static int64_t path_extra(int32_t n_frames, const bands *b)
{
    return 4 * (int64_t)n_frames * ceil_div(b->band, 16) + 8 * (int64_t)n_frames;
}

int32_t ma_decode_s8_get_scratch_size(int32_t n_tokens, int32_t n_words, const ma_decode_s8_params *params)
{
    const ma_decode_s8_params defaults = ma_decode_s8_default_params();
    bands b;
    if (n_words < 1 || n_tokens < n_words || n_tokens > MA_DECODE_MAX_FRAMES ||
        resolve_band(params ? params : &defaults, n_tokens + n_words + 1, &b) != 0) {
        return MA_DECODE_ERR_ARGUMENT;
    }
    return (int32_t)scratch_size(&b); /* < 2^31: W, K <= 65536 */
}

static int32_t external_size(int32_t n_frames, int32_t n_tokens, int32_t n_words, const ma_decode_s8_params *params,
                             int whole_path)
{
    const ma_decode_s8_params defaults = ma_decode_s8_default_params();
    bands b;
    if (n_frames < 1 || n_frames > MA_DECODE_MAX_FRAMES || n_words < 1 || n_tokens < n_words ||
        n_tokens > MA_DECODE_MAX_FRAMES || resolve_band(params ? params : &defaults, n_tokens + n_words + 1, &b) != 0) {
        return MA_DECODE_ERR_ARGUMENT;
    }
    const int64_t n =
        checkpoint_size(n_frames, n_tokens + n_words + 1, &b) + (whole_path ? path_extra(n_frames, &b) : 0);
    return n > INT32_MAX ? MA_DECODE_ERR_ARGUMENT : (int32_t)n;
}

int32_t ma_decode_s8_get_checkpoint_size(int32_t n_frames, int32_t n_tokens, int32_t n_words,
                                         const ma_decode_s8_params *params)
{
    return external_size(n_frames, n_tokens, n_words, params, 0);
}

int32_t ma_decode_s8_get_path_size(int32_t n_frames, int32_t n_tokens, int32_t n_words,
                                   const ma_decode_s8_params *params)
{
    return external_size(n_frames, n_tokens, n_words, params, 1);
}

/* Everything one decode needs. */
typedef struct {
    const int8_t *scores;
    int32_t n_frames, n_cols, n_tokens, n_states;
    int32_t beam, pen;
    const uint16_t *state;
} problem;

/* Window of frame t+1 from frame t's best state, its most advanced competitive state `top` and
 * the current window start `lo` (see _core.py: the window moves 0..2 states, keeps W/8 states of
 * headroom above `top`). */
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
    int32_t target = top + (w >> 3) + 3 - w;
    if (target < lower) {
        target = lower;
    }
    return target > upper ? upper : target;
}

/* smin: first state that can still finish at frame t (characters after it <= frames left). */
static void advance_smin(const problem *pb, int32_t t, int32_t *smin, int32_t *smin_after)
{
    const int32_t left = pb->n_frames - 1 - t;
    while (*smin_after > left) {
        ++*smin;
        *smin_after -= IS_CHAR(pb->state[*smin]);
    }
}

/* First state of maximal score in a row of w (the window's `best`). */
static int32_t row_argmax(const int32_t *row, int32_t w)
{
    int32_t jb = 0;
    for (int32_t j = 1; j < w; ++j) {
        if (row[j] > row[jb]) {
            jb = j;
        }
    }
    return jb;
}

/* Band placement and edge checks of one frame (see step): returns lo(t) and sets *dropped. */
static int32_t place(const problem *pb, int32_t w, const int32_t *prev, int32_t lo, int32_t jb, int32_t *dropped)
{
    const int32_t m = prev[jb];
    int32_t top = w - 1;
    while (top > jb && prev[top] < m - pb->beam) {
        --top;
    }
    const int32_t lo1 = next_lo(lo, lo + jb, lo + top, w, pb->n_states);
    const int32_t d = lo1 - lo;
    if ((d > 0 && prev[0] >= m - MA_DECODE_DROP_MARGIN) || (d > 1 && prev[1] >= m - MA_DECODE_DROP_MARGIN)) {
        *dropped = 1;
    }
    /* a competitive state at the band's top whose successors (advance, skip) lie above the new band */
    if (lo1 + w - 1 < pb->n_states - 1) {
        for (int32_t j = lo1 + w - 2 - lo; j <= lo1 + w - 1 - lo; ++j) {
            if (j >= 0 && j < w && prev[j] >= m - MA_DECODE_DROP_MARGIN) {
                *dropped = 1;
            }
        }
    }
    return lo1;
}

#if defined(__GNUC__)
#define MA_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define MA_ALWAYS_INLINE inline
#endif

/* The states [j, jend) of row t: the recurrence of _core.py (stay, then advance, then skip; a later
 * candidate wins only if strictly better; clamp; renormalisation by m). p[j] = prev[state lo1 + j].
 * When with_bp, *word receives one 2-bit code per state (shifted in from the right). Updates
 * *best_v / *best_j (first maximum). Written for the Cortex-M7's registers: pointers instead of
 * indices, the clamp as one comparison of b - m, plain characters (codes below SKIP_FLAG) on the
 * fall-through path. */
static MA_ALWAYS_INLINE void cells(const uint16_t *state, const int32_t *p, int32_t *cur, const int8_t *row,
                                   int32_t j, int32_t jend, int32_t m, int32_t pen, uint32_t *word,
                                   int32_t *best_v_io, int32_t *best_j_io, const int with_bp)
{
    int32_t best_v = *best_v_io;
    int32_t *best_p = 0;
    uint32_t wd = with_bp ? *word : 0u;
    const uint16_t *st = state + j;
    const int32_t *pp = p + j;
    int32_t *cp = cur + j;
    int32_t x1 = pp[-1]; /* prev[s - 1]: carried over, one load per state */
    /* one state: X0 = prev[s] (loaded), X1 = prev[s - 1] (carried) */
#define MA_DECODE_CELL(X1, X0)                                                                                       \
    do {                                                                                                             \
        uint32_t k = *st++;                                                                                          \
        X0 = *pp++;                                                                                                  \
        int32_t b = X0;                                                                                              \
        uint32_t code = 0;                                                                                           \
        if (k < SKIP_FLAG) { /* plain character: stay or advance */                                                 \
            if (X1 > b) {                                                                                            \
                b = X1;                                                                                              \
                code = 1;                                                                                            \
            }                                                                                                        \
        } else {                                                                                                     \
            if (k == SIL_STATE) { /* silence: stay or advance (entering it costs pen) */                            \
                if (X1 - pen > b) {                                                                                  \
                    b = X1 - pen;                                                                                    \
                    code = 1;                                                                                        \
                }                                                                                                    \
            } else { /* first character of w_2..w_n: stay, advance or skip sil_{i-1} */                             \
                const int32_t x2 = pp[-3];                                                                           \
                if (X1 > b) {                                                                                        \
                    b = X1;                                                                                          \
                    code = 1;                                                                                        \
                }                                                                                                    \
                if (x2 > b) {                                                                                        \
                    b = x2;                                                                                          \
                    code = 2;                                                                                        \
                }                                                                                                    \
            }                                                                                                        \
            k &= TOKEN_MASK;                                                                                         \
        }                                                                                                            \
        const int32_t c = b - m; /* b < m - CLAMP: unreachable */                                                   \
        const int32_t v = c < -MA_DECODE_CLAMP ? NEG : c + row[k];                                                   \
        if (v > best_v) {                                                                                            \
            best_v = v;                                                                                              \
            best_p = cp;                                                                                             \
        }                                                                                                            \
        *cp++ = v;                                                                                                   \
        if (with_bp) {                                                                                               \
            wd = (wd << 2) | code;                                                                                   \
        }                                                                                                            \
    } while (0)
    /* two states per iteration: the carried value changes register instead of being copied */
    for (int32_t n = (jend - j) >> 1; n > 0; --n) {
        int32_t xa, xb;
        MA_DECODE_CELL(x1, xa);
        MA_DECODE_CELL(xa, xb);
        x1 = xb;
    }
    if ((jend - j) & 1) {
        int32_t xa;
        MA_DECODE_CELL(x1, xa);
        (void)xa;
    }
#undef MA_DECODE_CELL
    if (best_p != 0) {
        *best_v_io = best_v;
        *best_j_io = (int32_t)(best_p - cur);
    }
    if (with_bp) {
        *word = wd;
    }
}

/* One frame of the recurrence: row t (cur) from row t-1 (prev, window at lo, first maximum jb).
 * Returns lo(t); *jb_out = first maximum of the new row; *dropped is set to 1 when a state within
 * MA_DECODE_DROP_MARGIN of the maximum leaves the band at its bottom, or sits at its top while its
 * successors lie above the new band (a competitive hypothesis the band cannot follow). The forward
 * pass (step_fwd) keeps no back-pointers; the traceback's replay (step_bp) writes the 2-bit codes of
 * the row to bpr. */
static MA_ALWAYS_INLINE int32_t step_fwd(const problem *pb, int32_t w, const int32_t *prev, int32_t *cur, int32_t lo,
                                         int32_t jb, int32_t t, int32_t smin, int32_t *jb_out, int32_t *dropped)
{
    const int32_t m = prev[jb];
    const int32_t lo1 = place(pb, w, prev, lo, jb, dropped);
    int32_t j0 = smin - lo1;
    j0 = j0 < 0 ? 0 : (j0 > w ? w : j0);
    for (int32_t j = 0; j < j0; ++j) {
        cur[j] = NEG;
    }
    int32_t best_v = NEG, best_j = 0;
    cells(pb->state + lo1, prev + (lo1 - lo), cur, pb->scores + (int32_t)t * pb->n_cols, j0, w, m, pb->pen, 0,
          &best_v, &best_j, 0);
    *jb_out = best_j;
    return lo1;
}

static MA_ALWAYS_INLINE int32_t step_bp(const problem *pb, int32_t w, const int32_t *prev, int32_t *cur, int32_t lo,
                                        int32_t jb, int32_t t, int32_t smin, uint32_t *bpr, int32_t *jb_out,
                                        int32_t *dropped)
{
    const int32_t m = prev[jb];
    const int32_t lo1 = place(pb, w, prev, lo, jb, dropped);
    int32_t j0 = smin - lo1;
    j0 = j0 < 0 ? 0 : (j0 > w ? w : j0);
    const uint16_t *state = pb->state + lo1;
    const int32_t *p = prev + (lo1 - lo);
    const int8_t *row = pb->scores + (int32_t)t * pb->n_cols;
    int32_t best_v = NEG, best_j = 0;
    for (int32_t jw = 0; jw < w; jw += 16) {
        const int32_t jend = jw + 16 < w ? jw + 16 : w;
        uint32_t word = 0; /* state jw + i ends at bits 30 - 2 i */
        int32_t j = jw;
        for (; j < jend && j < j0; ++j) {
            cur[j] = NEG;
            word <<= 2;
        }
        if (j < jend) {
            cells(state, p, cur, row, j, jend, m, pb->pen, &word, &best_v, &best_j, 1);
        }
        bpr[jw >> 4] = word << (2 * (16 - (jend - jw)));
    }
    *jb_out = best_j;
    return lo1;
}

static int32_t row_max8(const int8_t *row, int32_t n)
{
    int32_t m = row[0];
    for (int32_t v = 1; v < n; ++v) {
        if (row[v] > m) {
            m = row[v];
        }
    }
    return m;
}

/* One banded decode with band w; writes the outputs; returns 1 if the path is edge-free.
 * path: NULL, or the whole path's storage (path_extra bytes for this band): every frame's back-pointer row (frame t's at
 * row t - 1), band position and smin, written by the forward pass instead of checkpoints; the traceback then reads
 * them instead of replaying segments. */
static int32_t decode_band(const problem *pb, int32_t w, int32_t interval, const int8_t *frame_max,
                           const int32_t *word_lengths, int32_t n_words, uint32_t *scratch, int32_t *ckpt,
                           uint32_t *path, const ma_decode_s8_output *out)
{
    const int32_t n_frames = pb->n_frames, n_states = pb->n_states, last = n_frames - 1;
    const int32_t stride = ceil_div(w, 16);
    const int32_t rec = w + CKPT_HEADER;
    int32_t *row_a = (int32_t *)scratch;
    int32_t *row_b = row_a + (w + 4);
    uint32_t *bp = (uint32_t *)(row_b + (w + 4));
    int32_t *los = (int32_t *)(bp + interval * stride);
    int32_t *smins = los + interval + 1;
    row_a[0] = row_a[1] = row_a[w + 2] = row_a[w + 3] = NEG;
    row_b[0] = row_b[1] = row_b[w + 2] = row_b[w + 3] = NEG;
    int32_t *cur = row_a + 2;
    int32_t *prev = row_b + 2;

    /* ---- frame 0 ---- */
    int32_t smin = 0, smin_after = pb->n_tokens;
    advance_smin(pb, 0, &smin, &smin_after);
    for (int32_t j = 0; j < w; ++j) {
        cur[j] = NEG;
    }
    if (smin == 0) {
        cur[0] = (int32_t)pb->scores[0] - pb->pen;
    }
    cur[1] = pb->scores[pb->state[1] & TOKEN_MASK]; /* smin <= 1 because n_tokens <= n_frames */
    int32_t lo = 0;
    int32_t jb = row_argmax(cur, w);
    int64_t offset = 0;
    int32_t dropped = 0;
    int32_t *path_lo = path != 0 ? (int32_t *)(path + n_frames * stride) : 0;
    int32_t *path_smin = path_lo != 0 ? path_lo + n_frames : 0;
    if (path != 0) {
        path_lo[0] = 0;
        path_smin[0] = smin;
    }

    /* ---- forward, a checkpoint every `interval` frames (or the whole path) ---- */
    for (int32_t t = 0;; ++t) {
        if (path == 0 && t % interval == 0) {
            int32_t *c = ckpt + (t / interval) * rec;
            c[0] = lo;
            c[1] = smin;
            c[2] = smin_after;
            for (int32_t j = 0; j < w; ++j) {
                c[CKPT_HEADER + j] = cur[j];
            }
        }
        if (t == last) {
            break;
        }
        offset += cur[jb];
        int32_t *tmp = prev;
        prev = cur;
        cur = tmp;
        advance_smin(pb, t + 1, &smin, &smin_after);
        if (path != 0) {
            lo = step_bp(pb, w, prev, cur, lo, jb, t + 1, smin, path + t * stride, &jb, &dropped);
            path_lo[t + 1] = lo;
            path_smin[t + 1] = smin;
        } else {
            lo = step_fwd(pb, w, prev, cur, lo, jb, t + 1, smin, &jb, &dropped);
        }
    }

    /* ---- end state: last character unless sil_n is strictly better ---- */
    int32_t s;
    int32_t end_v;
    {
        const int32_t ja = n_states - 2 - lo, jz = n_states - 1 - lo;
        const int32_t va = (ja >= 0 && ja < w) ? cur[ja] : NEG;
        const int32_t vb = (jz >= 0 && jz < w) ? cur[jz] : NEG;
        if (vb <= THRESH || (va > THRESH && va >= vb)) {
            s = n_states - 2;
            end_v = va;
        } else {
            s = n_states - 1;
            end_v = vb;
        }
    }
    /* end_v > THRESH by construction (see _core.py) */

    /* ---- traceback: replay each segment from its checkpoint, last segment first ---- */
    for (int32_t i = 0; i < n_words; ++i) {
        out->word_score_sum[i] = 0;
    }
    int32_t edge_free = !dropped;
    int32_t nsil = (s == n_states - 1) ? n_words + 1 : n_words; /* silence states <= s */
    if (IS_CHAR(pb->state[s])) {
        out->token_end[s - nsil] = n_frames;
    }
    /* with the whole path: one segment [0, last] read from it */
    for (int32_t c = path != 0 ? 0 : last / interval; c >= 0; --c) {
        const int32_t a0 = c * interval;
        const int32_t b0 = path != 0 || a0 + interval >= last ? last : a0 + interval;
        if (path != 0) {
            bp = path;
            los = path_lo;
            smins = path_smin;
        } else if (b0 > a0) {
            const int32_t *ck = ckpt + c * rec;
            lo = ck[0];
            smin = ck[1];
            smin_after = ck[2];
            for (int32_t j = 0; j < w; ++j) {
                cur[j] = ck[CKPT_HEADER + j];
            }
            jb = row_argmax(cur, w);
            los[0] = lo;
            smins[0] = smin;
            for (int32_t i = 0; i < b0 - a0; ++i) {
                int32_t *tmp = prev;
                prev = cur;
                cur = tmp;
                advance_smin(pb, a0 + 1 + i, &smin, &smin_after);
                lo = step_bp(pb, w, prev, cur, lo, jb, a0 + 1 + i, smin, bp + i * stride, &jb, &dropped);
                los[i + 1] = lo;
                smins[i + 1] = smin;
            }
        }
        for (int32_t t = b0; t > a0; --t) {
            const uint32_t k = pb->state[s];
            const int8_t *row = pb->scores + (int32_t)t * pb->n_cols;
            if (IS_CHAR(k)) {
                const int32_t fm = frame_max ? frame_max[t] : row_max8(row, pb->n_cols);
                out->word_score_sum[nsil - 1] += (int32_t)row[k & TOKEN_MASK] - fm;
            }
            const int32_t i = t - a0;
            const int32_t j = s - los[i];
            const uint32_t code = (bp[(i - 1) * stride + (j >> 4)] >> (30 - 2 * (j & 15))) & 3u;
            const int32_t p = s - (int32_t)code;
            /* edge check of the transition t-1 -> t (see _core.touches_edge) */
            const int32_t hi = los[i] + w - 1, lo_prev = los[i - 1], sm = smins[i - 1];
            if (hi < n_states - 1 &&
                (p + 1 > hi || (p + 2 < n_states && pb->state[p + 2] > SKIP_FLAG && p + 2 > hi))) {
                edge_free = 0;
            }
            if ((s - 1 >= sm && s - 1 < lo_prev) || (k > SKIP_FLAG && s - 2 >= sm && s - 2 < lo_prev)) {
                edge_free = 0;
            }
            if (code != 0) {
                if (IS_CHAR(k)) {
                    out->token_start[s - nsil] = t;
                }
                nsil -= !IS_CHAR(k) + (code == 2);
                s = p;
                if (IS_CHAR(pb->state[s])) {
                    out->token_end[s - nsil] = t;
                }
            }
        }
    }
    {   /* frame 0 */
        const uint32_t k = pb->state[s];
        if (IS_CHAR(k)) {
            const int32_t fm = frame_max ? frame_max[0] : row_max8(pb->scores, pb->n_cols);
            out->word_score_sum[nsil - 1] += (int32_t)pb->scores[k & TOKEN_MASK] - fm;
            out->token_start[s - nsil] = 0;
        }
    }
    for (int32_t i = 0, c = 0; i < n_words; ++i) {
        out->word_start[i] = out->token_start[c];
        c += word_lengths[i];
        out->word_end[i] = out->token_end[c - 1];
        out->word_frames[i] = out->word_end[i] - out->word_start[i];
    }
    if (out->path_score != 0) {
        *out->path_score = (int32_t)(offset + end_v); /* |score| <= 1152 T < 2^31 */
    }
    if (out->band != 0) {
        *out->band = w;
    }
    if (out->edge_free != 0) {
        *out->edge_free = edge_free;
    }
    return edge_free;
}

int32_t ma_decode_s8(const ma_decode_s8_params *params,
                     const int8_t *scores,
                     const int8_t *frame_max,
                     int32_t n_frames,
                     int32_t n_cols,
                     const int32_t *token_ids,
                     int32_t n_tokens,
                     const int32_t *word_lengths,
                     int32_t n_words,
                     void *scratch,
                     int32_t scratch_size_bytes,
                     void *checkpoints,
                     int32_t checkpoint_size_bytes,
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
    if (n_cols < 2 || n_cols > MA_DECODE_MAX_VOCAB) {
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
        if (token_ids[c] < 1 || token_ids[c] >= n_cols) {
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
    bands b;
    if (resolve_band(params, n_states, &b) != 0) {
        return MA_DECODE_ERR_ARGUMENT;
    }
    const int64_t ck_need = checkpoint_size(n_frames, n_states, &b);
    if (scratch == 0 || ((uintptr_t)scratch & 3u) != 0 || scratch_size_bytes < scratch_size(&b) ||
        checkpoints == 0 || ((uintptr_t)checkpoints & 3u) != 0 || ck_need > INT32_MAX ||
        checkpoint_size_bytes < ck_need) {
        return MA_DECODE_ERR_SCRATCH;
    }
    /* room for the first band's whole path after the checkpoints: its traceback replays nothing */
    uint32_t *path = 0;
    if (checkpoint_size_bytes >= ck_need + path_extra(n_frames, &b)) {
        path = (uint32_t *)checkpoints + ck_need / 4; /* ck_need is a multiple of 4 */
    }

    /* state table: sil_0, chars of w_1, sil_1, ... ; skip allowed into the first char of w_2..w_n */
    uint16_t *state = (uint16_t *)checkpoints;
    {
        int32_t s = 0, c = 0;
        state[s++] = SIL_STATE;
        for (int32_t i = 0; i < n_words; ++i) {
            for (int32_t k = 0; k < word_lengths[i]; ++k, ++c) {
                state[s++] = (uint16_t)((uint32_t)token_ids[c] | ((i > 0 && k == 0) ? SKIP_FLAG : 0u));
            }
            state[s++] = SIL_STATE;
        }
    }
    int32_t *ckpt = (int32_t *)checkpoints + ceil_div(n_states, 2);
    const problem pb = {scores, n_frames, n_cols, n_tokens, n_states, beam, pen, state};
    for (int32_t w = b.band;; w = (2 * w < b.max_band) ? 2 * w : b.max_band) {
        if (decode_band(&pb, w, b.interval, frame_max, word_lengths, n_words, (uint32_t *)scratch, ckpt,
                        w == b.band ? path : 0, out) ||
            w >= b.max_band) {
            break;
        }
    }
    return MA_DECODE_OK;
}
