/* h743_gpio.c: a pin's alternate function (RM0433 11.4 "GPIO registers"): AF number in AFRL/AFRH, very
 * high speed, push-pull, the pull given, then MODER = alternate function (the function is set before the
 * pin is switched to it, so the pin never drives a stale function). */
#include "board_stm32h743.h"
#include "ma_reg.h"
#include "stm32h743_regs.h"

void ma_h743_gpio_af(uint32_t port_base, uint32_t pin, uint32_t af, uint32_t pull)
{
    const uint32_t afr = port_base + (pin < 8u ? H7_GPIO_AFRL : H7_GPIO_AFRH);
    const uint32_t sh4 = (pin & 7u) * 4u, sh2 = pin * 2u;
    ma_reg_modify(afr, 0xFu << sh4, af << sh4); /* the function first, then the pin mode */
    ma_reg_modify(port_base + H7_GPIO_OSPEEDR, 3u << sh2, H7_GPIO_SPEED_VERY_HIGH << sh2);
    ma_reg_modify(port_base + H7_GPIO_OTYPER, 1u << pin, 0u); /* push-pull */
    ma_reg_modify(port_base + H7_GPIO_PUPDR, 3u << sh2, pull << sh2);
    ma_reg_modify(port_base + H7_GPIO_MODER, 3u << sh2, H7_GPIO_MODE_AF << sh2);
}
