/* stm32h743_regs.h: every register address and bit field the STM32H743 board layer uses, named once.
 *
 * Sources: RM0433 (STM32H742/743/750/753 reference manual, rev 8) for the peripherals, the ARMv7-M
 * Architecture Reference Manual (DDI0403E, section B3) and the Cortex-M7 TRM for the core registers.
 * Naming: H7_<NAME> where <NAME> is what ST's CMSIS device header (stm32h743xx.h, cmsis_device_h7) or
 * CMSIS core_cm7.h calls the same thing: H7_<PERIPH>_BASE = <PERIPH>_BASE, H7_<PERIPH>_<REG> = the
 * register's address (ST: <PERIPH>_BASE + offsetof(<PERIPH>_TypeDef, <REG>)), H7_<FIELD> = the field's
 * mask, H7_<FIELD>_Pos its first bit. tests/test_board_stm32h743_regs.py checks each of them against
 * ST's header (when it is available). Values only: no types, no code. */
#ifndef STM32H743_REGS_H
#define STM32H743_REGS_H

/* ---- memories (RM0433 2.3.2, Table 7 "Register boundary addresses"; Table 6 memory map) ---- */
#define H7_D1_AXISRAM_BASE 0x24000000u
#define H7_D2_AHBSRAM_BASE 0x30000000u /* SRAM1 | SRAM2 | SRAM3: 128 + 128 + 32 KB */
#define H7_QSPI_BASE 0x90000000u       /* QUADSPI memory-mapped region (256 MB window) */
#define H7_FMC_SDRAM_BANK1_BASE 0xC0000000u /* RM0433 22.4 "External device address mapping" (BMAP = 00) */
#define H7_FMC_SDRAM_BANK2_BASE 0xD0000000u

/* ---- peripheral bases (RM0433 2.3.2, Table 7) ---- */
#define H7_MDMA_BASE 0x52000000u
#define H7_FLASH_R_BASE 0x52002000u
#define H7_FMC_R_BASE 0x52004000u
#define H7_FMC_Bank1_R_BASE 0x52004000u   /* FMC_BCR1 (holds FMCEN) */
#define H7_FMC_Bank5_6_R_BASE 0x52004140u /* the SDRAM controller registers */
#define H7_QSPI_R_BASE 0x52005000u
#define H7_USART1_BASE 0x40011000u
#define H7_USART3_BASE 0x40004800u /* NUCLEO-H743ZI console (ST-LINK virtual COM port) */
#define H7_GPIOA_BASE 0x58020000u /* GPIOx = GPIOA + 0x400 * x */
#define H7_GPIOB_BASE 0x58020400u
#define H7_GPIOD_BASE 0x58020C00u
#define H7_GPIOE_BASE 0x58021000u
#define H7_GPIOF_BASE 0x58021400u
#define H7_GPIOG_BASE 0x58021800u
#define H7_GPIOH_BASE 0x58021C00u
#define H7_GPIOI_BASE 0x58022000u
#define H7_RCC_BASE 0x58024400u
#define H7_PWR_BASE 0x58024800u
#define H7_SYSCFG_BASE 0x58000400u
#define H7_DBGMCU_BASE 0x5C001000u

/* ---- PWR (RM0433 6.8 "PWR registers") ---- */
#define H7_PWR_CSR1 (H7_PWR_BASE + 0x04u)
#define H7_PWR_CR3 (H7_PWR_BASE + 0x0Cu)
#define H7_PWR_D3CR (H7_PWR_BASE + 0x18u)
#define H7_PWR_CSR1_ACTVOSRDY (1u << 13) /* the VOS in use is ready */
#define H7_PWR_CR3_BYPASS (1u << 0)
#define H7_PWR_CR3_LDOEN (1u << 1)
#define H7_PWR_CR3_SCUEN (1u << 2) /* supply configuration update enable (write-once after reset) */
#define H7_PWR_D3CR_VOS_Pos 14u
#define H7_PWR_D3CR_VOS (3u << 14)  /* 0b11 = VOS1, 0b10 = VOS2, 0b01 = VOS3; VOS0 = VOS1 + SYSCFG ODEN */
#define H7_PWR_D3CR_VOSRDY (1u << 13)

/* ---- SYSCFG (RM0433 12.3.13 "SYSCFG power control register") ---- */
#define H7_SYSCFG_PWRCR (H7_SYSCFG_BASE + 0x2Cu)
#define H7_SYSCFG_PWRCR_ODEN (1u << 0) /* overdrive: VOS1 -> VOS0 (480 MHz on revision V) */

/* ---- DBGMCU (RM0433 60.5.8 "DBGMCU identity code register") ---- */
#define H7_DBGMCU_IDCODE (H7_DBGMCU_BASE + 0x00u)
#define H7_DBGMCU_IDCODE_DEV_ID 0x00000FFFu /* 0x450 = STM32H742/743/750/753 */
#define H7_DBGMCU_IDCODE_REV_ID_Pos 16u
#define H7_DBGMCU_IDCODE_REV_ID 0xFFFF0000u /* 0x1001 Z, 0x1003 Y, 0x2001 X, 0x2003 V */

/* ---- RCC (RM0433 8.7 "RCC register description") ---- */
#define H7_RCC_CR (H7_RCC_BASE + 0x000u)
#define H7_RCC_CFGR (H7_RCC_BASE + 0x010u)
#define H7_RCC_D1CFGR (H7_RCC_BASE + 0x018u)
#define H7_RCC_D2CFGR (H7_RCC_BASE + 0x01Cu)
#define H7_RCC_D3CFGR (H7_RCC_BASE + 0x020u)
#define H7_RCC_PLLCKSELR (H7_RCC_BASE + 0x028u)
#define H7_RCC_PLLCFGR (H7_RCC_BASE + 0x02Cu)
#define H7_RCC_PLL1DIVR (H7_RCC_BASE + 0x030u)
#define H7_RCC_D1CCIPR (H7_RCC_BASE + 0x04Cu)
#define H7_RCC_D2CCIP2R (H7_RCC_BASE + 0x054u)
#define H7_RCC_AHB3ENR (H7_RCC_BASE + 0x0D4u)
#define H7_RCC_AHB2ENR (H7_RCC_BASE + 0x0DCu)
#define H7_RCC_AHB4ENR (H7_RCC_BASE + 0x0E0u)
#define H7_RCC_APB1LENR (H7_RCC_BASE + 0x0E8u)
#define H7_RCC_APB2ENR (H7_RCC_BASE + 0x0F0u)
#define H7_RCC_APB4ENR (H7_RCC_BASE + 0x0F4u)

#define H7_RCC_CR_HSEON (1u << 16)
#define H7_RCC_CR_HSERDY (1u << 17)
#define H7_RCC_CR_HSEBYP (1u << 18)
#define H7_RCC_CR_PLL1ON (1u << 24)
#define H7_RCC_CR_PLL1RDY (1u << 25)
#define H7_RCC_CFGR_SW_Pos 0u
#define H7_RCC_CFGR_SW (7u << 0)
#define H7_RCC_CFGR_SWS_Pos 3u
#define H7_RCC_CFGR_SWS (7u << 3)
#define H7_RCC_CFGR_SW_PLL1 3u /* SW value selecting pll1_p_ck (SWS reads the same value) */
#define H7_RCC_D1CFGR_HPRE_Pos 0u
#define H7_RCC_D1CFGR_HPRE (0xFu << 0)
#define H7_RCC_D1CFGR_D1PPRE_Pos 4u
#define H7_RCC_D1CFGR_D1PPRE (7u << 4)
#define H7_RCC_D1CFGR_D1CPRE_Pos 8u
#define H7_RCC_D1CFGR_D1CPRE (0xFu << 8)
#define H7_RCC_D2CFGR_D2PPRE1_Pos 4u
#define H7_RCC_D2CFGR_D2PPRE1 (7u << 4)
#define H7_RCC_D2CFGR_D2PPRE2_Pos 8u
#define H7_RCC_D2CFGR_D2PPRE2 (7u << 8)
#define H7_RCC_D3CFGR_D3PPRE_Pos 4u
#define H7_RCC_D3CFGR_D3PPRE (7u << 4)
/* prescaler encodings: HPRE/D1CPRE 0b1000 = /2; D1PPRE/D2PPREx/D3PPRE 0b100 = /2; 0 = /1 */
#define H7_RCC_HPRE_DIV2 8u
#define H7_RCC_PPRE_DIV2 4u
#define H7_RCC_PLLCKSELR_PLLSRC_Pos 0u
#define H7_RCC_PLLCKSELR_PLLSRC (3u << 0)
#define H7_RCC_PLLCKSELR_PLLSRC_HSE (2u << 0)
#define H7_RCC_PLLCKSELR_DIVM1_Pos 4u
#define H7_RCC_PLLCKSELR_DIVM1 (0x3Fu << 4)
#define H7_RCC_PLLCFGR_PLL1FRACEN (1u << 0)
#define H7_RCC_PLLCFGR_PLL1VCOSEL (1u << 1) /* 0: wide VCO 192..960 MHz (rev V; 836 before), 1: medium 150..420 */
#define H7_RCC_PLLCFGR_PLL1RGE_Pos 2u
#define H7_RCC_PLLCFGR_PLL1RGE (3u << 2) /* reference input range: 0 1-2 MHz, 1 2-4, 2 4-8, 3 8-16 */
#define H7_RCC_PLLCFGR_DIVP1EN (1u << 16)
#define H7_RCC_PLLCFGR_DIVQ1EN (1u << 17)
#define H7_RCC_PLLCFGR_DIVR1EN (1u << 18)
#define H7_RCC_PLL1DIVR_N1_Pos 0u /* fields hold value - 1 */
#define H7_RCC_PLL1DIVR_N1 (0x1FFu << 0)
#define H7_RCC_PLL1DIVR_P1_Pos 9u
#define H7_RCC_PLL1DIVR_P1 (0x7Fu << 9)
#define H7_RCC_PLL1DIVR_Q1_Pos 16u
#define H7_RCC_PLL1DIVR_Q1 (0x7Fu << 16)
#define H7_RCC_PLL1DIVR_R1_Pos 24u
#define H7_RCC_PLL1DIVR_R1 (0x7Fu << 24)
#define H7_RCC_D1CCIPR_FMCSEL_Pos 0u
#define H7_RCC_D1CCIPR_FMCSEL (3u << 0) /* 0 = rcc_hclk3 */
#define H7_RCC_D1CCIPR_QSPISEL_Pos 4u
#define H7_RCC_D1CCIPR_QSPISEL (3u << 4) /* 0 = rcc_hclk3 */
#define H7_RCC_D2CCIP2R_USART16SEL_Pos 3u
#define H7_RCC_D2CCIP2R_USART16SEL (7u << 3) /* 0 = rcc_pclk2 */
#define H7_RCC_D2CCIP2R_USART28SEL_Pos 0u
#define H7_RCC_D2CCIP2R_USART28SEL (7u << 0) /* USART2/3/4/5/7/8; 0 = rcc_pclk1 */
#define H7_RCC_AHB3ENR_MDMAEN (1u << 0)
#define H7_RCC_AHB3ENR_FMCEN (1u << 12)
#define H7_RCC_AHB3ENR_QSPIEN (1u << 14)
#define H7_RCC_AHB2ENR_D2SRAM1EN (1u << 29)
#define H7_RCC_AHB2ENR_D2SRAM2EN (1u << 30)
#define H7_RCC_AHB2ENR_D2SRAM3EN (1u << 31)
#define H7_RCC_AHB4ENR_GPIOAEN (1u << 0) /* GPIOxEN = bit x */
#define H7_RCC_APB2ENR_USART1EN (1u << 4)
#define H7_RCC_APB1LENR_USART3EN (1u << 18)
#define H7_RCC_APB4ENR_SYSCFGEN (1u << 1)

/* ---- embedded flash interface (RM0433 4.9.1 "FLASH access control register") ---- */
#define H7_FLASH_ACR (H7_FLASH_R_BASE + 0x00u)
#define H7_FLASH_ACR_LATENCY_Pos 0u
#define H7_FLASH_ACR_LATENCY (0xFu << 0)
#define H7_FLASH_ACR_WRHIGHFREQ_Pos 4u
#define H7_FLASH_ACR_WRHIGHFREQ (3u << 4)

/* ---- GPIO (RM0433 11.4 "GPIO registers") ---- */
#define H7_GPIO_MODER 0x00u /* offsets from a GPIOx base */
#define H7_GPIO_OTYPER 0x04u
#define H7_GPIO_OSPEEDR 0x08u
#define H7_GPIO_PUPDR 0x0Cu
#define H7_GPIO_AFRL 0x20u /* ST: AFR[0] */
#define H7_GPIO_AFRH 0x24u /* ST: AFR[1] */
#define H7_GPIO_MODE_AF 2u
#define H7_GPIO_SPEED_VERY_HIGH 3u
#define H7_GPIO_PULL_UP 1u

/* ---- QUADSPI (RM0433 23.5 "QUADSPI registers") ---- */
#define H7_QUADSPI_CR (H7_QSPI_R_BASE + 0x00u)
#define H7_QUADSPI_DCR (H7_QSPI_R_BASE + 0x04u)
#define H7_QUADSPI_SR (H7_QSPI_R_BASE + 0x08u)
#define H7_QUADSPI_FCR (H7_QSPI_R_BASE + 0x0Cu)
#define H7_QUADSPI_DLR (H7_QSPI_R_BASE + 0x10u)
#define H7_QUADSPI_CCR (H7_QSPI_R_BASE + 0x14u)
#define H7_QUADSPI_AR (H7_QSPI_R_BASE + 0x18u)
#define H7_QUADSPI_DR (H7_QSPI_R_BASE + 0x20u)
#define H7_QUADSPI_PSMKR (H7_QSPI_R_BASE + 0x24u)
#define H7_QUADSPI_PSMAR (H7_QSPI_R_BASE + 0x28u)
#define H7_QUADSPI_PIR (H7_QSPI_R_BASE + 0x2Cu)
#define H7_QUADSPI_CR_EN (1u << 0)
#define H7_QUADSPI_CR_ABORT (1u << 1)
#define H7_QUADSPI_CR_SSHIFT (1u << 4)
#define H7_QUADSPI_CR_DFM (1u << 6) /* dual-flash mode */
#define H7_QUADSPI_CR_FTHRES_Pos 8u
#define H7_QUADSPI_CR_FTHRES (0x1Fu << 8)
#define H7_QUADSPI_CR_APMS (1u << 22) /* automatic-polling mode stop on match */
#define H7_QUADSPI_CR_PRESCALER_Pos 24u
#define H7_QUADSPI_CR_PRESCALER (0xFFu << 24)
#define H7_QUADSPI_DCR_CKMODE (1u << 0)
#define H7_QUADSPI_DCR_CSHT_Pos 8u
#define H7_QUADSPI_DCR_CSHT (7u << 8)
#define H7_QUADSPI_DCR_FSIZE_Pos 16u
#define H7_QUADSPI_DCR_FSIZE (0x1Fu << 16) /* flash size = 2^(FSIZE + 1) bytes */
#define H7_QUADSPI_SR_TEF (1u << 0)
#define H7_QUADSPI_SR_TCF (1u << 1)
#define H7_QUADSPI_SR_FTF (1u << 2)
#define H7_QUADSPI_SR_SMF (1u << 3)
#define H7_QUADSPI_SR_BUSY (1u << 5)
#define H7_QUADSPI_SR_FLEVEL_Pos 8u
#define H7_QUADSPI_SR_FLEVEL (0x3Fu << 8)
#define H7_QUADSPI_FCR_CTEF (1u << 0)
#define H7_QUADSPI_FCR_CTCF (1u << 1)
#define H7_QUADSPI_FCR_CSMF (1u << 3)
#define H7_QUADSPI_CCR_INSTRUCTION_Pos 0u
#define H7_QUADSPI_CCR_INSTRUCTION (0xFFu << 0)
#define H7_QUADSPI_CCR_IMODE_Pos 8u /* line modes: 0 none, 1 single, 2 dual, 3 quad */
#define H7_QUADSPI_CCR_IMODE (3u << 8)
#define H7_QUADSPI_CCR_ADMODE_Pos 10u
#define H7_QUADSPI_CCR_ADMODE (3u << 10)
#define H7_QUADSPI_CCR_ADSIZE_Pos 12u /* 0 8-bit ... 3 32-bit */
#define H7_QUADSPI_CCR_ADSIZE (3u << 12)
#define H7_QUADSPI_CCR_DCYC_Pos 18u
#define H7_QUADSPI_CCR_DCYC (0x1Fu << 18)
#define H7_QUADSPI_CCR_DMODE_Pos 24u
#define H7_QUADSPI_CCR_DMODE (3u << 24)
#define H7_QUADSPI_CCR_FMODE_Pos 26u /* 0 indirect write, 1 indirect read, 2 automatic polling, 3 memory-mapped */
#define H7_QUADSPI_CCR_FMODE (3u << 26)
#define H7_QUADSPI_CCR_SIOO (1u << 28)

/* ---- FMC SDRAM (RM0433 22.7.3 "SDRAM controller registers"; 22.7.1 NOR/PSRAM BCR1 for FMCEN) ---- */
#define H7_FMC_BCR1 (H7_FMC_Bank1_R_BASE + 0x000u) /* ST: FMC_Bank1_R->BTCR[0] */
#define H7_FMC_SDCR1 (H7_FMC_Bank5_6_R_BASE + 0x00u) /* ST: FMC_Bank5_6_R->SDCR[0] */
#define H7_FMC_SDCR2 (H7_FMC_Bank5_6_R_BASE + 0x04u)
#define H7_FMC_SDTR1 (H7_FMC_Bank5_6_R_BASE + 0x08u)
#define H7_FMC_SDTR2 (H7_FMC_Bank5_6_R_BASE + 0x0Cu)
#define H7_FMC_SDCMR (H7_FMC_Bank5_6_R_BASE + 0x10u)
#define H7_FMC_SDRTR (H7_FMC_Bank5_6_R_BASE + 0x14u)
#define H7_FMC_SDSR (H7_FMC_Bank5_6_R_BASE + 0x18u)
#define H7_FMC_BCR1_FMCEN (1u << 31)
#define H7_FMC_SDCRx_NC_Pos 0u /* columns: 0 8 bits, 1 9, 2 10, 3 11 */
#define H7_FMC_SDCRx_NC (3u << 0)
#define H7_FMC_SDCRx_NR_Pos 2u /* rows: 0 11 bits, 1 12, 2 13 */
#define H7_FMC_SDCRx_NR (3u << 2)
#define H7_FMC_SDCRx_MWID_Pos 4u /* 0 8-bit, 1 16-bit, 2 32-bit */
#define H7_FMC_SDCRx_MWID (3u << 4)
#define H7_FMC_SDCRx_NB (1u << 6) /* 4 internal banks */
#define H7_FMC_SDCRx_CAS_Pos 7u
#define H7_FMC_SDCRx_CAS (3u << 7)
#define H7_FMC_SDCRx_WP (1u << 9)
#define H7_FMC_SDCRx_SDCLK_Pos 10u /* SDRAM clock: 2 = fmc_ker_ck / 2, 3 = / 3 (SDCR1 only) */
#define H7_FMC_SDCRx_SDCLK (3u << 10)
#define H7_FMC_SDCRx_RBURST (1u << 12) /* SDCR1 only */
#define H7_FMC_SDCRx_RPIPE_Pos 13u /* SDCR1 only */
#define H7_FMC_SDCRx_RPIPE (3u << 13)
#define H7_FMC_SDTRx_TMRD_Pos 0u /* all SDTR fields hold cycles - 1 */
#define H7_FMC_SDTRx_TMRD (0xFu << 0)
#define H7_FMC_SDTRx_TXSR_Pos 4u
#define H7_FMC_SDTRx_TXSR (0xFu << 4)
#define H7_FMC_SDTRx_TRAS_Pos 8u
#define H7_FMC_SDTRx_TRAS (0xFu << 8)
#define H7_FMC_SDTRx_TRC_Pos 12u /* SDTR1 only */
#define H7_FMC_SDTRx_TRC (0xFu << 12)
#define H7_FMC_SDTRx_TWR_Pos 16u
#define H7_FMC_SDTRx_TWR (0xFu << 16)
#define H7_FMC_SDTRx_TRP_Pos 20u /* SDTR1 only */
#define H7_FMC_SDTRx_TRP (0xFu << 20)
#define H7_FMC_SDTRx_TRCD_Pos 24u
#define H7_FMC_SDTRx_TRCD (0xFu << 24)
#define H7_FMC_SDCMR_MODE_Pos 0u /* 1 clock enable, 2 PALL, 3 auto-refresh, 4 load mode register */
#define H7_FMC_SDCMR_MODE (7u << 0)
#define H7_FMC_SDCMR_CTB2 (1u << 3)
#define H7_FMC_SDCMR_CTB1 (1u << 4)
#define H7_FMC_SDCMR_NRFS_Pos 5u /* number of auto-refresh - 1 */
#define H7_FMC_SDCMR_NRFS (0xFu << 5)
#define H7_FMC_SDCMR_MRD_Pos 9u
#define H7_FMC_SDCMR_MRD (0x1FFFu << 9)
#define H7_FMC_SDRTR_CRE (1u << 0)
#define H7_FMC_SDRTR_COUNT_Pos 1u
#define H7_FMC_SDRTR_COUNT (0x1FFFu << 1)
#define H7_FMC_SDSR_RE (1u << 0) /* refresh error */
#define H7_FMC_SDSR_MODES2_Pos 3u
#define H7_FMC_SDSR_MODES2 (3u << 3)

/* ---- USART (RM0433 48.7 "USART registers") ---- */
#define H7_USART1_CR1 (H7_USART1_BASE + 0x00u)
#define H7_USART1_CR2 (H7_USART1_BASE + 0x04u)
#define H7_USART1_CR3 (H7_USART1_BASE + 0x08u)
#define H7_USART1_BRR (H7_USART1_BASE + 0x0Cu)
#define H7_USART1_ISR (H7_USART1_BASE + 0x1Cu)
#define H7_USART1_ICR (H7_USART1_BASE + 0x20u)
#define H7_USART1_RDR (H7_USART1_BASE + 0x24u)
#define H7_USART1_TDR (H7_USART1_BASE + 0x28u)
#define H7_USART1_PRESC (H7_USART1_BASE + 0x2Cu)
#define H7_USART3_CR1 (H7_USART3_BASE + 0x00u)
#define H7_USART3_CR2 (H7_USART3_BASE + 0x04u)
#define H7_USART3_CR3 (H7_USART3_BASE + 0x08u)
#define H7_USART3_BRR (H7_USART3_BASE + 0x0Cu)
#define H7_USART3_ISR (H7_USART3_BASE + 0x1Cu)
#define H7_USART3_ICR (H7_USART3_BASE + 0x20u)
#define H7_USART3_RDR (H7_USART3_BASE + 0x24u)
#define H7_USART3_TDR (H7_USART3_BASE + 0x28u)
#define H7_USART3_PRESC (H7_USART3_BASE + 0x2Cu)
#define H7_USART_CR1_UE (1u << 0)
#define H7_USART_CR1_RE (1u << 2)
#define H7_USART_CR1_TE (1u << 3)
#define H7_USART_CR1_OVER8 (1u << 15)
#define H7_USART_CR1_FIFOEN (1u << 29)
#define H7_USART_ISR_PE (1u << 0)
#define H7_USART_ISR_FE (1u << 1)
#define H7_USART_ISR_NE (1u << 2)
#define H7_USART_ISR_ORE (1u << 3)
#define H7_USART_ISR_RXNE_RXFNE (1u << 5)
#define H7_USART_ISR_TC (1u << 6)
#define H7_USART_ISR_TXE_TXFNF (1u << 7)
#define H7_USART_ISR_TEACK (1u << 21)
#define H7_USART_ISR_REACK (1u << 22)
#define H7_USART_ICR_PECF (1u << 0)
#define H7_USART_ICR_FECF (1u << 1)
#define H7_USART_ICR_NECF (1u << 2)
#define H7_USART_ICR_ORECF (1u << 3)

/* ---- MDMA (RM0433 15.5 "MDMA registers"; channel x at MDMA_BASE + 0x40 + 0x40 * x) ---- */
#define H7_MDMA_Channel0_BASE (H7_MDMA_BASE + 0x40u)
#define H7_MDMA_C0_CISR (H7_MDMA_Channel0_BASE + 0x00u)
#define H7_MDMA_C0_CIFCR (H7_MDMA_Channel0_BASE + 0x04u)
#define H7_MDMA_C0_CESR (H7_MDMA_Channel0_BASE + 0x08u)
#define H7_MDMA_C0_CCR (H7_MDMA_Channel0_BASE + 0x0Cu)
#define H7_MDMA_C0_CTCR (H7_MDMA_Channel0_BASE + 0x10u)
#define H7_MDMA_C0_CBNDTR (H7_MDMA_Channel0_BASE + 0x14u)
#define H7_MDMA_C0_CSAR (H7_MDMA_Channel0_BASE + 0x18u)
#define H7_MDMA_C0_CDAR (H7_MDMA_Channel0_BASE + 0x1Cu)
#define H7_MDMA_C0_CBRUR (H7_MDMA_Channel0_BASE + 0x20u)
#define H7_MDMA_C0_CLAR (H7_MDMA_Channel0_BASE + 0x24u)
#define H7_MDMA_C0_CTBR (H7_MDMA_Channel0_BASE + 0x28u)
#define H7_MDMA_CISR_TEIF (1u << 0)
#define H7_MDMA_CISR_CTCIF (1u << 1) /* channel transfer complete */
#define H7_MDMA_CISR_BRTIF (1u << 2)
#define H7_MDMA_CISR_BTIF (1u << 3)
#define H7_MDMA_CISR_TCIF (1u << 4)
#define H7_MDMA_CISR_CRQA (1u << 16) /* channel request active */
#define H7_MDMA_CIFCR_ALL 0x1Fu    /* CTEIF | CCTCIF | CBRTIF | CBTIF | CLTCIF */
#define H7_MDMA_CCR_EN (1u << 0)
#define H7_MDMA_CCR_PL_Pos 6u
#define H7_MDMA_CCR_PL (3u << 6)
#define H7_MDMA_CCR_SWRQ (1u << 16)
#define H7_MDMA_CTCR_SINC_Pos 0u /* 2 = increment by SSIZE */
#define H7_MDMA_CTCR_SINC (3u << 0)
#define H7_MDMA_CTCR_DINC_Pos 2u
#define H7_MDMA_CTCR_DINC (3u << 2)
#define H7_MDMA_CTCR_SSIZE_Pos 4u /* 0 byte, 1 half-word, 2 word, 3 double-word */
#define H7_MDMA_CTCR_SSIZE (3u << 4)
#define H7_MDMA_CTCR_DSIZE_Pos 6u
#define H7_MDMA_CTCR_DSIZE (3u << 6)
#define H7_MDMA_CTCR_SINCOS_Pos 8u
#define H7_MDMA_CTCR_SINCOS (3u << 8)
#define H7_MDMA_CTCR_DINCOS_Pos 10u
#define H7_MDMA_CTCR_DINCOS (3u << 10)
#define H7_MDMA_CTCR_TLEN_Pos 18u /* buffer transfer length - 1 (bytes) */
#define H7_MDMA_CTCR_TLEN (0x7Fu << 18)
#define H7_MDMA_CTCR_TRGM_Pos 28u /* 1 = a request transfers one block */
#define H7_MDMA_CTCR_TRGM (3u << 28)
#define H7_MDMA_CTCR_SWRM (1u << 30) /* software request mode */
#define H7_MDMA_CBNDTR_BNDT_Pos 0u   /* block size in bytes (17 bits: up to 65536) */
#define H7_MDMA_CBNDTR_BNDT (0x1FFFFu << 0)
#define H7_MDMA_CTBR_SBUS (1u << 16) /* 1: source on the AHB/TCM bus (ITCM/DTCM), 0: AXI */
#define H7_MDMA_CTBR_DBUS (1u << 17)

/* ---- Cortex-M7 core (ARMv7-M ARM B3.2 SCB, B3.5 MPU, C1.8 DWT, C1.6 debug; CMSIS core_cm7.h) ---- */
#define H7_SCB_BASE 0xE000ED00u
#define H7_SCB_CCR (H7_SCB_BASE + 0x014u)
#define H7_SCB_CCSIDR (H7_SCB_BASE + 0x080u)
#define H7_SCB_CSSELR (H7_SCB_BASE + 0x084u)
#define H7_SCB_ICIALLU 0xE000EF50u
#define H7_SCB_DCIMVAC 0xE000EF5Cu
#define H7_SCB_DCISW 0xE000EF60u
#define H7_SCB_DCCMVAC 0xE000EF68u
#define H7_SCB_DCCIMVAC 0xE000EF70u
#define H7_SCB_CCR_DC (1u << 16)
#define H7_SCB_CCR_IC (1u << 17)
#define H7_SCB_CCSIDR_NUMSETS_Pos 13u
#define H7_SCB_CCSIDR_NUMSETS (0x7FFFu << 13)
#define H7_SCB_CCSIDR_ASSOCIATIVITY_Pos 3u
#define H7_SCB_CCSIDR_ASSOCIATIVITY (0x3FFu << 3)
#define H7_SCB_DCISW_WAY_Pos 30u /* 4-way, 32-byte lines on the Cortex-M7 */
#define H7_SCB_DCISW_SET_Pos 5u
#define H7_DCACHE_LINE 32u

#define H7_MPU_BASE 0xE000ED90u
#define H7_MPU_CTRL (H7_MPU_BASE + 0x04u)
#define H7_MPU_RNR (H7_MPU_BASE + 0x08u)
#define H7_MPU_RBAR (H7_MPU_BASE + 0x0Cu)
#define H7_MPU_RASR (H7_MPU_BASE + 0x10u)
#define H7_MPU_CTRL_ENABLE (1u << 0)
#define H7_MPU_CTRL_PRIVDEFENA (1u << 2) /* default memory map for privileged accesses elsewhere */
#define H7_MPU_RASR_ENABLE (1u << 0)
#define H7_MPU_RASR_SIZE_Pos 1u /* region size = 2^(SIZE + 1) */
#define H7_MPU_RASR_B_Pos 16u
#define H7_MPU_RASR_C_Pos 17u
#define H7_MPU_RASR_S_Pos 18u
#define H7_MPU_RASR_TEX_Pos 19u
#define H7_MPU_RASR_AP_Pos 24u /* 0 no access, 3 full access, 6 read-only */
#define H7_MPU_RASR_XN_Pos 28u

#define H7_DWT_BASE 0xE0001000u
#define H7_DWT_CTRL (H7_DWT_BASE + 0x000u)
#define H7_DWT_CYCCNT (H7_DWT_BASE + 0x004u)
#define H7_DWT_LAR (H7_DWT_BASE + 0xFB0u) /* write 0xC5ACCE55 to unlock (Cortex-M7 TRM 3.3) */
#define H7_DWT_LAR_KEY 0xC5ACCE55u
#define H7_DWT_CTRL_CYCCNTENA (1u << 0)
#define H7_DCB_BASE 0xE000EDF0u
#define H7_DCB_DEMCR (H7_DCB_BASE + 0x0Cu)
#define H7_DCB_DEMCR_TRCENA (1u << 24)

#endif /* STM32H743_REGS_H */
