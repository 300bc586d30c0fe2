/* startup_mps2_an500.c: the vector table and the reset of the application on QEMU's mps2-an500
 * (the shared Cortex-M7 part, faults and newlib's system calls: ../ma_cortex_m_rt.c), with the memory plan of memory_plan.ld: .data copied to DTCM, .bss and the
 * AXI-SRAM / SRAM1-3 .bss sections zeroed (external RAM is not: NOLOAD, as SDRAM would be), the
 * stack painted so ma_board_stack_used() can measure its high-water mark. main()'s return value is
 * QEMU's exit status; a fault prints its registers and exits with 254. Built with
 * MA_QEMU_TRAP_UNALIGNED, unaligned word accesses fault (CCR.UNALIGN_TRP). */
#include <stdint.h>

#include "board.h"
#include "ma_cortex_m_rt.h"

extern uint32_t __data_start__, __data_end__, __data_load__, __bss_start__, __bss_end__;
extern uint32_t __axisram_bss_start__, __axisram_bss_end__, __sram123_bss_start__, __sram123_bss_end__;
extern uint32_t __stack_top__;

/* Reset_Handler, Fault_Handler, the stack paint and newlib's system calls: ../ma_cortex_m_rt.c */
void ma_rt_reset(void)
{
    ma_rt_fpu_on();
    ma_rt_copy(&__data_start__, &__data_end__, &__data_load__);
    ma_rt_zero(&__bss_start__, &__bss_end__);
    ma_rt_zero(&__axisram_bss_start__, &__axisram_bss_end__);
    ma_rt_zero(&__sram123_bss_start__, &__sram123_bss_end__);
#ifdef MA_QEMU_TRAP_UNALIGNED
    *(volatile uint32_t *)0xE000ED14u |= 1u << 3; /* CCR.UNALIGN_TRP (newlib's string functions may trip it) */
#endif
    ma_rt_run();
}

void Default_Handler(void) { Fault_Handler(); }

typedef void (*vector_t)(void);
__attribute__((section(".vectors"), used)) static const vector_t vectors[16] = {
    (vector_t)(uintptr_t)&__stack_top__, Reset_Handler, Default_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler, Default_Handler,
};
