import numpy as np
import pytest

from microalign.corpus import Segment
from microalign.scoring import match_words, score_utterances
from microalign.scoring.baselines import uniform_alignment


def S(*items):
    return [Segment(w, s, e) for w, s, e in items]


def test_match_by_sequence_not_index():
    ref = S(("the", 0.1, 0.2), ("cat", 0.2, 0.5), ("sat", 0.5, 0.8))
    hyp = S(("cat", 0.21, 0.5), ("sat", 0.5, 0.79))       # first word missing
    assert match_words(ref, hyp) == [(1, 0), (2, 1)]


def test_scores_known_errors():
    ref = S(("a", 0.0, 0.1), ("b", 0.1, 0.3))
    hyp = S(("a", 0.01, 0.12), ("b", 0.12, 0.35))
    sc, _ = score_utterances({"u": ref}, {"u": hyp})
    # boundary errors 10, 20, 20, 50 ms
    assert sc.mean_ms == pytest.approx(25.0)
    assert sc.median_ms == pytest.approx(20.0)
    assert sc.within_ms == pytest.approx({"10": 25.0, "20": 75.0, "25": 75.0, "50": 100.0})
    assert sc.aas_ms == pytest.approx(((10 + 20) / 2 + (20 + 50) / 2) / 2)
    assert sc.n_matched == 2


def test_pauses_and_overlaps_in_reference_are_fine():
    ref = S(("a", 0.0, 0.3), ("b", 0.28, 0.6), ("c", 0.9, 1.2))   # overlap and a pause
    sc, _ = score_utterances({"u": ref}, {"u": ref})
    assert sc.mean_ms == 0.0 and sc.n_matched == 3


def test_missing_hypothesis_counts_unmatched():
    ref = S(("a", 0.0, 0.3))
    sc, _ = score_utterances({"u": ref, "v": ref}, {"u": ref})
    assert sc.n_ref_words == 2 and sc.n_matched == 1


def test_uniform_baseline_covers_voiced_region():
    sr = 16000
    pcm = np.zeros(sr * 2, dtype=np.int16)
    t = np.arange(sr) / sr
    pcm[sr // 2: sr // 2 + sr] = (8000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    segs = uniform_alignment(pcm, ["ab", "abcd"])
    assert segs[0].start == pytest.approx(0.5, abs=0.03)
    assert segs[-1].end == pytest.approx(1.5, abs=0.03)
    assert segs[1].end - segs[1].start > segs[0].end - segs[0].start
