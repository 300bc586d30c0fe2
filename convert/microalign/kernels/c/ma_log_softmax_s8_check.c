/* Checks ma_log_softmax_s8 against the TFLM oracle's vectors, byte for byte.
 *
 * Build with the generated header on the include path:
 *   python -m microalign.kernels.log_softmax_oracle --out DIR
 *   cc -std=c99 -IDIR -Itflm_app/kernels ma_log_softmax_s8_check.c tflm_app/kernels/ma_log_softmax_s8.c
 * Runs on the host (with sanitizers) and as Cortex-M7 test firmware under QEMU. For every case:
 * ma_log_softmax_s8_params_init from the model's float scale must give the integer parameters and
 * tables microalign.kernels.log_softmax computed, and the kernel's output must equal TFLM's, out of
 * place and in place; the logarithm must equal the reference's on every probe sum; bad arguments
 * must be refused. Prints one line per check; the exit status is the number of failures.
 */
#include <stdio.h>
#include <string.h>

#include "ma_log_softmax_s8.h"
#include "ma_log_softmax_s8_vectors.h"

#ifndef MA_CHECK_MAX_ELEMS
#define MA_CHECK_MAX_ELEMS 16384
#endif

static ma_log_softmax_s8_params params;
static int8_t buf[MA_CHECK_MAX_ELEMS];
static int8_t buf2[MA_CHECK_MAX_ELEMS];

static int params_match(const struct ma_ls_case *c, const ma_log_softmax_s8_params *p) {
  return p->input_multiplier == c->input_multiplier && p->input_left_shift == c->input_left_shift &&
         p->reverse_scaling_divisor == c->reverse_scaling_divisor &&
         p->reverse_scaling_right_shift == c->reverse_scaling_right_shift && p->diff_min == c->diff_min &&
         memcmp(p->diff_q5, c->diff_q5, sizeof(p->diff_q5)) == 0 &&
         memcmp(p->exp_q12, c->exp_q12, sizeof(p->exp_q12)) == 0;
}

static long count_diff(const int8_t *a, const int8_t *b, size_t n) {
  long d = 0;
  size_t i;
  for (i = 0; i < n; ++i) d += a[i] != b[i];
  return d;
}

static int check_case(const struct ma_ls_case *c) {
  const size_t n = (size_t)c->rows * (size_t)c->depth;
  int32_t st;
  long d_out, d_in;
  if (n > MA_CHECK_MAX_ELEMS) {
    printf("case %s: %ld elements exceed the check's buffer: FAIL\n", c->name, (long)n);
    return 1;
  }
  st = ma_log_softmax_s8_params_init(&params, c->input_scale);
  if (st != MA_OK || !params_match(c, &params)) {
    printf("case %s: params_init status %ld, parameters or tables differ from the reference: FAIL\n", c->name,
           (long)st);
    return 1;
  }
  memset(buf, 0x55, n);
  st = ma_log_softmax_s8(&params, c->x, buf, c->rows, c->depth);
  d_out = st == MA_OK ? count_diff(buf, c->out, n) : -1;
  memcpy(buf2, c->x, n);
  st = ma_log_softmax_s8(&params, buf2, buf2, c->rows, c->depth);
  d_in = st == MA_OK ? count_diff(buf2, c->out, n) : -1;
  printf("case %s [%ld x %ld] scale %g: out-of-place %ld, in-place %ld bytes differ: %s\n", c->name,
         (long)c->rows, (long)c->depth, (double)c->input_scale, d_out, d_in,
         d_out == 0 && d_in == 0 ? "PASS" : "FAIL");
  return !(d_out == 0 && d_in == 0);
}

static int check_logs(void) {
  long bad = 0;
  int i;
  for (i = 0; i < MA_LS_NUM_LOGS; ++i) bad += ma_log_softmax_s8_log_q5(ma_ls_log_in[i]) != ma_ls_log_out[i];
  printf("log: %ld of %d sums differ from the reference: %s\n", bad, MA_LS_NUM_LOGS, bad ? "FAIL" : "PASS");
  return bad != 0;
}

static int check_api(void) {
  int ok = 1;
  int8_t x[3] = {1, 2, 3}, y[3] = {7, 7, 7};
  volatile float zero = 0.0f;
  const float nan = zero / zero, inf = 1.0f / zero;
  ok &= ma_log_softmax_s8_params_init(NULL, 0.1f) == MA_ERR_ARGUMENT;
  ok &= ma_log_softmax_s8_params_init(&params, 0.0f) == MA_ERR_QUANT;
  ok &= ma_log_softmax_s8_params_init(&params, -0.1f) == MA_ERR_QUANT;
  ok &= ma_log_softmax_s8_params_init(&params, nan) == MA_ERR_QUANT;
  ok &= ma_log_softmax_s8_params_init(&params, inf) == MA_ERR_QUANT;
  ok &= ma_log_softmax_s8_params_init(&params, 1.0e-8f) == MA_ERR_QUANT; /* * 2^26 <= 1: TFLM aborts */
  ok &= ma_log_softmax_s8_params_init(&params, 0.1f) == MA_OK;
  ok &= ma_log_softmax_s8(NULL, x, y, 1, 3) == MA_ERR_ARGUMENT;
  ok &= ma_log_softmax_s8(&params, NULL, y, 1, 3) == MA_ERR_ARGUMENT;
  ok &= ma_log_softmax_s8(&params, x, NULL, 1, 3) == MA_ERR_ARGUMENT;
  ok &= ma_log_softmax_s8(&params, x, y, -1, 3) == MA_ERR_ARGUMENT;
  ok &= ma_log_softmax_s8(&params, x, y, 1, 0) == MA_ERR_ARGUMENT;
  ok &= ma_log_softmax_s8(&params, x, y, 1, MA_LOG_SOFTMAX_S8_MAX_DEPTH + 1) == MA_ERR_ARGUMENT;
  ok &= y[0] == 7 && y[1] == 7 && y[2] == 7;                         /* nothing written on error */
  ok &= ma_log_softmax_s8(&params, x, y, 0, 3) == MA_OK && y[0] == 7; /* no rows: nothing to do */
  ok &= ma_log_softmax_s8(&params, x, y, 1, 3) == MA_OK && y[2] > y[1] && y[1] > y[0];
  printf("api argument checks: %s\n", ok ? "PASS" : "FAIL");
  return !ok;
}

int main(void) {
  int fails = 0, i;
  for (i = 0; i < MA_LS_NUM_CASES; ++i) fails += check_case(&ma_ls_cases[i]);
  fails += check_logs();
  fails += check_api();
  printf("%s: %d of %d checks failed\n", fails ? "FAIL" : "PASS", fails, MA_LS_NUM_CASES + 2);
  return fails;
}
