"""The device's confidence and warnings (tflm_app/app/ma_quality.c) against their one definition,
microalign.quality.fixed: Q16 word features, confidences (1e-4) and warnings identical on real
utterances (the shipped sample scored by the host's TFLM backend and decoded, with mismatches
made from it) and on constructed ones -- on the host (gcc, ASan + UBSan) and on a Cortex-M7
under QEMU. Also: the generated header is what the generator writes, and the fixed-point model
is what the host's ``align`` reports (json and jsonl agree)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import app_firmware, qemu_harness
from microalign.quality import fixed, load_calibration
from microalign.quality.checks import CODES
from microalign.quality.header import FILENAME, render

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "convert" / "microalign" / "assets"
MODEL = fixed.FixedModel.of(load_calibration())


def compact_case(values: np.ndarray, feats: np.ndarray, tokens, token_spans, word_spans, k: int, edge_free: bool) -> dict:
    """A decoded utterance as the device holds it: scores compacted to silence + the transcript's
    characters (decode.compact's order), the per-frame maximum, the per-frame feature sums."""
    ids = sorted({t for w in tokens for t in w})
    local = {t: i + 1 for i, t in enumerate(ids)}
    cols = values[:, [0] + ids]
    return dict(scores=cols, frame_max=values.max(axis=1), level=fixed.frame_levels(feats),
                tokens=[[local[t] for t in w] for w in tokens], token_spans=np.asarray(token_spans),
                word_spans=np.asarray(word_spans), k=k, edge_free=edge_free)


def expected(c: dict) -> fixed.FixedResult:
    frames = fixed.FixedFrames.from_parts(c["scores"][:, 0], c["frame_max"], c["level"])
    return fixed.evaluate(MODEL, c["scores"], frames, c["tokens"], c["token_spans"], c["word_spans"], c["k"],
                          c["edge_free"])


def real_cases() -> list[dict]:
    """The sample (8.4 s) correct, with a word inserted, with its audio cut to 40 %, and with another text."""
    pytest.importorskip("tflite_micro")
    from microalign.align import char_floor, decode_scores
    from microalign.audio import load_audio
    from microalign.frontend import features_from_pcm
    from microalign.runtime import frame_scores
    from microalign.runtime.backends import TFLMBackend
    from microalign.text import normalize
    from microalign.text.tokens import ENGLISH

    backend = TFLMBackend(ASSETS / "student_int8.tflite")
    pcm = load_audio(ASSETS / "sample.wav")
    text = (ASSETS / "sample.txt").read_text()
    words = text.split()
    variants = [(pcm, text), (pcm, " ".join(words[:4] + ["banana"] + words[4:])),
                (pcm[: int(len(pcm) * 0.4)], text), (pcm, "the quick brown fox jumps over the lazy dog " * 2)]
    out = []
    for p, t in variants:
        feats = features_from_pcm(p)
        sc = frame_scores(feats, backend)
        assert (sc.scale, sc.zero_point) == (fixed.SCORE_SCALE, fixed.SCORE_ZERO_POINT)
        spoken = [w.text for w in normalize(t)]
        tokens = [ENGLISH.encode_word(w) for w in spoken]
        if sum(map(len, tokens)) > len(feats):
            continue
        d = decode_scores(sc, tokens)
        assert d.min_char_frames == char_floor(len(feats), sum(map(len, tokens)))
        c = compact_case(sc.values, feats, tokens, d.token_spans, d.word_spans, d.min_char_frames, d.edge_free)
        # the compacted scores give what the full matrix gives (the host computes on the full one)
        full = fixed.evaluate(MODEL, sc.values, fixed.FixedFrames.of(sc.values, feats), tokens, d.token_spans,
                              d.word_spans, d.min_char_frames, d.edge_free)
        got = expected(c)
        assert np.array_equal(full.features, got.features) and full.q4 == got.q4 and full.flags == got.flags
        out.append(c | {"words": spoken})
    return out


def synthetic_case(rng, *, n_words=None, silence=False, steady=False, floor_run=False, long_word=False,
                   tiny=False) -> dict:
    n_words = n_words or int(rng.integers(1, 16))
    lens = [int(rng.integers(1, 7)) for _ in range(n_words)]
    n_cols = int(rng.integers(2, 12))
    k = 4 if tiny else int(rng.integers(1, 5))   # tiny: 1-frame characters, too short to skip a word at k
    spans, tok_spans, t = [], [], int(rng.integers(0, 30))
    for w, n in enumerate(lens):
        start = t
        for _ in range(n):
            d = k if floor_run and w >= 1 else int(rng.integers(0 if rng.random() < 0.05 else 1, 25))
            if long_word and w == 0:
                d = 60
            if tiny:
                d = 1
            tok_spans.append((t, t + d))
            t += d
        spans.append((start, t))
        t += int(rng.integers(0, 40)) if rng.random() < 0.5 else 0
    T = t + int(rng.integers(1, 40))
    scores = rng.integers(-128, 128, size=(T, n_cols)).astype(np.int8)
    if silence:
        scores[:, 0] = 127
    fmax = np.maximum(scores.max(axis=1), rng.integers(-128, 128, size=T)).astype(np.int8)
    level = np.full(T, -3000) if steady else rng.integers(-5120, 5081, size=T)
    tokens = [[int(rng.integers(1, n_cols)) for _ in range(n)] for n in lens]
    return dict(scores=scores, frame_max=fmax, level=level.astype(np.int64), tokens=tokens,
                token_spans=np.asarray(tok_spans), word_spans=np.asarray(spans), k=k, edge_free=bool(rng.random() < 0.8))


def _arr(a) -> str:
    flat = [str(int(v)) for v in np.asarray(a).ravel()]
    return ",\n".join(", ".join(flat[i:i + 32]) for i in range(0, len(flat), 32)) or "0"


def write_vectors(out: Path, cases: list[dict], rng) -> list[fixed.FixedResult]:
    L = ["/* generated by tests/test_quality_c.py -- do not edit */", "#include <stdint.h>",
         f"#define QV_N_CASES {len(cases)}"]
    results = []
    for i, c in enumerate(cases):
        r = expected(c)
        results.append(r)
        warn = [(CODES.index(f.code), -1 if f.word is None else f.word,
                 -1 if f.word is None else (f.last if f.last is not None else f.word)) for f in r.flags]
        L += [f"static const int8_t QS{i}[] = {{{_arr(c['scores'])}}};",
              f"static const int8_t QM{i}[] = {{{_arr(c['frame_max'])}}};",
              f"static const int16_t QL{i}[] = {{{_arr(c['level'])}}};",
              f"static const int32_t QCC{i}[] = {{{_arr([t for w in c['tokens'] for t in w])}}};",
              f"static const int32_t QCS{i}[] = {{{_arr(c['token_spans'][:, 0])}}};",
              f"static const int32_t QCE{i}[] = {{{_arr(c['token_spans'][:, 1])}}};",
              f"static const int32_t QWC{i}[] = {{{_arr([len(w) for w in c['tokens']])}}};",
              f"static const int32_t QWS{i}[] = {{{_arr(c['word_spans'][:, 0])}}};",
              f"static const int32_t QWE{i}[] = {{{_arr(c['word_spans'][:, 1])}}};",
              f"static const int64_t QF{i}[] = {{{_arr(r.features)}}};",
              f"static const uint16_t QQ{i}[] = {{{_arr(r.q4)}}};",
              f"static const int32_t QW{i}[] = {{{_arr(warn)}}};"]
    L += ["typedef struct { const int8_t *scores, *frame_max; const int16_t *level; int32_t n_frames, cols;",
          "  const int32_t *char_col, *char_start, *char_end; int32_t n_chars;",
          "  const int32_t *word_chars, *word_start, *word_end; int32_t n_words, min_char_frames, edge_free;",
          "  const int64_t *features; const uint16_t *q4; const int32_t *warnings; int32_t n_warnings; } qv_case;",
          "static const qv_case QV_CASES[QV_N_CASES] = {"]
    for i, (c, r) in enumerate(zip(cases, results)):
        T, C = c["scores"].shape
        L.append(f"{{QS{i}, QM{i}, QL{i}, {T}, {C}, QCC{i}, QCS{i}, QCE{i}, {sum(map(len, c['tokens']))}, QWC{i}, "
                 f"QWS{i}, QWE{i}, {len(c['tokens'])}, {c['k']}, {int(c['edge_free'])}, QF{i}, QQ{i}, QW{i}, "
                 f"{len(r.flags)}}},")
    L.append("};")
    xs = list(range(1, 300)) + [2 ** j + d for j in range(2, 30) for d in (-1, 0, 1)] + \
        [int(v) for v in rng.integers(1, 2 ** 30, size=200)]
    L += [f"#define QV_N_LOG2 {len(xs)}", f"static const uint32_t QV_LOG2_X[] = {{{_arr(xs)}}};",
          f"static const int32_t QV_LOG2_Y[] = {{{_arr([fixed.log2_q16(x) for x in xs])}}};"]
    zs = [0, 1, -1, 2 ** 15, -(2 ** 15), 2 ** 47, -(2 ** 47), 25 * 2 ** 32, -(25 * 2 ** 32)] + \
        [int(v) for v in rng.integers(-(12 * 2 ** 32), 12 * 2 ** 32, size=2000)]
    L += [f"#define QV_N_SIG {len(zs)}", f"static const int64_t QV_SIG_Z[] = {{{', '.join(f'INT64_C({z})' for z in zs)}}};",
          f"static const uint32_t QV_SIG_Q4[] = {{{_arr([fixed.sigmoid_q4(z) for z in zs])}}};"]
    lines = []
    for code in range(len(CODES)):
        lines.append((code, -1, 0, 0))
        lines.append((code, int(rng.integers(0, 5000)), int(rng.integers(0, 10 ** 7)), int(rng.integers(0, 10 ** 7))))
    lines += [(0, 3, 1400, 2000), (1, 0, 0, 10), (2, 12, 123450, 123456)]
    from microalign.formats.jsonl import warning_line

    texts = [warning_line(CODES[c], None if w < 0 else w, a / 1000, b / 1000) for c, w, a, b in lines]
    L += [f"#define QV_N_LINES {len(lines)}", f"static const int32_t QV_LINE_CODE[] = {{{_arr([x[0] for x in lines])}}};",
          f"static const int32_t QV_LINE_WORD[] = {{{_arr([x[1] for x in lines])}}};",
          f"static const uint32_t QV_LINE_MS[] = {{{_arr([v for x in lines for v in x[2:]])}}};",
          "static const char *const QV_LINE[] = {" + ", ".join(json.dumps(t) for t in texts) + "};"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "ma_quality_vectors.h").write_text("\n".join(L) + "\n")
    return results


def all_cases(rng, real: bool) -> list[dict]:
    cases = real_cases() if real else []
    cases += [synthetic_case(rng) for _ in range(40)]
    cases += [synthetic_case(rng, silence=True), synthetic_case(rng, steady=True),
              synthetic_case(rng, n_words=8, floor_run=True), synthetic_case(rng, n_words=3, long_word=True),
              synthetic_case(rng, n_words=1), synthetic_case(rng, n_words=6, tiny=True)]
    return cases + [inserted_word_case()] + peaked_cases()


def inserted_word_case() -> dict:
    """Frames that clearly say "ab c", decoded with "ab xyz c" ("xyz" never said: unspoken_word on it)."""
    from test_mismatch import inserted_case

    q, tokens, d, level = inserted_case([5, 6, 7])
    return dict(scores=q, frame_max=q.max(axis=1), level=level.astype(np.int64), tokens=tokens,
                token_spans=np.asarray(d.token_spans), word_spans=np.asarray(d.word_spans), k=d.min_char_frames,
                edge_free=True)


def peaked_cases() -> list[dict]:
    """Frames that clearly say "ab c": decoded with the right transcript (fit loss 0) and with another
    one of the same timing (the last two cases; only the second draws unlikely_transcript)."""
    from test_mismatch import peaked_utterance

    q, spans, words, level = peaked_utterance([[1, 2], [3]])
    return [dict(scores=q, frame_max=q.max(axis=1), level=level.astype(np.int64), tokens=tokens, token_spans=spans,
                 word_spans=words, k=3, edge_free=True) for tokens in ([[1, 2], [3]], [[4, 5], [6]])]


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    rng = np.random.default_rng(10)
    d = tmp_path_factory.mktemp("quality")
    cases = all_cases(rng, real=True)
    results = write_vectors(d, cases, rng)
    # the C twin against the current definition: the header as the generator writes it now (first on the
    # include path; test_generated_header_is_current checks that tflm_app/generated holds the same)
    (d / FILENAME).write_text(render())
    return d, cases, results


def test_cases_exercise_every_check(vectors):
    _, cases, results = vectors
    seen = {f.code for r in results for f in r.flags}
    assert seen >= {"unspoken_word", "stretched_word", "squeezed_words", "no_speech", "text_too_long",
                    "text_too_short", "low_score", "unlikely_transcript", "band_edge"}, seen
    # the real sample aligns cleanly; the inserted word ("banana") gets the lowest confidence;
    # the cut audio and the other text draw warnings
    assert results[0].flags == [] and min(results[0].q4) > 0 and len(set(results[0].q4)) > 5
    i = cases[1]["words"].index("banana")
    assert results[1].q4[i] < min(results[1].q4[:i] + results[1].q4[i + 1:]) and results[1].q4[i] < 1000
    assert {"text_too_long", "squeezed_words"} <= {f.code for f in results[2].flags}
    # skip_gain: both signs and the clip (no path without the word fits) reach the C twin
    from microalign.quality.features import FEATURES
    sk = np.concatenate([r.features[:, FEATURES.index("skip_gain")] for r in results])
    assert (sk < 0).any() and (sk > 0).any() and (sk == fixed.SKIP_CLIP_Q16).any()
    assert results[1].features[i, FEATURES.index("skip_gain")] < 0   # "banana" is better skipped
    assert {"low_score", "unlikely_transcript"} <= {f.code for f in results[3].flags}
    # the transcript-level detector: the right transcript fits the frames exactly, another one does not
    assert results[-2].utterance[0] == 0 and "unlikely_transcript" not in {f.code for f in results[-2].flags}
    assert "unlikely_transcript" in {f.code for f in results[-1].flags}
    # the inserted word ("xyz" between "ab" and "c", test_mismatch): a context loss of 9 x 220 int8 steps in
    # each window, and unspoken_word on it alone
    cl = FEATURES.index("context_loss")
    assert results[-3].features[1, cl] == 9 * 220 * fixed.SCALE_Q16
    assert [(f.code, f.word) for f in results[-3].flags if f.code == "unspoken_word"] == [("unspoken_word", 1)]
    # utterance features of both signs of the decision reach the C twin
    z = [r.z_mismatch > MODEL.thresholds.mismatch_z_q32 for r in results]
    assert any(z) and not all(z)


def _firmware(d: Path):
    return app_firmware().AppFirmware(main=str(REPO / "tflm_app" / "tests" / "test_ma_quality.c"),
                                      build=d / "build", extra_includes=[str(d)])


def _check(rc: int, out: str, n_cases: int) -> None:
    assert rc == 0, out[-4000:]
    m = re.search(r"quality: (\d+) cases, (\d+) log2, (\d+) sigmoid, (\d+) lines, (\d+) failures", out)
    assert m and int(m.group(1)) == n_cases and int(m.group(5)) == 0, out[-4000:]


def test_quality_c_on_host(vectors):
    if app_firmware().missing_tools(qemu=False):
        pytest.skip("needs make and gcc")
    d, cases, _ = vectors
    _check(*_firmware(d).run_host(), len(cases))


def test_quality_c_on_cortex_m7(vectors):
    qemu_harness()   # skips without the Arm toolchain / QEMU
    d, cases, _ = vectors
    _check(*_firmware(d).run_qemu(timeout=300), len(cases))


def test_generated_header_is_current():
    assert (REPO / "tflm_app" / "generated" / FILENAME).read_text() == render(), \
        "tflm_app/generated/microalign_quality.h is stale: run `microalign headers`"


def test_primitives_against_floats():
    for x in (1, 2, 3, 10, 1000, 123456, 2 ** 29 + 7):
        assert abs(fixed.log2_q16(x) / 65536 - np.log2(x)) < 2 / 65536
    for z in np.linspace(-12, 12, 97):
        assert abs(fixed.sigmoid_q4(int(round(z * 2 ** 32))) - 10000 / (1 + np.exp(-z))) <= 1.0
    assert fixed.sigmoid_q4(0) == 5000 and fixed.sigmoid_q4(40 * 2 ** 32) == 10000 and fixed.sigmoid_q4(-40 * 2 ** 32) == 0
    assert [fixed.round_div(a, 2) for a in (-3, -1, 1, 3)] == [-2, -1, 1, 2]
    with pytest.raises(ValueError, match="log2_q16 of 0"):
        fixed.log2_q16(0)


def test_fixed_model_matches_float_logistic():
    """The integer logistic is the calibrated float one up to rounding: same probability within 1e-3."""
    cal = load_calibration()
    rng = np.random.default_rng(3)
    x = cal.confidence.mean + rng.standard_normal((200, len(cal.confidence.features))) * cal.confidence.std
    xq = np.round(x * fixed.ONE).astype(np.int64)
    p = cal.confidence(xq / fixed.ONE)
    q4 = np.array([fixed.sigmoid_q4(z) for z in MODEL.confidence.z(xq)])
    assert np.abs(q4 / 10000 - p).max() < 1e-3


def test_align_json_and_jsonl_give_the_same_confidence():
    pytest.importorskip("tflite_micro")
    from microalign.align import align_file
    from microalign.formats import to_jsonl
    from microalign.runtime import load_backend

    al = align_file(ASSETS / "sample.wav", (ASSETS / "sample.txt").read_text(), load_backend("tflm"))
    lines = [json.loads(x) for x in to_jsonl(al).splitlines()]
    words = [x for x in lines if "word" in x and "warning" not in x]
    d = al.to_dict()
    assert [w["confidence"] for w in words] == [w["confidence"] for w in d["words"]]
    assert all(abs(w["confidence"] * 10000 - round(w["confidence"] * 10000)) < 1e-6 for w in words)
    assert [x["warning"] for x in lines if "warning" in x] == [w["code"] for w in d["warnings"]]


def test_float_scores_take_the_int8_path():
    """Float log-probabilities are quantised to the log-softmax int8 format first: the same model for every backend."""
    from microalign.quality import assess

    rng = np.random.default_rng(5)
    c = synthetic_case(rng, n_words=6)
    T, C = c["scores"].shape
    lp = (c["scores"].astype(np.float64) - fixed.SCORE_ZERO_POINT) * fixed.SCORE_SCALE + rng.uniform(-0.03, 0.03, (T, C))
    feats = np.repeat((c["level"] // 40)[:, None], 40, axis=1).astype(np.int8)
    a = assess(lp, c["tokens"], c["token_spans"], c["word_spans"], feats, c["k"])
    b = assess(c["scores"], c["tokens"], c["token_spans"], c["word_spans"], feats, c["k"], scale=fixed.SCORE_SCALE,
               zero_point=fixed.SCORE_ZERO_POINT)
    assert np.array_equal(a.confidence, b.confidence) and [w.code for w in a.warnings] == [w.code for w in b.warnings]
    assert np.array_equal(fixed.quantize_log_probs(lp), c["scores"])
    with pytest.raises(ValueError, match="log-mel features must be"):
        assess(lp, c["tokens"], c["token_spans"], c["word_spans"], feats[:, :3], c["k"])


def test_fixed_features_are_the_float_features_in_fixed_point():
    """On the sample's int8 scores the Q16 features equal quality.features' float definitions up to rounding."""
    pytest.importorskip("tflite_micro")
    from microalign.align import decode_scores
    from microalign.audio import load_audio
    from microalign.frontend import features_from_pcm
    from microalign.quality import FEATURES, UtteranceFrames, log_probs_of, word_features
    from microalign.runtime import frame_scores
    from microalign.runtime.backends import TFLMBackend
    from microalign.text import normalize
    from microalign.text.tokens import ENGLISH

    feats = features_from_pcm(load_audio(ASSETS / "sample.wav"))
    sc = frame_scores(feats, TFLMBackend(ASSETS / "student_int8.tflite"))
    tokens = [ENGLISH.encode_word(w.text) for w in normalize((ASSETS / "sample.txt").read_text())]
    d = decode_scores(sc, tokens)
    lp = log_probs_of(sc.values, sc.scale, sc.zero_point)
    x = word_features(lp, tokens, d.token_spans, d.word_spans, UtteranceFrames.of(lp, feats), d.min_char_frames)
    xq = fixed.features_q16(sc.values, tokens, d.token_spans, d.word_spans, fixed.FixedFrames.of(sc.values, feats),
                            d.min_char_frames) / fixed.ONE
    tol = {"silence": 2e-4, "log_frames_per_char": 2e-4, "level_db": 0.05}   # tables; integer log2; median of sums
    for j, name in enumerate(FEATURES):
        assert np.abs(xq[:, j] - x[:, j]).max() <= tol.get(name, 1e-4), name
