/* int8 FULLY_CONNECTED, 1-D convolution and depthwise 1-D convolution, bit-exact with TFLite Micro's reference
 * kernels (see ma_fc_s8.h).
 *
 * Accumulator. TFLM sums bias + sum_k (x + off) w in int32. Here acc starts at bias + off * sum_k w (wrapping,
 * once per output channel and call) and adds sum_k x w: the same integer modulo 2^32, and the same integer
 * outright since |sum_k (x + off) w| <= depth * 255 * 128 < 2^29 (MA_FC_S8_MAX_DEPTH). A padded input of a
 * convolution is the input zero point itself (x + off = 0, as in TFLM's padding test), so the edge rows are
 * copied into the scratch with that byte and run through the same loop.
 *
 * Requantisation, MBQM(acc, m, s) + zp = RoundingDivideByPOT(SRDHM(acc, m), e) + zp with e = -s, in three
 * instructions where 1 <= e <= 22 and |acc| < 2^30 (the model's layers: |bias| < 2^29 is checked per channel):
 *  - SRDHM(acc, m) = floor((acc m + 2^30) / 2^31) = floor((2 acc m + 2^31) / 2^32): SMMLAR's rounded high
 *    word of 2 acc (no overflow: |acc| < 2^30);
 *  - RoundingDivideByPOT(v, e) = (v + 2^(e-1) - [v < 0]) >> e (gemmlowp rounds half away from zero), and
 *    v < 0 only where acc < 0 (m >= 0; where acc < 0 and v = 0 both forms give 0);
 *  - adding zp 2^e before the shift adds zp after it (|v| < 2^30, |zp 2^e| <= 2^29: no overflow).
 * So out = SSAT8(SMMLAR(2 acc, m, 2^(e-1) + zp 2^e + (acc >> 31)) >> e), then the fused activation's clamp
 * when it is narrower than -128 .. 127. Other shifts (a left shift, e = 0, e > 22) and larger biases take
 * TFLM's MBQM (ma_mbqm), per block of 4 channels.
 */
#include "ma_fc_s8.h"
#include "ma_dsp.h"
#include "ma_fixedpoint.h"

#include <stddef.h>

/* The DSP path: on a core with the DSP extension (unless MA_FC_S8_PORTABLE), its inner loops in GNU assembly (LDRD
 * with post-increment: GCC splits it into LDRs); or on the host with the instructions emulated in C
 * (MA_FC_S8_EMULATE_DSP: sanitizers and the fuzzer run its loops); ma_dsp.h. */
#if MA_DSP_NATIVE && !defined(MA_FC_S8_PORTABLE)
#define MA_FC_DSP 1
#define MA_FC_ASM 1
#elif defined(MA_FC_S8_EMULATE_DSP)
#define MA_FC_DSP 1
#define MA_FC_ASM 0
#else
#define MA_FC_DSP 0
#define MA_FC_ASM 0
#endif

#define MA_FC_BLOCK 4 /* output channels per weight block */

static int32_t ma_fc_ceil4(int32_t k) { return (k + 3) & ~3; }


/* The wide path (ma_fc_rows_wide): blocks of MA_FC_WIDE channels whose dot products run in one unrolled sequence
 * of at most MA_FC_WIDE_QUADS quads (depth <= 4 * MA_FC_WIDE_QUADS); its block table (start values and
 * requantisation, ma_fc_wide_table) precedes the packed weights in the scratch. */
#define MA_FC_WIDE 8
#define MA_FC_WIDE_QUADS 64
#define MA_FC_WIDE_TABLE_BYTES 144 /* ma_fc_wide_table: 4 + 8 * 3 + 8 int32 */

int32_t ma_fc_s8_scratch_bytes(int32_t depth) {
  if (depth < 1 || depth > MA_FC_S8_MAX_DEPTH) return MA_ERR_ARGUMENT;
  /* the wide block's table, the 16-bit weights of one block (of up to MA_FC_WIDE channels), then one edge row */
  return MA_FC_WIDE_TABLE_BYTES + 2 * MA_FC_WIDE * ma_fc_ceil4(depth) + ma_fc_ceil4(depth);
}

static int ma_fc_params_ok(const ma_fc_s8_params *p) {
  int32_t n, count;
  if (p->rows < 0 || p->depth < 1 || p->depth > MA_FC_S8_MAX_DEPTH || p->channels < 1 || p->row_stride < 1 ||
      p->input_offset < -127 || p->input_offset > 128 || p->output_offset < -128 || p->output_offset > 127 ||
      p->act_min < -128 || p->act_max > 127 || p->act_min > p->act_max || p->multiplier == NULL ||
      p->shift == NULL || (p->per_channel != 0 && p->per_channel != 1))
    return 0;
  count = p->per_channel ? p->channels : 1;
  for (n = 0; n < count; ++n)
    if (p->multiplier[n] < 0 || p->shift[n] < -31 || p->shift[n] > 30) return 0;
  return 1;
}

/* One output channel's requantisation. */
typedef struct {
  int32_t m, s;  /* TFLM's multiplier and shift */
  int32_t e;     /* -s: the fast path's right shift */
  int32_t rbias; /* the fast path's 2^(e-1) + zp 2^e */
} ma_fc_rq;

static inline int32_t ma_fc_act(int32_t v, int32_t lo, int32_t hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

/* TFLM: MBQM, + zero point, clamp. */
static inline int8_t ma_fc_requant_plain(int32_t acc, const ma_fc_rq *q, int32_t zp, int32_t lo, int32_t hi) {
  return (int8_t)ma_fc_act(ma_add_wrap(ma_mbqm(acc, q->m, q->s), zp), lo, hi);
}

/* The channel's requantisation; returns whether the fast path applies. */
static int ma_fc_rq_init(ma_fc_rq *q, const ma_fc_s8_params *p, int32_t n, int32_t bias) {
  const int32_t k = p->per_channel ? n : 0;
  q->m = p->multiplier[k];
  q->s = p->shift[k];
  q->e = -q->s;
  q->rbias = 0;
  if (q->e < 1 || q->e > 22 || bias <= -(1 << 29) || bias >= (1 << 29)) return 0;
  q->rbias = (1 << (q->e - 1)) + p->output_offset * (1 << q->e);
  return 1;
}

/* ------------------------------------------------------------------------
 * Rows: the input of row t, or (conv edges) a copy with the padding filled in */
typedef struct {
  const int8_t *in;
  int32_t in_bytes;  /* valid input bytes */
  int32_t pad;       /* bytes of padding before the input */
  int32_t t_lo, t_hi; /* rows [t_lo, t_hi) lie wholly inside the input */
  int8_t *edge;      /* depth bytes of scratch */
} ma_fc_src;

static const int8_t *ma_fc_edge_row(const ma_fc_src *src, const ma_fc_s8_params *p, int32_t t) {
  const int64_t start = (int64_t)t * p->row_stride - src->pad;
  const int8_t fill = (int8_t)(-p->input_offset);
  int32_t k;
  for (k = 0; k < p->depth; ++k) {
    const int64_t i = start + k;
    src->edge[k] = i >= 0 && i < src->in_bytes ? src->in[i] : fill;
  }
  return src->edge;
}

#if MA_FC_DSP
/* ------------------------------------------------------------------------
 * DSP path */

#if MA_FC_ASM
/* The assembly's two steps, shared by the 4- and 8-channel loops (operand strings: registers or %[name]):
 * one quad of inputs (x post-incremented), its bytes 0 and 2 into xa and 1 and 3 into xb (xw may be xb); */
#define MA_FC_ASM_QUAD(x, xw, xa, xb) \
  "ldr.w " xw ", [" x "], #4\n\t" "sxtb16 " xa ", " xw "\n\t" "sxtb16 " xb ", " xw ", ror #8\n\t"
/* and one channel of the quad: its two packed weight words (w post-incremented), two SMLAD into acc. */
#define MA_FC_ASM_CH(acc, xa, xb, w, w0, w1)                                                               \
  "ldrd " w0 ", " w1 ", [" w "], #8\n\t" "smlad " acc ", " xa ", " w0 ", " acc "\n\t" "smlad " acc ", " xb ", " w1 \
  ", " acc "\n\t"

/* acc0..3 += the dot products of x's pairs of quads (until w reaches wend) with the block's 4 packed channels:
 * per 8 inputs 2 LDR + 4 SXTB16 + 8 LDRD + 16 SMLAD + CMP/BNE, 1.0 instruction per MAC. */
#define MA_FC_QUAD4                                                                                        \
  MA_FC_ASM_QUAD("%[x]", "%[xw]", "%[xa]", "%[xb]")                                                        \
  MA_FC_ASM_CH("%[a0]", "%[xa]", "%[xb]", "%[w]", "%[w0]", "%[w1]")                                        \
  MA_FC_ASM_CH("%[a1]", "%[xa]", "%[xb]", "%[w]", "%[w0]", "%[w1]")                                        \
  MA_FC_ASM_CH("%[a2]", "%[xa]", "%[xb]", "%[w]", "%[w0]", "%[w1]")                                        \
  MA_FC_ASM_CH("%[a3]", "%[xa]", "%[xb]", "%[w]", "%[w0]", "%[w1]")
#define MA_FC_PAIRS(a0, a1, a2, a3, xp, w, wend)                                                           \
  do {                                                                                                     \
    uint32_t xw, xa, xb, w0, w1;                                                                           \
    __asm__ volatile("1:\n\t" MA_FC_QUAD4 MA_FC_QUAD4 "cmp %[w], %[wend]\n\t"                              \
                     "bne 1b\n\t"                                                                          \
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(xp), [w] "+r"(w), \
                       [xw] "=&r"(xw), [xa] "=&r"(xa), [xb] "=&r"(xb), [w0] "=&r"(w0), [w1] "=&r"(w1)        \
                     : [wend] "r"(wend)                                                                    \
                     : "cc", "memory");                                                                    \
  } while (0)
#endif

/* Block of nch (1 .. blk) channels from w (row-major [nch][depth]) into 16-bit words: for quad q of the depth and
 * channel j, ws[2 blk q + 2 j] = (w[4q], w[4q + 2]) and ws[2 blk q + 2 j + 1] = (w[4q + 1], w[4q + 3]) (the order
 * of SXTB16 and SXTB16 ROR 8), then the depth % 4 last weights as halves [r][blk]; missing channels are 0.
 * start[j] = bias + off * sum(w[j]). With scale 2 (the wide path) the weights and start values are doubled, which
 * doubles the accumulators: what SMMLAR takes. */
static void ma_fc_pack(const int8_t *w, int32_t depth, int32_t blk, int32_t nch, int32_t off, const int32_t *bias,
                       int32_t c0, int32_t scale, uint32_t *ws, int32_t *start) {
  const int32_t nq = depth >> 2, tail = depth & 3;
  int16_t *wt = (int16_t *)(void *)(ws + 2 * blk * nq);
  int32_t j, q, r;
  for (j = 0; j < blk; ++j) {
    const int8_t *wj = w + (size_t)j * (size_t)depth;
    int32_t sum = 0;
    if (j >= nch) {
      for (q = 0; q < nq; ++q) ws[2 * blk * q + 2 * j] = ws[2 * blk * q + 2 * j + 1] = 0;
      for (r = 0; r < tail; ++r) wt[blk * r + j] = 0;
      start[j] = 0;
      continue;
    }
    {
      /* per quad: the word's SXTB16 pair (SXTAB16 adds it once more for scale 2) and the sum by two SMLAD with
       * (1, 1): about 11 instructions per 4 weights where separate bytes took 22 */
      uint32_t *o = ws + 2 * j;
      if (scale == 2) {
        for (q = 0; q < nq; ++q, wj += 4, o += 2 * blk) {
          const uint32_t x = ma_rd32(wj), e = ma_sxtb16(x), d = ma_sxtb16_ror8(x);
          sum = ma_smlad(d, 0x00010001u, ma_smlad(e, 0x00010001u, sum));
          o[0] = ma_sxtab16(e, x);
          o[1] = ma_sxtab16_ror8(d, x);
        }
      } else {
        for (q = 0; q < nq; ++q, wj += 4, o += 2 * blk) {
          const uint32_t x = ma_rd32(wj), e = ma_sxtb16(x), d = ma_sxtb16_ror8(x);
          sum = ma_smlad(d, 0x00010001u, ma_smlad(e, 0x00010001u, sum));
          o[0] = e;
          o[1] = d;
        }
      }
    }
    for (r = 0; r < tail; ++r) {
      wt[blk * r + j] = (int16_t)(wj[r] * scale);
      sum += wj[r];
    }
    start[j] = ma_add_wrap(bias != NULL ? bias[c0 + j] : 0, (int32_t)((uint32_t)off * (uint32_t)sum));
    start[j] = (int32_t)((uint32_t)start[j] * (uint32_t)scale);
  }
}

/* ------------------------------------------------------------------------
 * Wide path: blocks of MA_FC_WIDE = 8 channels (the model's layers but for a last block of 4), all on the fast
 * requantisation, no clamp narrower than int8, depth a multiple of 4 up to 4 * MA_FC_WIDE_QUADS. Per quad of inputs
 * 1 LDR + 2 SXTB16 (the input word, shared by 8 channels) + 8 LDRD + 16 SMLAD: 27 instructions per 32 MAC (0.84 per
 * MAC), and no loop counter: the quads are one unrolled sequence, entered nq quads before its end. The block's table
 * precedes its packed weights (scaled by 2, see ma_fc_pack): the rows to run, then rq[j] = {m,
 * 2^(e-1) + zp 2^e, e} and the doubled start values. */
typedef struct {
  int32_t n_rows;   /* >= 1 */
  int32_t x_step;   /* input bytes from the end of a row's dot product to the next row: stride - depth */
  int32_t out_step; /* output bytes from a row's 8th output to the next row's first: out_stride - 8 */
  int32_t unused;
  int32_t rq[MA_FC_WIDE][3];
  int32_t start[MA_FC_WIDE];
} ma_fc_wide_table;

/* the assembly's offsets rest on this layout */
typedef char ma_fc_wide_table_size[sizeof(ma_fc_wide_table) == MA_FC_WIDE_TABLE_BYTES ? 1 : -1];

#define MA_FC_STR2(x) #x
#define MA_FC_STR(x) MA_FC_STR2(x)

#if MA_FC_ASM
/* channel a of a quad (r10, r11: the quad's inputs; r1 the weights) */
#define MA_FC_W8(a) MA_FC_ASM_CH(a, "r10", "r11", "r1", "r12", "lr")
/* channel a's output: SSAT8(SMMLAR(a, m, rbias + (a >> 31)) >> e), stored at out++ (lr); r12 walks rq */
#define MA_FC_RQ8(a)                                                                                         \
  "ldm r12!, {r1, r10, r11}\n\t" "add r10, r10, " a ", asr #31\n\t" "smmlar " a ", " a ", r1, r10\n\t"      \
  "asr " a ", " a ", r11\n\t" "ssat " a ", #8, " a "\n\t" "strb " a ", [lr], #1\n\t"

/* The table's rows through a wide block: x = r0, ws = r1 (the table is the MA_FC_WIDE_TABLE_BYTES before it),
 * nq = r2 (1 .. MA_FC_WIDE_QUADS), out = r3. Per row the accumulators are r2 .. r9; each unrolled quad is 27 32-bit
 * instructions (108 bytes), so the entry is 2f + (MA_FC_WIDE_QUADS - nq) * 108. Frame: [sp] ws, [sp + 4] out,
 * [sp + 8] entry, [sp + 12] rows left. */
#define MA_FC_ARG __attribute__((unused)) /* a naked function's arguments are in r0 .. r3 */
__attribute__((naked, noinline)) static void ma_fc_rows_wide_asm(MA_FC_ARG const int8_t *x, MA_FC_ARG const uint32_t *ws,
                                                                  MA_FC_ARG int32_t nq, MA_FC_ARG int8_t *out) {
  __asm__ volatile(
      "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
      "sub sp, sp, #16\n\t"
      "strd r1, r3, [sp]\n\t"
      "adr.w lr, 2f\n\t"
      "rsb r2, r2, #" MA_FC_STR(MA_FC_WIDE_QUADS) "\n\t"
      "movs r12, #108\n\t"
      "mla lr, r2, r12, lr\n\t"
      "orr lr, lr, #1\n\t"
      "ldr r12, [r1, #-" MA_FC_STR(MA_FC_WIDE_TABLE_BYTES) "]\n\t"
      "strd lr, r12, [sp, #8]\n\t"
      "1:\n\t"
      "sub r12, r1, #32\n\t"
      "ldm r12, {r2, r3, r4, r5, r6, r7, r8, r9}\n\t"
      "ldr lr, [sp, #8]\n\t"
      "bx lr\n\t"
      ".p2align 2\n"
      "2:\n\t"
      ".rept " MA_FC_STR(MA_FC_WIDE_QUADS) "\n\t"
      MA_FC_ASM_QUAD("r0", "r11", "r10", "r11")
      MA_FC_W8("r2") MA_FC_W8("r3") MA_FC_W8("r4") MA_FC_W8("r5")
      MA_FC_W8("r6") MA_FC_W8("r7") MA_FC_W8("r8") MA_FC_W8("r9")
      ".endr\n\t"
      "ldrd r1, lr, [sp]\n\t"
      "sub r12, r1, #(" MA_FC_STR(MA_FC_WIDE_TABLE_BYTES - 16) ")\n\t"
      MA_FC_RQ8("r2") MA_FC_RQ8("r3") MA_FC_RQ8("r4") MA_FC_RQ8("r5")
      MA_FC_RQ8("r6") MA_FC_RQ8("r7") MA_FC_RQ8("r8") MA_FC_RQ8("r9")
      "ldr r1, [sp]\n\t"
      "ldr r2, [r1, #-(" MA_FC_STR(MA_FC_WIDE_TABLE_BYTES - 4) ")]\n\t"
      "add r0, r0, r2\n\t"
      "ldr r2, [r1, #-(" MA_FC_STR(MA_FC_WIDE_TABLE_BYTES - 8) ")]\n\t"
      "add lr, lr, r2\n\t"
      "ldr r2, [sp, #12]\n\t"
      "str lr, [sp, #4]\n\t"
      "subs r2, r2, #1\n\t"
      "str r2, [sp, #12]\n\t"
      "bne 1b\n\t"
      "add sp, sp, #16\n\t"
      "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}
#endif

/* The table's n_rows rows from x through the wide block at ws, outputs from out on. */
static void ma_fc_rows_wide(uint32_t *ws, int32_t nq, const int8_t *x, int32_t stride, int32_t n_rows, int8_t *out,
                            int32_t out_stride) {
  ma_fc_wide_table *tb = (ma_fc_wide_table *)(void *)((uint8_t *)ws - MA_FC_WIDE_TABLE_BYTES);
  tb->n_rows = n_rows;
  tb->x_step = stride - 4 * nq;
  tb->out_step = out_stride - MA_FC_WIDE;
#if MA_FC_ASM
  ma_fc_rows_wide_asm(x, ws, nq, out);
#else /* the same computation in C (the host's emulated DSP path), with the table's steps */
  {
    int32_t t, j, q;
    for (t = 0; t < tb->n_rows; ++t, x += tb->x_step, out += tb->out_step) {
      const uint32_t *w = ws;
      int32_t acc[MA_FC_WIDE];
      for (j = 0; j < MA_FC_WIDE; ++j) acc[j] = tb->start[j];
      for (q = 0; q < nq; ++q, x += 4, w += 2 * MA_FC_WIDE) {
        const uint32_t xw = ma_rd32(x), xa = ma_sxtb16(xw), xb = ma_sxtb16_ror8(xw);
        for (j = 0; j < MA_FC_WIDE; ++j) acc[j] = ma_smlad(xb, w[2 * j + 1], ma_smlad(xa, w[2 * j], acc[j]));
      }
      for (j = 0; j < MA_FC_WIDE; ++j)
        *out++ = (int8_t)ma_ssat8(ma_smmlar(acc[j], tb->rq[j][0], tb->rq[j][1] + (acc[j] >> 31)) >> tb->rq[j][2]);
    }
  }
#endif
}

/* Whether a layer's blocks may take the wide path (each block still needs its 8 channels on the fast requantisation). */
static int ma_fc_wide_layer(const ma_fc_s8_params *p) {
  return p->act_min == -128 && p->act_max == 127 && (p->depth & 3) == 0 && p->depth <= 4 * MA_FC_WIDE_QUADS;
}

/* Channels [c0, c0 + 8) as a wide block: its table and packed weights into the scratch. Returns 0 (nothing packed)
 * when a channel needs TFLM's MBQM. */
static int ma_fc_wide_pack(const ma_fc_s8_params *p, const int8_t *w, const int32_t *bias, int32_t c0, void *scratch) {
  ma_fc_wide_table *tb = (ma_fc_wide_table *)scratch;
  int32_t j;
  for (j = 0; j < MA_FC_WIDE; ++j) {
    ma_fc_rq q;
    if (!ma_fc_rq_init(&q, p, c0 + j, bias != NULL ? bias[c0 + j] : 0)) return 0;
    tb->rq[j][0] = q.m;
    tb->rq[j][1] = q.rbias;
    tb->rq[j][2] = q.e;
  }
  ma_fc_pack(w, p->depth, MA_FC_WIDE, MA_FC_WIDE, p->input_offset, bias, c0, 2,
             (uint32_t *)(void *)((uint8_t *)scratch + MA_FC_WIDE_TABLE_BYTES), tb->start);
  return 1;
}

/* requantised output of the fast path (before the activation clamp) */
#define MA_FC_FAST(acc, q) \
  (ma_ssat8(ma_smmlar((int32_t)((uint32_t)(acc) << 1), (q).m, (q).rbias + ((acc) >> 31)) >> (q).e))

/* n_rows rows from x (row stride `stride`) through a packed block of 4 channels; outputs out[t * out_stride + j]
 * for j < nch. */
static void ma_fc_rows(const uint32_t *ws, int32_t depth, const int32_t *start, const ma_fc_rq *rq, int fast,
                       const ma_fc_s8_params *p, int32_t nch, const int8_t *x, int32_t stride, int32_t n_rows,
                       int8_t *out, int32_t out_stride) {
  const int32_t nq = depth >> 2, tail = depth & 3;
  const int16_t *wt = (const int16_t *)(const void *)(ws + 8 * nq);
  const int32_t zp = p->output_offset, lo = p->act_min, hi = p->act_max;
  const int full = lo == -128 && hi == 127;
  int32_t t;
  for (t = 0; t < n_rows; ++t, x += stride, out += out_stride) {
    int32_t a0 = start[0], a1 = start[1], a2 = start[2], a3 = start[3];
    const uint32_t *w = ws;
    const int8_t *xp = x;
    int32_t q;
#if MA_FC_ASM
    if (nq >= 2) {
      /* pairs of quads: per 8 inputs, 2 LDR + 4 SXTB16 + 8 LDRD + 16 SMLAD + CMP/BNE = 1.0 instruction per MAC */
      const uint32_t *wend = w + 16 * (nq >> 1);
      MA_FC_PAIRS(a0, a1, a2, a3, xp, w, wend);
    }
    q = nq & 1;
#else
    q = nq;
#endif
    for (; q > 0; --q, w += 8, xp += 4) { /* single quads: the odd one after the pairs, or all (emulated DSP) */
      const uint32_t xw = ma_rd32(xp), xa = ma_sxtb16(xw), xb = ma_sxtb16_ror8(xw);
      a0 = ma_smlad(xb, w[1], ma_smlad(xa, w[0], a0));
      a1 = ma_smlad(xb, w[3], ma_smlad(xa, w[2], a1));
      a2 = ma_smlad(xb, w[5], ma_smlad(xa, w[4], a2));
      a3 = ma_smlad(xb, w[7], ma_smlad(xa, w[6], a3));
    }
    for (q = 0; q < tail; ++q) { /* products < 2^15: no wrap concerns beyond the accumulator's */
      const int32_t v = xp[q];
      a0 = ma_add_wrap(a0, v * wt[4 * q]);
      a1 = ma_add_wrap(a1, v * wt[4 * q + 1]);
      a2 = ma_add_wrap(a2, v * wt[4 * q + 2]);
      a3 = ma_add_wrap(a3, v * wt[4 * q + 3]);
    }
    if (fast && nch == MA_FC_BLOCK) {
      int32_t v0 = MA_FC_FAST(a0, rq[0]), v1 = MA_FC_FAST(a1, rq[1]), v2 = MA_FC_FAST(a2, rq[2]),
              v3 = MA_FC_FAST(a3, rq[3]);
      if (!full) {
        v0 = ma_fc_act(v0, lo, hi);
        v1 = ma_fc_act(v1, lo, hi);
        v2 = ma_fc_act(v2, lo, hi);
        v3 = ma_fc_act(v3, lo, hi);
      }
      out[0] = (int8_t)v0;
      out[1] = (int8_t)v1;
      out[2] = (int8_t)v2;
      out[3] = (int8_t)v3;
    } else {
      const int32_t acc[MA_FC_BLOCK] = {a0, a1, a2, a3};
      int32_t j;
      for (j = 0; j < nch; ++j) out[j] = ma_fc_requant_plain(acc[j], &rq[j], zp, lo, hi);
    }
  }
}
#endif /* MA_FC_DSP */

#if !MA_FC_DSP
/* ------------------------------------------------------------------------
 * Portable path: TFLM's loop, one output at a time */
static void ma_fc_row_plain(const int8_t *x, const int8_t *w, const int32_t *bias, const ma_fc_s8_params *p,
                            int32_t c0, int32_t nch, const ma_fc_rq *rq, int8_t *out) {
  int32_t j, k;
  for (j = 0; j < nch; ++j) {
    const int8_t *wj = w + (size_t)j * (size_t)p->depth;
    uint32_t acc = bias != NULL ? (uint32_t)bias[c0 + j] : 0u;
    for (k = 0; k < p->depth; ++k) acc += (uint32_t)((x[k] + p->input_offset) * wj[k]);
    out[j] = ma_fc_requant_plain((int32_t)acc, &rq[j], p->output_offset, p->act_min, p->act_max);
  }
}
#endif

/* ------------------------------------------------------------------------
 * Driver: blocks of 8 (wide path) or 4 output channels; per block, the rows before t_lo and from t_hi on are edge
 * rows */
typedef struct {
  int wide;              /* an 8-channel block on ma_fc_rows_wide, else 4 channels on ma_fc_rows */
  int32_t c0, nch;       /* the block's first channel and channel count */
  uint32_t *ws;          /* packed weights (DSP paths) */
  int32_t start[MA_FC_BLOCK];
  ma_fc_rq rq[MA_FC_BLOCK];
  int fast;
  const int8_t *w;       /* the block's int8 weights and the layer's bias (portable path) */
  const int32_t *bias;
} ma_fc_blk;

/* n_rows rows from x (row stride `stride`) through the block; out[t * out_stride + j] */
static void ma_fc_blk_rows(const ma_fc_blk *b, const ma_fc_s8_params *p, const int8_t *x, int32_t stride,
                           int32_t n_rows, int8_t *out, int32_t out_stride) {
#if MA_FC_DSP
  if (b->wide)
    ma_fc_rows_wide(b->ws, p->depth >> 2, x, stride, n_rows, out, out_stride);
  else
    ma_fc_rows(b->ws, p->depth, b->start, b->rq, b->fast, p, b->nch, x, stride, n_rows, out, out_stride);
#else
  int32_t t;
  for (t = 0; t < n_rows; ++t, x += stride, out += out_stride)
    ma_fc_row_plain(x, b->w, b->bias, p, b->c0, b->nch, b->rq, out);
#endif
}

static void ma_fc_run(const ma_fc_s8_params *p, const ma_fc_src *src, const int8_t *weights, const int32_t *bias,
                      int8_t *output, void *scratch) {
  const int32_t n_out = p->channels;
  uint32_t *ws = (uint32_t *)(void *)((uint8_t *)scratch + MA_FC_WIDE_TABLE_BYTES);
  int32_t c0, t;
  for (c0 = 0; c0 < n_out;) {
    ma_fc_blk b;
    int32_t j;
    b.c0 = c0;
    b.ws = ws;
    b.w = weights + (size_t)c0 * (size_t)p->depth;
    b.bias = bias;
#if MA_FC_DSP
    b.wide = n_out - c0 >= MA_FC_WIDE && ma_fc_wide_layer(p) && ma_fc_wide_pack(p, b.w, bias, c0, scratch);
#else
    b.wide = 0;
#endif
    if (b.wide) {
      b.nch = MA_FC_WIDE;
    } else {
      b.nch = n_out - c0 < MA_FC_BLOCK ? n_out - c0 : MA_FC_BLOCK;
      b.fast = 1;
      for (j = 0; j < MA_FC_BLOCK; ++j) {
        if (j < b.nch)
          b.fast &= ma_fc_rq_init(&b.rq[j], p, c0 + j, bias != NULL ? bias[c0 + j] : 0);
        else
          b.rq[j] = b.rq[0];
      }
#if MA_FC_DSP
      ma_fc_pack(b.w, p->depth, MA_FC_BLOCK, b.nch, p->input_offset, bias, c0, 1, ws, b.start);
#endif
    }
    for (t = 0; t < src->t_lo; ++t)
      ma_fc_blk_rows(&b, p, ma_fc_edge_row(src, p, t), 0, 1, output + (size_t)t * (size_t)n_out + (size_t)c0, 0);
    if (src->t_hi > src->t_lo)
      ma_fc_blk_rows(&b, p, src->in + ((int64_t)src->t_lo * p->row_stride - src->pad), p->row_stride,
                     src->t_hi - src->t_lo, output + (size_t)src->t_lo * (size_t)n_out + (size_t)c0, n_out);
    for (t = src->t_hi > src->t_lo ? src->t_hi : src->t_lo; t < p->rows; ++t)
      ma_fc_blk_rows(&b, p, ma_fc_edge_row(src, p, t), 0, 1, output + (size_t)t * (size_t)n_out + (size_t)c0, 0);
    c0 += b.nch;
  }
}

/* Rows [t_lo, t_hi) whose depth bytes at t * row_stride - pad lie inside [0, in_bytes). */
static void ma_fc_inside(const ma_fc_s8_params *p, ma_fc_src *src) {
  const int64_t stride = p->row_stride, pad = src->pad;
  const int64_t last = (int64_t)src->in_bytes + pad - p->depth; /* t * stride <= last */
  int64_t lo = (pad + stride - 1) / stride, hi = last < 0 ? 0 : last / stride + 1;
  if (lo > p->rows) lo = p->rows;
  if (hi > p->rows) hi = p->rows;
  if (hi < lo) hi = lo;
  src->t_lo = (int32_t)lo;
  src->t_hi = (int32_t)hi;
}

static int32_t ma_fc_check(const ma_fc_s8_params *p, const int8_t *input, const int8_t *weights, int8_t *output,
                           void *scratch, int32_t scratch_bytes) {
  int32_t need;
  if (p == NULL || input == NULL || weights == NULL || output == NULL || !ma_fc_params_ok(p)) return MA_ERR_ARGUMENT;
  if ((int64_t)p->rows * p->channels > INT32_MAX || (int64_t)p->channels * p->depth > INT32_MAX)
    return MA_ERR_ARGUMENT;
  need = ma_fc_s8_scratch_bytes(p->depth);
  if (scratch == NULL || ((uintptr_t)scratch & 3u) != 0 || scratch_bytes < need) return MA_ERR_SCRATCH;
  return MA_OK;
}

int32_t ma_fc_s8(const ma_fc_s8_params *p, const int8_t *input, const int8_t *weights, const int32_t *bias,
                 int8_t *output, void *scratch, int32_t scratch_bytes) {
  ma_fc_src src;
  int64_t in_bytes;
  const int32_t st = ma_fc_check(p, input, weights, output, scratch, scratch_bytes);
  if (st != MA_OK) return st;
  in_bytes = p->rows > 0 ? (int64_t)(p->rows - 1) * p->row_stride + p->depth : 0;
  if (in_bytes > INT32_MAX) return MA_ERR_ARGUMENT;
  src.in = input;
  src.in_bytes = (int32_t)in_bytes;
  src.pad = 0;
  src.t_lo = 0;
  src.t_hi = p->rows;
  src.edge = (int8_t *)scratch + MA_FC_WIDE_TABLE_BYTES + 2 * MA_FC_WIDE * ma_fc_ceil4(p->depth);
  if (p->rows > 0) ma_fc_run(p, &src, weights, bias, output, scratch);
  return MA_OK;
}

int32_t ma_conv1d_s8(const ma_fc_s8_params *p, int32_t in_width, int32_t in_channels, int32_t pad_before,
                     const int8_t *input, const int8_t *weights, const int32_t *bias, int8_t *output,
                     void *scratch, int32_t scratch_bytes) {
  ma_fc_src src;
  const int32_t st = ma_fc_check(p, input, weights, output, scratch, scratch_bytes);
  if (st != MA_OK) return st;
  if (in_width < 1 || in_channels < 1 || pad_before < 0 || p->depth % in_channels != 0 ||
      p->row_stride % in_channels != 0 || (int64_t)in_width * in_channels > INT32_MAX ||
      (int64_t)pad_before * in_channels > INT32_MAX)
    return MA_ERR_ARGUMENT;
  src.in = input;
  src.in_bytes = in_width * in_channels;
  src.pad = pad_before * in_channels;
  src.edge = (int8_t *)scratch + MA_FC_WIDE_TABLE_BYTES + 2 * MA_FC_WIDE * ma_fc_ceil4(p->depth);
  ma_fc_inside(p, &src);
  if (p->rows > 0) ma_fc_run(p, &src, weights, bias, output, scratch);
  return MA_OK;
}

/* ------------------------------------------------------------------------
 * Depthwise 1-D convolution (DEPTHWISE_CONV_2D of height 1, depth multiplier 1). Channel c of output row t:
 * acc = bias[c] + sum_j (x[t s - pad + j][c] + off) w[j][c] over the taps inside the input (TFLM's
 * DepthwiseConvPerChannel omits the others); here acc starts at bias + off * sum_j w[j][c] and adds x w for every
 * tap, a tap outside the input reading the input zero point (x + off = 0: it adds -off w, which cancels its share
 * of the start value), the same integer modulo 2^32 and, |sum| < 2^29, outright. DSP path: 4 channels at a time
 * (one input word per tap, SXTB16 into channels 0/2 and 1/3, four SMLAxx against the group's weights widened once),
 * the fast requantisation where the channel allows; channels past the last multiple of 4, and the portable build,
 * take TFLM's loop. */

/* Channels [c_begin, c_end) of every output row, TFLM's loop (taps outside the input omitted). */
static void ma_dw_plain(const ma_fc_s8_params *p, int32_t in_width, int32_t pad, const int8_t *input,
                        const int8_t *weights, const int32_t *bias, int32_t c_begin, int32_t c_end, int8_t *output) {
  const int32_t kw = p->depth, C = p->channels, s = p->row_stride / C;
  int32_t t, c, j;
  for (c = c_begin; c < c_end; ++c) {
    ma_fc_rq rq;
    const int32_t b = bias != NULL ? bias[c] : 0;
    (void)ma_fc_rq_init(&rq, p, c, b);
    for (t = 0; t < p->rows; ++t) {
      const int32_t col0 = t * s - pad;
      uint32_t acc = (uint32_t)b;
      for (j = 0; j < kw; ++j) {
        const int32_t col = col0 + j;
        if (col >= 0 && col < in_width)
          acc += (uint32_t)((input[(size_t)col * (size_t)C + (size_t)c] + p->input_offset) * weights[(size_t)j * (size_t)C + (size_t)c]);
      }
      output[(size_t)t * (size_t)C + (size_t)c] =
          ma_fc_requant_plain((int32_t)acc, &rq, p->output_offset, p->act_min, p->act_max);
    }
  }
}

#if MA_FC_DSP
/* One tap of a 4-channel group: the input word at x against the widened weights w[0] (channels 0, 2), w[1] (1, 3). */
#define MA_DW_TAP(x, w)                                                            \
  do {                                                                             \
    const uint32_t xw_ = ma_rd32(x), xe_ = ma_sxtb16(xw_), xo_ = ma_sxtb16_ror8(xw_); \
    a0 = ma_smlabb(xe_, (w)[0], a0);                                               \
    a2 = ma_smlatt(xe_, (w)[0], a2);                                               \
    a1 = ma_smlabb(xo_, (w)[1], a1);                                               \
    a3 = ma_smlatt(xo_, (w)[1], a3);                                               \
  } while (0)

/* A 4-channel group: its widened weights (tap j: channels 0 and 2 at w[2j], 1 and 3 at w[2j + 1]), start values and
 * requantisation. */
typedef struct {
  const uint32_t *w;
  int32_t kw, start[4], fast, full, lo, hi, zp;
  ma_fc_rq rq[4];
} ma_dw_grp;

/* One output row of a group from its kw input words at x, x + xs, ...: the taps before the last 8 in a loop, the last
 * 8 (or fewer) unrolled and entered at their count (no loop counter; the sum's order does not matter, every step is
 * exact). */
static void ma_dw_row4(const ma_dw_grp *g, const int8_t *x, int32_t xs, int8_t *o) {
  const uint32_t *w = g->w, *we;
  int32_t a0 = g->start[0], a1 = g->start[1], a2 = g->start[2], a3 = g->start[3], j;
  for (j = 8; j < g->kw; ++j, x += xs, w += 2) MA_DW_TAP(x, w);
  we = w + 2 * (g->kw < 8 ? g->kw : 8); /* tap i of the last r sits at we - 2 (r - i) */
  switch (g->kw < 8 ? g->kw : 8) {
    case 8: MA_DW_TAP(x, we - 16); x += xs; /* fall through */
    case 7: MA_DW_TAP(x, we - 14); x += xs; /* fall through */
    case 6: MA_DW_TAP(x, we - 12); x += xs; /* fall through */
    case 5: MA_DW_TAP(x, we - 10); x += xs; /* fall through */
    case 4: MA_DW_TAP(x, we - 8); x += xs; /* fall through */
    case 3: MA_DW_TAP(x, we - 6); x += xs; /* fall through */
    case 2: MA_DW_TAP(x, we - 4); x += xs; /* fall through */
    default: MA_DW_TAP(x, we - 2);
  }
  if (g->fast) {
    int32_t v0 = MA_FC_FAST(a0, g->rq[0]), v1 = MA_FC_FAST(a1, g->rq[1]), v2 = MA_FC_FAST(a2, g->rq[2]),
            v3 = MA_FC_FAST(a3, g->rq[3]);
    if (!g->full) {
      v0 = ma_fc_act(v0, g->lo, g->hi);
      v1 = ma_fc_act(v1, g->lo, g->hi);
      v2 = ma_fc_act(v2, g->lo, g->hi);
      v3 = ma_fc_act(v3, g->lo, g->hi);
    }
    o[0] = (int8_t)v0;
    o[1] = (int8_t)v1;
    o[2] = (int8_t)v2;
    o[3] = (int8_t)v3;
  } else {
    o[0] = ma_fc_requant_plain(a0, &g->rq[0], g->zp, g->lo, g->hi);
    o[1] = ma_fc_requant_plain(a1, &g->rq[1], g->zp, g->lo, g->hi);
    o[2] = ma_fc_requant_plain(a2, &g->rq[2], g->zp, g->lo, g->hi);
    o[3] = ma_fc_requant_plain(a3, &g->rq[3], g->zp, g->lo, g->hi);
  }
}

/* Channels [c0, c0 + 4) of every output row. scratch: 2 kw words of widened weights, then kw words for an edge row's
 * input words (the zero point outside the input). */
static void ma_dw_group4(const ma_fc_s8_params *p, int32_t in_width, int32_t pad, const int8_t *input,
                         const int8_t *weights, const int32_t *bias, int32_t c0, int8_t *output, uint32_t *scratch) {
  const int32_t kw = p->depth, C = p->channels, s = p->row_stride / C;
  uint32_t *wp = scratch, *edge = scratch + 2 * kw;
  const uint32_t fill = 0x01010101u * (uint32_t)(uint8_t)(int8_t)(-p->input_offset);
  const int32_t last = in_width - kw + pad; /* row t lies inside the input where 0 <= t s - pad and t s <= last */
  int32_t sum[4] = {0, 0, 0, 0}, t, j, k, t_lo, t_hi;
  ma_dw_grp g;
  for (j = 0; j < kw; ++j) {
    const int8_t *wj = weights + (size_t)j * (size_t)C + (size_t)c0;
    const uint32_t w4 = ma_rd32(wj);
    wp[2 * j] = ma_sxtb16(w4);
    wp[2 * j + 1] = ma_sxtb16_ror8(w4);
    for (k = 0; k < 4; ++k) sum[k] += wj[k];
  }
  g.w = wp;
  g.kw = kw;
  g.fast = 1;
  g.lo = p->act_min;
  g.hi = p->act_max;
  g.full = g.lo == -128 && g.hi == 127;
  g.zp = p->output_offset;
  for (k = 0; k < 4; ++k) {
    const int32_t b = bias != NULL ? bias[c0 + k] : 0;
    g.start[k] = ma_add_wrap(b, (int32_t)((uint32_t)p->input_offset * (uint32_t)sum[k]));
    g.fast &= ma_fc_rq_init(&g.rq[k], p, c0 + k, b);
  }
  t_lo = (pad + s - 1) / s;
  t_hi = last < 0 ? 0 : last / s + 1;
  if (t_lo > p->rows) t_lo = p->rows;
  if (t_hi > p->rows) t_hi = p->rows;
  if (t_hi < t_lo) t_hi = t_lo;
  for (t = 0; t < p->rows; ++t) {
    int8_t *o = output + (size_t)t * (size_t)C + (size_t)c0;
    if (t == t_lo && t_hi > t_lo) { /* the rows inside the input, one after the other */
      const int8_t *x = input + (size_t)(t * s - pad) * (size_t)C + (size_t)c0;
      for (; t < t_hi; ++t, x += (size_t)s * (size_t)C, o += C) ma_dw_row4(&g, x, C, o);
      --t;
      continue;
    }
    for (j = 0; j < kw; ++j) {
      const int32_t col = t * s - pad + j;
      edge[j] = col >= 0 && col < in_width ? ma_rd32(input + (size_t)col * (size_t)C + (size_t)c0) : fill;
    }
    ma_dw_row4(&g, (const int8_t *)(const void *)edge, 4, o);
  }
}
#endif

int32_t ma_dwconv1d_s8(const ma_fc_s8_params *p, int32_t in_width, int32_t pad_before, const int8_t *input,
                       const int8_t *weights, const int32_t *bias, int8_t *output, void *scratch,
                       int32_t scratch_bytes) {
  int32_t c_fast = 0;
  const int32_t st = ma_fc_check(p, input, weights, output, scratch, scratch_bytes);
  if (st != MA_OK) return st;
  if (in_width < 1 || pad_before < 0 || p->row_stride % p->channels != 0 ||
      (int64_t)in_width * p->channels > INT32_MAX || (int64_t)p->rows * (p->row_stride / p->channels) > INT32_MAX)
    return MA_ERR_ARGUMENT;
#if MA_FC_DSP
  /* groups of 4 channels; 2 kw + kw words of scratch, within ma_fc_s8_scratch_bytes(kw) */
  for (; c_fast + 4 <= p->channels; c_fast += 4)
    ma_dw_group4(p, in_width, pad_before, input, weights, bias, c_fast, output, (uint32_t *)scratch);
#endif
  ma_dw_plain(p, in_width, pad_before, input, weights, bias, c_fast, p->channels, output);
  return MA_OK;
}
