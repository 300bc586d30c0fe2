/* board_stm32h743.h: the STM32H743 board layer's own interface (board.h is what the application uses).
 *
 * Files: h743_clock.c (supply, VOS, PLL1 clock tree, flash wait states, DWT, delays),
 * h743_mpu_cache.c (MPU regions, I/D caches, cache maintenance), h743_qspi.c (QUADSPI + MT25QL512
 * NOR flash: indirect read/program/erase, memory-mapped XIP), h743_sdram.c (FMC SDRAM, JEDEC init),
 * h743_usart.c (USART1 console + the serial input protocol), h743_mdma.c (MDMA block copies),
 * h743_gpio.c (pin alternate functions), board_stm32h743.c (board.h on top of these). All register accesses go
 * through ma_reg.h; names come from stm32h743_regs.h. Board settings below can be overridden with -D. */
#ifndef BOARD_STM32H743_H
#define BOARD_STM32H743_H

#include <stddef.h>
#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- board variant: one define selects it (the Makefile's and the CubeIDE project's configurations) ----
 *   default                 STM32H743I-EVAL: 25 MHz crystal, QSPI NOR flash (weights), FMC SDRAM (audio,
 *                           scores, the serial input block), USART1 on PB14/PB15 (AF4)
 *   MA_BOARD_NUCLEO_H743ZI  NUCLEO-H743ZI / -H743ZI2: 8 MHz HSE bypass from the ST-LINK's MCO, no QSPI flash
 *                           (MODE=flash: the weight image is linked into the internal flash), no SDRAM (the
 *                           input block and the ext-RAM pool share SRAM1-3), USART3 on PD8 (TX) / PD9 (RX), AF7,
 *                           wired to the ST-LINK virtual COM port (UM1974 "USART communication" for the
 *                           MB1137 board, UM2407 for the MB1364 -ZI2 board; DS12110 Table 9: PD8/PD9 AF7 =
 *                           USART3_TX/RX) */
#ifdef MA_BOARD_NUCLEO_H743ZI
#define MA_H743_HAS_QSPI 0
#define MA_H743_HAS_SDRAM 0
#define MA_H743_CONSOLE_USART 3
#ifndef MA_H743_HSE_HZ
#define MA_H743_HSE_HZ 8000000u /* ST-LINK MCO, 8 MHz */
#endif
#ifndef MA_H743_HSE_BYPASS
#define MA_H743_HSE_BYPASS 1
#endif
#else
#define MA_H743_HAS_QSPI 1
#define MA_H743_HAS_SDRAM 1
#define MA_H743_CONSOLE_USART 1
#endif
/* the console USART's register H7_USARTn_<reg> (stm32h743_regs.h) */
#if MA_H743_CONSOLE_USART == 3
#define MA_H743_CON(reg) H7_USART3_##reg
#else
#define MA_H743_CON(reg) H7_USART1_##reg
#endif

/* ---- board settings (STM32H743I-EVAL defaults) ---- */
#ifndef MA_H743_HSE_HZ
#define MA_H743_HSE_HZ 25000000u /* the I-EVAL's 25 MHz crystal (X2) */
#endif
#ifndef MA_H743_HSE_BYPASS
#define MA_H743_HSE_BYPASS 0 /* 1: an external clock on OSC_IN (e.g. NUCLEO's 8 MHz ST-LINK MCO) */
#endif
#ifndef MA_H743_BAUD
#define MA_H743_BAUD 921600u
#endif
#ifndef MA_H743_QSPI_DUAL
#define MA_H743_QSPI_DUAL 1 /* the I-EVAL's MT25TL01G: two MT25QL512 dies in dual-flash mode, 128 MB */
#endif
#define MA_H743_QSPI_DIE_BYTES (64u << 20)
#define MA_H743_QSPI_BYTES (MA_H743_QSPI_DIE_BYTES << (MA_H743_QSPI_DUAL ? 1 : 0))
#define MA_H743_QSPI_PAGE (256u << (MA_H743_QSPI_DUAL ? 1 : 0))     /* program page (both dies) */
#define MA_H743_QSPI_SUBSECTOR (4096u << (MA_H743_QSPI_DUAL ? 1 : 0)) /* 4 KB erase unit (both dies) */
#ifndef MA_H743_QSPI_PRESCALER
#define MA_H743_QSPI_PRESCALER 2u /* QUADSPI clock = hclk3 / (PRESCALER + 1): 80 MHz at 240 MHz */
#endif
#ifndef MA_H743_SDRAM_BANK
#define MA_H743_SDRAM_BANK 2 /* the I-EVAL wires the SDRAM to SDNE1/SDCKE1: bank 2 at 0xD0000000 */
#endif
#define MA_H743_SDRAM_BYTES (32u << 20) /* IS42S32800G: 4 banks x 4096 rows x 512 columns x 32 bit */
#ifndef MA_H743_INPUT_BYTES
#define MA_H743_INPUT_BYTES (12u << 20) /* I-EVAL: top of SDRAM, the input block received over USART1 */
#endif
/* NUCLEO: SRAM1-3 (D2 domain, 0x30000000, 288 KB) after the linker's .sram123_bss holds the input block and,
 * from the block's audio on, the ext-RAM pool: the aligner's copy of the PCM is the block's PCM in place
 * (ma_board_audio_read sees dst == source and copies nothing), so a second of audio costs 32,000 bytes plus
 * the frame scores (README.md "NUCLEO-H743ZI") */
#define MA_H743_SRAM123_BASE 0x30000000u
#define MA_H743_SRAM123_BYTES (288u << 10)

/* ---- clock tree ---- */
#define MA_H743_REV_V 0x2003u
#define MA_H743_DEV_ID 0x450u

typedef struct {
    uint32_t rev_id;      /* DBGMCU_IDCODE.REV_ID */
    uint32_t vos0;        /* 1: VOS0 (VOS1 + ODEN), 480 MHz; 0: VOS1, 400 MHz */
    uint32_t sys_hz;      /* pll1_p_ck = sys_ck = CPU clock (D1CPRE /1) */
    uint32_t hclk_hz;     /* AXI/AHB (HPRE /2): FMC and QUADSPI kernel clock (rcc_hclk3) */
    uint32_t pclk_hz;     /* every APB (D1PPRE, D2PPRE1/2, D3PPRE /2): USART1 kernel clock (rcc_pclk2) */
    uint32_t divm, divn, divp, divq, divr;
    uint32_t ref_hz, vco_hz, rge, vcosel;
    uint32_t latency, wrhighfreq; /* FLASH_ACR for hclk_hz at this VOS (RM0433 Table 17) */
} ma_h743_clock_plan;

/* The PLL1 / prescaler / flash plan for a silicon revision and HSE frequency (pure computation). */
ma_status ma_h743_clock_plan_for(uint32_t rev_id, uint32_t hse_hz, ma_h743_clock_plan *plan);
/* Supply (LDO), VOS, HSE, PLL1, prescalers, flash latency, switch to PLL1. */
ma_status ma_h743_clock_init(ma_h743_clock_plan *plan);
/* DWT cycle counter on (DEMCR.TRCENA, LAR unlock, CYCCNTENA). */
void ma_h743_dwt_init(void);
uint32_t ma_h743_cycles(void);

/* ---- MPU and caches ---- */
ma_status ma_h743_mpu_cache_init(void);
void ma_h743_dcache_clean(const void *addr, uint32_t n);
void ma_h743_dcache_clean_invalidate(const void *addr, uint32_t n);
void ma_h743_dcache_invalidate(const void *addr, uint32_t n);

/* ---- GPIO ---- */
void ma_h743_gpio_af(uint32_t port_base, uint32_t pin, uint32_t af, uint32_t pull);

/* ---- QUADSPI NOR flash (MT25QL512, quad I/O protocol, 4-byte addresses) ---- */
ma_status ma_h743_qspi_init(uint32_t hclk_hz);
ma_status ma_h743_qspi_read(uint32_t offset, void *dst, uint32_t n);
ma_status ma_h743_qspi_map(void);       /* memory-mapped mode (XIP) at 0x90000000 */
ma_status ma_h743_qspi_unmap(void);     /* back to indirect mode (ABORT) */
int ma_h743_qspi_mapped(void);
/* Erase the 4 KB subsectors covering [offset, offset + n) (offset aligned to MA_H743_QSPI_SUBSECTOR). */
ma_status ma_h743_qspi_erase(uint32_t offset, uint32_t n);
/* Program n bytes at offset (erased before), page by page; then read back and compare:
 * MA_ERR_IO when the flash reports a program error or the read-back differs. */
ma_status ma_h743_qspi_program(uint32_t offset, const void *src, uint32_t n);

/* ---- FMC SDRAM ---- */
ma_status ma_h743_sdram_init(uint32_t hclk_hz);
uint8_t *ma_h743_sdram_base(void);

/* ---- the console USART (USART1 on the I-EVAL, USART3 on the NUCLEO) ---- */
ma_status ma_h743_usart_init(uint32_t pclk_hz, uint32_t baud);
/* BRR for a kernel clock and baud rate (oversampling by 16) and its error in parts per million. */
uint32_t ma_h743_usart_brr(uint32_t pclk_hz, uint32_t baud, int32_t *error_ppm);
ma_status ma_h743_usart_write(const uint8_t *s, uint32_t n);
/* Receive n bytes; MA_ERR_IO on a framing/overrun/noise error or when no byte comes for timeout_us. */
ma_status ma_h743_usart_read(uint8_t *dst, uint32_t n, uint32_t timeout_us);

/* ---- the serial input protocol (README.md "Serial input") ---- */
#define MA_H743_FIRST_BYTE_TIMEOUT_US 600000000u /* 10 min for the host to start sending */
#define MA_H743_BYTE_TIMEOUT_US 2000000u         /* then at most 2 s between bytes */
/* Receive one input block + CRC-32 trailer into the area [area, area + cap): the block starts at *block,
 * 0..7 bytes into the area, chosen so that its audio (block + audio offset) is 8-byte aligned (the aligner's
 * ext-RAM alignment); *size = the block's length. */
ma_status ma_h743_receive_input(uint8_t *area, uint32_t cap, uint8_t **block, uint32_t *size);

/* ---- MDMA ---- */
ma_status ma_h743_mdma_start(void *dst, const void *src, uint32_t n);
ma_status ma_h743_mdma_wait(void);

#ifdef __cplusplus
}
#endif

#endif /* BOARD_STM32H743_H */
