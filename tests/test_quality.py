"""Mismatch detection, calibrated confidence, warnings, --strict and progress (microalign.quality)."""
import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from microalign.align import AlignmentError, align_pcm
from microalign.audio import load_audio
from microalign.cli import main
from microalign.quality import (CODES, FEATURES, Calibration, Logistic, QualityError, QualityWarning, Thresholds,
                                UtteranceFrames, cases, load_calibration, word_features)
from microalign.quality.confidence import CALIBRATION_FILE, FORMAT_VERSION
from microalign.quality.features import UTTERANCE_FEATURES
from microalign.quality.progress import ProgressScorer
from microalign.runtime import load_backend

ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
SAMPLE = ASSETS / "sample.wav"
TEXT = (ASSETS / "sample.txt").read_text().strip()
# LJ001-0002 and LJ001-0001 (public domain): other clips' transcripts
OTHER_SHORT = "in being comparatively modern."
OTHER_LONG = ("Printing, in the only sense with which we are at present concerned, differs from most if not from all "
              "the arts and crafts represented in the Exhibition")


# ---- units -----------------------------------------------------------------------------------

def test_logistic_fit_recovers_a_known_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2)) * [2.0, 0.5] + [1.0, -3.0]
    true_z = 0.7 + 1.5 * (x[:, 0] - 1.0) / 2.0 - 2.0 * (x[:, 1] + 3.0) / 0.5
    y = (rng.random(4000) < 1 / (1 + np.exp(-true_z))).astype(float)
    m = Logistic.fit(x, y, features=("gap", "silence"), l2=0.0)
    assert m.bias == pytest.approx(0.7, abs=0.15)
    assert m.weights == pytest.approx([1.5, -2.0], abs=0.15)
    back = Logistic.from_json(json.loads(json.dumps(m.to_json())))
    assert np.allclose(back(x[:5]), m(x[:5]), atol=1e-5)
    with pytest.raises(QualityError, match="both classes"):
        Logistic.fit(x, np.ones(len(x)))
    with pytest.raises(QualityError, match=r"\[n, 2\]"):
        m(np.zeros((3, 5)))


def test_shipped_calibration_file_is_valid():
    cal = load_calibration()
    assert set(cal.confidence.features) <= set(FEATURES) and set(cal.unspoken.features) <= set(FEATURES)
    assert set(cal.mismatch.features) == set(UTTERANCE_FEATURES)
    # a worse fit (larger loss) and a lower score both make the transcript more suspicious
    w = dict(zip(cal.mismatch.features, cal.mismatch.weights))
    assert w["fit_loss"] > 0 and w["score"] <= 0 and 0.5 <= cal.thresholds.mismatch_probability < 1
    assert "timit" not in json.dumps(cal.info).lower()      # never fitted on the dev set
    assert 0 < cal.thresholds.chars_per_second_low < cal.thresholds.chars_per_second_high
    d = json.loads(CALIBRATION_FILE.read_text())
    d["version"] = 99
    with pytest.raises(QualityError, match="version 99"):
        Calibration.from_json(d)
    d["version"] = FORMAT_VERSION
    d["thresholds"]["bogus"] = 1
    with pytest.raises(QualityError, match="bogus"):
        Calibration.from_json(d)
    del d["thresholds"]["bogus"]
    d["mismatch"]["features"] = ["fit_loss", "gap"]
    with pytest.raises(QualityError, match="unknown features"):
        Calibration.from_json(d)
    del d["mismatch"]
    with pytest.raises(QualityError, match="no 'mismatch' model"):
        Calibration.from_json(d)


def test_word_features_by_hand():
    # 10 frames, 3 tokens (0 silence, 1, 2); word "1 2" on frames 2..8, chars [2,5) and [5,8)
    lp = np.full((10, 3), np.log(0.1))
    lp[:, 0] = np.log(0.8)
    lp[2:5, 1] = np.log(0.8)
    lp[2:5, 0] = np.log(0.1)
    lp[5:8, 2] = np.log(0.4)
    lp[5:8, 0] = np.log(0.5)
    feats = np.full((10, 40), -128, np.int8)
    feats[2:8] = 0
    fr = UtteranceFrames.of(lp, feats)
    assert fr.speech.tolist() == [False, False, True, True, True, False, False, False, False, False]
    x = word_features(lp, [[1, 2]], np.array([[2, 5], [5, 8]]), np.array([[2, 8]]), fr, min_char_frames=3)
    f = dict(zip(FEATURES, x[0]))
    assert f["gap"] == pytest.approx((0 + 3 * np.log(0.4 / 0.5)) / 6)
    assert f["worst_char_gap"] == pytest.approx(np.log(0.4 / 0.5))
    assert f["silence"] == pytest.approx((3 * 0.1 + 3 * 0.5) / 6)
    assert f["log_frames_per_char"] == pytest.approx(np.log(3))
    assert f["at_floor"] == 1.0
    assert f["pause_before"] == pytest.approx(0.02) and f["pause_after"] == pytest.approx(0.02)
    with pytest.raises(QualityError, match="do not match"):
        word_features(lp, [[1, 2, 1]], np.array([[2, 5], [5, 8]]), np.array([[2, 8]]), fr, 3)


def test_warning_serialisation():
    w = QualityWarning("unspoken_word", "word 3 'x' looks unspoken", 3, 1.234567, 1.5)
    assert w.to_dict() == {"code": "unspoken_word", "word": 3, "start": 1.235, "end": 1.5,
                           "message": "word 3 'x' looks unspoken"}
    assert w.line() == "warning: unspoken_word at 1.23-1.50 s: word 3 'x' looks unspoken"
    u = QualityWarning("low_score", "m")
    assert u.to_dict() == {"code": "low_score", "message": "m"} and u.line() == "warning: low_score: m"
    assert set(CODES) >= {"unspoken_word", "stretched_word", "squeezed_words", "no_speech", "text_too_long",
                          "text_too_short", "low_score"}


def test_progress_counts_windows_and_is_silent_off_terminal():
    class Scorer:
        window = 7
        tokens = "table"

        def __call__(self, x):
            return x * 2

    class Tty(io.StringIO):
        def isatty(self):
            return True

    quiet = io.StringIO()
    p = ProgressScorer(Scorer(), total=3, stream=quiet)
    assert p.window == 7 and p.tokens == "table" and p(np.ones(2)).tolist() == [2, 2]
    p.close()
    assert quiet.getvalue() == ""
    tty = Tty()
    p = ProgressScorer(Scorer(), total=3, desc="scoring 90 s", stream=tty)
    for _ in range(3):
        p(np.ones(1))
    assert p.bar.n == 3
    p.close()
    assert "scoring 90 s" in tty.getvalue() and "0/3" in tty.getvalue()


# ---- the shipped model on real speech ---------------------------------------------------------

@pytest.fixture(scope="module")
def scorer():
    return load_backend("torch")


@pytest.fixture(scope="module")
def sample_pcm():
    return load_audio(SAMPLE)


def codes(al) -> set:
    return {w.code for w in al.warnings}


def test_correct_sample_has_no_warnings_and_a_high_score(scorer, sample_pcm):
    al = align_pcm(sample_pcm, TEXT, scorer)
    assert al.warnings == []
    assert 0.6 < al.score <= 1.0
    assert al.score == pytest.approx(np.mean([w.confidence for w in al.words]))
    d = al.to_dict()
    assert d["warnings"] == [] and d["score"] == round(al.score, 4)


@pytest.mark.parametrize("case,expected", [
    ("partial_transcript", {"text_too_short", "stretched_word"}),
    ("unspoken_word", {"unspoken_word"}),
    ("truncated_audio", {"text_too_long", "squeezed_words"}),
    ("white_noise", {"no_speech"}),
])
def test_mismatch_cases_warn(scorer, sample_pcm, case, expected):
    pcm, text = cases.CASES[case](sample_pcm, TEXT)
    al = align_pcm(pcm, text, scorer)
    assert codes(al) & expected, [w.line() for w in al.warnings]
    # which word an unspoken_word warning names: tests/test_mismatch.py (inserted in the middle of this
    # transcript, "elephant" drags its neighbours' timings along and the warnings name them)


@pytest.mark.parametrize("other", [OTHER_SHORT, OTHER_LONG])
def test_another_clips_transcript_warns(scorer, sample_pcm, other):
    pcm, text = cases.other_transcript(sample_pcm, TEXT, other)
    al = align_pcm(pcm, text, scorer)
    assert al.warnings, f"score {al.score:.2f}, no warning"
    assert al.score < align_pcm(sample_pcm, TEXT, scorer).score - 0.2


def test_calibration_thresholds_drive_the_checks(scorer, sample_pcm):
    """A looser threshold silences a check, a stricter one fires it: the file is what decides."""
    cal = load_calibration()
    pcm, text = cases.truncated_audio(sample_pcm, TEXT)
    loose = dataclasses.replace(cal, thresholds=Thresholds(**(cal.thresholds.__dict__ | {"chars_per_second_high": 1e6})))
    assert "text_too_long" not in codes(align_pcm(pcm, text, scorer, calibration=loose))
    strict = dataclasses.replace(cal, thresholds=Thresholds(**(cal.thresholds.__dict__ | {"score_low": 0.999})))
    assert "low_score" in codes(align_pcm(sample_pcm, TEXT, scorer, calibration=strict))


def test_too_long_audio_is_refused_before_any_work(monkeypatch, scorer, sample_pcm):
    import microalign.align as A
    import microalign.decode as D

    monkeypatch.setattr(D, "MAX_FRAMES", 500)
    monkeypatch.setattr(A, "features_from_pcm", lambda pcm: pytest.fail("features computed before the limit check"))
    with pytest.raises(AlignmentError, match=r"audio lasts 8\.4 s; the decoder handles at most 5\.0 s"):
        align_pcm(sample_pcm, TEXT, scorer)


# ---- command line ------------------------------------------------------------------------------

def test_cli_strict_exit_status_and_stderr(tmp_path, sample_pcm):
    import soundfile as sf

    runner = CliRunner()
    ok = runner.invoke(main, ["align", str(SAMPLE), "--text", TEXT, "--strict"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["warnings"] == [] and ok.stderr == ""
    pcm, text = cases.truncated_audio(sample_pcm, TEXT)
    wav = tmp_path / "cut.wav"
    sf.write(wav, pcm, 16000)
    loose = runner.invoke(main, ["align", str(wav), "--text", text])
    assert loose.exit_code == 0
    d = json.loads(loose.stdout)
    lines = [ln for ln in loose.stderr.splitlines() if ln.startswith("warning: ")]
    assert len(lines) == len(d["warnings"]) >= 1
    assert {w["code"] for w in d["warnings"]} & {"text_too_long", "squeezed_words"}
    assert all(w["message"] in ln for w, ln in zip(d["warnings"], lines))
    strict = runner.invoke(main, ["align", str(wav), "--text", text, "--strict"])
    assert strict.exit_code == 3
    assert json.loads(strict.stdout) == d          # the output is still written


def test_unproven_decoder_path_warns(monkeypatch, scorer, sample_pcm):
    import dataclasses

    import microalign.align as A

    real = A.decode_scores
    monkeypatch.setattr(A, "decode_scores", lambda *a, **k: dataclasses.replace(real(*a, **k), edge_free=False))
    al = align_pcm(sample_pcm, TEXT, scorer)
    assert codes(al) == {"band_edge"}
    assert "not be the best" in al.warnings[0].message


def test_removal_gain_is_the_best_three_part_alternative():
    """removal_gain equals aligned score minus a brute-force search over prev / silence / next splits."""
    from microalign.quality.features import GAIN_CLIP, removal_gain

    rng = np.random.default_rng(0)
    for _ in range(200):
        T = 12
        lp = np.log(rng.dirichlet(np.ones(4), size=T))
        a = int(rng.integers(0, 6))
        b = int(rng.integers(a, T + 1))
        pt = None if rng.random() < 0.3 else int(rng.integers(1, 4))
        nt = None if rng.random() < 0.3 else int(rng.integers(1, 4))
        best = -np.inf
        for x in range(a, b + 1):
            for y in range(x, b + 1):
                if (pt is None and x != a) or (nt is None and y != b):
                    continue
                v = (lp[a:x, pt].sum() if pt is not None else 0) + lp[x:y, 0].sum() + (
                    lp[y:b, nt].sum() if nt is not None else 0)
                best = max(best, v)
        aligned = float(rng.normal())
        want = float(np.clip(aligned - best, -GAIN_CLIP, GAIN_CLIP)) if b > a else 0.0
        assert removal_gain(lp, a, b, aligned, pt, nt) == pytest.approx(want, abs=1e-9)
    # a word whose frames its own characters explain gains; one squeezed into silence loses
    lp = np.full((10, 3), np.log(0.05))
    lp[:, 0] = np.log(0.9)
    lp[3:7, 1] = np.log(0.9)
    lp[3:7, 0] = np.log(0.05)
    assert removal_gain(lp, 3, 7, float(lp[3:7, 1].sum()), None, None) > 5
    assert removal_gain(lp, 0, 3, float(lp[0:3, 2].sum()), None, 1) < -5
