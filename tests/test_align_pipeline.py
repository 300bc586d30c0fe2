"""The align pipeline with stand-in scorers: windowing, stitching, int8 vs float decoding."""
import numpy as np
import pytest

from microalign.align import AlignmentError, FrameScores, align_pcm, frame_scores, window_starts
from microalign.frontend import HOP
from microalign.text.tokens import NUM_TOKENS, encode_word


class PositionScorer:
    """Writes each frame's index inside its window into the scores (to check stitching)."""

    window = 400

    def __call__(self, feats):
        v = np.zeros((self.window, NUM_TOKENS), np.float32)
        v[:, 0] = np.arange(self.window)
        return FrameScores(v)


def test_window_starts_cover_everything():
    assert window_starts(300, 400) == [0]
    for n in (401, 799, 1234, 3000):
        s = window_starts(n, 400)
        assert s[0] == 0 and s[-1] == n - 400
        assert all(b - a <= 300 for a, b in zip(s, s[1:]))


@pytest.mark.parametrize("n", [150, 400, 401, 1000, 2345])
def test_stitching_keeps_frames_away_from_window_edges(n):
    feats = np.zeros((n, 40), np.int8)
    pos = frame_scores(feats, PositionScorer()).values[:, 0]
    assert pos.shape == (n,)
    starts = window_starts(n, 400)
    if len(starts) > 1:
        inner = pos[50:n - 50]
        assert inner.min() >= 49 and inner.max() <= 350   # never within ~50 frames of an inner edge
    # consecutive frames come from a window where they are consecutive, except at hand-overs
    assert np.sum(np.diff(pos) != 1) <= len(starts) - 1


class OracleScorer:
    """Scores that put the word "ab" at frames [100, 140) and "c" at [150, 170) of the utterance."""

    window = 400

    def __init__(self, n, int8):
        lp = np.full((n, NUM_TOKENS), -10.0)
        lp[:, 0] = 0.0
        for (a, b), tok in [((100, 120), "a"), ((120, 140), "b"), ((150, 170), "c")]:
            lp[a:b] = -10.0
            lp[a:b, encode_word(tok)[0]] = 0.0
        self.lp, self.int8, self.offset = lp, int8, 0
        self.calls = []

    def __call__(self, feats):
        s = self.calls.__len__()
        start = window_starts(len(self.lp), self.window)[s]
        self.calls.append(start)
        v = np.full((self.window, NUM_TOKENS), -10.0)
        seg = self.lp[start:start + self.window]
        v[:len(seg)] = seg
        if self.int8:
            return FrameScores(np.clip(np.round(v * 16) + 127, -128, 127).astype(np.int8), 1 / 16, 127)
        return FrameScores(v.astype(np.float32))


@pytest.mark.parametrize("int8", [False, True])
def test_align_pcm_recovers_planted_words(int8):
    rng = np.random.default_rng(0)
    pcm = (rng.normal(size=300 * HOP) * 1000).astype(np.int16)
    al = align_pcm(pcm, "AB, c!", OracleScorer(300, int8))
    assert [(w.word, w.source) for w in al.words] == [("ab", "AB,"), ("c", "c!")]
    assert [(w.start, w.end) for w in al.words] == [(1.0, 1.4), (1.5, 1.7)]
    assert [(c.char, c.start, c.end) for c in al.words[0].chars] == [("a", 1.0, 1.2), ("b", 1.2, 1.4)]
    assert all(w.confidence > 0.99 for w in al.words)


def test_too_long_transcript_named():
    pcm = (np.random.default_rng(0).normal(size=5 * HOP) * 1000).astype(np.int16)
    with pytest.raises(AlignmentError, match="too long"):
        align_pcm(pcm, "abcdefgh", OracleScorer(5, False))
