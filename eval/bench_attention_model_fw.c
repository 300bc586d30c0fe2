/* Cortex-M7 benchmark firmware for `eval/bench_attention.py --model`: the shipped model's attention
 * calls of real 4 s windows (QEMU mps2-an500 + eval/qemu_plugins/insn_profile.c).
 *
 * bench_attention_model.h (written by the script) holds BM_CALLS calls: each one FA_ATTENTION operator
 * of one model window, with its quantisation, shape, the int8 q, k, v it received when the shipped
 * model ran on the benchmark audio, and the numpy reference's output for them. Per call the firmware
 * computes the parameters once (what the adapter's Prepare does) and then runs ma_attention_s8; the
 * plugin counts instructions per function of the kernel (labels from the script). The exit status is
 * the number of output bytes that differ from the reference (capped at 255), so every benchmark run is
 * also a bit-exactness check on the Cortex-M7. BM_MIN_SCRATCH: give the kernel
 * ma_attention_s8_get_min_buffer_size bytes of scratch instead of ma_attention_s8_get_buffer_size.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench_attention_model.h"
#include "ma_attention_s8.h"

static int8_t out[BM_MAX_ELEMS];
static uint32_t scratch[(BM_MAX_SCRATCH + 3) / 4];
static ma_attention_s8_params params;

int main(void) {
  long diff = 0;
  int n;
  for (n = 0; n < BM_CALLS; ++n) {
    const bm_call *c = &bm_calls[n];
    ma_attention_s8_dims d;
    int32_t need, i, elems;
    if (ma_attention_s8_params_init(&params, &c->quant) != MA_ATTENTION_S8_OK) return 200;
    ma_attention_s8_dims_contiguous(&d, c->heads, c->t, c->t, c->dk);
#ifdef BM_MIN_SCRATCH /* the least scratch: P·V one key at a time */
    need = ma_attention_s8_get_min_buffer_size(&d);
#else
    need = ma_attention_s8_get_buffer_size(&d);
#endif
    if (need < 0 || need > (int32_t)sizeof(scratch)) return 201;
    if (ma_attention_s8(&params, &d, c->q, c->k, c->v, out, scratch, need) != MA_ATTENTION_S8_OK) return 202;
    elems = c->heads * c->t * c->dk;
    for (i = 0; i < elems; ++i) diff += out[i] != c->expected[i];
  }
  printf("attention calls %d: %ld output bytes differ from the reference\n", BM_CALLS, diff);
  return diff > 255 ? 255 : (int)diff;
}
