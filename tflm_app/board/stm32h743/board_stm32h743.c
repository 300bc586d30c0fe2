/* board_stm32h743.c: board.h on the STM32H743, register level: the STM32H743I-EVAL (default) or, built with
 * -DMA_BOARD_NUCLEO_H743ZI, the NUCLEO-H743ZI (board_stm32h743.h "board variant").
 *
 * ma_board_init: DWT on (timeouts), clock tree (h743_clock.c), SRAM1-3 clocks, MPU + caches
 * (h743_mpu_cache.c), console USART (h743_usart.c), then on the I-EVAL only FMC SDRAM (h743_sdram.c) and the
 * QUADSPI flash in quad mode (h743_qspi.c); the first failure is returned (MA_ERR_IO when a peripheral never
 * became ready).
 * I-EVAL SDRAM layout: [.extram of the linker script][ma_board_ext_ram pool][input block, MA_H743_INPUT_BYTES].
 * NUCLEO SRAM1-3 layout: [.sram123_bss][input block: header, transcript, PCM = start of the ext-RAM pool ...]:
 * the pool begins at the block's audio, so the aligner's PCM copy is the received PCM in place.
 * The input (transcript + PCM) arrives over the console USART on the first ma_board_input_text/audio call
 * (protocol: h743_usart.c, README.md). ma_board_stack_used lives in startup_stm32h743.c. */
#include <string.h>

#include "board.h"
#include "board_stm32h743.h"
#include "ma_reg.h"
#include "microalign_image.h"
#include "stm32h743_regs.h"

#ifdef MA_REG_HOST
#include <stdlib.h>
#endif

static ma_h743_clock_plan plan;
static int initialised;

ma_status ma_board_init(void)
{
    ma_h743_dwt_init();
    ma_status s = ma_h743_clock_init(&plan);
    if (s != MA_OK) return s;
    ma_reg_modify(H7_RCC_AHB2ENR, 0u, H7_RCC_AHB2ENR_D2SRAM1EN | H7_RCC_AHB2ENR_D2SRAM2EN | H7_RCC_AHB2ENR_D2SRAM3EN);
    if ((s = ma_h743_mpu_cache_init()) != MA_OK) return s;
    if ((s = ma_h743_usart_init(plan.pclk_hz, MA_H743_BAUD)) != MA_OK) return s;
#if MA_H743_HAS_SDRAM
    if ((s = ma_h743_sdram_init(plan.hclk_hz)) != MA_OK) return s;
#elif !defined(MA_REG_HOST)
    extern uint8_t __extram_start__[], __extram_end__[]; /* stm32h743.ld */
    if ((uintptr_t)__extram_end__ != (uintptr_t)__extram_start__) return MA_ERR_ARGUMENT; /* .extram, no SDRAM */
#endif
#if MA_H743_HAS_QSPI
    if ((s = ma_h743_qspi_init(plan.hclk_hz)) != MA_OK) return s;
#endif
    initialised = 1;
    return MA_OK;
}

uint32_t ma_board_core_hz(void) { return ma_reg_core_hz; }
uint32_t ma_board_counter(void) { return ma_h743_cycles(); }
uint32_t ma_board_counter_hz(void) { return ma_reg_core_hz; }

void ma_board_console_write(const char *s, size_t n)
{
    while (n) { /* in pieces that fit the uint32_t length */
        const uint32_t k = n > 0x10000u ? 0x10000u : (uint32_t)n;
        if (ma_h743_usart_write((const uint8_t *)s, k) != MA_OK) return;
        s += k;
        n -= k;
    }
}

#if MA_H743_HAS_QSPI
uint32_t ma_board_qspi_size(void) { return MA_H743_QSPI_BYTES; }

ma_status ma_board_qspi_read(uint32_t offset, void *dst, uint32_t n) { return ma_h743_qspi_read(offset, dst, n); }

const uint8_t *ma_board_qspi_map(void)
{
    return initialised && ma_h743_qspi_map() == MA_OK ? (const uint8_t *)ma_reg_mem(H7_QSPI_BASE) : NULL;
}
#else /* no QSPI flash (NUCLEO): the weights are linked into the internal flash (MODE=flash) */
uint32_t ma_board_qspi_size(void) { return 0u; }

ma_status ma_board_qspi_read(uint32_t offset, void *dst, uint32_t n)
{
    (void)offset, (void)dst, (void)n;
    return MA_ERR_ARGUMENT; /* every range is outside a flash of 0 bytes */
}

const uint8_t *ma_board_qspi_map(void) { return NULL; }
#endif

/* ---- external RAM: the ext-RAM pool and the input block ---- */
static ma_status input_status = 1; /* 1: not received yet */
static uint8_t *in;                /* the received input block */
static uint32_t in_size, audio_pos;

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

#if MA_H743_HAS_SDRAM
#ifndef MA_REG_HOST
extern uint8_t __extram_end__[]; /* stm32h743.ld: the end of the linker's .extram objects */
#endif

static uint8_t *input_area(uint32_t *cap)
{
    *cap = MA_H743_INPUT_BYTES;
    return ma_h743_sdram_base() + MA_H743_SDRAM_BYTES - MA_H743_INPUT_BYTES;
}
#else
#ifdef MA_REG_HOST
static uint8_t sram123_sim[MA_H743_SRAM123_BYTES] __attribute__((aligned(32))); /* SRAM1-3 stand-in */
#else
extern uint8_t __sram123_bss_end__[]; /* stm32h743.ld: the end of the linker's SRAM1-3 objects */
#endif

/* SRAM1-3 after the linker's objects: the input block, then (from its audio on) the ext-RAM pool */
static uint8_t *input_area(uint32_t *cap)
{
#ifdef MA_REG_HOST
    uint8_t *lo = sram123_sim, *hi = sram123_sim + sizeof sram123_sim;
#else
    uint8_t *lo = (uint8_t *)(((uintptr_t)__sram123_bss_end__ + 31u) & ~(uintptr_t)31u);
    uint8_t *hi = (uint8_t *)(uintptr_t)(MA_H743_SRAM123_BASE + MA_H743_SRAM123_BYTES);
#endif
    *cap = lo < hi ? (uint32_t)(hi - lo) : 0u;
    return lo;
}
#endif

static ma_status input(void)
{
    if (input_status == 1) {
        uint32_t cap = 0;
        uint8_t *area = input_area(&cap);
        input_status = initialised ? ma_h743_receive_input(area, cap, &in, &in_size) : MA_ERR_IO;
    }
    return input_status;
}

void *ma_board_ext_ram(uint32_t *size)
{
    if (size) *size = 0;
    if (!initialised) return NULL;
#if MA_H743_HAS_SDRAM
    uint32_t cap = 0;
    uint8_t *lo = ma_h743_sdram_base(), *hi = input_area(&cap);
#ifndef MA_REG_HOST
    uint8_t *used = (uint8_t *)(((uintptr_t)__extram_end__ + 31u) & ~(uintptr_t)31u);
    if (used >= lo && used <= hi) lo = used;
#endif
#else
    /* the pool starts at the block's audio (8-byte aligned by ma_h743_receive_input), so the input comes first */
    if (input() != MA_OK) return NULL;
    uint32_t cap = 0;
    uint8_t *area = input_area(&cap);
    uint8_t *lo = in + rd32(in + 24), *hi = area + cap;
#endif
    if (size) *size = (uint32_t)(hi - lo);
    return lo;
}

ma_status ma_board_input_text(const char **text, uint32_t *len)
{
    if (text == NULL || len == NULL) return MA_ERR_ARGUMENT;
    ma_status s = input();
    if (s != MA_OK) return s;
    *text = (const char *)in + rd32(in + 20);
    *len = rd32(in + 12);
    return MA_OK;
}

ma_status ma_board_audio_read(int16_t *dst, uint32_t max, uint32_t *got)
{
    if (dst == NULL || got == NULL) return MA_ERR_ARGUMENT;
    *got = 0;
    ma_status s = input();
    if (s != MA_OK) return s;
    const uint32_t samples = rd32(in + 16);
    const uint32_t n = samples - audio_pos < max ? samples - audio_pos : max;
    const uint8_t *src = in + rd32(in + 24) + 2u * audio_pos;
    const uintptr_t d = (uintptr_t)dst, b = (uintptr_t)in;
    if (d != (uintptr_t)src) {
        /* in place (the NUCLEO's pool starts at the block's audio) or disjoint; anything else would overwrite
         * samples not read yet or the transcript */
        if (n && d < b + in_size && d + 2u * n > b) return MA_ERR_ARGUMENT;
        memcpy(dst, src, 2u * n); /* little-endian, as the Cortex-M7 */
    }
    audio_pos += n;
    *got = n;
    return MA_OK;
}

uint32_t ma_board_audio_length(void) { return input() == MA_OK ? rd32(in + 16) : 0u; }

/* ---- DMA ---- */
ma_status ma_board_dma_start(void *dst, const void *src, uint32_t n) { return ma_h743_mdma_start(dst, src, n); }
ma_status ma_board_dma_wait(void) { return ma_h743_mdma_wait(); }

void ma_board_exit(int code)
{
    char msg[24] = "# exit ";
    uint32_t k = 7, v = (uint32_t)(code < 0 ? -code : code);
    char digits[10];
    uint32_t nd = 0;
    if (code < 0) msg[k++] = '-';
    do {
        digits[nd++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v && nd < sizeof digits);
    while (nd) msg[k++] = digits[--nd];
    msg[k++] = '\n';
    ma_board_console_write(msg, k);
    (void)ma_reg_wait(MA_H743_CON(ISR), H7_USART_ISR_TC, H7_USART_ISR_TC, 10000u); /* last byte out */
#ifdef MA_REG_HOST
    exit(code);
#else
    for (;;) __asm__ volatile("wfi");
#endif
}
