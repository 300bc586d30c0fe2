/* startup_mps2_an500.c: reset, vector table, faults and newlib system calls for the application
 * on QEMU's mps2-an500, with the memory plan of memory_plan.ld: .data copied to DTCM, .bss and the
 * AXI-SRAM / SRAM1-3 .bss sections zeroed (external RAM is not: NOLOAD, as SDRAM would be), the
 * stack painted so ma_board_stack_used() can measure its high-water mark. main()'s return value is
 * QEMU's exit status; a fault prints its registers and exits with 254. Built with
 * MA_QEMU_TRAP_UNALIGNED, unaligned word accesses fault (CCR.UNALIGN_TRP). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "board.h"

extern int main(void);
extern uint32_t __data_start__, __data_end__, __data_load__, __bss_start__, __bss_end__;
extern uint32_t __axisram_bss_start__, __axisram_bss_end__, __sram123_bss_start__, __sram123_bss_end__;
extern uint32_t __stack_top__, __stack_limit__, end, __heap_limit__;

#define STACK_PAINT 0xA5A5A5A5u

uint32_t ma_board_stack_used(void)
{
    const uint32_t *p = &__stack_limit__;
    while (p < &__stack_top__ && *p == STACK_PAINT) ++p;
    return (uint32_t)((const uint8_t *)&__stack_top__ - (const uint8_t *)p);
}

int _write(int fd, const char *buf, int len)
{
    (void)fd;
    if (len > 0) ma_board_console_write(buf, (size_t)len);
    return len;
}
void *_sbrk(int incr)
{
    static char *brk = (char *)&end;
    if (brk + incr > (char *)&__heap_limit__) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *old = brk;
    brk += incr;
    return old;
}
void _exit(int code) { ma_board_exit(code); }
int _close(int fd) { (void)fd; return -1; }
int _fstat(int fd, struct stat *st) { (void)fd; st->st_mode = S_IFCHR; return 0; }
int _isatty(int fd) { (void)fd; return 1; }
int _lseek(int fd, int off, int whence) { (void)fd; (void)off; (void)whence; return 0; }
int _read(int fd, char *buf, int len) { (void)fd; (void)buf; (void)len; return 0; }
int _kill(int pid, int sig) { (void)pid; (void)sig; errno = EINVAL; return -1; }
int _getpid(void) { return 1; }

static void zero(uint32_t *a, uint32_t *b)
{
    while (a < b) *a++ = 0;
}

__attribute__((naked, noreturn)) void Reset_Handler(void);
__attribute__((used, noreturn)) static void reset_c(void)
{
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: FPU on */
    __asm__ volatile("dsb\n\tisb");
    uint32_t *src = &__data_load__;
    for (uint32_t *dst = &__data_start__; dst < &__data_end__;) *dst++ = *src++;
    zero(&__bss_start__, &__bss_end__);
    zero(&__axisram_bss_start__, &__axisram_bss_end__);
    zero(&__sram123_bss_start__, &__sram123_bss_end__);
    *(volatile uint32_t *)0xE000ED24u |= 7u << 16; /* SHCSR: MemManage, BusFault, UsageFault */
#ifdef MA_QEMU_TRAP_UNALIGNED
    *(volatile uint32_t *)0xE000ED14u |= 1u << 3; /* CCR.UNALIGN_TRP (newlib's string functions may trip it) */
#endif
    extern void (*__init_array_start[])(void), (*__init_array_end[])(void);
    for (void (**f)(void) = __init_array_start; f < __init_array_end; ++f) (*f)(); /* C++ constructors (TFLM) */
    ma_board_exit(main() & 0xFF);
    for (;;) {
    }
}

/* Paint the stack below the current frame, then run reset_c (painting needs the frame empty). */
void Reset_Handler(void)
{
    __asm__ volatile(
        "ldr r0, =__stack_limit__\n\t"
        "ldr r1, =__stack_top__\n\t"
        "sub r1, r1, #64\n\t"
        "ldr r2, =0xA5A5A5A5\n"
        "1:\n\t"
        "cmp r0, r1\n\t"
        "bhs 2f\n\t"
        "str r2, [r0], #4\n\t"
        "b 1b\n"
        "2:\n\t"
        "b reset_c\n\t");
}

static void hex(char *p, uint32_t v)
{
    for (int i = 7; i >= 0; --i, v >>= 4) p[i] = "0123456789abcdef"[v & 15];
}

void Fault_Handler(void)
{
    char msg[] = "FAULT cfsr=........ hfsr=........ mmfar=........ bfar=........\n";
    hex(msg + 11, *(volatile uint32_t *)0xE000ED28u);
    hex(msg + 25, *(volatile uint32_t *)0xE000ED2Cu);
    hex(msg + 40, *(volatile uint32_t *)0xE000ED34u);
    hex(msg + 54, *(volatile uint32_t *)0xE000ED38u);
    ma_board_console_write(msg, sizeof msg - 1);
    ma_board_exit(254);
}

void Default_Handler(void) { Fault_Handler(); }

typedef void (*vector_t)(void);
__attribute__((section(".vectors"), used)) static const vector_t vectors[16] = {
    (vector_t)(uintptr_t)&__stack_top__, Reset_Handler, Default_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler, Default_Handler,
};
