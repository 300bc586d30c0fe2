/* ma_frontend.c: the fixed-point log-mel frontend, bit-exact with features.py.
 *
 * Steps (features.py numbering): 1 frame, 2 window, 3 DFT, 4 power, 5 mel, 6 log2, 7 int8.
 * Steps 2-4 exist in two definitions (features.DEFINITION; the generated header's
 * MA_FE_DEFINITION_FFT picks the one ma_frontend_compute_frame uses, both are always built):
 *
 * "fft" (ma_frontend_power_frame_fft, features/fft.py): Q9 windowed samples, a 256-point complex
 * radix-4 FFT with Q31 twiddles (the real 512-point spectrum from it by the usual split), the
 * roundings of the DSP extension's SMMULR / SMMLAR / SMMLSR (inline asm on ARMv7E-M, the same
 * integer formula in C elsewhere; the twiddled stages' and the split's loops are asm blocks on ARMv7E-M,
 * the same operations in the same order). About 14.5 k Cortex-M7 instructions for steps 2-4 and 19.8 k for the
 * whole frame (eval/bench_frontend.py, -O2).
 *
 * "dft" (ma_frontend_power_frame_dft), the definition the shipped model was trained on: the direct
 * definition re[k] = sum_n xw[n] COS[(k n) % 512] (im with SIN)
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
 * (~131 k Cortex-M7 instructions for steps 1-4, 7x fewer than the direct loops).
 * The generator (microalign.frontend.header) checks the table identities.
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

void ma_frontend_power_frame_dft(const int16_t *x, int64_t *pw)
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

/* ---- the "fft" definition (features/fft.py): fixed-point real FFT ------------------------------
 *
 * Q9 windowed samples packed as z[m] = xw[2m] + i xw[2m+1]; a 256-point radix-4 decimation-in-time
 * FFT in place on digit-reversed input (stage 1 without twiddles reads the samples directly;
 * stages 2-4 halve: a >> 1 and half complex products); the real-spectrum split; the power.
 * Rounding of the half products is SMMULR / SMMLAR / SMMLSR's: hr(p) = (p + 2^31) >> 32 and
 * hn(p) = (2^31 - p) >> 32 of the 64-bit product p. Every int32 sum is bounded below 2^30
 * (tests/test_frontend.py checks the bounds on extreme inputs), so none overflows.
 */
#if defined(__ARM_FEATURE_DSP) && (defined(__GNUC__) || defined(__clang__)) && !defined(MA_FRONTEND_PORTABLE)
static inline int32_t mul_hr(int32_t a, int32_t b) /* hr(a b) */
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline int32_t mla_hr(int32_t acc, int32_t a, int32_t b) /* acc + hr(a b) */
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
static inline int32_t mls_hr(int32_t acc, int32_t a, int32_t b) /* acc + hn(a b) */
{
    int32_t r;
    __asm__("smmlsr %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
#else
static inline int32_t mul_hr(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
}
static inline int32_t mla_hr(int32_t acc, int32_t a, int32_t b)
{
    return acc + mul_hr(a, b);
}
static inline int32_t mls_hr(int32_t acc, int32_t a, int32_t b)
{
    return acc + (int32_t)((((int64_t)1 << 31) - (int64_t)a * b) >> 32);
}
#endif

#define FFT_M (MA_FE_N_FFT / 2) /* 256-point complex FFT */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(MA_FRONTEND_PORTABLE)
#define MA_FE_RESTRICT __restrict__
#define MA_FE_ALWAYS_INLINE __attribute__((always_inline)) /* q becomes a constant: immediate offsets */
#define MA_FE_NOINLINE __attribute__((noinline)) /* separate register allocation: fewer spills */
#else
#define MA_FE_NOINLINE
#define MA_FE_RESTRICT restrict
#define MA_FE_ALWAYS_INLINE
#endif
#if MA_FE_WIN / 2 <= 3 * FFT_M / 4 - 1
#error "the FFT's stage 1 assumes z[j + 128] lies in the frame for every j < 64 (WIN >= 384)"
#endif
/* The generated tables have the layout the code below indexes. */
typedef char ma_fe_check_fft_tables[sizeof MA_FE_FFT_TWIDDLES_Q31 == 6 * (4 + 16 + 64) * sizeof(int32_t) &&
                                            sizeof MA_FE_FFT_SPLIT_Q31 == FFT_M * sizeof(int32_t) &&
                                            sizeof MA_FE_FFT_REV64 == FFT_M / 4
                                        ? 1
                                        : -1];

/* (a, b, c, d) -> (a+b+c+d, (a-c) - i(b-d), a-b+c-d, (a-c) + i(b-d)) at o[0..7] (re, im pairs). */
static inline void dft4(int32_t *o, int32_t ar, int32_t ai, int32_t br, int32_t bi, int32_t cr, int32_t ci,
                        int32_t dr, int32_t di)
{
    const int32_t s0r = ar + cr, s0i = ai + ci, s1r = ar - cr, s1i = ai - ci;
    const int32_t s2r = br + dr, s2i = bi + di, s3r = br - dr, s3i = bi - di;
    o[0] = s0r + s2r;
    o[1] = s0i + s2i;
    o[2] = s1r + s3i;
    o[3] = s1i - s3r;
    o[4] = s0r - s2r;
    o[5] = s0i - s2i;
    o[6] = s1r - s3i;
    o[7] = s1i + s3r;
}

/* One twiddled radix-4 stage over blocks of 4Q entries of buf (re, im interleaved); tw: q entries of
 * (W^k, W^2k, W^3k) as re, im pairs. */
#if defined(__ARM_FEATURE_DSP) && (defined(__GNUC__) || defined(__clang__)) && !defined(MA_FRONTEND_PORTABLE)
#define MA_FE_STAGE_ASM 1
/* fft_stage's butterfly loop as one asm block, 41 instructions per butterfly instead of the compiler's 52: the four
 * inputs and the three twiddles by LDRD, the same SMMULR / SMMLSR / SMMLAR, each sum and difference pair as ADD and
 * SUB of the doubled operand (x + y, then (x + y) - 2 y: exact modulo 2^32, and every value is below 2^30), a's
 * halving folded into its adds (ASR #1), the outputs by STRD. c and d are addressed from p2 = p + 4q entries (LDRD
 * offsets reach 1020 bytes); OB = 8q bytes, the distance a-b and c-d. */
#define MA_FE_STAGE_LOOP(P_, P2_, TW_, TWEND_, OB)                                                                   \
    do {                                                                                                        \
        int32_t b0_, b1_, w0_, w1_, t0_, t1_, u0_, u1_, v0_, v1_;                                               \
        __asm__ volatile("1:\n\t"                                                                               \
                         "ldrd %[b0], %[b1], [%[p], #" OB "]\n\t"       /* b */                                 \
                         "ldrd %[w0], %[w1], [%[tw]], #24\n\t"          /* W^k */                               \
                         "smmulr %[t0], %[b0], %[w0]\n\t"                                                       \
                         "smmulr %[t1], %[b0], %[w1]\n\t"                                                       \
                         "smmlsr %[t0], %[b1], %[w1], %[t0]\n\t"        /* br */                                \
                         "smmlar %[t1], %[b1], %[w0], %[t1]\n\t"        /* bi */                                \
                         "ldrd %[b0], %[b1], [%[p2], #" OB "]\n\t"      /* d */                                 \
                         "ldrd %[w0], %[w1], [%[tw], #-8]\n\t"          /* W^3k */                              \
                         "smmulr %[u0], %[b0], %[w0]\n\t"                                                       \
                         "smmulr %[u1], %[b0], %[w1]\n\t"                                                       \
                         "smmlsr %[u0], %[b1], %[w1], %[u0]\n\t"        /* dr */                                \
                         "smmlar %[u1], %[b1], %[w0], %[u1]\n\t"        /* di */                                \
                         "add %[t0], %[t0], %[u0]\n\t"                  /* s2r */                               \
                         "sub %[u0], %[t0], %[u0], lsl #1\n\t"          /* s3r */                               \
                         "add %[t1], %[t1], %[u1]\n\t"                  /* s2i */                               \
                         "sub %[u1], %[t1], %[u1], lsl #1\n\t"          /* s3i */                               \
                         "ldrd %[b0], %[b1], [%[p2]]\n\t"               /* c */                                 \
                         "ldrd %[w0], %[w1], [%[tw], #-16]\n\t"         /* W^2k */                              \
                         "smmulr %[v0], %[b0], %[w0]\n\t"                                                       \
                         "smmulr %[v1], %[b0], %[w1]\n\t"                                                       \
                         "smmlsr %[v0], %[b1], %[w1], %[v0]\n\t"        /* cr */                                \
                         "smmlar %[v1], %[b1], %[w0], %[v1]\n\t"        /* ci */                                \
                         "ldrd %[b0], %[b1], [%[p]]\n\t"                /* a */                                 \
                         "add %[b0], %[v0], %[b0], asr #1\n\t"          /* s0r */                               \
                         "sub %[v0], %[b0], %[v0], lsl #1\n\t"          /* s1r */                               \
                         "add %[b1], %[v1], %[b1], asr #1\n\t"          /* s0i */                               \
                         "sub %[v1], %[b1], %[v1], lsl #1\n\t"          /* s1i */                               \
                         "add %[b0], %[b0], %[t0]\n\t"                  /* out 0 */                             \
                         "sub %[t0], %[b0], %[t0], lsl #1\n\t"          /* out 2 */                             \
                         "add %[b1], %[b1], %[t1]\n\t"                                                          \
                         "sub %[t1], %[b1], %[t1], lsl #1\n\t"                                                  \
                         "add %[v0], %[v0], %[u1]\n\t"                  /* out 1: s1r + s3i */                  \
                         "sub %[u1], %[v0], %[u1], lsl #1\n\t"          /* out 3: s1r - s3i */                  \
                         "sub %[v1], %[v1], %[u0]\n\t"                  /* out 1: s1i - s3r */                  \
                         "add %[u0], %[v1], %[u0], lsl #1\n\t"          /* out 3: s1i + s3r */                  \
                         "strd %[u1], %[u0], [%[p2], #" OB "]\n\t"                                              \
                         "strd %[t0], %[t1], [%[p2]], #8\n\t"                                                   \
                         "strd %[v0], %[v1], [%[p], #" OB "]\n\t"                                               \
                         "strd %[b0], %[b1], [%[p]], #8\n\t"                                                    \
                         "cmp %[tw], %[twend]\n\t"                                                              \
                         "bne 1b"                                                                               \
                         : [p] "+r"(P_), [p2] "+r"(P2_), [tw] "+r"(TW_), [b0] "=&r"(b0_), [b1] "=&r"(b1_),          \
                           [w0] "=&r"(w0_), [w1] "=&r"(w1_), [t0] "=&r"(t0_), [t1] "=&r"(t1_), [u0] "=&r"(u0_), \
                           [u1] "=&r"(u1_), [v0] "=&r"(v0_), [v1] "=&r"(v1_)                                     \
                         : [twend] "r"(TWEND_)                                                                   \
                         : "cc", "memory");                                                                     \
    } while (0)

/* One twiddled stage (q = 4, 16, 64; OB = "32", "128", "512") on the loop above. */
#define MA_FE_STAGE(buf, q, tw0, OB)                                                                             \
    do {                                                                                                        \
        for (int32_t g_ = 0; g_ < FFT_M; g_ += 4 * (q)) {                                                        \
            int32_t *p_ = (buf) + 2 * g_, *p2_ = p_ + 4 * (q);                                                   \
            const int32_t *tw_ = (tw0);                                                                         \
            const int32_t *const twend_ = (tw0) + 6 * (q);                                                      \
            MA_FE_STAGE_LOOP(p_, p2_, tw_, twend_, OB);                                                         \
        }                                                                                                       \
    } while (0)
#endif

MA_FE_ALWAYS_INLINE static inline void fft_stage(int32_t *MA_FE_RESTRICT buf, const int32_t q,
                                                 const int32_t *MA_FE_RESTRICT tw0)
{
    const int32_t q2 = 2 * q;
    for (int32_t g = 0; g < FFT_M; g += 4 * q) {
        int32_t *MA_FE_RESTRICT p = buf + 2 * g;
        const int32_t *MA_FE_RESTRICT tw = tw0;
        for (int32_t k = 0; k < q; k++, p += 2, tw += 6) {
            /* b and d first: s2 = b' + d', s3 = b' - d' */
            const int32_t b0 = p[q2], b1 = p[q2 + 1], d0 = p[3 * q2], d1 = p[3 * q2 + 1];
            const int32_t br = mls_hr(mul_hr(b0, tw[0]), b1, tw[1]);
            const int32_t bi = mla_hr(mul_hr(b0, tw[1]), b1, tw[0]);
            const int32_t dr = mls_hr(mul_hr(d0, tw[4]), d1, tw[5]);
            const int32_t di = mla_hr(mul_hr(d0, tw[5]), d1, tw[4]);
            const int32_t s2r = br + dr, s2i = bi + di, s3r = br - dr, s3i = bi - di;
            const int32_t c0 = p[2 * q2], c1 = p[2 * q2 + 1];
            const int32_t cr = mls_hr(mul_hr(c0, tw[2]), c1, tw[3]);
            const int32_t ci = mla_hr(mul_hr(c0, tw[3]), c1, tw[2]);
            const int32_t ar = p[0] >> 1, ai = p[1] >> 1;
            const int32_t s0r = ar + cr, s0i = ai + ci, s1r = ar - cr, s1i = ai - ci;
            p[0] = s0r + s2r;
            p[1] = s0i + s2i;
            p[q2] = s1r + s3i;
            p[q2 + 1] = s1i - s3r;
            p[2 * q2] = s0r - s2r;
            p[2 * q2 + 1] = s0i - s2i;
            p[3 * q2] = s1r - s3i;
            p[3 * q2 + 1] = s1i + s3r;
        }
    }
}

static inline int64_t power_fft(int32_t re, int32_t im)
{
    return ((int64_t)re * re + (int64_t)im * im) >> MA_FE_FFT_POWER_SHIFT;
}

/* Q9 windowed sample: (x w + 2^5) >> 6. */
static inline int32_t q9(int16_t x, int16_t w)
{
    return ((int32_t)x * w + (1 << (MA_FE_FFT_WINDOW_SHIFT - 1))) >> MA_FE_FFT_WINDOW_SHIFT;
}

/* Stage 1 straight from the samples: block REV64[j] of buf = DFT4 of z[j + 64 r], r < 4 (the buffer
 * is in digit-reversed order; REV64 is its own inverse). z[j + 64 r] holds samples 2 j + S r and
 * 2 j + S r + 1 (S = 128); z[m] = 0 for 2m >= WIN, which only z[j + 192] can be (j >= (WIN - 3S) / 2). */
#define S1 (FFT_M / 2) /* 128 samples between the inputs of a stage-1 butterfly */
/* q9 of the sample pair at x (one 32-bit load of x and of w: the low halves are x[0], w[0] on a little-endian core) */
static inline void q9_pair(const int16_t *x, const int16_t *w, int32_t *re, int32_t *im)
{
#if (defined(__GNUC__) || defined(__clang__)) && !defined(MA_FRONTEND_PORTABLE) && \
    defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t xx, ww;
    __builtin_memcpy(&xx, x, 4);
    __builtin_memcpy(&ww, w, 4);
    *re = q9((int16_t)(xx & 0xFFFFu), (int16_t)(ww & 0xFFFFu)); /* SMLABB */
    *im = q9((int16_t)(xx >> 16), (int16_t)(ww >> 16));         /* SMLATT */
#else
    *re = q9(x[0], w[0]);
    *im = q9(x[1], w[1]);
#endif
}

MA_FE_NOINLINE static void fft_stage1(const int16_t *MA_FE_RESTRICT x, int32_t *MA_FE_RESTRICT buf)
{
    const int16_t *w = MA_FE_WINDOW_Q15;
    int32_t j = 0, ar, ai, br, bi, cr, ci, dr, di;
    for (; j < (MA_FE_WIN - 3 * S1) / 2; j++, x += 2, w += 2) {
        q9_pair(x, w, &ar, &ai);
        q9_pair(x + S1, w + S1, &br, &bi);
        q9_pair(x + 2 * S1, w + 2 * S1, &cr, &ci);
        q9_pair(x + 3 * S1, w + 3 * S1, &dr, &di);
        dft4(buf + 8 * MA_FE_FFT_REV64[j], ar, ai, br, bi, cr, ci, dr, di);
    }
    for (; j < FFT_M / 4; j++, x += 2, w += 2) {
        q9_pair(x, w, &ar, &ai);
        q9_pair(x + S1, w + S1, &br, &bi);
        q9_pair(x + 2 * S1, w + 2 * S1, &cr, &ci);
        dft4(buf + 8 * MA_FE_FFT_REV64[j], ar, ai, br, bi, cr, ci, 0, 0);
    }
}
#undef S1

/* Real spectrum X = E + W^k O (times 2^6) from Z = buf, and its power. */
MA_FE_NOINLINE static void fft_split_power(const int32_t *MA_FE_RESTRICT buf, int64_t *MA_FE_RESTRICT pw)
{
    pw[0] = power_fft(buf[0] + buf[1], 0);
    pw[FFT_M] = power_fft(buf[0] - buf[1], 0);
    pw[FFT_M / 2] = power_fft(buf[2 * (FFT_M / 2)], -buf[2 * (FFT_M / 2) + 1]);
#if defined(__ARM_FEATURE_DSP) && (defined(__GNUC__) || defined(__clang__)) && !defined(MA_FRONTEND_PORTABLE)
    /* The loop below in 29 instructions per k instead of the compiler's 39: LDRD of Z[k], Z[256 - k] and the split
     * twiddle, the same SMMULR / SMMLSR / SMMLAR, the halvings folded into the adds (ASR #1), each power one
     * SMULL + SMLAL, its >> 16 in three instructions and one STRD; k and 256 - k meet at 128, which ends the loop. */
    {
        const int32_t *pa = buf + 2, *pb = buf + 2 * (FFT_M - 1), *pv = MA_FE_FFT_SPLIT_Q31 + 2;
        int64_t *qa = pw + 1, *qb = pw + FFT_M - 1;
        int32_t ar, ai, br, bi, vr, vi, e2, f2;
        __asm__ volatile(
            "1:\n\t"
            "ldrd %[ar], %[ai], [%[pa]], #8\n\t"
            "ldrd %[br], %[bi], [%[pb]], #-8\n\t"
            "add %[e2], %[ar], %[br]\n\t"         /* 2 er */
            "sub %[f2], %[ai], %[bi]\n\t"         /* 2 ei */
            "add %[ai], %[ai], %[bi]\n\t"         /* o_r */
            "sub %[br], %[br], %[ar]\n\t"         /* o_i */
            "ldrd %[vr], %[vi], [%[pv]], #8\n\t"
            "smmulr %[ar], %[ai], %[vr]\n\t"      /* hr(o_r vr) */
            "smmulr %[bi], %[ai], %[vi]\n\t"      /* hr(o_r vi) */
            "smmlsr %[ar], %[br], %[vi], %[ar]\n\t" /* tr */
            "smmlar %[bi], %[br], %[vr], %[bi]\n\t" /* ti */
            "add %[ai], %[ar], %[e2], asr #1\n\t"  /* er + tr */
            "add %[br], %[bi], %[f2], asr #1\n\t"  /* ei + ti */
            "rsb %[vr], %[ar], %[e2], asr #1\n\t"  /* er - tr */
            "sub %[vi], %[bi], %[f2], asr #1\n\t"  /* ti - ei */
            "smull %[e2], %[f2], %[ai], %[ai]\n\t"
            "smlal %[e2], %[f2], %[br], %[br]\n\t"
            "lsr %[e2], %[e2], #16\n\t"
            "orr %[e2], %[e2], %[f2], lsl #16\n\t"
            "asr %[f2], %[f2], #16\n\t"
            "strd %[e2], %[f2], [%[qa]], #8\n\t"
            "smull %[ar], %[bi], %[vr], %[vr]\n\t"
            "smlal %[ar], %[bi], %[vi], %[vi]\n\t"
            "lsr %[ar], %[ar], #16\n\t"
            "orr %[ar], %[ar], %[bi], lsl #16\n\t"
            "asr %[bi], %[bi], #16\n\t"
            "strd %[ar], %[bi], [%[qb]], #-8\n\t"
            "cmp %[qa], %[qb]\n\t"
            "bne 1b"
            : [pa] "+r"(pa), [pb] "+r"(pb), [pv] "+r"(pv), [qa] "+r"(qa), [qb] "+r"(qb), [ar] "=&r"(ar),
              [ai] "=&r"(ai), [br] "=&r"(br), [bi] "=&r"(bi), [vr] "=&r"(vr), [vi] "=&r"(vi), [e2] "=&r"(e2),
              [f2] "=&r"(f2)
            :
            : "cc", "memory");
    }
#else
    for (int32_t k = 1; k < FFT_M / 2; k++) {
        const int32_t ar = buf[2 * k], ai = buf[2 * k + 1];
        const int32_t br = buf[2 * (FFT_M - k)], bi = buf[2 * (FFT_M - k) + 1];
        const int32_t er = (ar + br) >> 1, ei = (ai - bi) >> 1;
        const int32_t o_r = ai + bi, o_i = br - ar;
        const int32_t vr = MA_FE_FFT_SPLIT_Q31[2 * k], vi = MA_FE_FFT_SPLIT_Q31[2 * k + 1];
        const int32_t tr = mls_hr(mul_hr(o_r, vr), o_i, vi);
        const int32_t ti = mla_hr(mul_hr(o_r, vi), o_i, vr);
        pw[k] = power_fft(er + tr, ei + ti);
        pw[FFT_M - k] = power_fft(er - tr, ti - ei);
    }
#endif
}

void ma_frontend_power_frame_fft(const int16_t *x, int64_t *pw)
{
    int32_t buf[2 * FFT_M]; /* Z: re, im interleaved */
    fft_stage1(x, buf);
    /* stages 2-4: blocks of 16, 64, 256; their twiddles follow each other in the table (6 per k) */
#ifdef MA_FE_STAGE_ASM
    MA_FE_STAGE(buf, 4, MA_FE_FFT_TWIDDLES_Q31, "32");
    MA_FE_STAGE(buf, 16, MA_FE_FFT_TWIDDLES_Q31 + 6 * 4, "128");
    MA_FE_STAGE(buf, 64, MA_FE_FFT_TWIDDLES_Q31 + 6 * (4 + 16), "512");
#else
    fft_stage(buf, 4, MA_FE_FFT_TWIDDLES_Q31);
    fft_stage(buf, 16, MA_FE_FFT_TWIDDLES_Q31 + 6 * 4);
    fft_stage(buf, 64, MA_FE_FFT_TWIDDLES_Q31 + 6 * (4 + 16));
#endif
    fft_split_power(buf, pw);
}

void ma_frontend_power_frame(const int16_t *x, int64_t *pw)
{
#if MA_FE_DEFINITION_FFT
    ma_frontend_power_frame_fft(x, pw);
#else
    ma_frontend_power_frame_dft(x, pw);
#endif
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

/* (h:l) += a * b, unsigned 32 x 32 -> 64 (UMLAL: GCC does not always find it in the mel loop). */
static inline void umlal(uint32_t *l, uint32_t *h, uint32_t a, uint32_t b)
{
#if defined(__thumb2__) && (defined(__GNUC__) || defined(__clang__)) && !defined(MA_FRONTEND_PORTABLE)
    __asm__("umlal %0, %1, %2, %3" : "+r"(*l), "+r"(*h) : "r"(a), "r"(b));
#else
    const uint64_t r = (((uint64_t)*h << 32) | *l) + (uint64_t)a * b;
    *l = (uint32_t)r;
    *h = (uint32_t)(r >> 32);
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
        /* m = sum p[i] w[i] < 2^44 * 60557 < 2^60, exactly, in 32-bit pieces: p = hi 2^32 + lo with
         * hi < 2^12 and 0 <= w <= 4096 (the generator checks), so the low words accumulate in 64 bits
         * (UMLAL) and sum hi w < MEL_COUNT * 2^24 < 2^31 in 32 (MLA). */
        uint32_t lo_l = 0, lo_h = 0, hi = 0;
        const int64_t *const end = p + MA_FE_MEL_COUNT[j];
        for (; p < end; p++, w++) {
            const uint64_t v = (uint64_t)*p;
            const uint32_t wi = (uint32_t)*w;
            umlal(&lo_l, &lo_h, (uint32_t)v, wi);
            hi += (uint32_t)(v >> 32) * wi;
        }
        const uint64_t m = (((uint64_t)lo_h << 32) | lo_l) + ((uint64_t)hi << 32);
        const int32_t L = log2_q8(m + 1u);
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
