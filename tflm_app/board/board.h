/* board.h: what the aligner application needs from a board, and nothing more.
 *
 * Implemented by board/mps2_an500/ (QEMU's Cortex-M7 board, for tests on every machine) and later
 * by board/stm32h743/ (register-level: clock tree, QUADSPI, FMC SDRAM, USART1, MDMA, DWT). The
 * application code is the same on both; only this layer differs. Plain C99, no vendor HAL types.
 * Functions that can fail return MA_OK or a negative MA_ERR_* (kernels/ma_status.h).
 *
 *   service            mps2-an500 (QEMU)                       STM32H743 (I-EVAL class)
 *   clock / counter    25 MHz CMSDK APB timer 0 (DWT reads 0)   DWT->CYCCNT at the core clock
 *   console            semihosting (or CMSDK UART0)            USART1 >= 921600 baud / USB CDC
 *   QSPI image         PSRAM 0x60000000, read-only by convention QUADSPI: indirect read, memory-map 0x90000000
 *   external RAM       PSRAM 0x60C00000 (4 MB)                 FMC SDRAM
 *   DMA copy           memcpy (completes at once)              MDMA
 *   audio / transcript an input block the host loads into PSRAM UART stream or a recording in flash
 *
 * Memory placement (the STM32H743 plan, also used on QEMU by the linker script of each board):
 * MA_IN_DTCM (stacks, small state), MA_IN_AXISRAM (TFLM arena, frontend and decode scratch),
 * MA_IN_SRAM123 (DMA-reachable, non-cacheable on the H743; the weight staging buffer now lives at the
 * end of the TFLM arena in AXI SRAM, sized from the model at start-up), MA_IN_EXTRAM (audio, frame
 * scores of long recordings; NOLOAD, not zeroed).
 */
#ifndef MA_BOARD_H
#define MA_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(MA_BOARD_HOST)
#define MA_IN_DTCM __attribute__((section(".dtcm_bss")))
#define MA_IN_AXISRAM __attribute__((section(".axisram_bss"), aligned(16)))
#define MA_IN_SRAM123 __attribute__((section(".sram123_bss"), aligned(32)))
#define MA_IN_EXTRAM __attribute__((section(".extram"), aligned(32)))
#else /* host builds: ordinary memory */
#define MA_IN_DTCM
#define MA_IN_AXISRAM
#define MA_IN_SRAM123
#define MA_IN_EXTRAM
#endif

/* Clocks, console, caches: call once before anything else. */
ma_status ma_board_init(void);

/* Core clock in Hz (480 MHz on an H743 rev V; what QEMU's board would have, for estimates). */
uint32_t ma_board_core_hz(void);
/* A free-running up-counter and its rate in Hz (wraps at 2^32). */
uint32_t ma_board_counter(void);
uint32_t ma_board_counter_hz(void);

/* Write n bytes to the console (blocking; no newline translation). */
void ma_board_console_write(const char *s, size_t n);

/* The QSPI flash that holds the weight image. */
uint32_t ma_board_qspi_size(void);
/* Indirect read of n bytes at offset into dst: MA_ERR_ARGUMENT when out of range, MA_ERR_IO
 * when the flash does not answer. Not to be mixed with an active memory-mapped read. */
ma_status ma_board_qspi_read(uint32_t offset, void *dst, uint32_t n);
/* The flash memory-mapped (XIP) or NULL when the board cannot map it. */
const uint8_t *ma_board_qspi_map(void);

/* External RAM for audio and frame scores (base, *size in bytes); NULL when the board has none. */
void *ma_board_ext_ram(uint32_t *size);

/* Start copying n bytes (DMA on hardware); the copy is complete after ma_board_dma_wait().
 * One copy in flight at a time: MA_ERR_ARGUMENT on overlap, NULL or a second start. */
ma_status ma_board_dma_start(void *dst, const void *src, uint32_t n);
ma_status ma_board_dma_wait(void);

/* The input: a transcript (UTF-8, spoken form) and 16 kHz mono int16 PCM.
 * ma_board_input_text gives a pointer to the transcript and its length in bytes (no NUL needed);
 * ma_board_audio_read copies up to max samples from the stream into dst and sets *got (0 at the
 * end); ma_board_audio_length is the number of samples when the board knows it, else 0. */
ma_status ma_board_input_text(const char **text, uint32_t *len);
ma_status ma_board_audio_read(int16_t *dst, uint32_t max, uint32_t *got);
uint32_t ma_board_audio_length(void);

/* Bytes of the main stack used so far (high-water mark of the painted stack); 0 if not measured. */
uint32_t ma_board_stack_used(void);

/* Stop: the exit code reaches the host (QEMU) or is shown (board). Does not return. */
void ma_board_exit(int code);

#ifdef __cplusplus
}
#endif

#endif /* MA_BOARD_H */
