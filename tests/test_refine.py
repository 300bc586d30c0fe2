"""Boundary refinement (microalign.decode.refine): what the local posterior must and must not do.

The float and integer arithmetics are checked against brute force (the expected crossing over every
path of a small graph, enumerated), against each other, and for the invariants the aligner's output
relies on (ordered boundaries, inside the local window, a sharp posterior keeps the decoded boundary).
The C kernel's bit-exactness is tests/test_refine_c.py's.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from microalign.decode import _core, refine as R, viterbi_align, viterbi_align_int
from microalign.decode.refine_vectors import random_cases
from microalign.decode.synthetic import random_transcript, synthesize
from microalign.text.tokens import encode_words


def _decoded(seed: int, n_words: int = 8, k: int = 3, **kw):
    rng = np.random.default_rng(seed)
    words = encode_words(random_transcript(rng, n_words))
    syn = synthesize(rng, words, char_frames=(k, k + 8), **kw)
    cols, local, fm = _core.compact(syn.log_probs, syn.words)
    r = viterbi_align(cols, local, min_char_frames=k, frame_max=fm)
    return cols, local, fm, r, k, syn


def _brute_force(em: np.ndarray, p: R.Problem) -> tuple[np.ndarray, np.ndarray]:
    """P(not yet past the left word / the silence) per frame, over every state sequence the problem's graph
    allows (small T only)."""
    T, S = em.shape
    tot, g_left, g_right = 0.0, np.zeros(T), np.zeros(T)
    for seq in itertools.product(range(S), repeat=T):
        if not p.start[seq[0]] or not p.end[seq[-1]]:
            continue
        if any(not (b == a or b == a + 1 or (b == a + 2 and p.skip[b])) for a, b in zip(seq, seq[1:])):
            continue
        w = float(np.prod(em[np.arange(T), seq]))
        tot += w
        g_left += w * (np.array(seq) <= p.last_left)
        g_right += w * (np.array(seq) <= p.sil)
    return g_left / tot, g_right / tot


def test_float_posterior_equals_brute_force():
    rng = np.random.default_rng(0)
    for k, (la, lb, skip) in itertools.product((1, 2), ((1, 1, True), (2, 1, True), (1, 0, False))):
        S = la * k + 1 + lb * k
        sil = la * k
        sk = np.zeros(S, bool)
        if la and lb and skip:
            sk[sil + 1] = True
        start, end = np.zeros(S, bool), np.zeros(S, bool)
        start[0] = True
        end[S - 1] = True
        p = R.Problem(3, 3 + 7, np.zeros(S, np.int64), sk, start, end, sil - 1, sil, 0, 1 if lb else -1)
        em = rng.uniform(0.05, 1.0, size=(7, S))
        want = _brute_force(em, p)
        got = R._survival_float(em, p)
        assert got is not None and np.allclose(got, want, atol=1e-9), (k, la, lb)
        assert np.allclose(R._crossings_float(em, p, "mean"), [3 + want[0].sum(), 3 + want[1].sum()])
        assert np.allclose(R._crossings_float(em, p), [3 + R.median_crossing(want[0]), 3 + R.median_crossing(want[1])])


def test_median_crossing():
    """A certain crossing at frame edge c gives c, in floats and in Q12; half the mass one frame later gives
    c + 1/2; the integer variant follows the float one within one Q12 step."""
    for c in (0, 1, 4, 7):
        g = (np.arange(7) < c).astype(float)
        assert R.median_crossing(g) == c
        assert R.median_crossing((g * 4096).astype(np.int64), 12) == c * 4096
    g = np.array([1.0, 1.0, 0.5, 0.0, 0.0])
    assert R.median_crossing(g) == 2.5
    rng = np.random.default_rng(1)
    for _ in range(50):
        g = np.sort(rng.uniform(0, 1, 9))[::-1]
        q = np.round(g * 4096).astype(np.int64)
        assert abs(R.median_crossing(q, 12) / 4096 - R.median_crossing(q / 4096)) <= 1 / 4096


def test_integer_arithmetic_follows_the_float_one():
    """The log-domain integer arithmetic (the C kernel's) stays within a few ms of the float one, on
    dequantised int8 scores of the same decode."""
    diffs = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        words = encode_words(random_transcript(rng, 10))
        syn = synthesize(rng, words, char_frames=(3, 11), sharpness=3.0, noise=2.0)
        cols, local, fm = _core.compact(syn.scores, syn.words)
        r = viterbi_align_int(cols, local, min_char_frames=3, frame_max=fm)
        a = R.refine_int(cols, local, r.token_spans, r.word_spans, 3, fm)
        deq = (cols.astype(np.float64) - 127.0) / 16.0
        b = R.refine_float(deq, local, r.token_spans, r.word_spans, 3, (fm.astype(np.float64) - 127.0) / 16.0)
        diffs += list(np.abs(a.start_ms - b.start_ms)) + list(np.abs(a.end_ms - b.end_ms))
    assert np.max(diffs) <= 3 and np.mean(diffs) < 0.6, (np.max(diffs), np.mean(diffs))


@pytest.mark.parametrize("arith", ["float", "int"])
def test_boundaries_ordered_and_near_the_decoded_ones(arith):
    for c in random_cases(np.random.default_rng(5), 25):
        ws = np.array([[c.spans[a, 0], c.spans[b - 1, 1]] for a, b in zip(*_ranges(c.words))])
        if arith == "int":
            f = R.refine_int(c.scores, c.words, c.spans, ws, c.k, c.frame_max)
        else:
            f = R.refine_float((c.scores - 127.0) / 16.0, c.words, c.spans, ws, c.k, (c.frame_max - 127.0) / 16.0)
        b = np.ravel(np.stack([f.start_ms, f.end_ms], axis=1))
        assert (np.diff(b) >= 0).all() and (f.end_ms > f.start_ms).all(), c.name
        # a boundary moves at most REACH frames (the window) plus the characters of its graph
        assert (np.abs(f.start_ms - ws[:, 0] * 10) <= 10 * (R.REFINE_REACH + 40)).all()
        assert (np.abs(f.end_ms - ws[:, 1] * 10) <= 10 * (R.REFINE_REACH + 40)).all()


def _ranges(words):
    first = np.cumsum([0] + [len(w) for w in words])
    return first[:-1], first[1:]


def test_a_sharp_posterior_keeps_the_decoded_boundary_and_a_flat_one_moves_it():
    """One frame of evidence: a junction whose frames scream the decoded path stays on its frame edge;
    where a frame is ambiguous between the two words the boundary moves into it by about half a frame."""
    T = 40
    lp = np.full((T, 3), -20.0)
    lp[:20, 1] = 0.0          # word "a" for 20 frames, then word "b"
    lp[20:, 2] = 0.0
    words = [[1], [2]]
    r = viterbi_align(lp, words, min_char_frames=1)
    assert r.word_spans.tolist() == [[0, 20], [20, 40]]
    f = R.refine_float(lp, words, r.token_spans, r.word_spans, 1)
    assert f.start_ms.tolist() == [0, 200] and f.end_ms.tolist() == [200, 400]
    lp[20, 1] = lp[20, 2] = np.log(0.5)     # frame 20: either word, equally
    r = viterbi_align(lp, words, min_char_frames=1)
    f = R.refine_float(lp, words, r.token_spans, r.word_spans, 1, temperature=1.0)
    assert abs(f.end_ms[0] - 205) <= 1 and abs(f.start_ms[1] - 205) <= 1, (f.end_ms, f.start_ms)


def test_long_pause_splits_the_junction_into_two_problems():
    """Junctions around a decoded pause are left alone by default; with pauses=True a long pause gives one
    problem per side."""
    cols, local, fm, r, k, _ = _decoded(2, n_words=3, pause_prob=1.0, pause_frames=(3 * R.REFINE_REACH, 4 * R.REFINE_REACH))
    assert not R.problems(r.token_spans, local, len(cols), k)       # every junction here has a pause
    probs = R.problems(r.token_spans, local, len(cols), k, pauses=True)
    sides = [(p.left_word, p.right_word) for p in probs]
    assert (0, -1) in sides and (-1, 1) in sides and (1, -1) in sides and (-1, 2) in sides
    assert max(p.b - p.a for p in probs) <= R.MAX_WINDOW
    assert all(p.cols.shape[0] <= R.max_states(k) for p in probs)


def test_copies_capped_for_a_large_duration_floor():
    cols, local, fm, r, _, _ = _decoded(4, n_words=4, k=6)
    probs = R.problems(r.token_spans, local, len(cols), 6)
    assert R.max_states(6) == 2 * R.REFINE_CHARS * R.MAX_COPIES + 1 <= R.MAX_STATES
    assert all(p.cols.shape[0] <= R.MAX_STATES for p in probs)
    f = R.refine_float(cols, local, r.token_spans, r.word_spans, 6, fm)
    assert (f.end_ms > f.start_ms).all()
