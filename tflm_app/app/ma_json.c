/* ma_json.c: see ma_json.h. Needs IEEE double with correctly rounded + - * / and no FMA
 * contraction (-ffp-contract=off); exp() from the C library (see ma_confidence_q4). */
#include "ma_json.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "microalign_frontend_config.h"

/* GCC contracts a * b + c into an FMA unless -ffp-contract=off, which ISO modes (-std=c99) imply;
 * in GNU modes pass -ffp-contract=off and define MA_FP_CONTRACT_OFF. */
#if defined(__GNUC__) && !defined(__clang__) && !defined(__STRICT_ANSI__) && !defined(MA_FP_CONTRACT_OFF)
#error "build ma_json.c with -std=c99 (or -ffp-contract=off -DMA_FP_CONTRACT_OFF): the host rounds without FMA"
#endif

#if (MA_FE_HOP * 1000) % MA_FE_SAMPLE_RATE != 0
#error "frame times are not whole milliseconds: ma_frame_ms needs another representation"
#endif

uint32_t ma_frame_ms(uint32_t frame) { return frame * (uint32_t)(MA_FE_HOP * 1000 / MA_FE_SAMPLE_RATE); }

uint32_t ma_cap_ms(uint32_t n_samples)
{
    volatile double seconds = (double)n_samples / 16000.0; /* align.py: len(pcm) / 16000.0 */
    volatile double ms = seconds * 1000.0;
    return (uint32_t)floor(ms);
}

/* Exact product a * b as hi + lo (Dekker / Veltkamp, no FMA). */
static void two_product(double a, double b, double *hi, double *lo)
{
    const double split = 134217729.0; /* 2^27 + 1 */
    volatile double p = a * b;
    volatile double ta = split * a, tb = split * b;
    double ah = ta - (ta - a), al = a - ah, bh = tb - (tb - b), bl = b - bh;
    *hi = p;
    *lo = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/* round(x, 4) * 10000 for 0 <= x <= 1 as Python does it: the exact decimal value of the double
 * x rounded to 4 places, ties to even. Decided from the exact product x * 20000 = hi + lo against
 * the odd integer 2q + 1 (the midpoint between q and q + 1, doubled). */
uint32_t ma_round_q4(double x)
{
    if (!(x > 0.0)) return 0;
    if (x >= 1.0) return 10000;
    double hi, lo;
    two_product(x, 20000.0, &hi, &lo);
    double q = floor(hi / 2.0);
    /* candidates q - 1 .. q + 1: find the q with 2q - 1 < x * 20000 < 2q + 1 (exactly) */
    for (int iter = 0; iter < 3; ++iter) {
        double up = (hi - (2.0 * q + 1.0)) + lo;  /* sign of x*20000 - (2q + 1); hi - m is exact (Sterbenz) */
        double down = (hi - (2.0 * q - 1.0)) + lo; /* sign of x*20000 - (2q - 1) */
        if (up > 0.0) {
            q += 1.0;
        } else if (down < 0.0) {
            q -= 1.0;
        } else {
            if (up == 0.0 && ((uint32_t)q & 1u)) q += 1.0;    /* tie at the upper midpoint: to even */
            if (down == 0.0 && ((uint32_t)q & 1u)) q -= 1.0;  /* tie at the lower midpoint: to even */
            break;
        }
    }
    return (uint32_t)q;
}

uint32_t ma_confidence_q4(int64_t score_sum, uint32_t frames, double scale)
{
    if (frames == 0) return 0;
    volatile double t = scale * (double)score_sum; /* numpy: scale * sum.astype(float64) / frames */
    volatile double y = t / (double)frames;
    return ma_round_q4(exp(y));
}

/* ---- the line ---- */
typedef struct {
    char *buf;
    uint32_t cap, n;
} out_t;

static void put(out_t *o, const char *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; ++i, ++o->n) {
        if (o->n < o->cap) o->buf[o->n] = s[i];
    }
}

static void puts_(out_t *o, const char *s) { put(o, s, (uint32_t)strlen(s)); }

/* A JSON string as json.dumps(ensure_ascii=False) writes it. */
static void put_string(out_t *o, const char *s, uint32_t n)
{
    static const char hexd[] = "0123456789abcdef";
    put(o, "\"", 1);
    for (uint32_t i = 0; i < n; ++i) {
        uint8_t c = (uint8_t)s[i];
        char e[7] = {'\\', 0, 0, 0, 0, 0, 0};
        switch (c) {
        case '"': e[1] = '"'; put(o, e, 2); break;
        case '\\': e[1] = '\\'; put(o, e, 2); break;
        case '\n': e[1] = 'n'; put(o, e, 2); break;
        case '\r': e[1] = 'r'; put(o, e, 2); break;
        case '\t': e[1] = 't'; put(o, e, 2); break;
        case '\b': e[1] = 'b'; put(o, e, 2); break;
        case '\f': e[1] = 'f'; put(o, e, 2); break;
        default:
            if (c < 0x20) {
                e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hexd[c >> 4], e[5] = hexd[c & 15];
                put(o, e, 6);
            } else {
                put(o, (const char *)&c, 1);
            }
        }
    }
    put(o, "\"", 1);
}

/* v / 10^digits as Python's repr of that float: integer part, '.', the fraction without trailing
 * zeros (at least one digit). */
static void put_fixed(out_t *o, uint32_t v, int digits)
{
    uint32_t p = digits == 3 ? 1000u : 10000u;
    char tmp[24];
    int k = 0;
    uint32_t ip = v / p, fp = v % p;
    do {
        tmp[k++] = (char)('0' + ip % 10u);
        ip /= 10u;
    } while (ip);
    for (int a = 0, b = k - 1; a < b; ++a, --b) {
        char t = tmp[a];
        tmp[a] = tmp[b];
        tmp[b] = t;
    }
    tmp[k++] = '.';
    char f[4];
    for (int i = digits - 1; i >= 0; --i, fp /= 10u) f[i] = (char)('0' + fp % 10u);
    int last = digits - 1;
    while (last > 0 && f[last] == '0') --last;
    for (int i = 0; i <= last; ++i) tmp[k++] = f[i];
    put(o, tmp, (uint32_t)k);
}

int32_t ma_json_word_line(const ma_json_word *w, char *buf, uint32_t cap)
{
    if (w == NULL || buf == NULL || (w->word == NULL && w->word_bytes) || (w->chars == NULL && w->n_chars) ||
        w->confidence_q4 > 10000u || cap > 0x7FFFFFFFu) {
        return MA_ERR_ARGUMENT;
    }
    for (uint32_t i = 0; i < w->n_chars; ++i) {
        if (w->chars[i].text == NULL) return MA_ERR_ARGUMENT;
    }
    out_t o = {buf, cap, 0};
    puts_(&o, "{\"word\": ");
    put_string(&o, w->word, w->word_bytes);
    puts_(&o, ", \"start\": ");
    put_fixed(&o, w->start_ms, 3);
    puts_(&o, ", \"end\": ");
    put_fixed(&o, w->end_ms, 3);
    puts_(&o, ", \"confidence\": ");
    put_fixed(&o, w->confidence_q4, 4);
    puts_(&o, ", \"chars\": [");
    for (uint32_t i = 0; i < w->n_chars; ++i) {
        puts_(&o, i ? ", {\"char\": " : "{\"char\": ");
        put_string(&o, w->chars[i].text, (uint32_t)strlen(w->chars[i].text));
        puts_(&o, ", \"start\": ");
        put_fixed(&o, w->chars[i].start_ms, 3);
        puts_(&o, ", \"end\": ");
        put_fixed(&o, w->chars[i].end_ms, 3);
        puts_(&o, "}");
    }
    puts_(&o, "]}\n");
    if (o.n >= cap) {
        if (cap) buf[0] = 0;
        return MA_ERR_SCRATCH;
    }
    buf[o.n] = 0;
    return (int32_t)o.n;
}
