/* ma_transcript.c: see ma_transcript.h. */
#define MA_TOKENS_DEFINE_TABLES
#include "ma_transcript.h"

#include <stddef.h>

#include "microalign_tokens.h"

#if MA_NUM_TOKENS > 256
#error "token ids are stored as uint8_t: widen the token array for more than 256 tokens"
#endif

static int is_sep(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Decode one UTF-8 code point at s[0..n) (n >= 1): its length, or 0 when invalid (overlong,
 * surrogate, above U+10FFFF, truncated, stray continuation byte). */
static uint32_t utf8_decode(const uint8_t *s, uint32_t n, uint32_t *cp)
{
    uint8_t c = s[0];
    uint32_t len, v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0Fu, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (uint32_t i = 1; i < len; ++i) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFFu || (v >= 0xD800u && v <= 0xDFFFu)) return 0;
    *cp = v;
    return len;
}

ma_status ma_transcript_parse(const char *text, uint32_t len, ma_word_span *words, uint32_t max_words,
                              uint8_t *tokens, uint32_t max_tokens, ma_transcript_info *info)
{
    if (info == NULL || (text == NULL && len != 0) || (words == NULL && max_words != 0) ||
        (tokens == NULL && max_tokens != 0)) {
        return MA_ERR_ARGUMENT;
    }
    info->n_words = info->n_tokens = info->error_offset = 0;
    const uint8_t *s = (const uint8_t *)text;
    uint32_t nw = 0, nt = 0, i = 0;
    while (i < len) {
        if (is_sep(s[i])) {
            ++i;
            continue;
        }
        /* a word: token characters up to the next separator */
        if (nw == max_words) {
            info->error_offset = i;
            return MA_ERR_TOO_SHORT;
        }
        ma_word_span *w = &words[nw];
        w->text_offset = i;
        w->first_token = nt;
        while (i < len && !is_sep(s[i])) {
            uint32_t cp = 0, k = utf8_decode(s + i, len - i, &cp);
            int32_t id = k ? ma_token_id(cp) : -1;
            if (id < 1 || cp == 0) {
                info->error_offset = i;
                info->n_words = nw;
                info->n_tokens = nt;
                return MA_ERR_TOKEN;
            }
            if (nt == max_tokens) {
                info->error_offset = i;
                return MA_ERR_TOO_SHORT;
            }
            tokens[nt++] = (uint8_t)id;
            i += k;
        }
        w->text_bytes = i - w->text_offset;
        w->n_tokens = nt - w->first_token;
        ++nw;
    }
    info->n_words = nw;
    info->n_tokens = nt;
    if (nw == 0) {
        info->error_offset = len;
        return MA_ERR_TOKEN; /* empty transcript: nothing to align */
    }
    return MA_OK;
}
