/* Checks ma_add_s8 against the TFLM oracle's vectors, byte for byte (and CMSIS-NN's kernel, when built in).
 *
 * Build with the generated header on the include path:
 *   python -m microalign.kernels.add_oracle --out DIR
 *   cc -std=c99 -IDIR -Itflm_app/kernels ma_add_s8_check.c tflm_app/kernels/ma_add_s8.c
 * Runs on the host (with sanitizers) and as Cortex-M7 test firmware under QEMU. For every case:
 * ma_add_s8_params_init from the model's float scales, zero points and activation range must give the
 * integer parameters microalign.kernels.add computed, ma_add_s8_tables its tables, and ma_add_s8 TFLM's
 * output, out of place and in place (over either input). With -DMA_CHECK_CMSIS_NN (and CMSIS-NN's
 * arm_elementwise_add_s8.c linked in) CMSIS-NN's int8 ADD must give the same bytes too. Bad arguments
 * must be refused. Prints one line per check; the exit status is the number of failures.
 */
#include <stdio.h>
#include <string.h>

#include "ma_add_s8.h"
#include "ma_add_s8_vectors.h"

#ifdef MA_CHECK_CMSIS_NN
#include "arm_nnfunctions.h"
#endif

#ifndef MA_CHECK_MAX_ELEMS
#define MA_CHECK_MAX_ELEMS 65536
#endif

static ma_add_s8_params params;
static int32_t tables[MA_ADD_S8_TABLE_WORDS];
static int8_t buf[MA_CHECK_MAX_ELEMS];

static int params_match(const struct ma_add_case *c, const ma_add_s8_params *p) {
  return p->input1_offset == -c->zp1 && p->input2_offset == -c->zp2 && p->output_offset == c->zp_out &&
         p->input1_multiplier == c->input1_multiplier && p->input1_shift == c->input1_shift &&
         p->input2_multiplier == c->input2_multiplier && p->input2_shift == c->input2_shift &&
         p->output_multiplier == c->output_multiplier && p->output_shift == c->output_shift &&
         p->activation_min == c->act_min && p->activation_max == c->act_max &&
         p->left_shift == MA_ADD_S8_LEFT_SHIFT;
}

static long count_diff(const int8_t *a, const int8_t *b, size_t n) {
  long d = 0;
  size_t i;
  for (i = 0; i < n; ++i) d += a[i] != b[i];
  return d;
}

static int check_case(const struct ma_add_case *c) {
  const size_t n = (size_t)c->n;
  int32_t st;
  long d_out, d_in1, d_in2, d_cmsis = 0;
  if (n > MA_CHECK_MAX_ELEMS) {
    printf("case %s: %ld elements exceed the check's buffer: FAIL\n", c->name, (long)n);
    return 1;
  }
  st = ma_add_s8_params_init(&params, c->scale1, c->zp1, c->scale2, c->zp2, c->scale_out, c->zp_out, c->act_min,
                             c->act_max);
  if (st != MA_OK || !params_match(c, &params)) {
    printf("case %s: params_init status %ld, parameters differ from the reference: FAIL\n", c->name, (long)st);
    return 1;
  }
  st = ma_add_s8_tables(&params, tables);
  if (st != MA_OK || memcmp(tables, c->tables, sizeof(tables)) != 0) {
    printf("case %s: tables status %ld, tables differ from the reference: FAIL\n", c->name, (long)st);
    return 1;
  }
  memset(buf, 0x55, n);
  st = ma_add_s8(&params, tables, c->x1, c->x2, buf, c->n);
  d_out = st == MA_OK ? count_diff(buf, c->out, n) : -1;
  if (n > 0) memcpy(buf, c->x1, n);
  st = ma_add_s8(&params, tables, buf, c->x2, buf, c->n);
  d_in1 = st == MA_OK ? count_diff(buf, c->out, n) : -1;
  if (n > 0) memcpy(buf, c->x2, n);
  st = ma_add_s8(&params, tables, c->x1, buf, buf, c->n);
  d_in2 = st == MA_OK ? count_diff(buf, c->out, n) : -1;
#ifdef MA_CHECK_CMSIS_NN
  memset(buf, 0x55, n);
  d_cmsis = arm_elementwise_add_s8(c->x1, c->x2, -c->zp1, c->input1_multiplier, c->input1_shift, -c->zp2,
                                   c->input2_multiplier, c->input2_shift, MA_ADD_S8_LEFT_SHIFT, buf, c->zp_out,
                                   c->output_multiplier, c->output_shift, c->act_min, c->act_max,
                                   c->n) == ARM_CMSIS_NN_SUCCESS
                ? count_diff(buf, c->out, n)
                : -1;
  printf("case %s [%ld] act %ld..%ld out shift %ld: out-of-place %ld, in-place %ld / %ld, CMSIS-NN %ld bytes differ: "
         "%s\n",
         c->name, (long)n, (long)c->act_min, (long)c->act_max, (long)c->output_shift, d_out, d_in1, d_in2, d_cmsis,
         d_out == 0 && d_in1 == 0 && d_in2 == 0 && d_cmsis == 0 ? "PASS" : "FAIL");
#else
  printf("case %s [%ld] act %ld..%ld out shift %ld: out-of-place %ld, in-place %ld / %ld bytes differ: %s\n", c->name,
         (long)n, (long)c->act_min, (long)c->act_max, (long)c->output_shift, d_out, d_in1, d_in2,
         d_out == 0 && d_in1 == 0 && d_in2 == 0 ? "PASS" : "FAIL");
#endif
  return !(d_out == 0 && d_in1 == 0 && d_in2 == 0 && d_cmsis == 0);
}

static int check_api(void) {
  int ok = 1;
  int8_t x[3] = {1, 2, 3}, y[3] = {7, 7, 7};
  ma_add_s8_params bad;
  volatile float zero = 0.0f;
  const float nan = zero / zero, inf = 1.0f / zero;
  ok &= ma_add_s8_params_init(NULL, 0.1f, 0, 0.1f, 0, 0.1f, 0, -128, 127) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8_params_init(&params, 0.1f, 128, 0.1f, 0, 0.1f, 0, -128, 127) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8_params_init(&params, 0.1f, 0, 0.1f, -129, 0.1f, 0, -128, 127) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8_params_init(&params, 0.1f, 0, 0.1f, 0, 0.1f, 200, -128, 127) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8_params_init(&params, 0.1f, 0, 0.1f, 0, 0.1f, 0, -129, 127) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8_params_init(&params, 0.1f, 0, 0.1f, 0, 0.1f, 0, -128, 128) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8_params_init(&params, 0.1f, 0, 0.1f, 0, 0.1f, 0, 5, 4) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8_params_init(&params, 0.0f, 0, 0.1f, 0, 0.1f, 0, -128, 127) == MA_ERR_QUANT;
  ok &= ma_add_s8_params_init(&params, 0.1f, 0, -0.1f, 0, 0.1f, 0, -128, 127) == MA_ERR_QUANT;
  ok &= ma_add_s8_params_init(&params, 0.1f, 0, 0.1f, 0, nan, 0, -128, 127) == MA_ERR_QUANT;
  ok &= ma_add_s8_params_init(&params, inf, 0, 0.1f, 0, 0.1f, 0, -128, 127) == MA_ERR_QUANT;
  /* 2 * 0.1 / (2^20 * 1e-7) >= 1: TFLM's Prepare aborts */
  ok &= ma_add_s8_params_init(&params, 0.1f, 0, 0.1f, 0, 1e-7f, 0, -128, 127) == MA_ERR_QUANT;
  ok &= ma_add_s8_params_init(&params, 0.1f, 0, 0.2f, 1, 0.3f, 2, -128, 127) == MA_OK;
  ok &= ma_add_s8_tables(NULL, tables) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8_tables(&params, NULL) == MA_ERR_ARGUMENT;
  bad = params;
  bad.output_shift = 1;
  ok &= ma_add_s8_tables(&bad, tables) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8(&bad, tables, x, x, y, 3) == MA_ERR_ARGUMENT;
  bad = params;
  bad.input1_multiplier = -1;
  ok &= ma_add_s8_tables(&bad, tables) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8_tables(&params, tables) == MA_OK;
  ok &= ma_add_s8(NULL, tables, x, x, y, 3) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8(&params, NULL, x, x, y, 3) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8(&params, tables, NULL, x, y, 3) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8(&params, tables, x, NULL, y, 3) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8(&params, tables, x, x, NULL, 3) == MA_ERR_ARGUMENT;
  ok &= ma_add_s8(&params, tables, x, x, y, -1) == MA_ERR_ARGUMENT;
  ok &= y[0] == 7 && y[1] == 7 && y[2] == 7;                        /* nothing written on error */
  ok &= ma_add_s8(&params, tables, x, x, y, 0) == MA_OK && y[0] == 7; /* no elements: nothing to do */
  /* 0.1 (x - 0) + 0.2 (x - 1) requantised to scale 0.3: grows with x */
  ok &= ma_add_s8(&params, tables, x, x, y, 3) == MA_OK && y[2] > y[0];
  printf("api argument checks: %s\n", ok ? "PASS" : "FAIL");
  return !ok;
}

int main(void) {
  int fails = 0, i;
  for (i = 0; i < MA_ADD_NUM_CASES; ++i) fails += check_case(&ma_add_cases[i]);
  fails += check_api();
  printf("%s: %d of %d checks failed\n", fails ? "FAIL" : "PASS", fails, MA_ADD_NUM_CASES + 1);
  return fails;
}
