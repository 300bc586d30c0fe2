/* h743_clock.c: supply, voltage scaling, the clock tree from HSE through PLL1, flash wait states, the
 * DWT cycle counter, and the timed waits of ma_reg.h on the target.
 *
 * Sequence (RM0433 6.8.4 "Voltage scaling", 8.5.2 PLL, 4.3.8 "FLASH read latency"):
 *   1. read DBGMCU_IDCODE: revision V (0x2003) -> VOS0 and 480 MHz, older -> VOS1 and 400 MHz
 *   2. supply: PWR_CR3 = LDOEN (SCUEN, BYPASS cleared), wait PWR_CSR1.ACTVOSRDY
 *   3. VOS1: PWR_D3CR.VOS = 0b11, wait VOSRDY; for VOS0: SYSCFG clock on, SYSCFG_PWRCR.ODEN = 1,
 *      wait VOSRDY again (ODEN only from VOS1, with the LDO)
 *   4. HSE on (bypass first if an external clock), wait HSERDY
 *   5. PLL1 from HSE: DIVM1, DIVN1/P1/Q1/R1, RGE / VCOSEL, outputs enabled, PLL1ON, wait PLL1RDY
 *   6. FLASH_ACR LATENCY + WRHIGHFREQ for the new AXI clock, read back (BEFORE the switch)
 *   7. bus prescalers: D1CPRE /1, HPRE /2, D1PPRE, D2PPRE1, D2PPRE2, D3PPRE /2 (within their maxima)
 *   8. CFGR.SW = PLL1, wait CFGR.SWS = PLL1
 * Maxima (DS12110 Table 23; VOS0 rev V / VOS1): sys_ck 480 / 400 MHz, rcc_hclk 240 / 200, APB 120 / 100. */
#include "board_stm32h743.h"
#include "ma_reg.h"
#include "stm32h743_regs.h"

uint32_t ma_reg_core_hz = 64000000u; /* HSI after reset */

#define MHZ 1000000u
#define TIMEOUT_VOS_US 10000u
#define TIMEOUT_HSE_US 100000u /* crystal start-up (HAL's HSE_STARTUP_TIMEOUT) */
#define TIMEOUT_PLL_US 10000u
#define TIMEOUT_SW_US 10000u

/* FLASH_ACR for an AXI clock at VOS0 / VOS1 (RM0433 rev 8 Table 17, "FLASH recommended number of wait
 * states and programming delay"): the first row whose limit is >= the clock. */
typedef struct {
    uint32_t max_mhz, latency, wrhighfreq;
} flash_row;
static const flash_row FLASH_VOS0[] = {{70, 0, 0}, {140, 1, 1}, {185, 2, 1}, {210, 2, 2}, {225, 3, 2}, {240, 4, 2}};
static const flash_row FLASH_VOS1[] = {{70, 0, 0}, {140, 1, 1}, {185, 2, 1}, {210, 2, 2}, {225, 3, 2}};

ma_status ma_h743_clock_plan_for(uint32_t rev_id, uint32_t hse_hz, ma_h743_clock_plan *p)
{
    if (p == NULL || hse_hz < 4u * MHZ || hse_hz > 50u * MHZ) return MA_ERR_ARGUMENT; /* HSE: 4..50 MHz */
    p->rev_id = rev_id;
    p->vos0 = rev_id >= MA_H743_REV_V;
    p->sys_hz = p->vos0 ? 480u * MHZ : 400u * MHZ;
    p->divp = 2u;
    p->vco_hz = p->sys_hz * p->divp;
    const uint32_t vco_max = p->vos0 ? 960u * MHZ : 836u * MHZ; /* wide VCO; 960 MHz from revision V */
    p->divm = 0;
    /* the smallest DIVM giving an integer reference of 2..16 MHz that reaches the VCO with an integer DIVN */
    for (uint32_t m = 1; m <= 63u && p->divm == 0; ++m) {
        if (hse_hz % m) continue;
        uint32_t ref = hse_hz / m;
        if (ref < 2u * MHZ || ref > 16u * MHZ || p->vco_hz % ref) continue;
        uint32_t n = p->vco_hz / ref;
        if (n < 4u || n > 512u) continue;
        p->divm = m;
        p->divn = n;
        p->ref_hz = ref;
    }
    if (p->divm == 0 || p->vco_hz < 192u * MHZ || p->vco_hz > vco_max) return MA_ERR_ARGUMENT;
    p->rge = p->ref_hz < 4u * MHZ ? 1u : p->ref_hz < 8u * MHZ ? 2u : 3u; /* 2-4, 4-8, 8-16 MHz */
    p->vcosel = 0u;                                                      /* wide range */
    p->divq = 4u;
    p->divr = 2u;
    p->hclk_hz = p->sys_hz / 2u;
    p->pclk_hz = p->hclk_hz / 2u;
    const flash_row *rows = p->vos0 ? FLASH_VOS0 : FLASH_VOS1;
    uint32_t nrows = p->vos0 ? sizeof FLASH_VOS0 / sizeof FLASH_VOS0[0] : sizeof FLASH_VOS1 / sizeof FLASH_VOS1[0];
    for (uint32_t i = 0; i < nrows; ++i) {
        if (p->hclk_hz <= rows[i].max_mhz * MHZ) {
            p->latency = rows[i].latency;
            p->wrhighfreq = rows[i].wrhighfreq;
            return MA_OK;
        }
    }
    return MA_ERR_ARGUMENT;
}

void ma_h743_dwt_init(void)
{
    ma_reg_modify(H7_DCB_DEMCR, 0u, H7_DCB_DEMCR_TRCENA);
    ma_reg_write(H7_DWT_LAR, H7_DWT_LAR_KEY); /* the Cortex-M7's DWT is locked after reset */
    ma_reg_write(H7_DWT_CYCCNT, 0u);
    ma_reg_modify(H7_DWT_CTRL, 0u, H7_DWT_CTRL_CYCCNTENA);
}

uint32_t ma_h743_cycles(void)
{
#ifdef MA_REG_HOST
    return ma_reg_host_cycles();
#else
    return ma_reg_read(H7_DWT_CYCCNT);
#endif
}

#ifndef MA_REG_HOST
/* Target waits: elapsed time from DWT->CYCCNT deltas (wrap-safe, accumulated in 64 bits); the poll count
 * is bounded too, so a counter that does not run cannot make a wait endless. */
static ma_status wait(uint32_t addr, uint32_t mask, uint32_t value, int any, uint32_t timeout_us)
{
    const uint64_t limit = (uint64_t)timeout_us * (ma_reg_core_hz / MHZ);
    uint64_t elapsed = 0, polls = 0;
    uint32_t last = ma_reg_read(H7_DWT_CYCCNT);
    for (;;) {
        const uint32_t r = ma_reg_read(addr) & mask;
        if (any ? r != 0u : r == value) return MA_OK;
        uint32_t now = ma_reg_read(H7_DWT_CYCCNT);
        elapsed += (uint32_t)(now - last);
        last = now;
        if (elapsed > limit || ++polls > limit) return MA_ERR_IO;
    }
}

ma_status ma_reg_wait(uint32_t addr, uint32_t mask, uint32_t value, uint32_t timeout_us)
{
    return wait(addr, mask, value, 0, timeout_us);
}

ma_status ma_reg_wait_any(uint32_t addr, uint32_t mask, uint32_t timeout_us)
{
    return wait(addr, mask, 0u, 1, timeout_us);
}

void ma_reg_delay_us(uint32_t us)
{
    const uint64_t limit = (uint64_t)us * (ma_reg_core_hz / MHZ);
    uint64_t elapsed = 0;
    uint32_t last = ma_reg_read(H7_DWT_CYCCNT);
    while (elapsed < limit) {
        uint32_t now = ma_reg_read(H7_DWT_CYCCNT);
        elapsed += (uint32_t)(now - last);
        last = now;
    }
}
#endif

ma_status ma_h743_clock_init(ma_h743_clock_plan *plan)
{
    if (plan == NULL) return MA_ERR_ARGUMENT;
    const uint32_t idcode = ma_reg_read(H7_DBGMCU_IDCODE);
    if ((idcode & H7_DBGMCU_IDCODE_DEV_ID) != MA_H743_DEV_ID) return MA_ERR_IO; /* not an H742/743/750/753 */
    ma_status s = ma_h743_clock_plan_for(idcode >> H7_DBGMCU_IDCODE_REV_ID_Pos, MA_H743_HSE_HZ, plan);
    if (s != MA_OK) return s;

    /* 2. supply from the LDO (the I-EVAL's VCAP configuration); the configuration is write-once */
    ma_reg_modify(H7_PWR_CR3, H7_PWR_CR3_SCUEN | H7_PWR_CR3_LDOEN | H7_PWR_CR3_BYPASS, H7_PWR_CR3_LDOEN);
    if ((s = ma_reg_wait(H7_PWR_CSR1, H7_PWR_CSR1_ACTVOSRDY, H7_PWR_CSR1_ACTVOSRDY, TIMEOUT_VOS_US)) != MA_OK) return s;
    /* 3. VOS1, then VOS0 through the overdrive */
    ma_reg_modify(H7_PWR_D3CR, H7_PWR_D3CR_VOS, ma_reg_field(3u, H7_PWR_D3CR_VOS_Pos));
    if ((s = ma_reg_wait(H7_PWR_D3CR, H7_PWR_D3CR_VOSRDY, H7_PWR_D3CR_VOSRDY, TIMEOUT_VOS_US)) != MA_OK) return s;
    if (plan->vos0) {
        ma_reg_modify(H7_RCC_APB4ENR, 0u, H7_RCC_APB4ENR_SYSCFGEN);
        (void)ma_reg_read(H7_RCC_APB4ENR); /* the clock is on once the write has completed */
        ma_reg_modify(H7_SYSCFG_PWRCR, 0u, H7_SYSCFG_PWRCR_ODEN);
        if ((s = ma_reg_wait(H7_PWR_D3CR, H7_PWR_D3CR_VOSRDY, H7_PWR_D3CR_VOSRDY, TIMEOUT_VOS_US)) != MA_OK) return s;
    }
    /* 4. HSE */
    if (MA_H743_HSE_BYPASS) ma_reg_modify(H7_RCC_CR, 0u, H7_RCC_CR_HSEBYP);
    ma_reg_modify(H7_RCC_CR, 0u, H7_RCC_CR_HSEON);
    if ((s = ma_reg_wait(H7_RCC_CR, H7_RCC_CR_HSERDY, H7_RCC_CR_HSERDY, TIMEOUT_HSE_US)) != MA_OK) return s;
    /* 5. PLL1 (off after reset; configured only while off) */
    ma_reg_modify(H7_RCC_CR, H7_RCC_CR_PLL1ON, 0u);
    if ((s = ma_reg_wait(H7_RCC_CR, H7_RCC_CR_PLL1RDY, 0u, TIMEOUT_PLL_US)) != MA_OK) return s;
    ma_reg_modify(H7_RCC_PLLCKSELR, H7_RCC_PLLCKSELR_PLLSRC | H7_RCC_PLLCKSELR_DIVM1,
                  H7_RCC_PLLCKSELR_PLLSRC_HSE | ma_reg_field(plan->divm, H7_RCC_PLLCKSELR_DIVM1_Pos));
    ma_reg_write(H7_RCC_PLL1DIVR, ma_reg_field(plan->divn - 1u, H7_RCC_PLL1DIVR_N1_Pos) |
                                      ma_reg_field(plan->divp - 1u, H7_RCC_PLL1DIVR_P1_Pos) |
                                      ma_reg_field(plan->divq - 1u, H7_RCC_PLL1DIVR_Q1_Pos) |
                                      ma_reg_field(plan->divr - 1u, H7_RCC_PLL1DIVR_R1_Pos));
    ma_reg_modify(H7_RCC_PLLCFGR,
                  H7_RCC_PLLCFGR_PLL1FRACEN | H7_RCC_PLLCFGR_PLL1VCOSEL | H7_RCC_PLLCFGR_PLL1RGE,
                  ma_reg_field(plan->rge, H7_RCC_PLLCFGR_PLL1RGE_Pos) | (plan->vcosel ? H7_RCC_PLLCFGR_PLL1VCOSEL : 0u) |
                      H7_RCC_PLLCFGR_DIVP1EN | H7_RCC_PLLCFGR_DIVQ1EN | H7_RCC_PLLCFGR_DIVR1EN);
    ma_reg_modify(H7_RCC_CR, 0u, H7_RCC_CR_PLL1ON);
    if ((s = ma_reg_wait(H7_RCC_CR, H7_RCC_CR_PLL1RDY, H7_RCC_CR_PLL1RDY, TIMEOUT_PLL_US)) != MA_OK) return s;
    /* 6. flash wait states for the faster clock, before the switch; the write must have taken effect */
    const uint32_t acr = ma_reg_field(plan->latency, H7_FLASH_ACR_LATENCY_Pos) |
                         ma_reg_field(plan->wrhighfreq, H7_FLASH_ACR_WRHIGHFREQ_Pos);
    ma_reg_modify(H7_FLASH_ACR, H7_FLASH_ACR_LATENCY | H7_FLASH_ACR_WRHIGHFREQ, acr);
    if ((ma_reg_read(H7_FLASH_ACR) & (H7_FLASH_ACR_LATENCY | H7_FLASH_ACR_WRHIGHFREQ)) != acr) return MA_ERR_IO;
    /* 7. prescalers: CPU /1, AXI/AHB /2, every APB /2 */
    ma_reg_modify(H7_RCC_D1CFGR, H7_RCC_D1CFGR_D1CPRE | H7_RCC_D1CFGR_HPRE | H7_RCC_D1CFGR_D1PPRE,
                  ma_reg_field(H7_RCC_HPRE_DIV2, H7_RCC_D1CFGR_HPRE_Pos) |
                      ma_reg_field(H7_RCC_PPRE_DIV2, H7_RCC_D1CFGR_D1PPRE_Pos));
    ma_reg_modify(H7_RCC_D2CFGR, H7_RCC_D2CFGR_D2PPRE1 | H7_RCC_D2CFGR_D2PPRE2,
                  ma_reg_field(H7_RCC_PPRE_DIV2, H7_RCC_D2CFGR_D2PPRE1_Pos) |
                      ma_reg_field(H7_RCC_PPRE_DIV2, H7_RCC_D2CFGR_D2PPRE2_Pos));
    ma_reg_modify(H7_RCC_D3CFGR, H7_RCC_D3CFGR_D3PPRE, ma_reg_field(H7_RCC_PPRE_DIV2, H7_RCC_D3CFGR_D3PPRE_Pos));
    /* 8. the switch */
    ma_reg_modify(H7_RCC_CFGR, H7_RCC_CFGR_SW, ma_reg_field(H7_RCC_CFGR_SW_PLL1, H7_RCC_CFGR_SW_Pos));
    if ((s = ma_reg_wait(H7_RCC_CFGR, H7_RCC_CFGR_SWS, ma_reg_field(H7_RCC_CFGR_SW_PLL1, H7_RCC_CFGR_SWS_Pos),
                         TIMEOUT_SW_US)) != MA_OK) {
        return s;
    }
    ma_reg_core_hz = plan->sys_hz;
    /* kernel clocks: QUADSPI and FMC from rcc_hclk3, USART1 from rcc_pclk2, USART3 (NUCLEO) from rcc_pclk1 (the
     * reset values, made explicit; both APB clocks are sys / 4) */
    ma_reg_modify(H7_RCC_D1CCIPR, H7_RCC_D1CCIPR_QSPISEL | H7_RCC_D1CCIPR_FMCSEL, 0u);
    ma_reg_modify(H7_RCC_D2CCIP2R, H7_RCC_D2CCIP2R_USART16SEL | H7_RCC_D2CCIP2R_USART28SEL, 0u);
    return MA_OK;
}
