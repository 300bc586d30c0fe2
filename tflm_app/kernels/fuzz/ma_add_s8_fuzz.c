/* libFuzzer harness for ma_add_s8 (differential: the table kernel vs TFLM's per-element arithmetic).
 *
 *   tflm_app/fuzz.sh ma_add_s8 [RUNS]
 *
 * Each input picks three scales (a mantissa and a power of two from 2^-40 to 2^24, or now and then the raw bits
 * of a float: zero, negative, NaN, infinity, subnormal), three zero points (now and then outside int8), an
 * activation range (full, random, or empty) and then the element pairs. Checked: ma_add_s8_params_init accepts
 * exactly what TFLM's Prepare accepts (positive finite scales, int8 zero points, 2 max(s1, s2) / (2^20 so) < 1,
 * a non-empty range within int8); where it does, every output byte equals TFLM's AddFunc computed here
 * directly (three MultiplyByQuantizedMultiplierSmallerThanOneExp per element, ma_fixedpoint.h), out of place and
 * in place, and nothing past the n output bytes is written. The kernel is compiled as on the host (the portable
 * SMMLAR/SSAT), so this checks the fast path's algebra (doubled tables, rounding offset, zero point folded into
 * the shift, the sign term) and the plain path on any quantisation.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ma_add_s8.h"
#include "ma_fixedpoint.h"

static uint32_t rd32(const uint8_t **p, size_t *n) {
  uint32_t v = 0;
  int i;
  for (i = 0; i < 4; ++i) {
    v = (v << 8) | (*n ? **p : 0u);
    if (*n) {
      ++*p;
      --*n;
    }
  }
  return v;
}

static float pick_scale(uint32_t r) {
  if ((r & 0xFu) == 0xFu) { /* the raw bits of a float: 0, negative, NaN, inf, subnormal, anything */
    float f;
    uint32_t bits = r * 2654435761u;
    memcpy(&f, &bits, sizeof f);
    return f;
  }
  return (float)ldexp(1.0 + (double)((r >> 8) & 0xFFFFu) / 65536.0, (int)((r >> 4) & 0x3Fu) - 40);
}

static int32_t pick_zp(uint32_t r) { return (r & 0x1Fu) == 0x1Fu ? (int32_t)(r >> 5) % 300 : (int32_t)(int8_t)(r >> 8); }

/* TFLM's AddFunc (reference/integer_ops/add.h) */
static int8_t tflm_add(const ma_add_s8_params *p, int8_t x, int8_t y) {
  const int32_t a = ma_mbqm((x + p->input1_offset) * (1 << 20), p->input1_multiplier, p->input1_shift);
  const int32_t b = ma_mbqm((y + p->input2_offset) * (1 << 20), p->input2_multiplier, p->input2_shift);
  int32_t v = ma_mbqm(a + b, p->output_multiplier, p->output_shift) + p->output_offset;
  v = v < p->activation_min ? p->activation_min : v;
  v = v > p->activation_max ? p->activation_max : v;
  return (int8_t)v;
}

static int ok_scale(float s) { return s > 0.0f && s - s == 0.0f; }

/* MA_FUZZ_STATS set: how many inputs ran the kernel, how many were refused (printed at exit) */
static long n_ran, n_refused;
static void print_stats(void) { fprintf(stderr, "ma_add_s8 fuzz: ran=%ld refused=%ld\n", n_ran, n_refused); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int32_t tables[MA_ADD_S8_TABLE_WORDS];
  const uint8_t *p = data;
  size_t n = size;
  const float s1 = pick_scale(rd32(&p, &n)), s2 = pick_scale(rd32(&p, &n)), so = pick_scale(rd32(&p, &n));
  const uint32_t z = rd32(&p, &n), act = rd32(&p, &n);
  const int32_t zp1 = pick_zp(z), zp2 = pick_zp(z >> 10), zpo = pick_zp(z >> 20);
  int32_t lo = -128, hi = 127, st, k;
  ma_add_s8_params prm;
  int expect_ok, arg_ok;
  size_t count = n / 2, i;
  int8_t *x1, *x2, *out, *inplace;
  static int registered;
  if (!registered) {
    registered = 1;
    if (getenv("MA_FUZZ_STATS") != NULL) atexit(print_stats);
  }
  if ((act & 3u) == 1u) {
    lo = (int32_t)(int8_t)(act >> 8);
    hi = (int32_t)(int8_t)(act >> 16);
  } else if ((act & 3u) == 2u) {
    lo = (int32_t)(act >> 8 & 0x1FF) - 256; /* may leave int8 */
    hi = (int32_t)(act >> 17 & 0x1FF) - 128;
  }
  arg_ok = zp1 >= -128 && zp1 <= 127 && zp2 >= -128 && zp2 <= 127 && zpo >= -128 && zpo <= 127 && lo >= -128 &&
           hi <= 127 && lo <= hi;
  expect_ok = arg_ok && ok_scale(s1) && ok_scale(s2) && ok_scale(so) &&
              2.0 * (double)(s1 > s2 ? s1 : s2) / (1048576.0 * (double)so) < 1.0;
  st = ma_add_s8_params_init(&prm, s1, zp1, s2, zp2, so, zpo, lo, hi);
  if ((st == MA_OK) != expect_ok) abort();
  if (st != MA_OK) {
    if (st != (arg_ok ? MA_ERR_QUANT : MA_ERR_ARGUMENT)) abort();
    ++n_refused;
    return 0;
  }
  ++n_ran;
  if (ma_add_s8_tables(&prm, tables) != MA_OK) abort();
  if (count > 4096) count = 4096;
  x1 = (int8_t *)malloc(count + 1);
  x2 = (int8_t *)malloc(count + 1);
  out = (int8_t *)malloc(count + 16);
  inplace = (int8_t *)malloc(count + 1);
  if (!x1 || !x2 || !out || !inplace) abort();
  for (i = 0; i < count; ++i) {
    x1[i] = (int8_t)p[2 * i];
    x2[i] = (int8_t)p[2 * i + 1];
  }
  memset(out, 0x5A, count + 16);
  if (ma_add_s8(&prm, tables, x1, x2, out, (int32_t)count) != MA_OK) abort();
  for (i = 0; i < count; ++i)
    if (out[i] != tflm_add(&prm, x1[i], x2[i])) abort();
  for (k = 0; k < 16; ++k)
    if (out[count + (size_t)k] != 0x5A) abort(); /* nothing written past n */
  memcpy(inplace, x2, count);
  if (ma_add_s8(&prm, tables, x1, inplace, inplace, (int32_t)count) != MA_OK) abort();
  if (memcmp(inplace, out, count) != 0) abort();
  free(x1);
  free(x2);
  free(out);
  free(inplace);
  return 0;
}
