/* libFuzzer harness for the app's input parsing and output: ma_transcript_parse on arbitrary bytes,
 * then ma_json_word_line for every parsed word (times and confidence taken from the input), into a
 * buffer of exactly the reported size.
 * Checks: a parse succeeds or gives MA_ERR_TOKEN / MA_ERR_TOO_SHORT with an offset inside the text;
 * on success the words tile the non-separator bytes in order, every token id is a character of
 * the table, and the token strings concatenated give back the word's bytes; every line starts
 * with {"word": , ends with "]}\n", and a one-byte-short buffer gives MA_ERR_SCRATCH.
 *   tflm_app/fuzz.sh ma_transcript [RUNS] */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MA_TOKENS_DEFINE_TABLES
#include "ma_json.h"
#include "ma_transcript.h"
#include "microalign_tokens.h"

#define MAXW 64
#define MAXT 256

static int is_sep(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *text = (char *)malloc(size ? size : 1); /* exact size: ASan sees any over-read */
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    ma_word_span words[MAXW];
    uint8_t tokens[MAXT];
    ma_transcript_info info;
    ma_status s = ma_transcript_parse(text, (uint32_t)size, words, MAXW, tokens, MAXT, &info);
    if (s != MA_OK) {
        if ((s != MA_ERR_TOKEN && s != MA_ERR_TOO_SHORT) || info.error_offset > size) abort();
        free(text);
        return 0;
    }
    uint32_t pos = 0;
    for (uint32_t w = 0; w < info.n_words; ++w) {
        const ma_word_span *ws = &words[w];
        if (ws->text_offset < pos || ws->n_tokens == 0 || ws->text_offset + ws->text_bytes > size) abort();
        for (uint32_t i = pos; i < ws->text_offset; ++i)
            if (!is_sep((uint8_t)text[i])) abort();
        /* the token strings spell the word */
        uint32_t at = ws->text_offset;
        ma_json_char chars[MAXT];
        for (uint32_t k = 0; k < ws->n_tokens; ++k) {
            uint8_t id = tokens[ws->first_token + k];
            if (id < 1 || id >= MA_NUM_TOKENS) abort();
            const char *str = MA_TOKEN_STRINGS[id];
            size_t n = strlen(str);
            if (at + n > ws->text_offset + ws->text_bytes || memcmp(text + at, str, n) != 0) abort();
            at += (uint32_t)n;
            chars[k].text = str;
            chars[k].start_ms = (uint32_t)k * 10u;
            chars[k].end_ms = (uint32_t)k * 10u + (uint32_t)(size * 7919u);
        }
        if (at != ws->text_offset + ws->text_bytes) abort();
        pos = at;
        ma_json_word jw = {text + ws->text_offset, ws->text_bytes, (uint32_t)(size * 104729u), 0xFFFFFFFFu,
                           (uint32_t)(size * 31u % 10001u), chars, ws->n_tokens};
        int32_t len = ma_json_word_line(&jw, NULL, 0);
        if (len != MA_ERR_ARGUMENT) abort();
        static char line[64 * 1024];
        len = ma_json_word_line(&jw, line, sizeof line);
        if (len < 16 || strncmp(line, "{\"word\": ", 9) != 0 || memcmp(line + len - 3, "]}\n", 3) != 0) abort();
        char *exact = (char *)malloc((size_t)len + 1);
        if (ma_json_word_line(&jw, exact, (uint32_t)len + 1) != len || memcmp(exact, line, (size_t)len + 1) != 0) abort();
        if (ma_json_word_line(&jw, exact, (uint32_t)len) != MA_ERR_SCRATCH) abort();
        free(exact);
    }
    for (uint32_t i = pos; i < size; ++i)
        if (!is_sep((uint8_t)text[i])) abort();
    free(text);
    return 0;
}
