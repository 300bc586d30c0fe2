"""The numpy decoders: optimality (brute force, independent full Viterbi), float/int agreement, band validity,
checkpoints, widening, compacted columns, errors, speed."""
from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from microalign.decode import (DecodeError, checkpoint_bytes, compact, scratch_bytes, viterbi_align,
                               viterbi_align_int)
from microalign.decode import _core

EXACT = _core.MAX_BAND   # a band >= S: the full Viterbi (bands are capped at S)
from microalign.decode.synthetic import quantize_log_softmax, random_transcript, synthesize
from microalign.text.tokens import NUM_TOKENS, encode_words


def all_paths(words, T):
    """Every valid state path (brute force), as arrays of state indices."""
    g = _core.build_graph(words, 1000)
    S = g.n_states
    tok = g.tokens

    def rec(path):
        t = len(path)
        if t == T:
            if path[-1] >= S - 2:
                yield list(path)
            return
        s = path[-1]
        nxt = [s, s + 1] + ([s + 2] if s + 2 < S and g.skip_ok[s + 2] else [])
        for n in nxt:
            if n < S:
                yield from rec(path + [n])

    for start in (0, 1):
        yield from rec([start])
    del tok


def path_score(x, words, states, pen):
    g = _core.build_graph(words, 1000)
    tok = g.tokens[states]
    entered = sum(1 for t, s in enumerate(states) if g.tokens[s] == 0 and (t == 0 or states[t - 1] != s))
    return x[np.arange(len(states)), tok].sum() - pen * entered


def brute_force(x, words, pen):
    best, arg = -np.inf, None
    for p in all_paths(words, x.shape[0]):
        sc = path_score(x, words, p, pen)
        if sc > best:
            best, arg = sc, p
    return best, np.asarray(arg)


def check_valid(ali, words, T):
    """Structure of a valid alignment: ordered, non-empty characters, contiguous inside words, gaps silent."""
    ts = ali.token_spans
    assert ts.shape == (sum(map(len, words)), 2)
    assert (ts[:, 1] > ts[:, 0]).all() and ts[0, 0] >= 0 and ts[-1, 1] <= T
    assert (ts[1:, 0] >= ts[:-1, 1]).all()
    k = 0
    for i, w in enumerate(words):
        assert (ts[k + 1:k + len(w), 0] == ts[k:k + len(w) - 1, 1]).all(), "characters of a word must touch"
        assert tuple(ali.word_spans[i]) == (ts[k, 0], ts[k + len(w) - 1, 1])
        k += len(w)
    ft = np.zeros(T, dtype=np.int64)
    flat = [c for w in words for c in w]
    for (a, b), c in zip(ts, flat):
        ft[a:b] = c
    assert (ali.frame_tokens == ft).all()


def small_words(rng, V):
    return [list(rng.integers(1, V, size=int(rng.integers(1, 3)))) for _ in range(int(rng.integers(1, 3)))]


@pytest.mark.parametrize("seed", range(40))
def test_float_is_the_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    V = 5
    words = small_words(rng, V)
    C = sum(map(len, words))
    T = int(rng.integers(C, C + 4))
    x = rng.normal(size=(T, V))
    pen = float(rng.choice([0.0, 0.7, -0.5]))
    ali = viterbi_align(x, words, silence_penalty=pen)
    best, path = brute_force(x, words, pen)
    assert ali.score == pytest.approx(best, abs=1e-9)
    g = _core.build_graph(words, V)
    assert (ali.frame_tokens == g.tokens[path]).all()
    check_valid(ali, words, T)


@pytest.mark.parametrize("seed", range(40))
def test_int_is_the_brute_force_optimum_with_ties(seed):
    rng = np.random.default_rng(100 + seed)
    V = 4
    words = small_words(rng, V)
    C = sum(map(len, words))
    T = int(rng.integers(C, C + 4))
    q = rng.integers(-3, 3, size=(T, V)).astype(np.int8)   # many ties
    pen = int(rng.choice([0, 1, -2]))
    ali = viterbi_align_int(q, words, silence_penalty=pen)
    best, _ = brute_force(q.astype(np.int64), words, pen)
    assert ali.score == best
    check_valid(ali, words, T)


def test_tie_breaking_prefers_stay_and_last_character():
    # all scores equal: the end is the last character (not sil_n), and since every state's
    # back-pointer prefers staying, the path reaches each state as early as possible.
    q = np.zeros((8, NUM_TOKENS), np.int8)
    ali = viterbi_align_int(q, encode_words(["ab", "c"]))
    assert ali.token_spans.tolist() == [[0, 1], [1, 2], [2, 8]]


def dequantize(q):
    return (q.astype(np.float64) - 127.0) / 16.0


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("band", [None, 8, 24])
def test_float_and_int_agree_on_dequantised_scores(seed, band):
    rng = np.random.default_rng(seed)
    words = encode_words(random_transcript(rng, int(rng.integers(3, 25))))
    kind = seed % 3
    if kind == 0:
        q = synthesize(rng, words).scores
    elif kind == 1:
        q = synthesize(rng, words, sharpness=2.0, noise=2.5).scores
    else:
        C = sum(map(len, words))
        q = rng.integers(-128, 128, size=(C + int(rng.integers(0, 3 * C)), NUM_TOKENS)).astype(np.int8)
    pen = int(rng.choice([0, 16, -8]))
    T = q.shape[0]
    ai = viterbi_align_int(q, words, silence_penalty=pen, band=band or EXACT, max_band=band or EXACT, beam=64,
                           engine="numpy")
    af = viterbi_align(dequantize(q), words, silence_penalty=pen / 16.0, band=band, max_band=band or 0, beam=4.0)
    assert (ai.band, ai.edge_free) == (af.band, af.edge_free)
    assert (af.frame_tokens == ai.frame_tokens).all()
    assert (af.token_spans == ai.token_spans).all() and (af.word_spans == ai.word_spans).all()
    assert af.score * 16.0 == ai.score - 127 * T
    np.testing.assert_allclose(af.word_confidence, ai.word_confidence(1 / 16), rtol=1e-12)
    assert ((0 < af.word_confidence) & (af.word_confidence <= 1)).all()
    check_valid(ai, words, T)


@pytest.mark.parametrize("seed", range(20))
def test_band_always_gives_a_valid_alignment(seed):
    rng = np.random.default_rng(seed)
    V = int(rng.integers(2, 30))
    words = [list(rng.integers(1, V, size=int(rng.integers(1, 6)))) for _ in range(int(rng.integers(1, 15)))]
    C = sum(map(len, words))
    T = C + int(rng.integers(0, 4 * C))
    q = rng.integers(-128, 128, size=(T, V)).astype(np.int8)
    full = viterbi_align_int(q, words, band=EXACT, engine="numpy")
    for band in (3, 4, 5, 9, 16):
        for beam in (0, 64, 10 ** 6):
            ali = viterbi_align_int(q, words, band=band, max_band=band, beam=beam,
                                    silence_penalty=int(rng.integers(-50, 50)), engine="numpy")
            check_valid(ali, words, T)
        ali = viterbi_align_int(q, words, band=band, max_band=band, engine="numpy")
        assert ali.score <= full.score
    S = C + len(words) + 1
    assert viterbi_align_int(q, words, band=S, engine="numpy").score == full.score


def test_narrow_band_tracks_realistic_speech():
    rng = np.random.default_rng(7)
    for _ in range(5):
        words = encode_words(random_transcript(rng, 60))     # ~350 states: a 64-state band is not exact
        syn = synthesize(rng, words, sharpness=3.0, noise=2.0)
        narrow = viterbi_align_int(syn.scores, words, band=64, max_band=64, engine="numpy")
        full = viterbi_align_int(syn.scores, words, band=EXACT, engine="numpy")
        assert narrow.band == 64
        assert (narrow.word_spans == full.word_spans).all() and narrow.score == full.score
        # the edge checks are conservative (a competitive state at the band's top counts as a touch):
        # allowed to widen, the decoder ends edge-free and still exact
        auto = viterbi_align_int(syn.scores, words, band=64, max_band=1024, engine="numpy")
        assert auto.edge_free and auto.score == full.score and (auto.word_spans == full.word_spans).all()


def test_edge_cases():
    q = np.full((1, NUM_TOKENS), -100, np.int8)
    ali = viterbi_align_int(q, [[5]])
    assert ali.token_spans.tolist() == [[0, 1]] and ali.word_frames.tolist() == [1]
    # as many characters as frames: one frame each
    words = encode_words(["hello", "world"])
    rng = np.random.default_rng(0)
    ali = viterbi_align(rng.normal(size=(10, NUM_TOKENS)), words)
    assert ali.token_spans.tolist() == [[i, i + 1] for i in range(10)]
    # repeated characters get separate, adjacent spans
    words = encode_words(["ll"])
    lp = np.full((9, NUM_TOKENS), -10.0)
    lp[:2, 0] = lp[7:, 0] = 0.0
    lp[2:7, words[0][0]] = 0.0
    ali = viterbi_align(lp, words)
    assert ali.word_spans.tolist() == [[2, 7]]
    assert ali.token_spans[0, 1] == ali.token_spans[1, 0]
    # leading / trailing silence and an inner pause are found
    words = encode_words(["a", "b"])
    lp = np.full((12, NUM_TOKENS), -8.0)
    truth = [0, 0, 0, 2, 2, 0, 0, 3, 3, 3, 0, 0]   # a = 2, b = 3
    lp[np.arange(12), truth] = 0.0
    ali = viterbi_align(lp, words)
    assert ali.word_spans.tolist() == [[3, 5], [7, 10]]
    assert ali.frame_tokens.tolist() == truth
    assert np.allclose(ali.word_confidence, 1.0)
    # a large silence penalty removes the pause, a bonus keeps it
    assert viterbi_align(lp, words, silence_penalty=100.0).frame_tokens[5:7].tolist() != [0, 0]
    assert viterbi_align(lp, words, silence_penalty=-1.0).frame_tokens.tolist() == truth


def test_realistic_alignment_is_accurate():
    rng = np.random.default_rng(3)
    words = encode_words(random_transcript(rng, 30))
    syn = synthesize(rng, words, sharpness=3.0, noise=2.0)
    ali = viterbi_align(syn.log_probs, words)
    assert (ali.frame_tokens == syn.frame_tokens).mean() > 0.9
    qa = viterbi_align_int(quantize_log_softmax(syn.log_probs), words)
    assert np.abs(qa.word_spans - ali.word_spans).max() <= 2


def test_inputs_accepted():
    rng = np.random.default_rng(0)
    lp = rng.normal(size=(20, NUM_TOKENS))
    a = viterbi_align(lp, ["ab", "c"])
    b = viterbi_align(lp[None], encode_words(["ab", "c"]))
    assert (a.frame_tokens == b.frame_tokens).all()
    lp[3, 5] = -np.inf
    viterbi_align(lp, ["ab", "c"])
    q = quantize_log_softmax(lp)
    assert viterbi_align_int(q.astype(np.int32), ["ab"]).score == viterbi_align_int(q, ["ab"]).score


@pytest.mark.parametrize("call, match, status", [
    (lambda: viterbi_align(np.zeros(5), [[1]]), r"\[T, V\].*\(5,\)", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align(np.zeros((2, 3, 4)), [[1]]), r"\(2, 3, 4\)", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align(np.zeros((5, 1)), [[1]]), r"V=1", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align(np.zeros((0, 28)), [[1]]), r"T=0", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align(np.zeros((5, 28)), []), r"empty transcript", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align(np.zeros((5, 28)), [[1], []]), r"word 1.*shape \(0,\)", _core.STATUS_ERR_TOKEN),
    (lambda: viterbi_align(np.zeros((5, 28)), [[28]]), r"token id 28 outside 1..27", _core.STATUS_ERR_TOKEN),
    (lambda: viterbi_align(np.zeros((5, 28)), [[0]]), r"token id 0", _core.STATUS_ERR_TOKEN),
    (lambda: viterbi_align(np.zeros((3, 28)), [[1, 2], [3, 4]]), r"C=4 .* T=3", _core.STATUS_ERR_TOO_SHORT),
    (lambda: viterbi_align(np.full((5, 28), np.nan), [[1]]), r"NaN", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align(np.zeros((5, 28)), [[1]], band=2), r"band=2", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align(np.zeros((5, 28)), [[1]], max_band=70000), r"max_band=70000", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align(np.zeros((5, 28)), [[1]], checkpoint_interval=-2), r"checkpoint_interval=-2",
     _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align(np.zeros((5, 28)), [[1]], frame_max=np.zeros(4)), r"frame_max.*\(5,\)",
     _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align_int(np.zeros((5, 28), np.int8), [[1]], frame_max=np.zeros(5)), r"frame_max must be int8",
     _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align_int(np.zeros((5, 28), np.int8), [[1]], engine="gpu"), r"engine", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align_int(np.zeros((5, 40000), np.int8), [[1]]), r"V=40000", _core.STATUS_ERR_ARGUMENT),
    (lambda: compact(np.zeros((5, 28)), [[28]]), r"token id 28", _core.STATUS_ERR_TOKEN),
    (lambda: viterbi_align_int(np.zeros((5, 28)), [[1]]), r"int8.*float64", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align_int(np.full((5, 28), 200), [[1]]), r"int8 range", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align_int(np.zeros((5, 28), np.int8), [[1]], silence_penalty=1.5), r"silence_penalty",
     _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align_int(np.zeros((5, 28), np.int8), [[1]], silence_penalty=2000), r"1024",
     _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align_int(np.zeros((5, 28), np.int8), [[1]], beam=-1), r"beam", _core.STATUS_ERR_ARGUMENT),
    (lambda: viterbi_align_int(np.zeros((5, 28), np.int8), "abc"), r"sequence of words", _core.STATUS_ERR_ARGUMENT),
])
def test_errors(call, match, status):
    with pytest.raises(ValueError, match=match) as e:
        call()
    assert isinstance(e.value, DecodeError) and e.value.status == status


def test_memory_formulas():
    # scratch (SRAM): 2 rows of W+4 int32, one segment of 2-bit back-pointers, per-frame lo and smin
    W, K = 1024, 128
    assert scratch_bytes(100000, 20000) == 8 * (W + 4) + 4 * K * (W // 16) + 8 * (K + 1) == 42_024
    assert scratch_bytes(10 ** 6, 10 ** 5) <= _core.DECODE_SRAM_BYTES          # any length: <= 48 KB
    assert scratch_bytes(1, 1) == 8 * (3 + 4) + 4 * K * 1 + 8 * (K + 1)          # S = 3 < W: W = S
    assert scratch_bytes(100, 20, band=16, max_band=16, interval=10) == 8 * 20 + 4 * 10 + 8 * 11
    # checkpoints (external): 16-bit state table + every K frames lo, smin, chars after smin and a row
    S = 5000 + 1000 + 1
    assert checkpoint_bytes(6000, 5000, 1000) == 4 * 3001 + 4 * (5999 // K + 1) * (W + 3)
    assert checkpoint_bytes(1, 1, 1, band=3) == 4 * 2 + 4 * 1 * (3 + 3)
    sixty_min = checkpoint_bytes(360_000, 50_000, 10_000)
    assert 11e6 < sixty_min < 12.5e6, sixty_min
    assert checkpoint_bytes(360_000, 50_000, 10_000, interval=256) < 0.55 * sixty_min
    del S
    for bad in [lambda: scratch_bytes(0, 1), lambda: scratch_bytes(1, 0), lambda: checkpoint_bytes(0, 1, 1),
                lambda: checkpoint_bytes(_core.MAX_FRAMES + 1, 1, 1), lambda: scratch_bytes(5, 2, band=2),
                lambda: checkpoint_bytes(_core.MAX_FRAMES, _core.MAX_FRAMES, 1, max_band=65536, interval=1)]:
        with pytest.raises(DecodeError):
            bad()


def test_fast_enough_for_30_s():
    rng = np.random.default_rng(0)
    words = encode_words(random_transcript(rng, 110))
    S = sum(map(len, words)) + len(words) + 1
    assert 500 <= S <= 700
    syn = synthesize(rng, words, 3000)
    for fn, x, kw in [(viterbi_align, syn.log_probs, {}), (viterbi_align_int, syn.scores, {"engine": "numpy"}),
                      (viterbi_align_int, syn.scores, {"band": EXACT, "engine": "numpy"}),
                      (viterbi_align_int, syn.scores, {})]:
        t0 = time.perf_counter()
        fn(x, words, **kw)
        assert time.perf_counter() - t0 < 3.0, (fn.__name__, kw)   # about 0.1-0.7 s on an idle core


@pytest.mark.parametrize("k", [2, 3])
def test_min_char_frames_is_a_duration_floor_and_both_decoders_agree(k):
    """A model that wants a 1-frame character gets k frames; the spans cover whole characters."""
    from microalign.decode import viterbi_align, viterbi_align_int

    T, V = 24, 28
    q = np.full((T, V), -100, dtype=np.int8)
    q[:, 0] = 0
    q[5:12, 2] = 0; q[5:12, 0] = -100                  # 'a' for 7 frames
    q[12, 3] = 0; q[12, 0] = -100                      # 'b' for one frame only
    q[13:20, 4] = 0; q[13:20, 0] = -100                # 'c' for 7 frames
    words = [[2, 3, 4]]
    r1 = viterbi_align_int(q, words)
    assert r1.token_spans.tolist() == [[5, 12], [12, 13], [13, 20]]
    ri = viterbi_align_int(q, words, min_char_frames=k, band=0)
    rf = viterbi_align(q.astype(np.float64), words, min_char_frames=k)
    assert ri.token_spans.tolist() == rf.token_spans.tolist()
    spans = ri.token_spans.tolist()
    assert all(e - s >= k for s, e in spans) and spans[0][1] == spans[1][0] and spans[1][1] == spans[2][0]
    assert ri.word_spans.tolist() == [[spans[0][0], spans[2][1]]]
    with pytest.raises(ValueError, match="min_char_frames"):
        viterbi_align_int(q, words, min_char_frames=0)
    with pytest.raises(ValueError, match="characters"):
        viterbi_align_int(q[:8], words, min_char_frames=3)


# ---------------------------------------------------------------- exactness against an independent full Viterbi

def full_viterbi(x: np.ndarray, words, pen: float = 0.0):
    """Independent exact reference: float64 full DP over all S states with T x S uint8 back-pointers.

    Same graph and tie-breaking as the decoders, written without bands, windows or checkpoints
    (memory T x S bytes: use it on up to a few minutes of frames)."""
    g = _core.build_graph(words, 1 << 20)
    T, S = x.shape[0], g.n_states
    tok, skip = g.tokens, g.skip_ok
    pen_s = np.where(tok == 0, pen, 0.0)
    chars_after = g.chars_after
    bp = np.zeros((T, S), np.uint8)
    cur = np.full(S, -np.inf)
    cur[0] = x[0, 0] - pen
    cur[1] = x[0, tok[1]]
    cur[chars_after > T - 1] = -np.inf
    for t in range(1, T):
        adv = np.concatenate([[-np.inf], cur[:-1]]) - pen_s
        sk = np.where(skip, np.concatenate([[-np.inf, -np.inf], cur[:-2]]), -np.inf)
        best = cur.copy()
        a = adv > best
        best[a] = adv[a]
        b = sk > best
        best[b] = sk[b]
        bp[t, a] = 1
        bp[t, b] = 2
        cur = best + x[t, tok]
        cur[chars_after > T - 1 - t] = -np.inf
    s = S - 2 if cur[S - 2] >= cur[S - 1] else S - 1
    score = cur[s]
    states = np.empty(T, np.int64)
    states[-1] = s
    for t in range(T - 1, 0, -1):
        s -= int(bp[t, s])
        states[t - 1] = s
    return float(score), g.tokens[states]


@pytest.mark.parametrize("seed", range(8))
def test_default_decoders_equal_the_full_viterbi_on_realistic_noise(seed):
    """Default parameters (band 256, widened up to 1024) on utterances of 150-600 states with a realistic
    model (frame accuracy 60-95 %, pauses): the same path as an independent full Viterbi."""
    rng = np.random.default_rng(40 + seed)
    words = encode_words(random_transcript(rng, int(rng.integers(20, 80))))
    syn = synthesize(rng, words, sharpness=[2.5, 3.0, 4.0, 6.0][seed % 4], noise=2.0, pause_prob=0.4,
                     pause_frames=(5, 120))
    wk = _core.expand_min_frames(words, 3)
    lp = syn.log_probs
    score, ft = full_viterbi(lp, wk)
    af = viterbi_align(lp, words, min_char_frames=3)
    assert (af.frame_tokens == ft).all() and af.score == pytest.approx(score, abs=1e-6)
    q = syn.scores
    iscore, ift = full_viterbi(q.astype(np.float64), wk)
    for engine in ("numpy", "auto"):
        ai = viterbi_align_int(q, words, min_char_frames=3, engine=engine)
        assert (ai.frame_tokens == ift).all() and ai.score == iscore and ai.edge_free


@pytest.mark.parametrize("interval", [1, 2, 7, 128, 10 ** 4])
def test_checkpoint_interval_does_not_change_the_result(interval):
    rng = np.random.default_rng(5)
    words = encode_words(random_transcript(rng, 40))
    syn = synthesize(rng, words, sharpness=2.5, noise=2.5)
    ref = viterbi_align_int(syn.scores, words, band=24, max_band=24, engine="numpy")
    ali = viterbi_align_int(syn.scores, words, band=24, max_band=24, checkpoint_interval=interval, engine="numpy")
    assert (ali.token_spans == ref.token_spans).all() and ali.score == ref.score
    assert (ali.word_score_sum == ref.word_score_sum).all() and ali.edge_free == ref.edge_free
    f = viterbi_align(syn.log_probs, words, band=24, max_band=24, checkpoint_interval=interval)
    g = viterbi_align(syn.log_probs, words, band=24, max_band=24)
    assert (f.token_spans == g.token_spans).all() and f.score == g.score


def test_an_edge_touch_widens_the_band_until_the_path_is_edge_free():
    """A 3-state band on a noisy 40-word utterance touches its edge; with room to widen the decoder doubles
    the band until the path is edge-free, and reports the band it used."""
    rng = np.random.default_rng(11)
    words = encode_words(random_transcript(rng, 40))
    syn = synthesize(rng, words, sharpness=2.0, noise=2.5)
    narrow = viterbi_align_int(syn.scores, words, band=3, max_band=3, engine="numpy")
    assert narrow.band == 3 and not narrow.edge_free
    widened = viterbi_align_int(syn.scores, words, band=3, max_band=1000, engine="numpy")
    S = sum(map(len, words)) + len(words) + 1
    assert widened.edge_free and widened.band in (6, 12, 24, 48, 96, 192, 384, 768, S)
    half = viterbi_align_int(syn.scores, words, band=widened.band // 2, max_band=widened.band // 2, engine="numpy")
    assert widened.band == 6 or not half.edge_free          # it stopped at the first edge-free band
    exact = viterbi_align_int(syn.scores, words, band=EXACT, engine="numpy")
    assert exact.edge_free and exact.band == S
    assert widened.score == exact.score and (widened.token_spans == exact.token_spans).all()
    assert widened.score == exact.score and (widened.token_spans == exact.token_spans).all()
    f = viterbi_align(dequantize(syn.scores), words, band=3, max_band=1000, beam=4.0)
    assert (f.band, f.edge_free) == (widened.band, True) and (f.token_spans == widened.token_spans).all()


def test_compacted_columns_give_the_same_alignment_and_confidence():
    """Decoding only [silence] + the transcript's distinct tokens, with the full-vocabulary frame maxima,
    equals decoding the full matrix -- also for a 5000-token (CJK-sized) vocabulary."""
    rng = np.random.default_rng(2)
    words = encode_words(random_transcript(rng, 30))
    syn = synthesize(rng, words, sharpness=3.0, noise=2.0)
    cols, local, fmax = compact(syn.scores, words)
    ids = sorted({c for w in words for c in w})
    assert cols.shape == (syn.scores.shape[0], 1 + len(ids)) and (cols[:, 1:] == syn.scores[:, ids]).all()
    assert (fmax == syn.scores.max(axis=1)).all()
    a = viterbi_align_int(syn.scores, words, min_char_frames=3, engine="numpy")
    b = viterbi_align_int(cols, local, min_char_frames=3, frame_max=fmax, engine="numpy")
    for f in ("token_spans", "word_spans", "word_score_sum", "word_frames"):
        assert (getattr(a, f) == getattr(b, f)).all(), f
    assert a.score == b.score
    # without frame_max the confidence would compare with the transcript's columns only: different meaning
    c = viterbi_align_int(cols, local, min_char_frames=3, engine="numpy")
    assert (c.word_score_sum >= b.word_score_sum).all() and (c.word_score_sum > b.word_score_sum).any()
    # a large vocabulary: 5000 float columns, 20 of them used
    V = 5000
    big_words = [list(rng.choice(np.arange(1, V), size=int(rng.integers(1, 5)), replace=False)) for _ in range(8)]
    lp = rng.normal(size=(200, V))
    flat = [c for w in big_words for c in w]
    lp[np.arange(200), np.asarray(flat)[np.sort(rng.integers(0, len(flat), 200))]] += 6.0
    cols, local, fmax = compact(lp, big_words)
    assert cols.shape[1] == 1 + len(set(flat))
    full = viterbi_align(np.maximum(lp, -1e4), big_words, band=None) if V <= _core.MAX_VOCAB else None
    small = viterbi_align(cols, local, frame_max=fmax)
    assert (full.token_spans == small.token_spans).all() and full.score == pytest.approx(small.score)
    np.testing.assert_allclose(full.word_confidence, small.word_confidence, rtol=1e-12)


def test_limit_messages_are_in_seconds():
    g = _core.build_graph([[1]], 28)
    with pytest.raises(DecodeError, match=r"T=1800001 frames \(18000\.01 s\).*1800000 frames \(5\.0 hours\)"):
        _core.check_frames(_core.MAX_FRAMES + 1, g)
    with pytest.raises(DecodeError, match=r"C=4 characters .* T=3 frames \(0\.03 s"):
        viterbi_align(np.zeros((3, 28)), [[1, 2], [3, 4]])
