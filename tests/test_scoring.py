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
    assert sc.start_mean_ms == pytest.approx(15.0) and sc.end_mean_ms == pytest.approx(35.0)
    assert not hasattr(sc, "aas_ms")     # AAS = mean over words of (|ds| + |de|) / 2 = mean_ms: not repeated
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


def test_compare_stages_measures_what_a_backend_changes():
    """The stage comparison (scoring.compare) on the sample: the reference against itself is exact; a backend
    whose scores arrive one frame (10 ms) late shows argmax disagreement and boundaries ~10 ms late."""
    from pathlib import Path

    from microalign.align import align_file
    from microalign.corpus import Utterance
    from microalign.runtime import FrameScores, load_backend
    from microalign.scoring.compare import compare_stages

    assets = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
    text = (assets / "sample.txt").read_text().strip()
    ref = load_backend("torch")

    class Late:
        window, tokens = ref.window, ref.tokens

        def __call__(self, win):
            v = ref(win).values
            return FrameScores(np.concatenate([v[:1], v[:-1]]))

    words = S(*[(w.word, w.start, w.end) for w in align_file(assets / "sample.wav", text, ref).words])
    utt = Utterance("sample", str(assets / "sample.wav"), text, words)
    cmp = compare_stages([utt], {"torch": ref, "late": Late()}, progress=False)
    assert cmp.n_utterances == 1 and cmp.n_frames == 844
    same, late = cmp.stages["torch"], cmp.stages["late"]
    assert same.output["rmse"] == 0 and same.output["argmax"] == 1
    assert same.scores.mean_ms == 0 and same.shift_ms == 0 and same.scores.n_matched == len(words)
    assert 0.5 < late.output["argmax"] < 1 and late.output["rmse"] > 0.1
    assert 7 < late.shift_ms < 13 and late.scores.n_matched == len(words)
    table = cmp.table().splitlines()
    assert len(table) == 4 and table[2].startswith("| PyTorch float | 100.00 |") and table[3].startswith("| late |")
