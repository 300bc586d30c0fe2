/* ma_frontend.c: the fixed-point log-mel frontend, bit-exact with features.py.
 *
 * Steps (features.py numbering): 1 frame, 2 window, 3 DFT, 4 power, 5 mel, 6 log2, 7 int8.
 *
 * The DFT (step 3) is the direct definition re[k] = sum_n xw[n] COS[(k n) % 512] (im with SIN)
 * with every product and sum exact in int64, reorganised by exact identities only, so the
 * result is the same integer (no FFT twiddle products, which would round differently):
 *
 *  - Fold. For k = o * 2^v (o odd) and P = 256 >> v, T[k (n + P)] = T[k n + 256 o] = -T[k n]
 *    (T[m + 256] == -T[m]). So re[k] = sum_{n<P} c_v[n] COS[k n] with the alternating fold
 *    c_v[n] = sum_j (-1)^j xw[n + j P]. The plain folds e_v[n] = sum_j xw[n + 2 j P] give
 *    c_{v+1}, e_{v+1} by one add/sub each (e_v halves in place from level to level).
 *  - Reflect. T[k (P - n)] = T[256 - k n] is -COS[k n] resp. +SIN[k n] (COS even, SIN odd), so
 *    n and P - n share a product: d[n] = c[n] - c[P-n] with COS, s[n] = c[n] + c[P-n] with SIN,
 *    n = 1 .. P/2 - 1; n = 0 and n = P/2 stay single.
 *  - Pair bins. COS[(256 - k) n] = (-1)^n COS[k n], SIN[(256 - k) n] = (-1)^(n+1) SIN[k n]:
 *    the even-n and odd-n partial sums of bin k give bin 256 - k too.
 *  k = 0 and k = 256 come from e_7 (the even/odd sample sums).
 * That is about 22 k multiply-accumulates per frame instead of 206 k, every one exact
 * (eval/bench_frontend.py: ~131 k Cortex-M7 instructions for steps 1-4, 7x fewer than the
 * direct loops). The generator (microalign.frontend.header) checks the table identities.
 *
 * Operand ranges (|xw| <= 32768, WIN = 400): |c|, |e| <= 400 * 32768 < 2^24, |d|, |s| < 2^25,
 * so the folds are int32; products with Q15 table entries are < 2^40 and sums stay far below
 * 2^63 (|re|, |im| <= sum|xw| * 32767 < 2^38). No separate DSP-extension path: the dual
 * 16-bit MACs (SMLALD) cannot take the 25-bit folded operands without splitting them into
 * halves, which costs more instructions than it saves; GCC already emits SMLAL (32x32+64)
 * for the inner loop and SMLABB for the window.
 *
 * Build with -DMA_FRONTEND_PORTABLE to avoid every compiler extension (same results).
 */
#define MA_FE_DEFINE_TABLES
#include "ma_frontend.h"

#include <stddef.h>

#if MA_FE_N_FFT != 512 || MA_FE_WIN > MA_FE_N_FFT || MA_FE_WIN <= MA_FE_N_FFT / 2
#error "ma_frontend.c assumes N_FFT == 512 and N_FFT/2 < WIN <= N_FFT"
#endif
#if MA_FE_N_BINS != MA_FE_N_FFT / 2 + 1
#error "N_BINS must be N_FFT/2 + 1"
#endif

/* `>>` of a negative value must be an arithmetic shift (floor), as in features.py. */
typedef char ma_fe_check_arith_shift[((-3) >> 1) == -2 && ((int64_t)-3 >> 1) == -2 ? 1 : -1];

#define HALF (MA_FE_N_FFT / 2) /* 256 */
#define MASK (MA_FE_N_FFT - 1)
#define PHASE_SHIFT 23 /* 32 - log2(N_FFT): a table index in the top bits of a uint32_t wraps mod N_FFT */

static int32_t windowed(const int16_t *x, int32_t n)
{
    /* |x * w| <= 32768 * 32767 < 2^31; result in [-32768, 32767]. */
    return ((int32_t)x[n] * MA_FE_WINDOW_Q15[n] + (1 << 14)) >> 15;
}

/* xw[n], and 0 for n >= WIN (the zero padding up to N_FFT). */
static int32_t windowed0(const int16_t *x, int32_t n)
{
    return n < MA_FE_WIN ? windowed(x, n) : 0;
}

/* Sums over n = n0, n0 + 2, ... < n_end of ds[2n] * COS[k n] and ds[2n+1] * SIN[k n].
 * The table index k n mod 512 lives in the top 9 bits of `ph`, so it wraps for free. */
static inline void dot_stride2(const int32_t *ds, int32_t n0, int32_t n_end, uint32_t k, int64_t *re, int64_t *im)
{
    const int16_t *ct = MA_FE_COS_Q15, *st = MA_FE_SIN_Q15;
#if (defined(__GNUC__) || defined(__clang__)) && !defined(MA_FRONTEND_PORTABLE)
    /* Opaque bases: otherwise GCC rebuilds the SIN address from COS's every term. */
    __asm__("" : "+r"(ct), "+r"(st));
#endif
    int64_t r = 0, i = 0;
    uint32_t ph = (k * (uint32_t)n0) << PHASE_SHIFT;
    const uint32_t step = (2u * k) << PHASE_SHIFT;
    const int32_t *p = ds + 2 * n0;
    for (int32_t cnt = (n_end - n0 + 1) / 2; cnt > 0; cnt--) {
        const uint32_t m = ph >> PHASE_SHIFT;
        r += (int64_t)p[0] * ct[m];
        i += (int64_t)p[1] * st[m];
        ph += step;
        p += 4;
    }
    *re = r;
    *im = i;
}

static int64_t round_shift_dft(int64_t v)
{
    return (v + ((int64_t)1 << (MA_FE_DFT_SHIFT - 1))) >> MA_FE_DFT_SHIFT;
}

static int64_t power(int64_t re, int64_t im)
{
    /* |re'|, |im'| < 2^24: the squares fit int64 with room. */
    const int64_t r = round_shift_dft(re), i = round_shift_dft(im);
    return (r * r + i * i) >> MA_FE_POWER_SHIFT;
}

void ma_frontend_power_frame(const int16_t *x, int64_t *pw)
{
    int32_t e[HALF];  /* plain fold e_v: its first 2P entries are live at level v */
    int32_t ds[HALF]; /* ds[2n] = d[n], ds[2n+1] = s[n], 1 <= n < P/2 */
    int32_t c0, cH;   /* c_v[0], c_v[P/2] */

    /* Level 0 straight from the windowed samples xw (zero from WIN on):
     * c_0[n] = xw[n] - xw[n+256], e_0[n] = xw[n] + xw[n+256], n and 256 - n together. */
    {
        const int32_t a0 = windowed0(x, 0), a1 = windowed0(x, HALF);
        const int32_t h0 = windowed0(x, HALF / 2), h1 = windowed0(x, HALF + HALF / 2);
        c0 = a0 - a1;
        e[0] = a0 + a1;
        cH = h0 - h1;
        e[HALF / 2] = h0 + h1;
    }
    for (int32_t n = 1; n < HALF / 2; n++) {
        const int32_t a0 = windowed0(x, n), a1 = windowed0(x, n + HALF);
        const int32_t b0 = windowed0(x, HALF - n), b1 = windowed0(x, 2 * HALF - n);
        const int32_t a = a0 - a1, b = b0 - b1;
        e[n] = a0 + a1;
        e[HALF - n] = b0 + b1;
        ds[2 * n] = a - b;
        ds[2 * n + 1] = a + b;
    }

    for (int32_t v = 0; v < 8; v++) {
        const int32_t P = HALF >> v, H = P / 2;
        if (v > 0) {
            /* c_v[n] = e_{v-1}[n] - e_{v-1}[n+P], e_v[n] = e_{v-1}[n] + e_{v-1}[n+P], n < P. */
            c0 = e[0] - e[P];
            e[0] += e[P];
            cH = e[H] - e[H + P];
            e[H] += e[H + P];
            for (int32_t n = 1; n < H; n++) {
                const int32_t a = e[n] - e[n + P], b = e[P - n] - e[2 * P - n];
                e[n] += e[n + P];
                e[P - n] += e[2 * P - n];
                ds[2 * n] = a - b;
                ds[2 * n + 1] = a + b;
            }
        }
        /* Bins k = o << v, o odd, k < 128, paired with 256 - k; and k = 128 alone at v = 7. */
        for (uint32_t k = 1u << v; k <= HALF / 2; k += 2u << v) {
            const uint32_t kH = (k * (uint32_t)H) & MASK;
            int64_t re_e, im_e, re_o, im_o;
            dot_stride2(ds, 2, H, k, &re_e, &im_e);
            dot_stride2(ds, 1, H, k, &re_o, &im_o);
            /* n = 0 and n = P/2: P/2 is even unless P == 2 (v == 7, k == 128: no pair). */
            const int64_t r0 = (int64_t)c0 * MA_FE_COS_Q15[0], i0 = (int64_t)c0 * MA_FE_SIN_Q15[0];
            const int64_t rH = (int64_t)cH * MA_FE_COS_Q15[kH], iH = (int64_t)cH * MA_FE_SIN_Q15[kH];
            pw[k] = power(r0 + rH + re_e + re_o, i0 + iH + im_e + im_o);
            if (k != HALF / 2) pw[HALF - k] = power(r0 + rH + re_e - re_o, -(i0 + iH + im_e) + im_o);
        }
    }
    /* e holds e_7: e[0] = sum of even-n xw, e[1] = sum of odd-n xw. */
    {
        const int64_t s = (int64_t)e[0] + e[1];
        pw[0] = power(s * MA_FE_COS_Q15[0], s * MA_FE_SIN_Q15[0]);
        pw[HALF] = power((int64_t)e[0] * MA_FE_COS_Q15[0] + (int64_t)e[1] * MA_FE_COS_Q15[HALF],
                         (int64_t)e[0] * MA_FE_SIN_Q15[0] + (int64_t)e[1] * MA_FE_SIN_Q15[HALF]);
    }
}

static int32_t clz64(uint64_t v) /* v != 0 */
{
#if (defined(__GNUC__) || defined(__clang__)) && !defined(MA_FRONTEND_PORTABLE)
    return (int32_t)__builtin_clzll(v);
#else
    int32_t z = 0;
    while (!(v & ((uint64_t)1 << 63))) {
        v <<= 1;
        z++;
    }
    return z;
#endif
}

/* Q8 log2 of v > 0 (features.log2_q8). */
static int32_t log2_q8(uint64_t v)
{
    const int32_t e = 63 - clz64(v);
    const uint32_t f = (uint32_t)(e >= 8 ? v >> (e - 8) : v << (8 - e)) & 0xFFu;
    return 256 * e + MA_FE_LOG2_LUT[f];
}

void ma_frontend_compute_frame(const int16_t *frame_samples, int8_t *out)
{
    int64_t pw[MA_FE_N_BINS];
    ma_frontend_power_frame(frame_samples, pw);
    for (int32_t j = 0; j < MA_FE_N_MELS; j++) {
        const int16_t *w = &MA_FE_MEL_WEIGHTS_Q12[MA_FE_MEL_OFFSET[j]];
        const int64_t *p = &pw[MA_FE_MEL_FIRST_BIN[j]];
        int64_t m = 0; /* < 2^44 * 60557 < 2^60 */
        for (int32_t i = 0; i < MA_FE_MEL_COUNT[j]; i++) m += p[i] * w[i];
        const int32_t L = log2_q8((uint64_t)m + 1u);
        int32_t q = ((L - MA_FE_LOG_OFFSET) * MA_FE_FEAT_MUL + (1 << (MA_FE_FEAT_SHIFT - 1))) >> MA_FE_FEAT_SHIFT;
        q = q < 0 ? 0 : q > 255 ? 255 : q;
        out[j] = (int8_t)(q - 128);
    }
}

int32_t ma_frontend_num_frames(int32_t n_samples)
{
    if (n_samples <= 0) return 0;
    return n_samples / MA_FE_HOP + (n_samples % MA_FE_HOP != 0);
}

int32_t ma_frontend_compute_frames(const int16_t *pcm, int32_t n, int32_t first_frame, int32_t count,
                                   int8_t *out)
{
    if (pcm == NULL || n <= 0 || first_frame < 0 || count < 0 || (out == NULL && count > 0) ||
        (int64_t)first_frame + count > ma_frontend_num_frames(n))
        return MA_FRONTEND_ERR_ARG;
    for (int32_t t = first_frame; t < first_frame + count; t++) {
        const int64_t start = (int64_t)t * MA_FE_HOP - MA_FE_PAD_LEFT;
        int8_t *o = out + (int64_t)(t - first_frame) * MA_FE_N_MELS;
        if (start >= 0 && start + MA_FE_WIN <= n) {
            ma_frontend_compute_frame(pcm + start, o);
        } else {
            int16_t buf[MA_FE_WIN];
            for (int32_t i = 0; i < MA_FE_WIN; i++) {
                const int64_t s = start + i;
                buf[i] = (s >= 0 && s < n) ? pcm[s] : 0;
            }
            ma_frontend_compute_frame(buf, o);
        }
    }
    return count;
}

int32_t ma_frontend_compute(const int16_t *pcm, int32_t n, int8_t *out, int32_t max_frames)
{
    if (pcm == NULL || out == NULL || n <= 0 || max_frames < 0) return MA_FRONTEND_ERR_ARG;
    const int32_t t = ma_frontend_num_frames(n);
    return ma_frontend_compute_frames(pcm, n, 0, t < max_frames ? t : max_frames, out);
}
