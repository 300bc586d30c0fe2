/* libFuzzer harness for ma_fc_s8 / ma_conv1d_s8 / ma_dwconv1d_s8 (differential: the blocked DSP loops vs TFLM's
 * loop).
 *
 *   tflm_app/fuzz.sh ma_fc_s8 [RUNS]
 *
 * The kernel is compiled into this harness with MA_FC_S8_EMULATE_DSP, so the Cortex-M7 path's loop structure runs
 * (4-channel weight blocks widened to 16 bits with the input zero point folded into a start value, the pairs of
 * quads, the depth tail, the doubled-weight fast requantisation through an emulated SMMLAR, the conv edge rows).
 * Each input picks a fully connected layer, a 1-D convolution or a depthwise 1-D convolution (rows, depth, channels,
 * stride, kernel width, padding before), zero points (now and then outside int8), an activation range (full, random, or empty),
 * per-tensor or per-channel multipliers and shifts (now and then negative or out of range), a bias (none, small,
 * near 2^29, or any int32), then the input and weight bytes. Checked: the kernel refuses exactly the parameters
 * ma_fc_s8.h says it refuses and writes nothing then; otherwise every output byte equals TFLM's
 * FullyConnected(PerChannel) / ConvPerChannel / DepthwiseConvPerChannel arithmetic computed here directly (padding = the input zero point,
 * ma_mbqm), and nothing past the output or the scratch is written.
 */
#define MA_FC_S8_EMULATE_DSP 1
#include "../ma_fc_s8.c"

#include <stdio.h>
#include <stdlib.h>

#define MAX_ROWS 12
#define MAX_CH 11
#define MAX_DEPTH 48
#define GUARD 8

static uint32_t rd(const uint8_t **p, size_t *n, int bytes) {
  uint32_t v = 0;
  int i;
  for (i = 0; i < bytes; ++i) {
    v = (v << 8) | (*n ? **p : 0u);
    if (*n) {
      ++*p;
      --*n;
    }
  }
  return v;
}

static long n_ran, n_refused, n_dw;
static void print_stats(void) {
  fprintf(stderr, "ma_fc_s8 fuzz: ran=%ld refused=%ld depthwise=%ld\n", n_ran, n_refused, n_dw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int8_t in[MAX_ROWS * 3 * MAX_DEPTH + MAX_DEPTH], w[MAX_CH * MAX_DEPTH];
  static int8_t out[MAX_ROWS * MAX_CH + GUARD], want[MAX_ROWS * MAX_CH];
  static uint32_t scratch[(144 + 17 * MAX_DEPTH + 64) / 4 + GUARD]; /* ma_fc_s8_scratch_bytes(MAX_DEPTH) + */
  static int32_t mult[MAX_CH], shift[MAX_CH], bias[MAX_CH];
  static int registered;
  const uint8_t *p = data;
  size_t n = size;
  const uint32_t g = rd(&p, &n, 4), q = rd(&p, &n, 4);
  const int conv = (int)(g & 1u), dw = conv && ((q >> 27) & 1u); /* depthwise: a convolution, one channel per input */
  ma_fc_s8_params prm;
  int32_t in_channels = 1, in_width, pad = 0, stride, kw = 1, scratch_bytes, st, t, c, k;
  int expect_ok, with_bias = (int)((q >> 28) & 3u);
  size_t in_bytes, i;
  if (!registered) {
    registered = 1;
    if (getenv("MA_FUZZ_STATS") != NULL) atexit(print_stats);
  }
  prm.rows = (int32_t)((g >> 1) % MAX_ROWS);
  prm.channels = 1 + (int32_t)((g >> 5) % MAX_CH);
  if (conv) {
    in_channels = 1 + (int32_t)((g >> 9) % 6);
    kw = 1 + (int32_t)((g >> 12) % 7);
    stride = 1 + (int32_t)((g >> 15) % 3);
    pad = (int32_t)((g >> 17) % 8);
    in_width = 1 + (int32_t)((g >> 20) % 20);
    prm.depth = dw ? kw : kw * in_channels;
    prm.row_stride = stride * in_channels;
    if (dw) prm.channels = in_channels;
    in_bytes = (size_t)in_width * (size_t)in_channels;
  } else {
    prm.depth = 1 + (int32_t)((g >> 9) % MAX_DEPTH);
    prm.row_stride = prm.depth + (int32_t)((g >> 15) % 3) - 1; /* overlapping, packed, gapped rows */
    if (prm.row_stride < 1) prm.row_stride = 1;
    in_width = 0;
    in_bytes = prm.rows > 0 ? (size_t)(prm.rows - 1) * (size_t)prm.row_stride + (size_t)prm.depth : 0;
  }
  /* zero points: now and then outside int8 */
  prm.input_offset = (q & 0x1Fu) == 0x1Fu ? 129 : -(int32_t)(int8_t)(q >> 8);
  prm.output_offset = (q & 0x3E0u) == 0x3E0u ? -129 : (int32_t)(int8_t)(q >> 16);
  switch ((q >> 24) & 3u) {
    case 0: prm.act_min = -128; prm.act_max = 127; break;
    case 1: prm.act_min = (int8_t)(q >> 4); prm.act_max = 127; break;
    case 2: prm.act_min = (int8_t)(q >> 4); prm.act_max = (int8_t)(q >> 12); break; /* maybe empty */
    default: prm.act_min = prm.output_offset < -128 ? -128 : prm.output_offset; prm.act_max = 127; break;
  }
  prm.per_channel = (q >> 26) & 1u;
  expect_ok = prm.input_offset <= 128 && prm.output_offset >= -128 && prm.act_min <= prm.act_max;
  for (c = 0; c < (prm.per_channel ? prm.channels : 1); ++c) {
    const uint32_t r = rd(&p, &n, 4);
    mult[c] = (r & 0xF00u) == 0xF00u ? (int32_t)(r | 0x80000000u) : (int32_t)((r >> 1) | 0x40000000u);
    if ((r & 0xFu) == 0u) mult[c] = 0;
    shift[c] = (r & 0x7000u) == 0x7000u ? (int32_t)(r >> 16) % 40 - 4 : -(int32_t)((r >> 16) % 26);
    expect_ok &= mult[c] >= 0 && shift[c] >= -31 && shift[c] <= 30;
  }
  for (c = 0; c < prm.channels; ++c) {
    const uint32_t r = rd(&p, &n, 4);
    bias[c] = with_bias == 1 ? (int32_t)(int16_t)r : with_bias == 2 ? (int32_t)(r % 3u) - 1 + (1 << 29) : (int32_t)r;
  }
  prm.multiplier = mult;
  prm.shift = shift;
  for (i = 0; i < in_bytes; ++i) in[i] = (int8_t)rd(&p, &n, 1);
  for (i = 0; i < (size_t)(prm.channels * prm.depth); ++i) w[i] = (int8_t)rd(&p, &n, 1);
  scratch_bytes = ma_fc_s8_scratch_bytes(prm.depth);
  if (scratch_bytes > (int32_t)(sizeof scratch - 4 * GUARD)) abort(); /* the harness's buffer is too small */
  memset(out, 0x5A, sizeof out);
  memset(scratch, 0xA5, sizeof scratch);
  st = dw     ? ma_dwconv1d_s8(&prm, in_width, pad, in, w, with_bias ? bias : NULL, out, scratch, scratch_bytes)
       : conv ? ma_conv1d_s8(&prm, in_width, in_channels, pad, in, w, with_bias ? bias : NULL, out, scratch,
                             scratch_bytes)
              : ma_fc_s8(&prm, in, w, with_bias ? bias : NULL, out, scratch, scratch_bytes);
  for (i = 0; i < sizeof out; ++i)
    if (!expect_ok && out[i] != 0x5A) abort(); /* refused: nothing written */
  if (!expect_ok) {
    if (st != MA_ERR_ARGUMENT) abort();
    ++n_refused;
    return 0;
  }
  if (st != MA_OK) abort();
  ++n_ran;
  n_dw += dw;
  /* TFLM's loop */
  for (t = 0; t < prm.rows; ++t)
    for (c = 0; c < prm.channels; ++c) {
      uint32_t acc = with_bias ? (uint32_t)bias[c] : 0u;
      const int32_t m = mult[prm.per_channel ? c : 0], s = shift[prm.per_channel ? c : 0];
      int32_t v;
      for (k = 0; k < prm.depth; ++k) { /* dw: tap k of channel c at input column t s - pad + k, weight w[k][c] */
        const int64_t at = dw ? ((int64_t)t * stride - pad + k) * in_channels + c
                              : (int64_t)t * prm.row_stride - (int64_t)pad * in_channels + k;
        const int32_t x = conv && (at < 0 || at >= (int64_t)in_bytes) ? -prm.input_offset : in[at];
        acc += (uint32_t)((x + prm.input_offset) * w[dw ? k * prm.channels + c : c * prm.depth + k]);
      }
      v = ma_mbqm((int32_t)acc, m, s) + prm.output_offset;
      v = v < prm.act_min ? prm.act_min : v;
      v = v > prm.act_max ? prm.act_max : v;
      want[t * prm.channels + c] = (int8_t)v;
    }
  if (memcmp(out, want, (size_t)(prm.rows * prm.channels)) != 0) abort();
  for (i = (size_t)(prm.rows * prm.channels); i < sizeof out; ++i)
    if (out[i] != 0x5A) abort();
  for (i = (size_t)scratch_bytes; i < sizeof scratch; ++i)
    if (((const uint8_t *)scratch)[i] != 0xA5) abort();
  return 0;
}
