"""The align pipeline with stand-in scorers: windowing, stitching, int8 vs float decoding, the scorer's token table."""
import numpy as np
import pytest

from microalign.align import AlignmentError, align_pcm
from microalign.frontend import HOP
from microalign.runtime import FrameScores, frame_scores, pad_window, window_owners, window_starts
from microalign.text.tokens import ENGLISH, NUM_TOKENS, TokenTable, encode_word


class PositionScorer:
    """Writes each frame's index inside its window into the scores (to check stitching)."""

    window = 400

    def __call__(self, feats):
        v = np.zeros((self.window, NUM_TOKENS), np.float32)
        v[:, 0] = np.arange(self.window)
        return FrameScores(v)


def test_window_starts_cover_everything():
    assert window_starts(300, 400) == [0]
    assert window_starts(400, 400) == [0]
    assert window_starts(401, 400) == [0, 1]
    assert window_starts(1000, 400) == [0, 300, 600]
    assert window_starts(1234, 400) == [0, 300, 600, 834]
    assert window_starts(1000, 400, margin=100) == [0, 200, 400, 600]
    for n in (401, 799, 1234, 3000):
        s = window_starts(n, 400)
        assert s[0] == 0 and s[-1] == n - 400
        assert all(b - a <= 300 for a, b in zip(s, s[1:]))


def test_window_starts_refuses_windows_without_frames():
    with pytest.raises(ValueError, match="window 100 and margin 50"):
        window_starts(1000, 100, margin=50)
    with pytest.raises(ValueError, match="n_frames"):
        window_starts(-1, 400)


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
    # the frame index inside the owner window is the utterance frame minus the window start
    owner = window_owners(n, starts, 400)
    np.testing.assert_array_equal(pos, np.arange(n) - np.array(starts)[owner])


def test_owner_rule_hands_over_at_the_midpoint():
    """With windows at 0 and 300 (centres 200 and 500), frame 349 belongs to the first, 350 to the second."""
    owner = window_owners(700, [0, 300], 400)
    assert owner[349] == 0 and owner[350] == 1
    assert np.array_equal(np.unique(owner), [0, 1])


def test_padding_is_the_feature_floor():
    feats = np.arange(30 * 40).reshape(30, 40).astype(np.int8)
    w = pad_window(feats, 20, 16)
    assert w.shape == (16, 40) and w.dtype == np.int8
    np.testing.assert_array_equal(w[:10], feats[20:30])
    assert (w[10:] == -128).all()


def test_frame_scores_refuses_bad_features():
    with pytest.raises(ValueError, match="int8 features"):
        frame_scores(np.zeros((100, 40), np.float32), PositionScorer())
    with pytest.raises(ValueError, match=r"\(0, 40\)"):
        frame_scores(np.zeros((0, 40), np.int8), PositionScorer())


class OracleScorer:
    """Scores that put the word "ab" at frames [100, 140) and "c" at [150, 170) of the utterance."""

    window = 400

    def __init__(self, n, int8, table=None):
        self.table = table or ENGLISH
        if table is not None:
            self.tokens = table
        lp = np.full((n, self.table.num_tokens), -10.0)
        lp[:, 0] = 0.0
        for (a, b), tok in [((100, 120), "a"), ((120, 140), "b"), ((150, 170), "c")]:
            lp[a:b] = -10.0
            lp[a:b, self.table.encode_word(tok)[0]] = 0.0
        self.lp, self.int8, self.offset = lp, int8, 0
        self.calls = []

    def __call__(self, feats):
        s = self.calls.__len__()
        start = window_starts(len(self.lp), self.window)[s]
        self.calls.append(start)
        v = np.full((self.window, self.lp.shape[1]), -10.0)
        seg = self.lp[start:start + self.window]
        v[:len(seg)] = seg
        if self.int8:
            return FrameScores(np.clip(np.round(v * 16) + 127, -128, 127).astype(np.int8), 1 / 16, 127)
        return FrameScores(v.astype(np.float32))


def _noise(frames):
    return (np.random.default_rng(0).normal(size=frames * HOP) * 1000).astype(np.int16)


@pytest.mark.parametrize("int8", [False, True])
def test_align_pcm_recovers_planted_words(int8):
    al = align_pcm(_noise(300), "AB, c!", OracleScorer(300, int8))
    assert [(w.word, w.source) for w in al.words] == [("ab", "AB,"), ("c", "c!")]
    assert [(w.start, w.end) for w in al.words] == [(1.0, 1.4), (1.5, 1.7)]
    assert [(c.char, c.start, c.end) for c in al.words[0].chars] == [("a", 1.0, 1.2), ("b", 1.2, 1.4)]
    # the decoder's evidence is perfect; the calibrated confidence also weighs the (white-noise) audio
    from microalign.align import decode_scores
    from microalign.frontend import features_from_pcm
    raw = decode_scores(frame_scores(features_from_pcm(_noise(300)), OracleScorer(300, int8)),
                        [encode_word("ab"), encode_word("c")])
    assert (raw.confidence > 0.99).all()
    assert all(0.0 < w.confidence < 1.0 for w in al.words) and 0.0 < al.score < 1.0


@pytest.mark.parametrize("int8", [False, True])
def test_planted_words_across_three_windows(int8):
    """1000 frames (windows at 0, 300, 600): the stitched scores still give the planted words."""
    sc = OracleScorer(1000, int8)
    al = align_pcm(_noise(1000), "ab c", sc)
    assert sc.calls == [0, 300, 600]
    assert [(w.start, w.end) for w in al.words] == [(1.0, 1.4), (1.5, 1.7)]


def test_the_scorers_token_table_encodes_the_transcript():
    """A model with its own table (here: silence + a, b, c, so "c" is id 3, not 4 as in English)."""
    table = TokenTable(("a", "b", "c"), language="en")
    al = align_pcm(_noise(300), "ab c", OracleScorer(300, False, table))
    assert [(w.word, w.start, w.end) for w in al.words] == [("ab", 1.0, 1.4), ("c", 1.5, 1.7)]
    assert [c.char for c in al.words[1].chars] == ["c"]
    with pytest.raises(ValueError, match="'d'.*not in the token table"):
        align_pcm(_noise(300), "ab d", OracleScorer(300, False, table))


def test_too_long_transcript_named():
    pcm = (np.random.default_rng(0).normal(size=5 * HOP) * 1000).astype(np.int16)
    with pytest.raises(AlignmentError, match="too long"):
        align_pcm(pcm, "abcdefgh", OracleScorer(5, False))


def test_english_default_matches_the_token_ids():
    assert encode_word("c") == [ENGLISH.char_to_id("c")] == [4]


def test_window_owners_is_the_nearest_centre_rule_in_linear_memory():
    """The O(T) owner computation equals the definition (nearest window centre, earlier window on a
    tie) on lengths around every window boundary; 60 min of frames need O(T) memory, not T x windows."""
    for n in list(range(1, 1300, 7)) + [4000, 12345]:
        for w, m in ((400, 50), (100, 10), (7, 1)):
            starts = window_starts(n, w, m)
            centres = np.array([s + w / 2 for s in starts])
            brute = np.argmin(np.abs(np.arange(n)[:, None] + 0.5 - centres[None, :]), axis=1)
            assert (window_owners(n, starts, w) == brute).all(), (n, w, m)
    n = 360_000
    owner = window_owners(n, window_starts(n, 400, 50), 400)
    assert owner.shape == (n,) and owner[0] == 0 and owner[-1] == len(window_starts(n, 400, 50)) - 1
    assert (np.diff(owner) >= 0).all() and (np.diff(owner) <= 1).all()
