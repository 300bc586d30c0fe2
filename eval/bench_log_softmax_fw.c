/*
 * Benchmark firmware for ma_log_softmax_s8 (built by eval/bench_log_softmax.py for QEMU mps2-an500).
 * bench_log_softmax_case.h (generated) holds one window of LOG_SOFTMAX input ([rows, depth] int8), its
 * input scale and TFLM's output for it. BENCH_INIT=1 builds the tables (ma_log_softmax_s8_params_init)
 * once, then the kernel runs BENCH_CALLS times over the window (instructions per call = the difference
 * between runs with 2 and 1 calls; per init = the difference between BENCH_INIT 1 and 0 with one call,
 * where BENCH_INIT 0 copies precomputed parameters instead). The output is checked against TFLM's.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench_log_softmax_case.h"
#include "ma_log_softmax_s8.h"

#ifndef BENCH_CALLS
#define BENCH_CALLS 1
#endif
#ifndef BENCH_INIT
#define BENCH_INIT 1
#endif

static ma_log_softmax_s8_params params;
static int8_t out[BENCH_ROWS * BENCH_DEPTH];

int main(void) {
  int32_t st = MA_OK;
  int i;
#if BENCH_INIT
  st = ma_log_softmax_s8_params_init(&params, BENCH_INPUT_SCALE);
#else
  params = bench_params;
#endif
  for (i = 0; i < BENCH_CALLS && st == MA_OK; ++i) st = ma_log_softmax_s8(&params, bench_x, out, BENCH_ROWS, BENCH_DEPTH);
  const int bad = st != MA_OK || memcmp(out, bench_out, sizeof out) != 0;
  printf("bench rows=%d depth=%d status=%ld %s\n", BENCH_ROWS, BENCH_DEPTH, (long)st, bad ? "MISMATCH" : "ok");
  return bad;
}
