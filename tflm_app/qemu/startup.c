/*
 * Minimal bare-metal runtime for test firmware on QEMU mps2-an500 (Cortex-M7):
 * vector table, reset handler (FPU on, .data copy, .bss zero, main()), fault handlers,
 * and semihosting: stdout for newlib's printf and the exit code of main() as QEMU's exit status.
 *
 * Exit status: main()'s return value (0..255); 254 = a fault (HardFault, MemManage, BusFault,
 * UsageFault, e.g. an invalid access or LDRD/LDM on an unaligned address), with the fault
 * registers printed first.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

extern int main(void);
extern uint32_t __data_start__, __data_end__, __data_load__, __bss_start__, __bss_end__;
extern uint32_t __stack_top__, end, __heap_limit__;

#define SYS_WRITE0 0x04
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static int32_t semihost(int32_t op, void *arg)
{
    register int32_t r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void ma_qemu_exit(int code)
{
    uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}

void ma_qemu_puts(const char *s) { semihost(SYS_WRITE0, (void *)s); }

/* ---- newlib system calls ---- */
int _write(int fd, const char *buf, int len)
{
    (void)fd;
    char chunk[65];
    for (int i = 0; i < len;) {
        int n = len - i < 64 ? len - i : 64;
        memcpy(chunk, buf + i, (size_t)n);
        chunk[n] = 0;
        ma_qemu_puts(chunk);
        i += n;
    }
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
void _exit(int code) { ma_qemu_exit(code); }
int _close(int fd) { (void)fd; return -1; }
int _fstat(int fd, struct stat *st) { (void)fd; st->st_mode = S_IFCHR; return 0; }
int _isatty(int fd) { (void)fd; return 1; }
int _lseek(int fd, int off, int whence) { (void)fd; (void)off; (void)whence; return 0; }
int _read(int fd, char *buf, int len) { (void)fd; (void)buf; (void)len; return 0; }
int _kill(int pid, int sig) { (void)pid; (void)sig; errno = EINVAL; return -1; }
int _getpid(void) { return 1; }

/* ---- reset and faults ---- */
void Reset_Handler(void)
{
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10, CP11 full access (FPU on) */
    __asm__ volatile("dsb\n\tisb");
    uint32_t *src = &__data_load__;
    for (uint32_t *dst = &__data_start__; dst < &__data_end__;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &__bss_start__; dst < &__bss_end__;) {
        *dst++ = 0;
    }
    *(volatile uint32_t *)0xE000ED24u |= 7u << 16; /* SHCSR: MemManage, BusFault, UsageFault enabled */
#ifdef MA_QEMU_TRAP_UNALIGNED
    *(volatile uint32_t *)0xE000ED14u |= 1u << 3; /* CCR.UNALIGN_TRP (newlib's string functions may trip it) */
#endif
    ma_qemu_exit(main() & 0xFF);
}

static void hex(char *p, uint32_t v)
{
    for (int i = 7; i >= 0; --i, v >>= 4) {
        p[i] = "0123456789abcdef"[v & 15];
    }
}

void Fault_Handler(void)
{
    char msg[] = "FAULT cfsr=........ hfsr=........ mmfar=........ bfar=........\n";
    hex(msg + 11, *(volatile uint32_t *)0xE000ED28u);
    hex(msg + 25, *(volatile uint32_t *)0xE000ED2Cu);
    hex(msg + 40, *(volatile uint32_t *)0xE000ED34u);
    hex(msg + 54, *(volatile uint32_t *)0xE000ED38u);
    ma_qemu_puts(msg);
    ma_qemu_exit(254);
}

void Default_Handler(void) { Fault_Handler(); }

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &__stack_top__, Reset_Handler, Default_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler,  0,             0,               0,             0,             Default_Handler,
    Default_Handler, 0,            Default_Handler, Default_Handler,
};
