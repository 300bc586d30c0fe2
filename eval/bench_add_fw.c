/*
 * Benchmark firmware for ma_add_s8 (built by eval/bench_add.py for QEMU mps2-an500).
 * bench_add_case.h (generated) holds one model window's int8 ADD operators (each: the quantisation of its
 * inputs and output, its activation range, random inputs and TFLM's output for them). The parameters are
 * computed once (ma_add_s8_params_init: TFLM's Prepare); then BENCH_CALLS times, every operator runs as the
 * TFLM adapter runs it: BENCH_IMPL 0 builds its tables (ma_add_s8_tables) and runs ma_add_s8, BENCH_IMPL 2
 * builds the tables only, BENCH_IMPL 1 runs CMSIS-NN's arm_elementwise_add_s8 instead (instructions per call
 * = the difference between runs with 2 and 1 calls). Every output is checked against TFLM's.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench_add_case.h"
#include "ma_add_s8.h"
#if BENCH_IMPL == 1
#include "arm_nnfunctions.h"
#endif

#ifndef BENCH_CALLS
#define BENCH_CALLS 1
#endif
#ifndef BENCH_IMPL
#define BENCH_IMPL 0
#endif

static ma_add_s8_params params[BENCH_OPS];
static int32_t tables[MA_ADD_S8_TABLE_WORDS];
static int8_t out[BENCH_OPS][BENCH_MAX_N];

int main(void) {
  int32_t st = MA_OK;
  int i, k, bad = 0;
  for (k = 0; k < BENCH_OPS && st == MA_OK; ++k) {
    const struct bench_op *o = &bench_ops[k];
    st = ma_add_s8_params_init(&params[k], o->s1, o->zp1, o->s2, o->zp2, o->so, o->zpo, o->act_min, o->act_max);
  }
  for (i = 0; i < BENCH_CALLS && st == MA_OK; ++i) {
    for (k = 0; k < BENCH_OPS && st == MA_OK; ++k) {
      const struct bench_op *o = &bench_ops[k];
#if BENCH_IMPL == 1
      const ma_add_s8_params *p = &params[k];
      st = arm_elementwise_add_s8(o->x1, o->x2, p->input1_offset, p->input1_multiplier, p->input1_shift,
                                  p->input2_offset, p->input2_multiplier, p->input2_shift, p->left_shift, out[k],
                                  p->output_offset, p->output_multiplier, p->output_shift, p->activation_min,
                                  p->activation_max, o->n) == ARM_CMSIS_NN_SUCCESS
               ? MA_OK
               : MA_ERR_ARGUMENT;
#else
      st = ma_add_s8_tables(&params[k], tables);
#if BENCH_IMPL == 0
      if (st == MA_OK) st = ma_add_s8(&params[k], tables, o->x1, o->x2, out[k], o->n);
#endif
#endif
    }
  }
#if BENCH_IMPL != 2
  for (k = 0; k < BENCH_OPS; ++k) bad |= memcmp(out[k], bench_ops[k].out, (size_t)bench_ops[k].n) != 0;
#endif
  bad |= st != MA_OK;
  printf("bench ops=%d status=%ld %s\n", BENCH_OPS, (long)st, bad ? "MISMATCH" : "ok");
  return bad;
}
