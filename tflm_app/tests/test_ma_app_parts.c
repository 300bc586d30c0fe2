/* Test firmware (host + Cortex-M7 under QEMU) for the TFLM-free parts of the aligner application:
 * ma_transcript (parsing against the generated token table), ma_windows (schedule and owner rule),
 * ma_json (one word's JSON line, frame/cap milliseconds, confidence rounding). Expected values come
 * from tests/test_app_c.py (ma_app_vectors.h: Python's parser reference, runtime.windows, json.dumps,
 * round, numpy). Returns the number of failed checks (0 = pass). */
#include <stdio.h>
#include <string.h>

#define MA_TOKENS_DEFINE_TABLES
#include "ma_app_vectors.h"
#include "ma_json.h"
#include "ma_transcript.h"
#include "ma_windows.h"
#include "microalign_tokens.h"

#include "ma_check.h"

static ma_word_span words[MAXW];
static uint8_t tokens[MAXT];
static char line[4096];

static void test_transcripts(void)
{
    for (int i = 0; i < T_N; ++i) {
        ma_transcript_info info;
        ma_status s = ma_transcript_parse(T_TEXT[i], T_LEN[i], words, MAXW, tokens, MAXT, &info);
        CHECK(s == T_STATUS[i], "transcript %d: status %ld, expected %ld", i, (long)s, (long)T_STATUS[i]);
        if (s != MA_OK) {
            CHECK(info.error_offset == T_ERR[i], "transcript %d: error at %lu, expected %lu", i,
                  (unsigned long)info.error_offset, (unsigned long)T_ERR[i]);
            continue;
        }
        CHECK(info.n_words == T_NWORDS[i] && info.n_tokens == T_NTOK[i], "transcript %d: %lu words %lu tokens", i,
              (unsigned long)info.n_words, (unsigned long)info.n_tokens);
        for (uint32_t w = 0; w < info.n_words && w < T_NWORDS[i]; ++w) {
            const uint32_t *e = T_WORDS + 4 * (T_WBASE[i] + w);
            CHECK(words[w].text_offset == e[0] && words[w].text_bytes == e[1] && words[w].first_token == e[2] &&
                      words[w].n_tokens == e[3], "transcript %d word %lu", i, (unsigned long)w);
        }
        CHECK(memcmp(tokens, T_TOKENS + T_TBASE[i], T_NTOK[i]) == 0, "transcript %d tokens", i);
    }
    /* arrays too small, bad arguments */
    ma_transcript_info info;
    CHECK(ma_transcript_parse("ab cd ef", 8, words, 2, tokens, MAXT, &info) == MA_ERR_TOO_SHORT &&
              info.error_offset == 6, "too many words: offset %lu", (unsigned long)info.error_offset);
    CHECK(ma_transcript_parse("ab cd", 5, words, MAXW, tokens, 3, &info) == MA_ERR_TOO_SHORT && info.error_offset == 4,
          "too many tokens: offset %lu", (unsigned long)info.error_offset);
    CHECK(ma_transcript_parse(NULL, 3, words, MAXW, tokens, MAXT, &info) == MA_ERR_ARGUMENT, "NULL text");
    CHECK(ma_transcript_parse("a", 1, words, MAXW, tokens, MAXT, NULL) == MA_ERR_ARGUMENT, "NULL info");
    CHECK(ma_transcript_parse("a", 1, NULL, 1, tokens, MAXT, &info) == MA_ERR_ARGUMENT, "NULL words");
    CHECK(ma_transcript_parse("abc", 2, words, MAXW, tokens, MAXT, &info) == MA_OK && info.n_tokens == 2,
          "length, not NUL, ends the text");
}

static void test_windows(void)
{
    for (int i = 0; i < W_N; ++i) {
        uint32_t n = W_CASE[i][0], w = W_CASE[i][1], m = W_CASE[i][2];
        int32_t c = ma_window_count(n, w, m);
        CHECK(c == (int32_t)W_COUNT[i], "schedule %d (n %lu): %ld windows, expected %lu", i, (unsigned long)n, (long)c,
              (unsigned long)W_COUNT[i]);
        for (int32_t k = 0; k < c && k < (int32_t)W_COUNT[i]; ++k) {
            ma_window win;
            uint32_t j = W_BASE[i] + (uint32_t)k;
            ma_status s = ma_window_get(n, w, m, (uint32_t)k, &win);
            int owns = W_BEGIN[j] >= 0;
            CHECK(s == MA_OK && win.start == W_START[j], "schedule %d window %ld start %lu, expected %lu", i, (long)k,
                  (unsigned long)win.start, (unsigned long)W_START[j]);
            if (owns) {
                CHECK(win.own_begin == (uint32_t)W_BEGIN[j] && win.own_end == (uint32_t)W_END[j],
                      "schedule %d window %ld owns [%lu, %lu), expected [%ld, %ld)", i, (long)k,
                      (unsigned long)win.own_begin, (unsigned long)win.own_end, (long)W_BEGIN[j], (long)W_END[j]);
                CHECK(win.own_begin >= win.start && win.own_end <= win.start + w, "schedule %d window %ld rows", i,
                      (long)k);
            } else {
                CHECK(win.own_begin == win.own_end, "schedule %d window %ld should own nothing", i, (long)k);
            }
        }
        ma_window win;
        CHECK(ma_window_get(n, w, m, (uint32_t)c, &win) == MA_ERR_ARGUMENT, "window past the schedule");
    }
    CHECK(ma_window_count(0, 400, 50) == MA_ERR_ARGUMENT, "no frames");
    CHECK(ma_window_count(100, 100, 50) == MA_ERR_ARGUMENT, "margin leaves nothing");
    CHECK(ma_window_count(100, 0, 0) == MA_ERR_ARGUMENT, "no window");
}

static void test_json(void)
{
    for (int i = 0; i < J_N; ++i) {
        ma_json_char ch[5];
        for (uint32_t k = 0; k < J[i].n; ++k) {
            ch[k].text = J[i].ch[k];
            ch[k].start_ms = J[i].cs[k];
            ch[k].end_ms = J[i].ce[k];
        }
        ma_json_word w = {J[i].word, (uint32_t)strlen(J[i].word), J[i].s, J[i].e, J[i].q, ch, J[i].n};
        int32_t n = ma_json_word_line(&w, line, sizeof line);
        CHECK(n == (int32_t)strlen(J[i].line) && strcmp(line, J[i].line) == 0, "line %d:\n  got  %s  want %s", i,
              line, J[i].line);
        if (n > 0) {
            CHECK(ma_json_word_line(&w, line, (uint32_t)n) == MA_ERR_SCRATCH, "line %d: buffer one byte short", i);
            CHECK(ma_json_word_line(&w, line, (uint32_t)n + 1) == n, "line %d: exact buffer", i);
        }
    }
    ma_json_word w = {"a", 1, 0, 10, 10001, NULL, 0};
    CHECK(ma_json_word_line(&w, line, sizeof line) == MA_ERR_ARGUMENT, "confidence above 1");
    CHECK(ma_json_word_line(NULL, line, sizeof line) == MA_ERR_ARGUMENT, "NULL word");
}

static void test_numbers(void)
{
    for (int i = 0; i < C_N; ++i) {
        CHECK(ma_cap_ms(C_SAMPLES[i]) == C_CAP[i], "cap of %lu samples: %lu, expected %lu", (unsigned long)C_SAMPLES[i],
              (unsigned long)ma_cap_ms(C_SAMPLES[i]), (unsigned long)C_CAP[i]);
    }
    for (int i = 0; i < F_N; ++i) {
        CHECK(ma_frame_ms(F_FRAME[i]) == F_MS[i], "frame %lu", (unsigned long)F_FRAME[i]);
    }
    for (int i = 0; i < R_N; ++i) {
        CHECK(ma_round_q4(R_X[i]) == R_Q[i], "round(%a, 4): %lu, expected %lu", R_X[i],
              (unsigned long)ma_round_q4(R_X[i]), (unsigned long)R_Q[i]);
    }
    for (int i = 0; i < Q_N; ++i) {
        uint32_t q = ma_confidence_q4(Q_SUM[i], Q_FRAMES[i], Q_SCALE[i]);
        CHECK(q == Q_Q[i], "confidence sum %lld frames %lu scale %a: %lu, expected %lu", (long long)Q_SUM[i],
              (unsigned long)Q_FRAMES[i], Q_SCALE[i], (unsigned long)q, (unsigned long)Q_Q[i]);
    }
}

int main(void)
{
    test_transcripts();
    test_windows();
    test_json();
    test_numbers();
    printf("app parts: %d transcripts, %d schedules, %d lines, %d roundings, %d failures\n", T_N, W_N, J_N,
           R_N + Q_N + C_N, failures);
    return failures > 255 ? 255 : failures;
}
