/* h743_sdram.c: the FMC SDRAM controller (RM0433 22.7 "SDRAM controller") with the I-EVAL's
 * IS42S32800G-6 (8M x 32: 4 banks, 4096 rows (12 bits), 512 columns (9 bits), 32-bit bus) on bank 2.
 *
 * SDRAM clock = fmc_ker_ck (rcc_hclk3) / 2: 120 MHz at 480 MHz (hclk 240), 100 MHz at 400 MHz; timings are
 * computed from the datasheet's nanoseconds at that clock (IS42S32800G datasheet, -6 speed grade, "AC
 * characteristics"): tRCD 18, tRP 18, tRAS 42, tRC 60, tXSR 70 ns, tWR 2 clocks, tMRD 2 clocks, CAS
 * latency 3 (-6: CL3 up to 166 MHz). Fields shared by both banks (SDCLK, RBURST, RPIPE in SDCR1; TRC, TRP
 * in SDTR1) are written to bank 1's registers even for bank 2 (RM0433 22.7.3).
 * JEDEC power-up sequence (RM0433 22.7.2 "SDRAM initialization"; JESD21-C):
 *   SDCR/SDTR, FMC enable (BCR1.FMCEN), 1 clock configuration enable, >= 100 us, 2 precharge all (PALL),
 *   3 auto-refresh x 8, 4 load mode register (burst 1, sequential, CAS 3, single write burst),
 *   5 refresh rate SDRTR = 64 ms / 4096 rows * f_SDCLK - 20. */
#include "board_stm32h743.h"
#include "ma_reg.h"
#include "stm32h743_regs.h"

#define T_RCD_NS 18u
#define T_RP_NS 18u
#define T_RAS_NS 42u
#define T_RC_NS 60u
#define T_XSR_NS 70u
#define T_WR_CLK 2u
#define T_MRD_CLK 2u
#define CAS_LATENCY 3u
#define ROWS 4096u
#define REFRESH_MS 64u
#define POWER_UP_US 100u

#define CMD_CLOCK_ENABLE 1u
#define CMD_PALL 2u
#define CMD_AUTO_REFRESH 3u
#define CMD_LOAD_MODE 4u
#define MODE_REGISTER ((CAS_LATENCY << 4) | 0x200u) /* burst length 1, sequential, CAS 3, single write burst */

static uint32_t ns_to_clk(uint32_t ns, uint32_t hz)
{
    return (uint32_t)(((uint64_t)ns * hz + 999999999u) / 1000000000u); /* rounded up */
}
static uint32_t max_u(uint32_t a, uint32_t b) { return a > b ? a : b; }

static const struct {
    uint32_t port, pins;
} SDRAM_PINS[] = {
    /* the I-EVAL's 32-bit SDRAM on bank 2, all AF12 (DS12110 Table 9): A0-A11, BA0-1, D0-D31, NBL0-3,
     * SDCLK PG8, SDNCAS PG15, SDNRAS PF11, SDNWE PH5, SDNE1 PH6, SDCKE1 PH7 */
    {H7_GPIOD_BASE, 0xC703u}, /* PD0 1 8 9 10 14 15 */
    {H7_GPIOE_BASE, 0xFF83u}, /* PE0 1 7..15 */
    {H7_GPIOF_BASE, 0xF83Fu}, /* PF0..5 11..15 */
    {H7_GPIOG_BASE, 0x8133u}, /* PG0 1 4 5 8 15 */
    {H7_GPIOH_BASE, 0xFFE0u}, /* PH5..15 */
    {H7_GPIOI_BASE, 0x06FFu}, /* PI0..7 9 10 */
};

static void command(uint32_t mode, uint32_t nrfs, uint32_t mrd)
{
    const uint32_t target = MA_H743_SDRAM_BANK == 1 ? H7_FMC_SDCMR_CTB1 : H7_FMC_SDCMR_CTB2;
    ma_reg_write(H7_FMC_SDCMR, ma_reg_field(mode, H7_FMC_SDCMR_MODE_Pos) | target |
                                   ma_reg_field(nrfs, H7_FMC_SDCMR_NRFS_Pos) | ma_reg_field(mrd, H7_FMC_SDCMR_MRD_Pos));
}

ma_status ma_h743_sdram_init(uint32_t hclk_hz)
{
    if (hclk_hz == 0u || hclk_hz > 240000000u) return MA_ERR_ARGUMENT;
    const uint32_t sdclk = hclk_hz / 2u; /* SDCLK = 2 x fmc_ker_ck period */
    if (sdclk > 166000000u) return MA_ERR_ARGUMENT;

    ma_reg_modify(H7_RCC_AHB4ENR, 0u, H7_RCC_AHB4ENR_GPIOAEN << 3 | H7_RCC_AHB4ENR_GPIOAEN << 4 |
                                         H7_RCC_AHB4ENR_GPIOAEN << 5 | H7_RCC_AHB4ENR_GPIOAEN << 6 |
                                         H7_RCC_AHB4ENR_GPIOAEN << 7 | H7_RCC_AHB4ENR_GPIOAEN << 8);
    ma_reg_modify(H7_RCC_AHB3ENR, 0u, H7_RCC_AHB3ENR_FMCEN);
    (void)ma_reg_read(H7_RCC_AHB3ENR);
    for (uint32_t i = 0; i < sizeof SDRAM_PINS / sizeof SDRAM_PINS[0]; ++i) {
        for (uint32_t pin = 0; pin < 16u; ++pin) {
            if (SDRAM_PINS[i].pins >> pin & 1u) ma_h743_gpio_af(SDRAM_PINS[i].port, pin, 12u, 0u);
        }
    }

    /* controller: geometry and timings */
    const uint32_t geometry = ma_reg_field(1u, H7_FMC_SDCRx_NC_Pos) | ma_reg_field(1u, H7_FMC_SDCRx_NR_Pos) |
                              ma_reg_field(2u, H7_FMC_SDCRx_MWID_Pos) | H7_FMC_SDCRx_NB |
                              ma_reg_field(CAS_LATENCY, H7_FMC_SDCRx_CAS_Pos);
    const uint32_t common = ma_reg_field(2u, H7_FMC_SDCRx_SDCLK_Pos) | H7_FMC_SDCRx_RBURST; /* RPIPE 0 */
    const uint32_t trcd = ns_to_clk(T_RCD_NS, sdclk), trp = ns_to_clk(T_RP_NS, sdclk);
    const uint32_t tras = ns_to_clk(T_RAS_NS, sdclk), trc = ns_to_clk(T_RC_NS, sdclk);
    const uint32_t txsr = ns_to_clk(T_XSR_NS, sdclk);
    /* TWR >= tWR, >= TRAS - TRCD and >= TRC - TRCD - TRP (RM0433 22.7.3 SDTRx.TWR) */
    const uint32_t twr = max_u(T_WR_CLK, max_u(tras - trcd, trc - trcd - trp));
    if (trc > 16u || tras > 16u || txsr > 16u || twr > 16u) return MA_ERR_ARGUMENT;
    const uint32_t own = ma_reg_field(T_MRD_CLK - 1u, H7_FMC_SDTRx_TMRD_Pos) |
                         ma_reg_field(txsr - 1u, H7_FMC_SDTRx_TXSR_Pos) | ma_reg_field(tras - 1u, H7_FMC_SDTRx_TRAS_Pos) |
                         ma_reg_field(twr - 1u, H7_FMC_SDTRx_TWR_Pos) | ma_reg_field(trcd - 1u, H7_FMC_SDTRx_TRCD_Pos);
    const uint32_t shared = ma_reg_field(trc - 1u, H7_FMC_SDTRx_TRC_Pos) | ma_reg_field(trp - 1u, H7_FMC_SDTRx_TRP_Pos);
    if (MA_H743_SDRAM_BANK == 1) {
        ma_reg_write(H7_FMC_SDCR1, common | geometry);
        ma_reg_write(H7_FMC_SDTR1, shared | own);
    } else { /* bank 1's own fields are left as they are */
        ma_reg_modify(H7_FMC_SDCR1, H7_FMC_SDCRx_SDCLK | H7_FMC_SDCRx_RBURST | H7_FMC_SDCRx_RPIPE, common);
        ma_reg_write(H7_FMC_SDCR2, geometry);
        ma_reg_modify(H7_FMC_SDTR1, H7_FMC_SDTRx_TRC | H7_FMC_SDTRx_TRP, shared);
        ma_reg_write(H7_FMC_SDTR2, own);
    }
    ma_reg_modify(H7_FMC_BCR1, 0u, H7_FMC_BCR1_FMCEN);

    /* JEDEC sequence */
    command(CMD_CLOCK_ENABLE, 0u, 0u);
    ma_reg_delay_us(POWER_UP_US);
    command(CMD_PALL, 0u, 0u);
    command(CMD_AUTO_REFRESH, 8u - 1u, 0u);
    command(CMD_LOAD_MODE, 0u, MODE_REGISTER);
    const uint32_t count = (uint32_t)((uint64_t)REFRESH_MS * 1000u * (sdclk / 1000u) / ROWS / 1000u) - 20u;
    ma_reg_write(H7_FMC_SDRTR, ma_reg_field(count, H7_FMC_SDRTR_COUNT_Pos));
    if (ma_reg_read(H7_FMC_SDSR) & H7_FMC_SDSR_RE) return MA_ERR_IO;
    return MA_OK;
}

uint8_t *ma_h743_sdram_base(void)
{
    return (uint8_t *)ma_reg_mem(MA_H743_SDRAM_BANK == 1 ? H7_FMC_SDRAM_BANK1_BASE : H7_FMC_SDRAM_BANK2_BASE);
}
