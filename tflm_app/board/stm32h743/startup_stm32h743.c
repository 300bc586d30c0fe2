/* startup_stm32h743.c: the vector table and the reset of the aligner firmware on an STM32H743 (memory
 * plan: stm32h743.ld; the shared Cortex-M7 part, faults and newlib's system calls: ../ma_cortex_m_rt.c). Plain C99 + GCC attributes, no vendor sources.
 *
 * Reset (before main): paint the main stack (ma_board_stack_used() measures its high-water mark),
 * FPU on (CPACR, ARMv7-M ARM B3.2.20), the AXI SRAM read-issuing fix of silicon revision Y (errata sheet ES0392,
 * "Reading from AXI SRAM may lead to data read corruption"; as ST's SystemInit applies it), the clocks
 * of the D2 SRAM1-3 on (RCC_AHB2ENR: they are off after reset), .data copied to DTCM and .itcm_text
 * to ITCM, every named .bss zeroed (DTCM, AXI SRAM, SRAM1-3, SRAM4; the SDRAM .extram is not: the FMC is configured later by
 * ma_board_init()), VTOR set, MemManage/BusFault/UsageFault enabled, C++ constructors (TFLM), then
 * main(), which calls ma_board_init() (clock tree, caches, MPU, QUADSPI, FMC, USART1) first; main's
 * return value goes to ma_board_exit(). Vector table: the 16 Cortex-M7 exceptions and the
 * STM32H743's 150 interrupt lines (RM0433, NVIC vector table; names as ST's CMSIS device header
 * stm32h743xx.h spells them, each a weak alias of Default_Handler for the board layer to override).
 * A fault or an unexpected interrupt prints one line on the console and exits with 254 / 253. */
#include <stdint.h>

#include "board.h"
#include "ma_cortex_m_rt.h"
#include "stm32h743_regs.h"

extern uint32_t __data_start__, __data_end__, __data_load__, __itcm_start__, __itcm_end__, __itcm_load__;
extern uint32_t __bss_start__, __bss_end__, __axisram_bss_start__, __axisram_bss_end__;
extern uint32_t __sram123_bss_start__, __sram123_bss_end__, __sram4_bss_start__, __sram4_bss_end__;
extern uint32_t __stack_top__, __vectors_start__;

/* System control block (ARMv7-M ARM B3.2.2) */
#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
/* STM32H743 registers: named once in stm32h743_regs.h (checked against ST's device header) */
#define REG(addr) (*(volatile uint32_t *)(addr))
#define DBGMCU_IDCODE REG(H7_DBGMCU_IDCODE) /* REV_ID 31:16: 0x1003 revision Y, 0x2003 revision V */
/* AXI interconnect, target 7 (AXI SRAM) read issuing capability (RM0433 AXI interconnect, AXI_TARG7_FN_MOD) */
#define AXI_TARG7_FN_MOD (*(volatile uint32_t *)0x51008108u)
#define RCC_AHB2ENR REG(H7_RCC_AHB2ENR)
#define RCC_AHB2ENR_SRAM123EN (H7_RCC_AHB2ENR_D2SRAM1EN | H7_RCC_AHB2ENR_D2SRAM2EN | H7_RCC_AHB2ENR_D2SRAM3EN)

/* Reset_Handler (stack paint), Fault_Handler, ma_board_stack_used and newlib's system calls: ../ma_cortex_m_rt.c */
void ma_rt_reset(void)
{
    ma_rt_fpu_on();
    if ((DBGMCU_IDCODE >> 16) < 0x2000u) AXI_TARG7_FN_MOD = 1u; /* revision Y erratum (ES0392) */
    RCC_AHB2ENR |= RCC_AHB2ENR_SRAM123EN;
    (void)RCC_AHB2ENR; /* read back: the clocks are on before the first access */
    __asm__ volatile("dsb" ::: "memory");
    ma_rt_copy(&__data_start__, &__data_end__, &__data_load__);
    ma_rt_copy(&__itcm_start__, &__itcm_end__, &__itcm_load__);
    ma_rt_zero(&__bss_start__, &__bss_end__);
    ma_rt_zero(&__axisram_bss_start__, &__axisram_bss_end__);
    ma_rt_zero(&__sram123_bss_start__, &__sram123_bss_end__);
    ma_rt_zero(&__sram4_bss_start__, &__sram4_bss_end__);
    SCB_VTOR = (uint32_t)(uintptr_t)&__vectors_start__;
    ma_rt_run();
}

/* an interrupt nobody handles: its exception number (IPSR) on the console, exit 253 */
void Default_Handler(void);
void Default_Handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    char msg[] = "UNHANDLED exception ........\n";
    ma_rt_hex(msg + 20, ipsr & 0x1FFu);
    ma_board_console_write(msg, sizeof msg - 1);
    ma_board_exit(253);
}

#define WEAK_EXC(name) void name(void) __attribute__((weak, alias("Default_Handler")))
/* the fault exceptions: Fault_Handler's one console line (an alias must name a symbol of this file) */
void fault_entry(void);
void fault_entry(void) { Fault_Handler(); }
#define WEAK_FAULT(name) void name(void) __attribute__((weak, alias("fault_entry")))
#define WEAK_IRQ(name) void name(void) __attribute__((weak, alias("Default_Handler")))

WEAK_FAULT(NMI_Handler); WEAK_FAULT(HardFault_Handler); WEAK_FAULT(MemManage_Handler);
WEAK_FAULT(BusFault_Handler); WEAK_FAULT(UsageFault_Handler);
WEAK_EXC(SVC_Handler); WEAK_EXC(DebugMon_Handler); WEAK_EXC(PendSV_Handler); WEAK_EXC(SysTick_Handler);

WEAK_IRQ(WWDG_IRQHandler); WEAK_IRQ(PVD_AVD_IRQHandler); WEAK_IRQ(TAMP_STAMP_IRQHandler);
WEAK_IRQ(RTC_WKUP_IRQHandler); WEAK_IRQ(FLASH_IRQHandler); WEAK_IRQ(RCC_IRQHandler);
WEAK_IRQ(EXTI0_IRQHandler); WEAK_IRQ(EXTI1_IRQHandler); WEAK_IRQ(EXTI2_IRQHandler);
WEAK_IRQ(EXTI3_IRQHandler); WEAK_IRQ(EXTI4_IRQHandler); WEAK_IRQ(DMA1_Stream0_IRQHandler);
WEAK_IRQ(DMA1_Stream1_IRQHandler); WEAK_IRQ(DMA1_Stream2_IRQHandler); WEAK_IRQ(DMA1_Stream3_IRQHandler);
WEAK_IRQ(DMA1_Stream4_IRQHandler); WEAK_IRQ(DMA1_Stream5_IRQHandler); WEAK_IRQ(DMA1_Stream6_IRQHandler);
WEAK_IRQ(ADC_IRQHandler); WEAK_IRQ(FDCAN1_IT0_IRQHandler); WEAK_IRQ(FDCAN2_IT0_IRQHandler);
WEAK_IRQ(FDCAN1_IT1_IRQHandler); WEAK_IRQ(FDCAN2_IT1_IRQHandler); WEAK_IRQ(EXTI9_5_IRQHandler);
WEAK_IRQ(TIM1_BRK_IRQHandler); WEAK_IRQ(TIM1_UP_IRQHandler); WEAK_IRQ(TIM1_TRG_COM_IRQHandler);
WEAK_IRQ(TIM1_CC_IRQHandler); WEAK_IRQ(TIM2_IRQHandler); WEAK_IRQ(TIM3_IRQHandler);
WEAK_IRQ(TIM4_IRQHandler); WEAK_IRQ(I2C1_EV_IRQHandler); WEAK_IRQ(I2C1_ER_IRQHandler);
WEAK_IRQ(I2C2_EV_IRQHandler); WEAK_IRQ(I2C2_ER_IRQHandler); WEAK_IRQ(SPI1_IRQHandler);
WEAK_IRQ(SPI2_IRQHandler); WEAK_IRQ(USART1_IRQHandler); WEAK_IRQ(USART2_IRQHandler);
WEAK_IRQ(USART3_IRQHandler); WEAK_IRQ(EXTI15_10_IRQHandler); WEAK_IRQ(RTC_Alarm_IRQHandler);
WEAK_IRQ(TIM8_BRK_TIM12_IRQHandler); WEAK_IRQ(TIM8_UP_TIM13_IRQHandler); WEAK_IRQ(TIM8_TRG_COM_TIM14_IRQHandler);
WEAK_IRQ(TIM8_CC_IRQHandler); WEAK_IRQ(DMA1_Stream7_IRQHandler); WEAK_IRQ(FMC_IRQHandler);
WEAK_IRQ(SDMMC1_IRQHandler); WEAK_IRQ(TIM5_IRQHandler); WEAK_IRQ(SPI3_IRQHandler);
WEAK_IRQ(UART4_IRQHandler); WEAK_IRQ(UART5_IRQHandler); WEAK_IRQ(TIM6_DAC_IRQHandler);
WEAK_IRQ(TIM7_IRQHandler); WEAK_IRQ(DMA2_Stream0_IRQHandler); WEAK_IRQ(DMA2_Stream1_IRQHandler);
WEAK_IRQ(DMA2_Stream2_IRQHandler); WEAK_IRQ(DMA2_Stream3_IRQHandler); WEAK_IRQ(DMA2_Stream4_IRQHandler);
WEAK_IRQ(ETH_IRQHandler); WEAK_IRQ(ETH_WKUP_IRQHandler); WEAK_IRQ(FDCAN_CAL_IRQHandler);
WEAK_IRQ(DMA2_Stream5_IRQHandler); WEAK_IRQ(DMA2_Stream6_IRQHandler); WEAK_IRQ(DMA2_Stream7_IRQHandler);
WEAK_IRQ(USART6_IRQHandler); WEAK_IRQ(I2C3_EV_IRQHandler); WEAK_IRQ(I2C3_ER_IRQHandler);
WEAK_IRQ(OTG_HS_EP1_OUT_IRQHandler); WEAK_IRQ(OTG_HS_EP1_IN_IRQHandler); WEAK_IRQ(OTG_HS_WKUP_IRQHandler);
WEAK_IRQ(OTG_HS_IRQHandler); WEAK_IRQ(DCMI_IRQHandler); WEAK_IRQ(RNG_IRQHandler);
WEAK_IRQ(FPU_IRQHandler); WEAK_IRQ(UART7_IRQHandler); WEAK_IRQ(UART8_IRQHandler);
WEAK_IRQ(SPI4_IRQHandler); WEAK_IRQ(SPI5_IRQHandler); WEAK_IRQ(SPI6_IRQHandler);
WEAK_IRQ(SAI1_IRQHandler); WEAK_IRQ(LTDC_IRQHandler); WEAK_IRQ(LTDC_ER_IRQHandler);
WEAK_IRQ(DMA2D_IRQHandler); WEAK_IRQ(SAI2_IRQHandler); WEAK_IRQ(QUADSPI_IRQHandler);
WEAK_IRQ(LPTIM1_IRQHandler); WEAK_IRQ(CEC_IRQHandler); WEAK_IRQ(I2C4_EV_IRQHandler);
WEAK_IRQ(I2C4_ER_IRQHandler); WEAK_IRQ(SPDIF_RX_IRQHandler); WEAK_IRQ(OTG_FS_EP1_OUT_IRQHandler);
WEAK_IRQ(OTG_FS_EP1_IN_IRQHandler); WEAK_IRQ(OTG_FS_WKUP_IRQHandler); WEAK_IRQ(OTG_FS_IRQHandler);
WEAK_IRQ(DMAMUX1_OVR_IRQHandler); WEAK_IRQ(HRTIM1_Master_IRQHandler); WEAK_IRQ(HRTIM1_TIMA_IRQHandler);
WEAK_IRQ(HRTIM1_TIMB_IRQHandler); WEAK_IRQ(HRTIM1_TIMC_IRQHandler); WEAK_IRQ(HRTIM1_TIMD_IRQHandler);
WEAK_IRQ(HRTIM1_TIME_IRQHandler); WEAK_IRQ(HRTIM1_FLT_IRQHandler); WEAK_IRQ(DFSDM1_FLT0_IRQHandler);
WEAK_IRQ(DFSDM1_FLT1_IRQHandler); WEAK_IRQ(DFSDM1_FLT2_IRQHandler); WEAK_IRQ(DFSDM1_FLT3_IRQHandler);
WEAK_IRQ(SAI3_IRQHandler); WEAK_IRQ(SWPMI1_IRQHandler); WEAK_IRQ(TIM15_IRQHandler);
WEAK_IRQ(TIM16_IRQHandler); WEAK_IRQ(TIM17_IRQHandler); WEAK_IRQ(MDIOS_WKUP_IRQHandler);
WEAK_IRQ(MDIOS_IRQHandler); WEAK_IRQ(JPEG_IRQHandler); WEAK_IRQ(MDMA_IRQHandler);
WEAK_IRQ(SDMMC2_IRQHandler); WEAK_IRQ(HSEM1_IRQHandler); WEAK_IRQ(ADC3_IRQHandler);
WEAK_IRQ(DMAMUX2_OVR_IRQHandler); WEAK_IRQ(BDMA_Channel0_IRQHandler); WEAK_IRQ(BDMA_Channel1_IRQHandler);
WEAK_IRQ(BDMA_Channel2_IRQHandler); WEAK_IRQ(BDMA_Channel3_IRQHandler); WEAK_IRQ(BDMA_Channel4_IRQHandler);
WEAK_IRQ(BDMA_Channel5_IRQHandler); WEAK_IRQ(BDMA_Channel6_IRQHandler); WEAK_IRQ(BDMA_Channel7_IRQHandler);
WEAK_IRQ(COMP1_IRQHandler); WEAK_IRQ(LPTIM2_IRQHandler); WEAK_IRQ(LPTIM3_IRQHandler);
WEAK_IRQ(LPTIM4_IRQHandler); WEAK_IRQ(LPTIM5_IRQHandler); WEAK_IRQ(LPUART1_IRQHandler);
WEAK_IRQ(CRS_IRQHandler); WEAK_IRQ(SAI4_IRQHandler); WEAK_IRQ(WAKEUP_PIN_IRQHandler);

typedef void (*vector_t)(void);
#define MA_H743_VECTORS (16 + 150)

/* index = exception number; an interrupt line n is exception 16 + n (its IRQn in stm32h743xx.h) */
__attribute__((section(".isr_vector"), used)) const vector_t ma_h743_vectors[MA_H743_VECTORS] = {
    [0] = (vector_t)(uintptr_t)&__stack_top__,
    [1] = Reset_Handler,
    [2] = NMI_Handler,
    [3] = HardFault_Handler,
    [4] = MemManage_Handler,
    [5] = BusFault_Handler,
    [6] = UsageFault_Handler,
    [11] = SVC_Handler,
    [12] = DebugMon_Handler,
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    [16 + 0] = WWDG_IRQHandler,
    [16 + 1] = PVD_AVD_IRQHandler,
    [16 + 2] = TAMP_STAMP_IRQHandler,
    [16 + 3] = RTC_WKUP_IRQHandler,
    [16 + 4] = FLASH_IRQHandler,
    [16 + 5] = RCC_IRQHandler,
    [16 + 6] = EXTI0_IRQHandler,
    [16 + 7] = EXTI1_IRQHandler,
    [16 + 8] = EXTI2_IRQHandler,
    [16 + 9] = EXTI3_IRQHandler,
    [16 + 10] = EXTI4_IRQHandler,
    [16 + 11] = DMA1_Stream0_IRQHandler,
    [16 + 12] = DMA1_Stream1_IRQHandler,
    [16 + 13] = DMA1_Stream2_IRQHandler,
    [16 + 14] = DMA1_Stream3_IRQHandler,
    [16 + 15] = DMA1_Stream4_IRQHandler,
    [16 + 16] = DMA1_Stream5_IRQHandler,
    [16 + 17] = DMA1_Stream6_IRQHandler,
    [16 + 18] = ADC_IRQHandler,
    [16 + 19] = FDCAN1_IT0_IRQHandler,
    [16 + 20] = FDCAN2_IT0_IRQHandler,
    [16 + 21] = FDCAN1_IT1_IRQHandler,
    [16 + 22] = FDCAN2_IT1_IRQHandler,
    [16 + 23] = EXTI9_5_IRQHandler,
    [16 + 24] = TIM1_BRK_IRQHandler,
    [16 + 25] = TIM1_UP_IRQHandler,
    [16 + 26] = TIM1_TRG_COM_IRQHandler,
    [16 + 27] = TIM1_CC_IRQHandler,
    [16 + 28] = TIM2_IRQHandler,
    [16 + 29] = TIM3_IRQHandler,
    [16 + 30] = TIM4_IRQHandler,
    [16 + 31] = I2C1_EV_IRQHandler,
    [16 + 32] = I2C1_ER_IRQHandler,
    [16 + 33] = I2C2_EV_IRQHandler,
    [16 + 34] = I2C2_ER_IRQHandler,
    [16 + 35] = SPI1_IRQHandler,
    [16 + 36] = SPI2_IRQHandler,
    [16 + 37] = USART1_IRQHandler,
    [16 + 38] = USART2_IRQHandler,
    [16 + 39] = USART3_IRQHandler,
    [16 + 40] = EXTI15_10_IRQHandler,
    [16 + 41] = RTC_Alarm_IRQHandler,
    [16 + 43] = TIM8_BRK_TIM12_IRQHandler,
    [16 + 44] = TIM8_UP_TIM13_IRQHandler,
    [16 + 45] = TIM8_TRG_COM_TIM14_IRQHandler,
    [16 + 46] = TIM8_CC_IRQHandler,
    [16 + 47] = DMA1_Stream7_IRQHandler,
    [16 + 48] = FMC_IRQHandler,
    [16 + 49] = SDMMC1_IRQHandler,
    [16 + 50] = TIM5_IRQHandler,
    [16 + 51] = SPI3_IRQHandler,
    [16 + 52] = UART4_IRQHandler,
    [16 + 53] = UART5_IRQHandler,
    [16 + 54] = TIM6_DAC_IRQHandler,
    [16 + 55] = TIM7_IRQHandler,
    [16 + 56] = DMA2_Stream0_IRQHandler,
    [16 + 57] = DMA2_Stream1_IRQHandler,
    [16 + 58] = DMA2_Stream2_IRQHandler,
    [16 + 59] = DMA2_Stream3_IRQHandler,
    [16 + 60] = DMA2_Stream4_IRQHandler,
    [16 + 61] = ETH_IRQHandler,
    [16 + 62] = ETH_WKUP_IRQHandler,
    [16 + 63] = FDCAN_CAL_IRQHandler,
    [16 + 68] = DMA2_Stream5_IRQHandler,
    [16 + 69] = DMA2_Stream6_IRQHandler,
    [16 + 70] = DMA2_Stream7_IRQHandler,
    [16 + 71] = USART6_IRQHandler,
    [16 + 72] = I2C3_EV_IRQHandler,
    [16 + 73] = I2C3_ER_IRQHandler,
    [16 + 74] = OTG_HS_EP1_OUT_IRQHandler,
    [16 + 75] = OTG_HS_EP1_IN_IRQHandler,
    [16 + 76] = OTG_HS_WKUP_IRQHandler,
    [16 + 77] = OTG_HS_IRQHandler,
    [16 + 78] = DCMI_IRQHandler,
    [16 + 80] = RNG_IRQHandler,
    [16 + 81] = FPU_IRQHandler,
    [16 + 82] = UART7_IRQHandler,
    [16 + 83] = UART8_IRQHandler,
    [16 + 84] = SPI4_IRQHandler,
    [16 + 85] = SPI5_IRQHandler,
    [16 + 86] = SPI6_IRQHandler,
    [16 + 87] = SAI1_IRQHandler,
    [16 + 88] = LTDC_IRQHandler,
    [16 + 89] = LTDC_ER_IRQHandler,
    [16 + 90] = DMA2D_IRQHandler,
    [16 + 91] = SAI2_IRQHandler,
    [16 + 92] = QUADSPI_IRQHandler,
    [16 + 93] = LPTIM1_IRQHandler,
    [16 + 94] = CEC_IRQHandler,
    [16 + 95] = I2C4_EV_IRQHandler,
    [16 + 96] = I2C4_ER_IRQHandler,
    [16 + 97] = SPDIF_RX_IRQHandler,
    [16 + 98] = OTG_FS_EP1_OUT_IRQHandler,
    [16 + 99] = OTG_FS_EP1_IN_IRQHandler,
    [16 + 100] = OTG_FS_WKUP_IRQHandler,
    [16 + 101] = OTG_FS_IRQHandler,
    [16 + 102] = DMAMUX1_OVR_IRQHandler,
    [16 + 103] = HRTIM1_Master_IRQHandler,
    [16 + 104] = HRTIM1_TIMA_IRQHandler,
    [16 + 105] = HRTIM1_TIMB_IRQHandler,
    [16 + 106] = HRTIM1_TIMC_IRQHandler,
    [16 + 107] = HRTIM1_TIMD_IRQHandler,
    [16 + 108] = HRTIM1_TIME_IRQHandler,
    [16 + 109] = HRTIM1_FLT_IRQHandler,
    [16 + 110] = DFSDM1_FLT0_IRQHandler,
    [16 + 111] = DFSDM1_FLT1_IRQHandler,
    [16 + 112] = DFSDM1_FLT2_IRQHandler,
    [16 + 113] = DFSDM1_FLT3_IRQHandler,
    [16 + 114] = SAI3_IRQHandler,
    [16 + 115] = SWPMI1_IRQHandler,
    [16 + 116] = TIM15_IRQHandler,
    [16 + 117] = TIM16_IRQHandler,
    [16 + 118] = TIM17_IRQHandler,
    [16 + 119] = MDIOS_WKUP_IRQHandler,
    [16 + 120] = MDIOS_IRQHandler,
    [16 + 121] = JPEG_IRQHandler,
    [16 + 122] = MDMA_IRQHandler,
    [16 + 124] = SDMMC2_IRQHandler,
    [16 + 125] = HSEM1_IRQHandler,
    [16 + 127] = ADC3_IRQHandler,
    [16 + 128] = DMAMUX2_OVR_IRQHandler,
    [16 + 129] = BDMA_Channel0_IRQHandler,
    [16 + 130] = BDMA_Channel1_IRQHandler,
    [16 + 131] = BDMA_Channel2_IRQHandler,
    [16 + 132] = BDMA_Channel3_IRQHandler,
    [16 + 133] = BDMA_Channel4_IRQHandler,
    [16 + 134] = BDMA_Channel5_IRQHandler,
    [16 + 135] = BDMA_Channel6_IRQHandler,
    [16 + 136] = BDMA_Channel7_IRQHandler,
    [16 + 137] = COMP1_IRQHandler,
    [16 + 138] = LPTIM2_IRQHandler,
    [16 + 139] = LPTIM3_IRQHandler,
    [16 + 140] = LPTIM4_IRQHandler,
    [16 + 141] = LPTIM5_IRQHandler,
    [16 + 142] = LPUART1_IRQHandler,
    [16 + 144] = CRS_IRQHandler,
    [16 + 146] = SAI4_IRQHandler,
    [16 + 149] = WAKEUP_PIN_IRQHandler,
};
