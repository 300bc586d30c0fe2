/* main.c: the aligner firmware. Same file on every board (board.h): opens the weight image where
 * the board maps the QSPI flash, or, built with MA_WEIGHTS_FLASH, the image linked into the
 * firmware's own flash (ma_flash_image.S) (refusing a corrupt, truncated or mismatched one), builds the TFLM
 * model from its model section in place, reads the transcript and the audio from the board's
 * input, and prints one JSON line per word on the console (what `microalign align --format jsonl`
 * prints). Errors: one line "error: <status>: <detail>" and exit status 2 (image), 3 (model),
 * 4 (input), 1 (alignment). */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "ma_aligner.h"
#include "ma_image.h"
#include "ma_model_tflm.h"
#include "microalign_aligner_config.h"

#ifndef MA_ARENA_BYTES
/* measured 152,692 B with FA_ATTENTION + headroom; MODE=staged takes the staging buffer and its plan from the
 * arena's end (sized from the model at create: 2 x the largest operator's constants, ma_model_tflm_staging) */
#define MA_ARENA_BYTES (200u * 1024u)
#endif
/* the aligner's SRAM: context, JSON line and the decoder's scratch (MA_DECODE_SRAM_BYTES, generated), the
 * same at any length (ma_aligner_init checks ma_aligner_sram_size); everything else is in external RAM */
#ifndef MA_ALIGNER_SRAM_BYTES
#define MA_ALIGNER_SRAM_BYTES (MA_DECODE_SRAM_BYTES + MA_ALIGNER_FIXED_SRAM_BYTES)
#endif
/* transcript limits: the parse arrays are in external RAM, sized by the transcript; these only cap them
 * (the aligner's maximum: 2^20 characters, about 19 h of speech) */
/* the image checks at boot: the CRC-32s of header and payload (every byte of the image, model included), not the
 * model's SHA-256. Both hashes are stored in the image itself, so neither authenticates it; against accidental
 * corruption the CRC-32 catches every burst of up to 32 bits and all but 2^-32 of the rest, and costs 0.9 M
 * instructions where the SHA-256 costs 12.0 M (eval/profile_functions.py --boot). -DMA_APP_IMAGE_CHECKS=
 * MA_IMAGE_CHECK_ALL adds the SHA-256 (python -m microalign.export.image info checks both). */
#ifndef MA_APP_IMAGE_CHECKS
#define MA_APP_IMAGE_CHECKS MA_IMAGE_CHECK_CRC
#endif
#ifndef MA_MAX_WORDS
#define MA_MAX_WORDS (1u << 18)
#endif
#ifndef MA_MAX_TOKENS
#define MA_MAX_TOKENS (1u << 20)
#endif

static uint8_t arena[MA_ARENA_BYTES] MA_IN_AXISRAM;
static uint8_t aligner_sram[MA_ALIGNER_SRAM_BYTES] MA_IN_AXISRAM;

#ifdef MA_WEIGHTS_FLASH
extern const uint8_t ma_flash_image[], ma_flash_image_end[]; /* ma_flash_image.S */
#endif

static void say(const char *s) { ma_board_console_write(s, strlen(s)); }

static int error3(int code, const char *status, const char *a, const char *b)
{
    say("error: ");
    say(status);
    say(": ");
    say(a);
    if (b && *b) {
        say(" ");
        say(b);
    }
    say("\n");
    return code;
}

static ma_status read_audio(void *user, int16_t *dst, uint32_t max, uint32_t *got)
{
    (void)user;
    return ma_board_audio_read(dst, max, got);
}

static ma_status print_word(void *user, uint32_t index, const char *line, uint32_t len, const ma_json_word *w)
{
    (void)user, (void)index, (void)w;
    ma_board_console_write(line, len);
    return MA_OK;
}

int main(void)
{
    if (ma_board_init() != MA_OK) return error3(4, "board", "init failed", "");
#ifdef MA_WEIGHTS_FLASH
    const uint8_t *flash = ma_flash_image;
    const uint32_t flash_size = (uint32_t)(ma_flash_image_end - ma_flash_image);
#else
    const uint8_t *flash = ma_board_qspi_map();
    if (flash == NULL) return error3(2, ma_status_str(MA_ERR_IO), "QSPI flash not memory-mapped", "");
    const uint32_t flash_size = ma_board_qspi_size();
#endif
    ma_image img;
    ma_status s = ma_image_open(&img, flash, flash_size, MA_APP_IMAGE_CHECKS);
    if (s != MA_OK) return error3(2, ma_status_str(s), ma_image_reason_str(img.reason), img.mismatch);

    ma_model *model = NULL;
    s = ma_model_tflm_create(img.model, img.model_size, arena, sizeof arena, &model);
    if (s != MA_OK) return error3(3, ma_status_str(s), ma_model_tflm_error(), "");

    const char *text = NULL;
    uint32_t text_len = 0;
    s = ma_board_input_text(&text, &text_len);
    if (s != MA_OK) return error3(4, ma_status_str(s), "no input (transcript and audio)", "");

    ma_aligner_params p = ma_aligner_default_params();
    p.model = model;
    p.max_words = MA_MAX_WORDS;
    p.max_tokens = MA_MAX_TOKENS;
    uint32_t ext_bytes = 0;
    void *ext = ma_board_ext_ram(&ext_bytes);
    ma_aligner_memory mem = {aligner_sram, sizeof aligner_sram, ext, ext_bytes};
    ma_aligner *ctx = NULL;
    s = ma_aligner_init(&p, &mem, &ctx);
    if (s != MA_OK) return error3(1, ma_status_str(s), ctx ? ma_aligner_error(ctx) : "aligner init", "");
    ma_audio_source audio = {read_audio, NULL, ma_board_audio_length()};
    s = ma_aligner_align(ctx, &audio, text, text_len, print_word, NULL);
    if (s != MA_OK) return error3(1, ma_status_str(s), ma_aligner_error(ctx), "");
#ifdef MA_APP_REPORT
    printf("# arena used %lu bytes, stack %lu bytes\n", (unsigned long)ma_model_tflm_arena_used(model),
           (unsigned long)ma_board_stack_used());
    uint32_t sram_used = 0, ext_used = 0;
    if (ma_aligner_memory_used(ctx, &sram_used, &ext_used) == MA_OK) {
        printf("# aligner memory: sram %lu of %lu bytes, external %lu of %lu bytes\n", (unsigned long)sram_used,
               (unsigned long)sizeof aligner_sram, (unsigned long)ext_used, (unsigned long)ext_bytes);
    }
    ma_aligner_stats stats;
    if (ma_aligner_get_stats(ctx, &stats) == MA_OK) {
        printf("# aligner frontend: %lu of %lu frames computed, %lu carried between %lu windows\n",
               (unsigned long)stats.frontend_frames, (unsigned long)stats.frames, (unsigned long)stats.carried_frames,
               (unsigned long)stats.windows);
    }
    ma_model_tflm_staging_info st;
    if (ma_model_tflm_staging(&st) == MA_OK) {
        printf("# staged weights: %lu ops, %lu constant tensors, %lu bytes per window (largest op %lu), "
               "buffer %lu bytes, %lu copies, %lu bytes copied, arena tail %lu bytes\n", (unsigned long)st.ops,
               (unsigned long)st.tensors, (unsigned long)st.bytes_per_invoke, (unsigned long)st.max_op_bytes,
               (unsigned long)st.buffer_bytes, (unsigned long)st.copies, (unsigned long)st.bytes_copied,
               (unsigned long)st.arena_tail_bytes);
    }
#endif
    return 0;
}
