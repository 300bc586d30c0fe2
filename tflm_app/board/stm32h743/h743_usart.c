/* h743_usart.c: the console USART (RM0433 48) -- USART1 on the I-EVAL, USART3 on the NUCLEO-H743ZI
 * (MA_H743_CONSOLE_USART, board_stm32h743.h) -- as the console and the input channel, and the serial input
 * protocol.
 *
 * NUCLEO-H743ZI: USART3 on PD8 (TX) / PD9 (RX), AF7 (DS12110 Table 9), to the ST-LINK virtual COM port;
 * kernel clock rcc_pclk1 (D2PPRE1 /2: 120 MHz at 480 MHz, the same BRR as below).
 * Pins: the I-EVAL's USART1 on PB14 (TX) / PB15 (RX), AF4 (DS12110 Table 9), to the RS-232 connector
 * and the ST-LINK virtual COM port (jumpers per the board's user manual UM2198). Kernel clock rcc_pclk2
 * (120 MHz at 480 MHz, 100 MHz at 400 MHz); oversampling by 16 (OVER8 = 0), BRR = round(f / baud):
 * 921,600 baud -> BRR 130 at 120 MHz (923,077 baud, +0.16 %), 109 at 100 MHz (917,431 baud, -0.45 %);
 * ma_h743_usart_init refuses an error above 1 % (MA_ERR_ARGUMENT). 8N1, FIFO on, no flow control.
 * Order: clock, pins, CR1 with UE = 0, PRESC, BRR, CR2, CR3, CR1 TE|RE|FIFOEN, then UE, wait TEACK/REACK.
 *
 * Serial input (README.md): the host sends one input block exactly as
 * microalign.export.image.write_input_block() lays it out (32-byte header: "MAINPUT\0", sample rate,
 * text bytes, samples, header bytes, audio offset, 0; the UTF-8 transcript; padding; int16 LE PCM),
 * followed by the CRC-32 (zlib.crc32, little-endian) of those bytes. The board announces
 * "# ready: input block <max> bytes max\n" first and answers "# input: <samples> samples\n" or
 * "# input error: <reason>\n". */
#include <string.h>

#include "board_stm32h743.h"
#include "ma_hash.h"
#include "ma_reg.h"
#include "microalign_image.h"
#include "stm32h743_regs.h"

#define TIMEOUT_ACK_US 10000u
#define TIMEOUT_TX_US 10000u
#define MAX_ERROR_PPM 10000 /* 1 % */
#define USART_ERRORS (H7_USART_ISR_ORE | H7_USART_ISR_FE | H7_USART_ISR_NE | H7_USART_ISR_PE)

uint32_t ma_h743_usart_brr(uint32_t pclk_hz, uint32_t baud, int32_t *error_ppm)
{
    if (baud == 0u) return 0u;
    const uint32_t brr = (uint32_t)(((uint64_t)pclk_hz + baud / 2u) / baud);
    if (error_ppm) {
        const int64_t actual_x = brr ? (int64_t)pclk_hz * 1000000 / brr : 0; /* actual baud x 1e6 */
        *error_ppm = (int32_t)((actual_x - (int64_t)baud * 1000000) / (int64_t)baud);
    }
    return brr;
}

ma_status ma_h743_usart_init(uint32_t pclk_hz, uint32_t baud)
{
    int32_t err = 0;
    const uint32_t brr = ma_h743_usart_brr(pclk_hz, baud, &err);
    if (brr < 16u || brr > 0xFFFFu || err > MAX_ERROR_PPM || err < -MAX_ERROR_PPM) return MA_ERR_ARGUMENT;
#if MA_H743_CONSOLE_USART == 3
    ma_reg_modify(H7_RCC_AHB4ENR, 0u, H7_RCC_AHB4ENR_GPIOAEN << 3); /* GPIOD */
    ma_reg_modify(H7_RCC_APB1LENR, 0u, H7_RCC_APB1LENR_USART3EN);
    (void)ma_reg_read(H7_RCC_APB1LENR);
    ma_h743_gpio_af(H7_GPIOD_BASE, 8u, 7u, 0u);
    ma_h743_gpio_af(H7_GPIOD_BASE, 9u, 7u, H7_GPIO_PULL_UP); /* idle-high RX when nothing is connected */
#else
    ma_reg_modify(H7_RCC_AHB4ENR, 0u, H7_RCC_AHB4ENR_GPIOAEN << 1); /* GPIOB */
    ma_reg_modify(H7_RCC_APB2ENR, 0u, H7_RCC_APB2ENR_USART1EN);
    (void)ma_reg_read(H7_RCC_APB2ENR);
    ma_h743_gpio_af(H7_GPIOB_BASE, 14u, 4u, 0u);
    ma_h743_gpio_af(H7_GPIOB_BASE, 15u, 4u, H7_GPIO_PULL_UP); /* idle-high RX when nothing is connected */
#endif

    ma_reg_write(MA_H743_CON(CR1), 0u); /* UE = 0: BRR and the frame format are written only while disabled */
    ma_reg_write(MA_H743_CON(PRESC), 0u);
    ma_reg_write(MA_H743_CON(BRR), brr);
    ma_reg_write(MA_H743_CON(CR2), 0u); /* 1 stop bit */
    ma_reg_write(MA_H743_CON(CR3), 0u);
    ma_reg_write(MA_H743_CON(CR1), H7_USART_CR1_FIFOEN | H7_USART_CR1_TE | H7_USART_CR1_RE); /* 8 bits, no parity */
    ma_reg_modify(MA_H743_CON(CR1), 0u, H7_USART_CR1_UE);
    const uint32_t acks = H7_USART_ISR_TEACK | H7_USART_ISR_REACK;
    return ma_reg_wait(MA_H743_CON(ISR), acks, acks, TIMEOUT_ACK_US);
}

ma_status ma_h743_usart_write(const uint8_t *s, uint32_t n)
{
    if (s == NULL && n) return MA_ERR_ARGUMENT;
    for (uint32_t i = 0; i < n; ++i) {
        ma_status st = ma_reg_wait(MA_H743_CON(ISR), H7_USART_ISR_TXE_TXFNF, H7_USART_ISR_TXE_TXFNF, TIMEOUT_TX_US);
        if (st != MA_OK) return st;
        ma_reg_write(MA_H743_CON(TDR), s[i]);
    }
    return MA_OK;
}

ma_status ma_h743_usart_read(uint8_t *dst, uint32_t n, uint32_t timeout_us)
{
    if (dst == NULL && n) return MA_ERR_ARGUMENT;
    for (uint32_t i = 0; i < n; ++i) {
        ma_status s = ma_reg_wait(MA_H743_CON(ISR), H7_USART_ISR_RXNE_RXFNE, H7_USART_ISR_RXNE_RXFNE,
                                  i == 0u ? timeout_us : MA_H743_BYTE_TIMEOUT_US);
        const uint32_t isr = ma_reg_read(MA_H743_CON(ISR));
        if (isr & USART_ERRORS) {
            ma_reg_write(MA_H743_CON(ICR), H7_USART_ICR_ORECF | H7_USART_ICR_FECF | H7_USART_ICR_NECF | H7_USART_ICR_PECF);
            return MA_ERR_IO;
        }
        if (s != MA_OK) return s;
        dst[i] = (uint8_t)ma_reg_read(MA_H743_CON(RDR));
    }
    return MA_OK;
}

static void say(const char *a, uint32_t v, const char *b)
{
    char num[11];
    int k = 10;
    num[k] = 0;
    do {
        num[--k] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v && k > 0);
    (void)ma_h743_usart_write((const uint8_t *)a, (uint32_t)strlen(a));
    (void)ma_h743_usart_write((const uint8_t *)num + k, (uint32_t)(10 - k));
    (void)ma_h743_usart_write((const uint8_t *)b, (uint32_t)strlen(b));
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

ma_status ma_h743_receive_input(uint8_t *area, uint32_t cap, uint8_t **block, uint32_t *size)
{
    if (area == NULL || block == NULL || size == NULL || cap < MA_INPUT_HEADER_BYTES + 8u) return MA_ERR_ARGUMENT;
    *size = 0;
    *block = NULL;
    cap -= 8u; /* room to place the audio on an 8-byte boundary */
    say("# ready: input block ", cap, " bytes max\n");
    uint8_t head[MA_INPUT_HEADER_BYTES];
    ma_status s = ma_h743_usart_read(head, MA_INPUT_HEADER_BYTES, MA_H743_FIRST_BYTE_TIMEOUT_US);
    if (s != MA_OK) {
        say("# input error: no header (", (uint32_t)-s, ")\n");
        return MA_ERR_IO;
    }
    const uint32_t rate = rd32(head + 8), text = rd32(head + 12), samples = rd32(head + 16);
    const uint32_t text_off = rd32(head + 20), audio_off = rd32(head + 24);
    const uint64_t total = (uint64_t)audio_off + 2u * (uint64_t)samples;
    if (memcmp(head, MA_INPUT_MAGIC, 8) != 0 || rate != 16000u || text_off != MA_INPUT_HEADER_BYTES ||
        audio_off < text_off || audio_off - text_off < text || (audio_off & 1u) || total + 4u > cap) {
        say("# input error: bad header (", (uint32_t)(total > 0xFFFFFFFFu ? 0xFFFFFFFFu : total), " bytes)\n");
        return MA_ERR_IO;
    }
    /* the block's start: its audio (dst + audio_off) on an 8-byte boundary */
    uint8_t *dst = area + ((8u - (((uintptr_t)area + audio_off) & 7u)) & 7u);
    memcpy(dst, head, MA_INPUT_HEADER_BYTES);
    uint8_t crc_le[4];
    s = ma_h743_usart_read(dst + MA_INPUT_HEADER_BYTES, (uint32_t)total - MA_INPUT_HEADER_BYTES,
                           MA_H743_BYTE_TIMEOUT_US);
    if (s == MA_OK) s = ma_h743_usart_read(crc_le, 4u, MA_H743_BYTE_TIMEOUT_US);
    if (s != MA_OK) {
        say("# input error: truncated (", (uint32_t)-s, ")\n");
        return MA_ERR_IO;
    }
    if (ma_crc32(0u, dst, (size_t)total) != rd32(crc_le)) {
        say("# input error: crc mismatch (", (uint32_t)total, " bytes)\n");
        return MA_ERR_IO;
    }
    say("# input: ", samples, " samples\n");
    *size = (uint32_t)total;
    *block = dst;
    return MA_OK;
}
