/* Test firmware (host + Cortex-M7 under QEMU) for ma_quality (the device's calibrated confidence and
 * quality warnings): every case of ma_quality_vectors.h (tests/test_quality_c.py: real utterances
 * scored by the host's TFLM backend and decoded, and constructed ones) must give exactly the Q16
 * features, confidences and warnings of microalign.quality.fixed; the fixed-point primitives and
 * the warning lines are checked against Python too, and bad inputs against their status codes.
 * Returns the number of failed checks (0 = pass). */
#include <stdio.h>
#include <string.h>

#include "ma_quality.h"
#include "ma_quality_vectors.h"
#include "microalign_quality.h"

#include "ma_check.h"

#define MAXW 512
static int64_t feats[MAXW * MA_Q_NUM_FEATURES];
static uint16_t q4[MAXW];
static ma_quality_warning warns[3 * MAXW + 8];
static uint64_t scratch[(5 * MAXW + 8) / 8 + 1];
static char line[256];

static ma_quality_input input_of(int i)
{
    const qv_case *c = &QV_CASES[i];
    ma_quality_input in = {c->scores, c->frame_max, c->level, c->n_frames, c->cols, c->char_col, c->char_start,
                           c->char_end, c->n_chars, c->word_chars, c->word_start, c->word_end, c->n_words,
                           c->min_char_frames, c->edge_free};
    return in;
}

static void test_cases(void)
{
    for (int i = 0; i < QV_N_CASES; ++i) {
        const qv_case *c = &QV_CASES[i];
        ma_quality_input in = input_of(i);
        ma_quality_output out = {q4, warns, sizeof warns / sizeof warns[0], 0, 0, feats};
        ma_status s = ma_quality_assess(&in, scratch, (int32_t)sizeof scratch, &out);
        CHECK(s == MA_OK, "case %d: status %ld", i, (long)s);
        if (s != MA_OK) continue;
        for (int32_t k = 0; k < c->n_words * MA_Q_NUM_FEATURES; ++k) {
            CHECK(feats[k] == c->features[k], "case %d word %ld feature %ld: %ld, expected %ld", i, /* Q16 fits 32 bits */
                  (long)(k / MA_Q_NUM_FEATURES), (long)(k % MA_Q_NUM_FEATURES), (long)feats[k], (long)c->features[k]);
        }
        for (int32_t w = 0; w < c->n_words; ++w) {
            CHECK(q4[w] == c->q4[w], "case %d word %ld: confidence %u, expected %u", i, (long)w, (unsigned)q4[w],
                  (unsigned)c->q4[w]);
        }
        CHECK(out.n_warnings == (uint32_t)c->n_warnings, "case %d: %lu warnings, expected %ld", i,
              (unsigned long)out.n_warnings, (long)c->n_warnings);
        for (int32_t k = 0; k < c->n_warnings && k < (int32_t)out.n_warnings; ++k) {
            const int32_t *e = c->warnings + 3 * k;
            CHECK(warns[k].code == e[0] && warns[k].word == e[1] && warns[k].last == e[2],
                  "case %d warning %ld: %s %ld-%ld, expected %s %ld-%ld", i, (long)k, ma_quality_code_name(warns[k].code),
                  (long)warns[k].word, (long)warns[k].last, ma_quality_code_name((uint32_t)e[0]), (long)e[1], (long)e[2]);
        }
        /* too little scratch or warning room; a span outside the audio */
        CHECK(ma_quality_assess(&in, scratch, ma_quality_scratch_size(c->n_words) - 1, &out) == MA_ERR_SCRATCH,
              "case %d: short scratch", i);
        out.max_warnings = ma_quality_max_warnings(c->n_words) - 1u;
        CHECK(ma_quality_assess(&in, scratch, (int32_t)sizeof scratch, &out) == MA_ERR_SCRATCH, "case %d: short warnings", i);
        out.max_warnings = sizeof warns / sizeof warns[0];
        in.n_frames = c->word_end[c->n_words - 1] - 1;
        CHECK(in.n_frames < 1 || ma_quality_assess(&in, scratch, (int32_t)sizeof scratch, &out) == MA_ERR_ARGUMENT,
              "case %d: word past the audio", i);
    }
}

static void test_bad_input(void)
{
    ma_quality_input in = input_of(0);
    ma_quality_output out = {q4, warns, sizeof warns / sizeof warns[0], 0, 0, NULL};
    CHECK(ma_quality_assess(NULL, scratch, (int32_t)sizeof scratch, &out) == MA_ERR_ARGUMENT, "NULL input");
    CHECK(ma_quality_assess(&in, scratch, (int32_t)sizeof scratch, NULL) == MA_ERR_ARGUMENT, "NULL output");
    CHECK(ma_quality_assess(&in, NULL, (int32_t)sizeof scratch, &out) == MA_ERR_SCRATCH, "NULL scratch");
    in.scores = NULL;
    CHECK(ma_quality_assess(&in, scratch, (int32_t)sizeof scratch, &out) == MA_ERR_ARGUMENT, "NULL scores");
    in = input_of(0);
    in.n_chars += 1;
    CHECK(ma_quality_assess(&in, scratch, (int32_t)sizeof scratch, &out) == MA_ERR_ARGUMENT, "characters != words' sum");
    in = input_of(0);
    in.min_char_frames = 0;
    CHECK(ma_quality_assess(&in, scratch, (int32_t)sizeof scratch, &out) == MA_ERR_ARGUMENT, "floor 0");
    in = input_of(0);
    int32_t cols[1] = {0};
    if (in.n_chars >= 1) {
        int32_t saved[4096];
        int32_t n = in.n_chars < 4096 ? in.n_chars : 4096;
        memcpy(saved, in.char_col, (size_t)n * sizeof(int32_t));
        saved[0] = in.cols; /* a column past the matrix */
        in.char_col = saved;
        CHECK(ma_quality_assess(&in, scratch, (int32_t)sizeof scratch, &out) == MA_ERR_ARGUMENT, "column out of range");
        saved[0] = cols[0]; /* the silence column is no character */
        CHECK(ma_quality_assess(&in, scratch, (int32_t)sizeof scratch, &out) == MA_ERR_ARGUMENT, "silence column");
    }
    CHECK(ma_quality_scratch_size(0) == MA_ERR_ARGUMENT, "scratch for no words");
    CHECK(ma_quality_code_name(MA_Q_NUM_CODES) == NULL, "code past the table");
}

static void test_primitives(void)
{
    for (int i = 0; i < QV_N_LOG2; ++i) {
        CHECK(ma_quality_log2_q16(QV_LOG2_X[i]) == QV_LOG2_Y[i], "log2_q16(%lu) = %ld, expected %ld",
              (unsigned long)QV_LOG2_X[i], (long)ma_quality_log2_q16(QV_LOG2_X[i]), (long)QV_LOG2_Y[i]);
    }
    CHECK(ma_quality_log2_q16(0) == MA_ERR_ARGUMENT && ma_quality_log2_q16(1u << 30) == MA_ERR_ARGUMENT, "log2 range");
    for (int i = 0; i < QV_N_SIG; ++i) {
        CHECK(ma_quality_sigmoid_q4(QV_SIG_Z[i]) == QV_SIG_Q4[i], "sigmoid_q4(QV_SIG_Z[%d]) = %lu, expected %lu", i,
              (unsigned long)ma_quality_sigmoid_q4(QV_SIG_Z[i]), (unsigned long)QV_SIG_Q4[i]);
    }
    for (int i = 0; i < QV_N_LINES; ++i) {
        ma_quality_warning w = {(uint8_t)QV_LINE_CODE[i], QV_LINE_WORD[i], QV_LINE_WORD[i]};
        int32_t n = ma_quality_warning_line(&w, QV_LINE_MS[2 * i], QV_LINE_MS[2 * i + 1], line, sizeof line);
        CHECK(n == (int32_t)strlen(QV_LINE[i]) && strcmp(line, QV_LINE[i]) == 0, "warning line %d:\n  got  %s  want %s",
              i, line, QV_LINE[i]);
        if (n > 0) {
            CHECK(ma_quality_warning_line(&w, QV_LINE_MS[2 * i], QV_LINE_MS[2 * i + 1], line, (uint32_t)n) == MA_ERR_SCRATCH,
                  "line %d short", i);
        }
    }
    ma_quality_warning bad = {MA_Q_NUM_CODES, -1, -1};
    CHECK(ma_quality_warning_line(&bad, 0, 0, line, sizeof line) == MA_ERR_ARGUMENT, "bad code");
}

int main(void)
{
    test_cases();
    test_bad_input();
    test_primitives();
    printf("quality: %d cases, %d log2, %d sigmoid, %d lines, %d failures\n", QV_N_CASES, QV_N_LOG2, QV_N_SIG,
           QV_N_LINES, failures);
    return failures > 255 ? 255 : failures;
}
