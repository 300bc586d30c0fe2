/* core_sequence.c: the board's power/clock, MPU/cache, USART1 and SDRAM initialisation in ma_board_init's
 * order, for the two test builds that must produce the same register writes: the host simulation
 * (sim_main.c "core") and the Cortex-M7 build run under the unicorn emulator (m7_main.c,
 * tests/test_board_stm32h743_m7.py). st[0..3] = the four statuses (1 = not reached). */
#include "board_stm32h743.h"
#include "core_sequence.h"

int32_t ma_test_core(int32_t st[4])
{
    ma_h743_clock_plan plan;
    for (int i = 0; i < 4; ++i) st[i] = 1;
    ma_h743_dwt_init();
    if ((st[0] = ma_h743_clock_init(&plan)) != MA_OK) return st[0];
    if ((st[1] = ma_h743_mpu_cache_init()) != MA_OK) return st[1];
    if ((st[2] = ma_h743_usart_init(plan.pclk_hz, MA_H743_BAUD)) != MA_OK) return st[2];
    return st[3] = ma_h743_sdram_init(plan.hclk_hz);
}
