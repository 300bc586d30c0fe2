/* h743_mpu_cache.c: MPU regions, then the L1 caches (ARMv7-M ARM B3.5 "Protected Memory System
 * Architecture"; Cortex-M7 TRM 4.3 / CMSIS SCB_EnableICache, SCB_EnableDCache; ST AN4838, AN4839).
 *
 * Regions (higher number wins where they overlap; elsewhere the default map, PRIVDEFENA); the NUCLEO-H743ZI
 * (MA_BOARD_NUCLEO_H743ZI: no QSPI flash, no SDRAM) sets only regions 0 and 2:
 *   0  0x90000000 256 MB  QUADSPI window: no access, strongly ordered, XN -- stops speculative reads
 *                         beyond the flash (AN4760: a speculative read of an absent address stalls the bus)
 *   1  0x90000000 128 MB  the NOR flash (64 MB single-flash): normal, write-through, read-only, XN --
 *                         XIP weights through the D-cache; nothing writes it, so no maintenance
 *   2  0x30000000 512 KB  SRAM1-3 (288 KB used): normal, NON-cacheable, shareable, XN -- DMA-shared data:
 *                         CPU and MDMA see the same bytes without cache maintenance (the weight staging
 *                         buffer is in the cacheable AXI SRAM arena; h743_mdma.c maintains its lines)
 *   3  SDRAM 32 MB        normal, write-back write-allocate, XN (the default map would make it Device
 *                         memory: no unaligned access, no cache)
 * AXI SRAM and the TCMs keep the default map (AXI SRAM write-back cacheable; TCMs are never cached).
 * MDMA copies from elsewhere (AXI SRAM, SDRAM) get cache maintenance by address (h743_mdma.c).
 * Order: DMB, MPU off, regions, MPU on (PRIVDEFENA), DSB, ISB; then I-cache (invalidate all, DSB, ISB,
 * enable, DSB, ISB), then D-cache (invalidate by set/way, DSB, enable, DSB, ISB). */
#include "board_stm32h743.h"
#include "ma_reg.h"
#include "stm32h743_regs.h"

#define AP_NONE 0u
#define AP_FULL 3u
#define AP_RO 6u

static uint32_t log2u(uint32_t v)
{
    uint32_t r = 0;
    while (v > 1u) {
        v >>= 1;
        ++r;
    }
    return r;
}

static void mpu_region(uint32_t n, uint32_t base, uint32_t size, uint32_t ap, uint32_t tex, uint32_t c, uint32_t b,
                       uint32_t s)
{
    ma_reg_write(H7_MPU_RNR, n);
    ma_reg_write(H7_MPU_RBAR, base); /* VALID = 0: the region number comes from RNR */
    ma_reg_write(H7_MPU_RASR, ma_reg_field(1u, H7_MPU_RASR_XN_Pos) | ma_reg_field(ap, H7_MPU_RASR_AP_Pos) |
                                  ma_reg_field(tex, H7_MPU_RASR_TEX_Pos) | ma_reg_field(s, H7_MPU_RASR_S_Pos) |
                                  ma_reg_field(c, H7_MPU_RASR_C_Pos) | ma_reg_field(b, H7_MPU_RASR_B_Pos) |
                                  ma_reg_field(log2u(size) - 1u, H7_MPU_RASR_SIZE_Pos) | H7_MPU_RASR_ENABLE);
}

ma_status ma_h743_mpu_cache_init(void)
{
    const uint32_t sdram_base = MA_H743_SDRAM_BANK == 1 ? H7_FMC_SDRAM_BANK1_BASE : H7_FMC_SDRAM_BANK2_BASE;
    ma_reg_dmb();
    ma_reg_write(H7_MPU_CTRL, 0u);
    mpu_region(0, H7_QSPI_BASE, 256u << 20, AP_NONE, 0u, 0u, 0u, 0u);
#if MA_H743_HAS_QSPI /* NUCLEO: no flash there, the whole window stays no-access */
    mpu_region(1, H7_QSPI_BASE, MA_H743_QSPI_BYTES, AP_RO, 0u, 1u, 0u, 0u);
#endif
    mpu_region(2, H7_D2_AHBSRAM_BASE, 512u << 10, AP_FULL, 1u, 0u, 0u, 1u);
#if MA_H743_HAS_SDRAM /* NUCLEO: no SDRAM, the FMC window keeps the default map and is never accessed */
    mpu_region(3, sdram_base, MA_H743_SDRAM_BYTES, AP_FULL, 1u, 1u, 1u, 0u);
#else
    (void)sdram_base;
#endif
    ma_reg_write(H7_MPU_CTRL, H7_MPU_CTRL_ENABLE | H7_MPU_CTRL_PRIVDEFENA);
    ma_reg_dsb();
    ma_reg_isb();

    if (!(ma_reg_read(H7_SCB_CCR) & H7_SCB_CCR_IC)) {
        ma_reg_dsb();
        ma_reg_isb();
        ma_reg_write(H7_SCB_ICIALLU, 0u);
        ma_reg_dsb();
        ma_reg_isb();
        ma_reg_modify(H7_SCB_CCR, 0u, H7_SCB_CCR_IC);
        ma_reg_dsb();
        ma_reg_isb();
    }
    if (!(ma_reg_read(H7_SCB_CCR) & H7_SCB_CCR_DC)) {
        ma_reg_write(H7_SCB_CSSELR, 0u); /* level 1 data cache */
        ma_reg_dsb();
        const uint32_t ccsidr = ma_reg_read(H7_SCB_CCSIDR);
        const uint32_t sets = ((ccsidr & H7_SCB_CCSIDR_NUMSETS) >> H7_SCB_CCSIDR_NUMSETS_Pos) + 1u;
        const uint32_t ways = ((ccsidr & H7_SCB_CCSIDR_ASSOCIATIVITY) >> H7_SCB_CCSIDR_ASSOCIATIVITY_Pos) + 1u;
        if (ways != 4u || sets == 0u || sets > 512u) return MA_ERR_IO; /* not a Cortex-M7 L1 D-cache */
        for (uint32_t set = 0; set < sets; ++set) {
            for (uint32_t way = 0; way < ways; ++way) {
                ma_reg_write(H7_SCB_DCISW, (way << H7_SCB_DCISW_WAY_Pos) | (set << H7_SCB_DCISW_SET_Pos));
            }
        }
        ma_reg_dsb();
        ma_reg_modify(H7_SCB_CCR, 0u, H7_SCB_CCR_DC);
        ma_reg_dsb();
        ma_reg_isb();
    }
    return MA_OK;
}

static void dcache_by_line(uint32_t op_reg, const void *addr, uint32_t n)
{
    if (n == 0u) return;
    uint32_t a = (uint32_t)(uintptr_t)addr & ~(H7_DCACHE_LINE - 1u);
    const uint32_t end = (uint32_t)(uintptr_t)addr + n;
    ma_reg_dsb();
    for (; a < end; a += H7_DCACHE_LINE) ma_reg_write(op_reg, a);
    ma_reg_dsb();
    ma_reg_isb();
}

void ma_h743_dcache_clean(const void *addr, uint32_t n) { dcache_by_line(H7_SCB_DCCMVAC, addr, n); }
void ma_h743_dcache_clean_invalidate(const void *addr, uint32_t n) { dcache_by_line(H7_SCB_DCCIMVAC, addr, n); }
void ma_h743_dcache_invalidate(const void *addr, uint32_t n) { dcache_by_line(H7_SCB_DCIMVAC, addr, n); }
