/* Checks ma_fc_s8 / ma_conv1d_s8 / ma_dwconv1d_s8 against the TFLM oracle's vectors, byte for byte (and CMSIS-NN's kernels, when
 * built in).
 *
 * Build with the generated header on the include path:
 *   python -m microalign.kernels.fc_oracle --out DIR
 *   cc -std=c99 -IDIR -Itflm_app/kernels ma_fc_s8_check.c tflm_app/kernels/ma_fc_s8.c
 * Runs on the host (with sanitizers; -DMA_FC_S8_EMULATE_DSP for the DSP path's loops) and as Cortex-M7 test
 * firmware under QEMU. For every case the kernel, given the integer parameters microalign.kernels.fully_connected
 * computed (what TFLM's Prepare computes), must give TFLM's output; the scratch's bytes beyond
 * ma_fc_s8_scratch_bytes and the output's neighbours must be untouched. With -DMA_CHECK_CMSIS_NN (and
 * CMSIS-NN's sources linked in) CMSIS-NN's arm_fully_connected_per_channel_s8 / arm_convolve_wrapper_s8 (what the
 * firmware ran before) must give the same bytes too. Bad arguments must be refused. Prints one line per check; the
 * exit status is the number of failures.
 */
#include <stdio.h>
#include <string.h>

#include "ma_fc_s8.h"
#include "ma_fc_s8_vectors.h"
#include "ma_fc_case.h"

#ifdef MA_CHECK_CMSIS_NN
#include "ma_fc_cmsis_nn.h"
#endif

#ifndef MA_CHECK_MAX_OUT
#define MA_CHECK_MAX_OUT 65536
#endif
#define MA_CHECK_GUARD 16
#define MA_CHECK_SCRATCH 16384

static int8_t out_buf[MA_CHECK_MAX_OUT + 2 * MA_CHECK_GUARD];
static uint32_t scratch_buf[MA_CHECK_SCRATCH / 4 + MA_CHECK_GUARD];
#ifdef MA_CHECK_CMSIS_NN
static int32_t cmsis_buf[MA_CHECK_SCRATCH];
#endif

static long count_diff(const int8_t *a, const int8_t *b, size_t n) {
  long d = 0;
  size_t i;
  for (i = 0; i < n; ++i) d += a[i] != b[i];
  return d;
}

static int guards_intact(size_t n, int32_t scratch_bytes) {
  int i;
  const uint8_t *s = (const uint8_t *)scratch_buf;
  for (i = 0; i < MA_CHECK_GUARD; ++i)
    if (out_buf[i] != 0x5A || out_buf[MA_CHECK_GUARD + n + (size_t)i] != 0x5A) return 0;
  for (i = 0; i < 4 * MA_CHECK_GUARD; ++i)
    if (s[scratch_bytes + i] != 0xA5) return 0;
  return 1;
}

#ifdef MA_CHECK_CMSIS_NN
/* CMSIS-NN as TFLM's CMSIS-NN kernels call it (ma_fc_cmsis_nn.h); the kernel sums of its
 * arm_fully_connected_wrapper_s8 path, which TFLM's Prepare makes, are made here just before. */
static long cmsis_diff(const struct ma_fc_case *c, int8_t *y) {
  const size_t n = (size_t)c->rows * (size_t)c->channels;
  if (c->kind == MA_FC_KIND_FC && c->depth % 4 != 0) {
    if (c->channels > MA_CHECK_SCRATCH) return -1;
    arm_vector_sum_s8(cmsis_buf, c->depth, c->channels, c->w, c->input_offset, 0, c->bias);
  }
  if (ma_fc_cmsis_nn(c, y, cmsis_buf, (int32_t)sizeof(cmsis_buf), cmsis_buf) != ARM_CMSIS_NN_SUCCESS) return -1;
  return count_diff(y, c->out, n);
}
#endif

static int check_case(const struct ma_fc_case *c) {
  const size_t n = (size_t)c->rows * (size_t)c->channels;
  int32_t st, bytes;
  long d, d_cmsis = 0;
  int guards;
  if (n > MA_CHECK_MAX_OUT) {
    printf("case %s: %ld outputs exceed the check's buffer: FAIL\n", c->name, (long)n);
    return 1;
  }
  bytes = ma_fc_s8_scratch_bytes(c->depth);
  if (bytes < 0 || bytes > MA_CHECK_SCRATCH) {
    printf("case %s: scratch %ld bytes: FAIL\n", c->name, (long)bytes);
    return 1;
  }
  memset(out_buf, 0x5A, sizeof(out_buf));
  memset(scratch_buf, 0xA5, sizeof(scratch_buf));
  st = ma_fc_case_run(c, out_buf + MA_CHECK_GUARD, scratch_buf, bytes);
  d = st == MA_OK ? count_diff(out_buf + MA_CHECK_GUARD, c->out, n) : -1;
  guards = guards_intact(n, bytes);
#ifdef MA_CHECK_CMSIS_NN
  memset(out_buf, 0x5A, sizeof(out_buf));
  d_cmsis = cmsis_diff(c, out_buf + MA_CHECK_GUARD);
  printf("case %s [%ld x %ld x %ld]: status %ld, %ld bytes differ, guards %s, CMSIS-NN %ld bytes differ: %s\n", c->name,
         (long)c->rows, (long)c->depth, (long)c->channels, (long)st, d, guards ? "intact" : "OVERWRITTEN", d_cmsis,
         st == MA_OK && d == 0 && guards && d_cmsis == 0 ? "PASS" : "FAIL");
#else
  printf("case %s [%ld x %ld x %ld]: status %ld, %ld bytes differ, guards %s: %s\n", c->name, (long)c->rows,
         (long)c->depth, (long)c->channels, (long)st, d, guards ? "intact" : "OVERWRITTEN",
         st == MA_OK && d == 0 && guards ? "PASS" : "FAIL");
#endif
  return !(st == MA_OK && d == 0 && guards && d_cmsis == 0);
}

static int check_api(void) {
  int ok = 1;
  static const int8_t x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, w[8] = {1, -1, 2, -2, 3, -3, 4, -4};
  static const int32_t m[2] = {1 << 30, 1 << 30}, s[2] = {-3, -3};
  int8_t y[4] = {7, 7, 7, 7};
  const ma_fc_s8_params good = {2, 4, 2, 4, 0, 0, -128, 127, 1, m, s};
  ma_fc_s8_params bad;
  const int32_t bytes = ma_fc_s8_scratch_bytes(4);
  ok &= ma_fc_s8_scratch_bytes(0) == MA_ERR_ARGUMENT;
  ok &= ma_fc_s8_scratch_bytes(MA_FC_S8_MAX_DEPTH + 1) == MA_ERR_ARGUMENT;
  ok &= bytes > 0 && bytes % 4 == 0 && ma_fc_s8_scratch_bytes(MA_FC_S8_MAX_DEPTH) > 0;
  ok &= ma_fc_s8(NULL, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  ok &= ma_fc_s8(&good, NULL, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  ok &= ma_fc_s8(&good, x, NULL, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  ok &= ma_fc_s8(&good, x, w, NULL, NULL, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  ok &= ma_fc_s8(&good, x, w, NULL, y, NULL, bytes) == MA_ERR_SCRATCH;
  ok &= ma_fc_s8(&good, x, w, NULL, y, (uint8_t *)scratch_buf + 1, bytes) == MA_ERR_SCRATCH;
  ok &= ma_fc_s8(&good, x, w, NULL, y, scratch_buf, bytes - 4) == MA_ERR_SCRATCH;
  bad = good;
  bad.depth = 0;
  ok &= ma_fc_s8(&bad, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  bad = good;
  bad.input_offset = -128; /* a zero point of 128 */
  ok &= ma_fc_s8(&bad, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  bad = good;
  bad.act_min = 5;
  bad.act_max = 4;
  ok &= ma_fc_s8(&bad, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  bad = good;
  bad.shift = m; /* shift 2^30: out of range */
  ok &= ma_fc_s8(&bad, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  bad = good;
  bad.rows = -1;
  ok &= ma_fc_s8(&bad, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  bad = good;
  bad.per_channel = 2;
  ok &= ma_fc_s8(&bad, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  ok &= ma_conv1d_s8(&good, 8, 3, 0, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT; /* 4 % 3 != 0 */
  ok &= ma_conv1d_s8(&good, 2, 4, -1, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  ok &= ma_conv1d_s8(&good, 0, 4, 0, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  ok &= ma_dwconv1d_s8(&good, 0, 0, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;     /* width 0 */
  ok &= ma_dwconv1d_s8(&good, 4, -1, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;    /* padding -1 */
  ok &= ma_dwconv1d_s8(NULL, 4, 0, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  ok &= ma_dwconv1d_s8(&good, 4, 0, x, w, NULL, y, scratch_buf, bytes - 4) == MA_ERR_SCRATCH;
  bad = good;
  bad.row_stride = 3; /* not a multiple of the 2 channels */
  ok &= ma_dwconv1d_s8(&bad, 4, 0, x, w, NULL, y, scratch_buf, bytes) == MA_ERR_ARGUMENT;
  ok &= y[0] == 7 && y[1] == 7 && y[2] == 7 && y[3] == 7; /* nothing written on error */
  bad = good;
  bad.rows = 0;
  ok &= ma_fc_s8(&bad, x, w, NULL, y, scratch_buf, bytes) == MA_OK && y[0] == 7; /* no rows: nothing to do */
  /* row 0: 1 - 2 + 6 - 8 = -3 and 3 - 6 + 12 - 16 = -7; row 1: 5 - 6 + 14 - 16 = -3, 15 - 18 + 28 - 32 = -7;
   * MBQM(v, 2^30, -3) = round(v / 16): -3 -> 0, -7 -> 0 ... with bias 100, 200: round(97/16) = 6, round(193/16) = 12 */
  {
    static const int32_t b[2] = {100, 200};
    ok &= ma_fc_s8(&good, x, w, b, y, scratch_buf, bytes) == MA_OK && y[0] == 6 && y[1] == 12 && y[2] == 6 &&
          y[3] == 12;
  }
  printf("api argument checks: %s\n", ok ? "PASS" : "FAIL");
  return !ok;
}

int main(void) {
  int fails = 0, i;
  for (i = 0; i < MA_FC_NUM_CASES; ++i) fails += check_case(&ma_fc_cases[i]);
  fails += check_api();
  printf("%s: %d of %d checks failed\n", fails ? "FAIL" : "PASS", fails, MA_FC_NUM_CASES + 1);
  return fails;
}
