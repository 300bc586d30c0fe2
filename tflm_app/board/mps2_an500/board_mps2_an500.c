/* board_mps2_an500.c: board.h for QEMU's mps2-an500 (Cortex-M7), the test stand-in of the STM32H743.
 *
 * Memory map used (qemu-system-arm 7.2 `info mtree`; see memory_plan.ld):
 *   0x60000000  2 MB   "QSPI flash": the weight image, loaded by the host
 *                      (-device loader,file=student_qspi.bin,addr=0x60000000); read-only by convention
 *   0x60200000 10 MB   input block (transcript + int16 PCM, export/image.py write_input_block)
 *   0x60C00000  4 MB   external RAM (the H743's FMC SDRAM)
 * Console: semihosting SYS_WRITE (stdout of qemu), or CMSDK UART0 at 0x40004000 when built with
 * -DMA_BOARD_CONSOLE_UART (run qemu with -serial stdio). Counter: CMSDK APB timer 0 (0x40000000)
 * counting down from 0xFFFFFFFF at the 25 MHz peripheral clock (QEMU's DWT cycle counter reads 0).
 * DMA: memcpy.
 * Input from a host file (-DMA_BOARD_INPUT_FILE='"path/input.bin"'): the same input block read with
 * semihosting (SYS_OPEN/SYS_READ), as a UART stream would arrive on the H743: the header and the
 * transcript go to the first 1 MB at 0x60200000, the audio streams straight into the caller's buffer,
 * and external RAM becomes 0x60300000..0x61000000 (13 MB) -- room for recordings of several minutes,
 * whose PCM does not fit the 10 MB input region and the 4 MB external RAM together. */
#include <string.h>

#include "board.h"
#include "microalign_image.h"

#define QSPI_BASE 0x60000000u
#define QSPI_SIZE 0x00200000u
#define INPUT_BASE 0x60200000u
#define INPUT_SIZE 0x00A00000u
#ifdef MA_BOARD_INPUT_FILE
#define INPUT_TEXT_MAX 0x00100000u /* header + transcript read from the file */
#define EXTRAM_BASE 0x60300000u
#define EXTRAM_SIZE 0x00D00000u
#else
#define EXTRAM_BASE 0x60C00000u
#define EXTRAM_SIZE 0x00400000u
#endif

#define UART0_DATA (*(volatile uint32_t *)0x40004000u)
#define UART0_STATE (*(volatile uint32_t *)0x40004004u)
#define UART0_CTRL (*(volatile uint32_t *)0x40004008u)
#define UART0_BAUDDIV (*(volatile uint32_t *)0x40004010u)
#define TIMER0_CTRL (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)
#define PCLK_HZ 25000000u

static int32_t semihost(int32_t op, const void *arg)
{
    register int32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

ma_status ma_board_init(void)
{
    TIMER0_CTRL = 0;
    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1u; /* enable, no interrupt, PCLK */
#ifdef MA_BOARD_CONSOLE_UART
    UART0_BAUDDIV = 16;
    UART0_CTRL = 1u; /* TX enable */
#endif
    return MA_OK;
}

uint32_t ma_board_core_hz(void) { return 480000000u; } /* the H743's; QEMU runs untimed */
uint32_t ma_board_counter(void) { return ~TIMER0_VALUE; }
uint32_t ma_board_counter_hz(void) { return PCLK_HZ; }

void ma_board_console_write(const char *s, size_t n)
{
#ifdef MA_BOARD_CONSOLE_UART
    for (size_t i = 0; i < n; ++i) {
        while (UART0_STATE & 1u) { /* TX buffer full */
        }
        UART0_DATA = (uint8_t)s[i];
    }
#else
    static int32_t handle = -1;
    if (handle < 0) { /* the semihosting console: SYS_OPEN ":tt" for writing (mode 4) */
        uint32_t open_block[3] = {(uint32_t)(uintptr_t)":tt", 4u, 3u};
        handle = semihost(0x01 /* SYS_OPEN */, open_block);
        if (handle < 0) return;
    }
    uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)s, (uint32_t)n};
    if (n) semihost(0x05 /* SYS_WRITE */, block);
#endif
}

uint32_t ma_board_qspi_size(void) { return QSPI_SIZE; }

ma_status ma_board_qspi_read(uint32_t offset, void *dst, uint32_t n)
{
    if (dst == NULL || offset > QSPI_SIZE || n > QSPI_SIZE - offset) return MA_ERR_ARGUMENT;
    memcpy(dst, (const void *)(uintptr_t)(QSPI_BASE + offset), n);
    return MA_OK;
}

const uint8_t *ma_board_qspi_map(void) { return (const uint8_t *)(uintptr_t)QSPI_BASE; }

void *ma_board_ext_ram(uint32_t *size)
{
    if (size) *size = EXTRAM_SIZE;
    return (void *)(uintptr_t)EXTRAM_BASE;
}

static int dma_busy;

ma_status ma_board_dma_start(void *dst, const void *src, uint32_t n)
{
    const uint8_t *d = (const uint8_t *)dst, *s = (const uint8_t *)src;
    if (dst == NULL || src == NULL || dma_busy || (d < s + n && s < d + n)) return MA_ERR_ARGUMENT;
    memcpy(dst, src, n);
    dma_busy = 1;
    return MA_OK;
}

ma_status ma_board_dma_wait(void)
{
    if (!dma_busy) return MA_ERR_ARGUMENT;
    dma_busy = 0;
    return MA_OK;
}

/* ---- the input block ---- */
static uint32_t rd32(const volatile uint8_t *p) { return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static uint32_t audio_pos;

#ifdef MA_BOARD_INPUT_FILE
static int32_t in_file = -1;  /* semihosting handle of MA_BOARD_INPUT_FILE */
static uint32_t in_file_bytes; /* its length: the "region" the header's offsets must stay in */

/* SYS_READ n bytes at the current position into dst; MA_OK when all came */
static ma_status file_read(void *dst, uint32_t n)
{
    uint32_t block[3] = {(uint32_t)in_file, (uint32_t)(uintptr_t)dst, n};
    return n == 0 || semihost(0x06 /* SYS_READ: returns the bytes NOT read */, block) == 0 ? MA_OK : MA_ERR_IO;
}

static ma_status file_seek(uint32_t pos)
{
    uint32_t block[2] = {(uint32_t)in_file, pos};
    return semihost(0x0A /* SYS_SEEK */, block) == 0 ? MA_OK : MA_ERR_IO;
}

/* Open the file once and read its header and transcript to INPUT_BASE (checked by input_block). */
static ma_status input_file(void)
{
    if (in_file >= 0) return MA_OK;
    static const char name[] = MA_BOARD_INPUT_FILE;
    uint32_t open_block[3] = {(uint32_t)(uintptr_t)name, 1u /* "rb" */, (uint32_t)(sizeof name - 1)};
    int32_t h = semihost(0x01 /* SYS_OPEN */, open_block);
    if (h < 0) return MA_ERR_IO;
    in_file = h;
    uint32_t flen_block[1] = {(uint32_t)h};
    int32_t len = semihost(0x0C /* SYS_FLEN */, flen_block);
    uint8_t *in = (uint8_t *)(uintptr_t)INPUT_BASE;
    if (len < (int32_t)MA_INPUT_HEADER_BYTES || file_read(in, MA_INPUT_HEADER_BYTES) != MA_OK) return MA_ERR_IO;
    in_file_bytes = (uint32_t)len;
    uint32_t text_off = in[20] | in[21] << 8 | (uint32_t)in[22] << 16 | (uint32_t)in[23] << 24;
    uint32_t text_bytes = in[12] | in[13] << 8 | (uint32_t)in[14] << 16 | (uint32_t)in[15] << 24;
    if (text_off < MA_INPUT_HEADER_BYTES || text_off > INPUT_TEXT_MAX || text_bytes > INPUT_TEXT_MAX - text_off ||
        text_off > in_file_bytes || text_bytes > in_file_bytes - text_off) {
        return MA_ERR_IO;
    }
    if (file_seek(text_off) != MA_OK || file_read(in + text_off, text_bytes) != MA_OK) return MA_ERR_IO;
    return MA_OK;
}
#define INPUT_LIMIT in_file_bytes
#else
#define INPUT_LIMIT INPUT_SIZE
#endif

/* MA_OK when the input block is well-formed: magic, 16 kHz, text and audio inside the region (the file). */
static ma_status input_block(uint32_t *text_bytes, uint32_t *samples, uint32_t *text_off, uint32_t *audio_off)
{
    const uint8_t *in = (const uint8_t *)(uintptr_t)INPUT_BASE;
#ifdef MA_BOARD_INPUT_FILE
    if (input_file() != MA_OK) return MA_ERR_IO;
#endif
    if (memcmp(in, MA_INPUT_MAGIC, 8) != 0) return MA_ERR_IO; /* nothing loaded */
    *text_bytes = rd32(in + 12);
    *samples = rd32(in + 16);
    *text_off = rd32(in + 20);
    *audio_off = rd32(in + 24);
    if (rd32(in + 8) != 16000u || *text_off < MA_INPUT_HEADER_BYTES || *text_off > INPUT_LIMIT ||
        *text_bytes > INPUT_LIMIT - *text_off || (*audio_off & 1u) || *audio_off > INPUT_LIMIT ||
        *samples > (INPUT_LIMIT - *audio_off) / 2u) {
        return MA_ERR_IO;
    }
    return MA_OK;
}

ma_status ma_board_input_text(const char **text, uint32_t *len)
{
    uint32_t tb, ns, to, ao;
    if (text == NULL || len == NULL) return MA_ERR_ARGUMENT;
    ma_status s = input_block(&tb, &ns, &to, &ao);
    if (s != MA_OK) return s;
    *text = (const char *)(uintptr_t)(INPUT_BASE + to);
    *len = tb;
    return MA_OK;
}

ma_status ma_board_audio_read(int16_t *dst, uint32_t max, uint32_t *got)
{
    uint32_t tb, ns, to, ao;
    if (dst == NULL || got == NULL) return MA_ERR_ARGUMENT;
    *got = 0;
    ma_status s = input_block(&tb, &ns, &to, &ao);
    if (s != MA_OK) return s;
    uint32_t n = ns - audio_pos < max ? ns - audio_pos : max;
#ifdef MA_BOARD_INPUT_FILE
    if (file_seek(ao + 2u * audio_pos) != MA_OK || file_read(dst, 2u * n) != MA_OK) return MA_ERR_IO;
#else
    memcpy(dst, (const void *)(uintptr_t)(INPUT_BASE + ao + 2u * audio_pos), 2u * n); /* little-endian */
#endif
    audio_pos += n;
    *got = n;
    return MA_OK;
}

uint32_t ma_board_audio_length(void)
{
    uint32_t tb, ns, to, ao;
    return input_block(&tb, &ns, &to, &ao) == MA_OK ? ns : 0u;
}

void ma_board_exit(int code)
{
    uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
    semihost(0x20 /* SYS_EXIT_EXTENDED */, block);
    for (;;) {
    }
}
