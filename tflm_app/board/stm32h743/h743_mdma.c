/* h743_mdma.c: ma_board_dma_start/wait on MDMA channel 0 (RM0433 15 "Master DMA controller").
 *
 * One copy in flight. Software-triggered block transfers (CTCR.SWRM, TRGM = block): one block of up to
 * 64 KB per request (CBNDTR.BNDT), larger copies are chained block by block in ma_h743_mdma_wait.
 * Word transfers when source, destination and length are multiples of 4, else bytes; 128-byte buffer
 * transfers (TLEN). Source/destination in the TCMs go through the AHBS bus (CTBR.SBUS/DBUS).
 * Caches: SRAM1-3 is non-cacheable (h743_mpu_cache.c) and needs nothing; a source in
 * cacheable memory (AXI SRAM, SDRAM) is cleaned before the start, a cacheable destination is cleaned and
 * invalidated before and invalidated after (callers should keep such destinations 32-byte aligned). */
#include "board_stm32h743.h"
#include "ma_reg.h"
#include "stm32h743_regs.h"

#define BLOCK_MAX 65536u
#define TIMEOUT_BLOCK_US 100000u /* 64 KB at >= 1 byte/us, far below the MDMA's speed */

static int busy;
static uint32_t remaining, done, total;
static uint8_t *dst_p;
static const uint8_t *src_p;

static int in_tcm(uintptr_t a) { return a < 0x00010000u || (a >= 0x20000000u && a < 0x20020000u); }
static int cacheable(uintptr_t a)
{
    return (a >= H7_D1_AXISRAM_BASE && a < H7_D1_AXISRAM_BASE + (512u << 10)) ||
           (a >= H7_FMC_SDRAM_BANK1_BASE && a < H7_FMC_SDRAM_BANK2_BASE + MA_H743_SDRAM_BYTES);
}

static void program_block(void)
{
    const uint32_t k = remaining < BLOCK_MAX ? remaining : BLOCK_MAX;
    const uintptr_t s = (uintptr_t)(src_p + done), d = (uintptr_t)(dst_p + done);
    const uint32_t size = ((s | d | k) & 3u) == 0u ? 2u : 0u; /* word or byte */
    ma_reg_write(H7_MDMA_C0_CCR, 0u); /* channel off while it is programmed (SWRQ reads 0) */
    ma_reg_write(H7_MDMA_C0_CIFCR, H7_MDMA_CIFCR_ALL);
    const uint32_t ctcr = H7_MDMA_CTCR_SWRM | ma_reg_field(1u, H7_MDMA_CTCR_TRGM_Pos) |
                          ma_reg_field(127u, H7_MDMA_CTCR_TLEN_Pos) | ma_reg_field(2u, H7_MDMA_CTCR_SINC_Pos) |
                          ma_reg_field(2u, H7_MDMA_CTCR_DINC_Pos) | ma_reg_field(size, H7_MDMA_CTCR_SSIZE_Pos) |
                          ma_reg_field(size, H7_MDMA_CTCR_DSIZE_Pos) | ma_reg_field(size, H7_MDMA_CTCR_SINCOS_Pos) |
                          ma_reg_field(size, H7_MDMA_CTCR_DINCOS_Pos);
    ma_reg_write(H7_MDMA_C0_CTCR, ctcr);
    ma_reg_write(H7_MDMA_C0_CBNDTR, ma_reg_field(k & 0x1FFFFu, H7_MDMA_CBNDTR_BNDT_Pos));
    ma_reg_write(H7_MDMA_C0_CSAR, (uint32_t)s);
    ma_reg_write(H7_MDMA_C0_CDAR, (uint32_t)d);
    ma_reg_write(H7_MDMA_C0_CBRUR, 0u);
    ma_reg_write(H7_MDMA_C0_CLAR, 0u);
    ma_reg_write(H7_MDMA_C0_CTBR, (in_tcm(s) ? H7_MDMA_CTBR_SBUS : 0u) | (in_tcm(d) ? H7_MDMA_CTBR_DBUS : 0u));
    ma_reg_write(H7_MDMA_C0_CCR, ma_reg_field(2u, H7_MDMA_CCR_PL_Pos) | H7_MDMA_CCR_EN);
    ma_reg_modify(H7_MDMA_C0_CCR, 0u, H7_MDMA_CCR_SWRQ);
    remaining -= k;
    done += k;
}

ma_status ma_h743_mdma_start(void *dst, const void *src, uint32_t n)
{
    const uint8_t *d = (const uint8_t *)dst, *s = (const uint8_t *)src;
    if (dst == NULL || src == NULL || busy || (d < s + n && s < d + n)) return MA_ERR_ARGUMENT;
    ma_reg_modify(H7_RCC_AHB3ENR, 0u, H7_RCC_AHB3ENR_MDMAEN);
    dst_p = (uint8_t *)dst;
    src_p = s;
    remaining = total = n;
    done = 0;
    busy = 1;
    if (n == 0u) return MA_OK;
    if (cacheable((uintptr_t)s)) ma_h743_dcache_clean(s, n);
    if (cacheable((uintptr_t)d)) ma_h743_dcache_clean_invalidate(d, n);
    program_block();
    return MA_OK;
}

ma_status ma_h743_mdma_wait(void)
{
    if (!busy) return MA_ERR_ARGUMENT;
    ma_status s = MA_OK;
    while (total != 0u) {
        s = ma_reg_wait_any(H7_MDMA_C0_CISR, H7_MDMA_CISR_CTCIF | H7_MDMA_CISR_TEIF, TIMEOUT_BLOCK_US);
        if (s == MA_OK && (ma_reg_read(H7_MDMA_C0_CISR) & H7_MDMA_CISR_TEIF)) s = MA_ERR_IO; /* transfer error */
        ma_reg_write(H7_MDMA_C0_CIFCR, H7_MDMA_CIFCR_ALL);
        if (s != MA_OK || remaining == 0u) break;
        program_block();
    }
    ma_reg_write(H7_MDMA_C0_CCR, 0u);
    if (s == MA_OK && total && cacheable((uintptr_t)dst_p)) ma_h743_dcache_invalidate(dst_p, total);
    busy = 0;
    return s;
}
