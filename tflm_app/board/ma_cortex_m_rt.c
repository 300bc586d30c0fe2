/* ma_cortex_m_rt.c: the parts of a Cortex-M7 start-up that every board of tflm_app/board/ shares
 * (ARMv7-M ARM: B1.5 exceptions, B3.2 system control block), so each board's startup_<board>.c holds
 * only what differs (vector table, clocks that must run before RAM is touched, memory sections):
 *
 * - Reset_Handler: paints the main stack (MA_RT_STACK_PAINT) below the frame the core loaded from the
 *   vector table, then jumps to the board's ma_rt_reset() (painting needs an empty frame, hence naked);
 * - ma_board_stack_used(): the stack's high-water mark from the paint;
 * - ma_rt_fpu_on(), ma_rt_copy(), ma_rt_zero(), ma_rt_run(): FPU access, .data copy / .bss zeroing, and the
 *   end of every reset (fault exceptions on, C++ constructors — TFLM —, main(), ma_board_exit());
 * - Fault_Handler: one console line with CFSR, HFSR, MMFAR, BFAR, exit status 254;
 * - newlib (nano) system calls: printf on the board console, a bounded heap [end, __heap_limit__).
 *
 * Linker symbols every board's script defines: __stack_top__, __stack_limit__, end, __heap_limit__. */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#include "board.h"
#include "ma_cortex_m_rt.h"

extern int main(void);
extern uint32_t __stack_top__, __stack_limit__, end, __heap_limit__;

#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

uint32_t ma_board_stack_used(void)
{
    const uint32_t *p = &__stack_limit__;
    while (p < &__stack_top__ && *p == MA_RT_STACK_PAINT) ++p;
    return (uint32_t)((const uint8_t *)&__stack_top__ - (const uint8_t *)p);
}

void ma_rt_fpu_on(void)
{
    SCB_CPACR |= 0xFu << 20; /* CP10, CP11: full access (B3.2.20) */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

void ma_rt_copy(uint32_t *dst, uint32_t *dst_end, const uint32_t *src)
{
    while (dst < dst_end) *dst++ = *src++;
}

void ma_rt_zero(uint32_t *a, uint32_t *b)
{
    while (a < b) *a++ = 0;
}

void ma_rt_run(void)
{
    SCB_SHCSR |= 7u << 16; /* MemManage, BusFault, UsageFault (B3.2.13) */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    extern void (*__init_array_start[])(void), (*__init_array_end[])(void);
    for (void (**f)(void) = __init_array_start; f < __init_array_end; ++f) (*f)(); /* C++ constructors (TFLM) */
    ma_board_exit(main() & 0xFF);
    for (;;) {
    }
}

void Reset_Handler(void)
{
    __asm__ volatile(
        "ldr r0, =__stack_limit__\n\t"
        "ldr r1, =__stack_top__\n\t"
        "sub r1, r1, #64\n\t"
        "ldr r2, =0xA5A5A5A5\n" /* MA_RT_STACK_PAINT */
        "1:\n\t"
        "cmp r0, r1\n\t"
        "bhs 2f\n\t"
        "str r2, [r0], #4\n\t"
        "b 1b\n"
        "2:\n\t"
        "b ma_rt_reset\n\t");
}

void ma_rt_hex(char *p, uint32_t v)
{
    for (int i = 7; i >= 0; --i, v >>= 4) p[i] = "0123456789abcdef"[v & 15];
}

void Fault_Handler(void)
{
    char msg[] = "FAULT cfsr=........ hfsr=........ mmfar=........ bfar=........\n";
    ma_rt_hex(msg + 11, SCB_CFSR);
    ma_rt_hex(msg + 25, SCB_HFSR);
    ma_rt_hex(msg + 40, SCB_MMFAR);
    ma_rt_hex(msg + 54, SCB_BFAR);
    ma_board_console_write(msg, sizeof msg - 1);
    ma_board_exit(254);
}

/* newlib (nano) system calls: printf goes to the board console */
int _write(int fd, const char *buf, int len);
void *_sbrk(int incr);
void _exit(int code);
int _close(int fd);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _lseek(int fd, int off, int whence);
int _read(int fd, char *buf, int len);
int _kill(int pid, int sig);
int _getpid(void);

int _write(int fd, const char *buf, int len)
{
    (void)fd;
    if (len > 0) ma_board_console_write(buf, (size_t)len);
    return len;
}
void *_sbrk(int incr)
{
    static char *brk = (char *)&end;
    if (incr < 0 || brk + incr > (char *)&__heap_limit__) {
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
