/* ma_reg.h: the one register-access layer of the STM32H743 board code.
 *
 * Every register read and write, barrier, busy-wait and delay of board/stm32h743/ goes through these
 * functions. On the target they are volatile 32-bit accesses and `dsb`/`isb`/`dmb`; in a host build
 * (-DMA_REG_HOST) they call ma_reg_host_*() of a simulated register file (test/reg_sim.c) that logs
 * every access (and defines ma_reg_wait, ma_reg_wait_any and ma_reg_delay_us on simulated time),
 * so tests/test_board_stm32h743.py can check the initialisation sequences against the
 * order RM0433 requires. Waits have a timeout and return MA_ERR_IO instead of hanging.
 * Timing: DWT->CYCCNT at ma_reg_core_hz (updated by the clock code); the host simulates time. */
#ifndef MA_REG_H
#define MA_REG_H

#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The core clock the delays and timeouts are computed from (64 MHz HSI after reset). */
extern uint32_t ma_reg_core_hz;

#ifdef MA_REG_HOST
uint32_t ma_reg_host_read(uint32_t addr);
void ma_reg_host_write(uint32_t addr, uint32_t value);
void ma_reg_host_barrier(const char *kind);
uint32_t ma_reg_host_cycles(void);
void *ma_reg_host_mem(uint32_t addr); /* host memory standing in for a memory-mapped address */

static inline uint32_t ma_reg_read(uint32_t addr) { return ma_reg_host_read(addr); }
static inline void ma_reg_write(uint32_t addr, uint32_t value) { ma_reg_host_write(addr, value); }
static inline void ma_reg_dsb(void) { ma_reg_host_barrier("dsb"); }
static inline void ma_reg_isb(void) { ma_reg_host_barrier("isb"); }
static inline void ma_reg_dmb(void) { ma_reg_host_barrier("dmb"); }
static inline void *ma_reg_mem(uint32_t addr) { return ma_reg_host_mem(addr); }
#else
static inline uint32_t ma_reg_read(uint32_t addr) { return *(volatile const uint32_t *)(uintptr_t)addr; }
static inline void ma_reg_write(uint32_t addr, uint32_t value) { *(volatile uint32_t *)(uintptr_t)addr = value; }
static inline void ma_reg_dsb(void) { __asm__ volatile("dsb 0xF" ::: "memory"); }
static inline void ma_reg_isb(void) { __asm__ volatile("isb 0xF" ::: "memory"); }
static inline void ma_reg_dmb(void) { __asm__ volatile("dmb 0xF" ::: "memory"); }
static inline void *ma_reg_mem(uint32_t addr) { return (void *)(uintptr_t)addr; }
#endif

/* Read-modify-write: the bits of clear are cleared, then the bits of set are set. */
static inline void ma_reg_modify(uint32_t addr, uint32_t clear, uint32_t set)
{
    ma_reg_write(addr, (ma_reg_read(addr) & ~clear) | set);
}
/* Field value v placed at pos (a macro-free way to build register values). */
static inline uint32_t ma_reg_field(uint32_t v, uint32_t pos) { return v << pos; }

/* Wait until (reg & mask) == value; MA_ERR_IO after timeout_us microseconds. */
ma_status ma_reg_wait(uint32_t addr, uint32_t mask, uint32_t value, uint32_t timeout_us);
/* Wait until any bit of mask is set in reg; MA_ERR_IO after timeout_us microseconds. */
ma_status ma_reg_wait_any(uint32_t addr, uint32_t mask, uint32_t timeout_us);
/* Busy-wait at least us microseconds. */
void ma_reg_delay_us(uint32_t us);

#ifdef __cplusplus
}
#endif

#endif /* MA_REG_H */
