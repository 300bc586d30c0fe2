/* m7_main.c: the Cortex-M7 test program of tests/test_board_stm32h743_m7.py (run under unicorn with a
 * Python model of the peripherals): ma_test_core's statuses land in ma_test_result, then ma_test_done. */
#include "core_sequence.h"

volatile int32_t ma_test_result[4] = {1, 1, 1, 1};

__attribute__((noinline)) void ma_test_done(void) { __asm__ volatile("nop"); }

int main(void)
{
    int32_t st[4];
    ma_test_core(st);
    for (int i = 0; i < 4; ++i) ma_test_result[i] = st[i];
    ma_test_done();
    for (;;) {
    }
}
