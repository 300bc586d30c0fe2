/* ma_cortex_m_rt.h: the Cortex-M7 start-up shared by the boards (ma_cortex_m_rt.c). A board's
 * startup_<board>.c defines its vector table (Reset_Handler and Fault_Handler from here) and
 * ma_rt_reset(): board-specific early set-up, its memory sections copied / zeroed with ma_rt_copy /
 * ma_rt_zero, then ma_rt_run(), which never returns. */
#ifndef MA_CORTEX_M_RT_H
#define MA_CORTEX_M_RT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* the main stack's paint, checked by ma_board_stack_used() (board.h) */
#define MA_RT_STACK_PAINT 0xA5A5A5A5u

void Reset_Handler(void) __attribute__((naked, noreturn));
void Fault_Handler(void);
/* defined by each board: runs on the painted stack, ends with ma_rt_run() */
void ma_rt_reset(void) __attribute__((used, noreturn));

void ma_rt_fpu_on(void);
void ma_rt_copy(uint32_t *dst, uint32_t *dst_end, const uint32_t *src);
void ma_rt_zero(uint32_t *a, uint32_t *b);
void ma_rt_run(void) __attribute__((noreturn));
/* 8 lower-case hex digits of v at p (no terminator), for fault lines */
void ma_rt_hex(char *p, uint32_t v);

#ifdef __cplusplus
}
#endif
#endif
