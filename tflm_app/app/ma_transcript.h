/* ma_transcript.h: the device's transcript parser. The input is the spoken form the host aligned
 * (`microalign normalize` prints it): words of characters of the generated token table
 * (microalign_tokens.h), UTF-8, separated by runs of ' ', '\t', '\r' or '\n'. Anything else -- a
 * character without a token, invalid or overlong UTF-8, a NUL byte, no word at all, more words or
 * tokens than the caller's arrays hold -- is MA_ERR_TOKEN (or MA_ERR_TOO_SHORT for the arrays)
 * with the byte offset of the problem. Plain C99, no allocation. */
#ifndef MA_TRANSCRIPT_H
#define MA_TRANSCRIPT_H

#include <stdint.h>

#include "ma_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint32_t text_offset;  /* first byte of the word in the transcript */
    uint32_t text_bytes;
    uint32_t first_token;  /* index of its first character token in the token array */
    uint32_t n_tokens;     /* characters (>= 1) */
} ma_word_span;

typedef struct {
    uint32_t n_words;
    uint32_t n_tokens;
    uint32_t error_offset; /* byte offset of the first problem (set on MA_ERR_TOKEN / MA_ERR_TOO_SHORT) */
} ma_transcript_info;

/* Parse text[0..len) into words[max_words] and token ids tokens[max_tokens] (ids >= 1, no silence).
 * MA_ERR_TOKEN: a byte sequence that is not a token character or separator, or no word;
 * MA_ERR_TOO_SHORT: more words or tokens than the arrays hold; MA_ERR_ARGUMENT: NULL pointers. */
ma_status ma_transcript_parse(const char *text, uint32_t len, ma_word_span *words, uint32_t max_words,
                              uint8_t *tokens, uint32_t max_tokens, ma_transcript_info *info);

#ifdef __cplusplus
}
#endif

#endif /* MA_TRANSCRIPT_H */
