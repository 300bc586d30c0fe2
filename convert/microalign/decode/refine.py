"""Word boundaries between frames: the local posterior of each junction.

The Viterbi path (:mod:`._core`) puts every word boundary on a 10 ms frame edge, at the single best
path's choice. Where two paths score almost alike -- most junctions between words -- that choice is
close to a coin toss, and the frames support a boundary between frames better. For every junction
of two words that follow each other on the decoded path without a silence frame (with
:data:`REFINE_PAUSES` also the first word's start, the last word's end and the junctions around a
pause, which otherwise keep the decoder's frame edge: a pause's silence frames give the posterior a
long one-sided tail) this module re-estimates the boundary as the posterior median of the frame at
which paths cross it (the estimate of least expected absolute error, the error the aligner is
judged by) over all paths through a small local graph:

* states: the last :data:`REFINE_CHARS` characters of the left word (each repeated ``k`` times, the
  decoder's duration floor), the optional silence, the first :data:`REFINE_CHARS` characters of the
  right word, with the decoder's transitions (stay, advance, skip the silence);
* frames: those of these characters on the Viterbi path, at most :data:`REFINE_REACH` frames before
  the left word's Viterbi end and after the right word's Viterbi start (a longer pause is split into
  two problems, one per side); the paths start and end where the Viterbi path does (in the same
  character, or silence, at the window's first and last frame; at the recording's first and last
  frame, wherever the decoder's graph allows);
* emissions: ``exp(REFINE_TEMPERATURE * (score - frame maximum))`` -- the temperature widens the
  posterior (the model's scores are over-confident), chosen on the synthetic and teacher-labelled
  held-out sets (``eval/refine_study.py``), never on the dev set.

A path is monotone, so ``P(state_t <= the left word's last character)`` is the probability that the
left word has not ended by frame ``t`` and ``P(state_t <= the silence)`` that the right word has not
started; each boundary is where its probability falls through one half (:func:`median_crossing`, a
frame edge's mass spread over half a frame on either side). Both come from one posterior, and the
second probability is never below the first, so a junction's end never passes its start.

Two arithmetics, one algorithm: :func:`refine_float` for float scores (the torch / ONNX / float
TFLite backends; probabilities renormalised every frame) and :func:`refine_int` for int8
LOG_SOFTMAX scores, the bit-exact reference of the C kernel ``tflm_app/kernels/ma_refine_s8.c``:
log domain in :data:`LOG_UNITS` per nat (emissions from :data:`EMIT_LOG`, ``log(e^x + e^y)`` as the
larger plus :data:`LOGADD`, unreachable states at :data:`NEG`), each frame's posterior in Q15
through :data:`EXP_Q15` (the frame's best state counts 2^15, so the sum is never 0), probabilities
and boundaries in Q12 (the median's interpolation an exact integer division). The tables reach the
C code through ``microalign_refine.h`` (:mod:`.refine_header`, ``microalign headers``).

Memory per problem: at most :data:`MAX_WINDOW` frames x ``2 * REFINE_CHARS * k + 1`` states of
forward rows (int32) and emissions (int16), and two probabilities per frame, i.e. :func:`scratch_bytes`
(11.2 KB for k = 3: the decoder's SRAM scratch, reused on the device); time: linear in the windows' frames.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..frontend import FRAME_SECONDS

#: characters of each word that take part in a junction's local graph
REFINE_CHARS = 2
#: frames kept before the left word's Viterbi end and after the right word's Viterbi start
REFINE_REACH = 32
#: emission temperature of the local posterior (scores are natural-log probabilities)
REFINE_TEMPERATURE = 0.5
#: also refine the boundaries next to a decoded pause and at the recording's edges (False: they stay on
#: the decoder's frame edge, where a pause's silence frames give the posterior a long one-sided tail)
REFINE_PAUSES = False
#: scale of int8 LOG_SOFTMAX scores (float = (q - 127) / 16), the unit of EMIT_LOG's index
INT_SCALE = 1.0 / 16.0
#: fraction bits of probabilities and refined boundaries (frames) in the integer arithmetic
Q_BITS = 12
#: log-domain resolution of the integer arithmetic: units per nat
LOG_UNITS = 64
#: the integer arithmetic's emission of a score d = frame max - q below its frame's best (d = 0..255),
#: in LOG_UNITS per nat: -round(LOG_UNITS T d / 16)
EMIT_LOG = -np.round(LOG_UNITS * REFINE_TEMPERATURE * INT_SCALE * np.arange(256)).astype(np.int64)
#: LOGADD[i] = round(LOG_UNITS log(1 + exp(-i / LOG_UNITS))), up to one 0 after its last non-zero entry
#: (an index past the table reads that 0)
LOGADD = np.round(LOG_UNITS * np.log1p(np.exp(-np.arange(16 * LOG_UNITS) / LOG_UNITS))).astype(np.int64)
LOGADD = LOGADD[:int(np.nonzero(LOGADD)[0][-1]) + 2]
#: EXP_Q15[i] = round(2^15 exp(-i / LOG_UNITS)) (posteriors in Q15), up to one 0 after its last non-zero entry
EXP_Q15 = np.round(32768.0 * np.exp(-np.arange(16 * LOG_UNITS) / LOG_UNITS)).astype(np.int64)
EXP_Q15 = EXP_Q15[:int(np.nonzero(EXP_Q15)[0][-1]) + 2]
#: the log-domain start of an unreachable state: far below any path, which loses at most
#: 255 T LOG_UNITS / 16 per frame, and far from int32's limit after MAX_WINDOW frames of sinking as fast
NEG = -(1 << 28)
#: most frames of one problem (a junction whose pause is at most 2 REFINE_REACH frames)
MAX_WINDOW = 4 * REFINE_REACH
#: most states of one problem in the integer arithmetic (Q15 sums shifted by Q_BITS stay inside int32)
MAX_STATES = 15
#: copies of each character in a junction's graph: the decoder's duration floor k, at most this many
#: (a looser floor than the decoder's keeps its path inside the graph)
MAX_COPIES = (MAX_STATES - 1) // (2 * REFINE_CHARS)


def max_states(k: int) -> int:
    """Most states of one problem for a duration floor of ``k`` frames per character."""
    return 2 * REFINE_CHARS * min(k, MAX_COPIES) + 1


def scratch_bytes(k: int) -> int:
    """Bytes of scratch ``ma_refine_s8`` needs (``ma_refine_s8_get_scratch_size``): int32 forward rows
    of :data:`MAX_WINDOW` frames, three int32 rows of ``max_states(k)`` states, the two probabilities
    of each frame (int32) and the window's int16 emissions."""
    s = max_states(k)
    return 4 * MAX_WINDOW * s + 12 * s + 8 * MAX_WINDOW + ((2 * MAX_WINDOW * s + 3) & ~3)


@dataclass(frozen=True)
class Problem:
    """One junction's local graph over frames ``[a, b)``."""

    a: int
    b: int
    cols: np.ndarray      #: [S] score column of each state (0 = silence)
    skip: np.ndarray      #: [S] bool, the state may be entered from s - 2 (over the silence)
    start: np.ndarray     #: [S] bool, allowed at frame a
    end: np.ndarray       #: [S] bool, allowed at frame b - 1
    last_left: int        #: state index of the left word's last character's last copy, -1 if none
    sil: int              #: state index of the silence
    left_word: int        #: word whose end this problem estimates, -1 if none
    right_word: int       #: word whose start this problem estimates, -1 if none


def problems(token_spans: np.ndarray, words: Sequence[Sequence[int]], n_frames: int, k: int,
             chars: int = REFINE_CHARS, reach: int = REFINE_REACH, pauses: bool = REFINE_PAUSES) -> list[Problem]:
    """The local problems of a decoded path: ``token_spans`` [C, 2] frames per character (merged
    over the decoder's ``k`` copies; the graphs repeat each character ``min(k, MAX_COPIES)`` times),
    ``words`` the transcript in score columns; without ``pauses`` only the junctions where one word
    follows the other on the decoded path without a silence frame."""
    ts = np.asarray(token_spans, dtype=np.int64)
    k = min(int(k), MAX_COPIES)
    first = np.cumsum([0] + [len(w) for w in words])
    cols_of = [int(c) for w in words for c in w]
    n, H, out = len(words), reach, []

    def build(a, b, left, right, left_word, right_word, start_sil, end_sil):
        # left / right: character indices (global) in order; start_sil / end_sil: the window starts /
        # ends in the silence (else in a character: copy 0 / last copy, or every copy where cut)
        if left:
            left = [c for c in left if ts[c, 1] > a]
        if right:
            right = [c for c in right if ts[c, 0] < b]
        cols = []
        for c in left:
            cols += [cols_of[c]] * k
        sil = len(cols)
        cols.append(0)
        for c in right:
            cols += [cols_of[c]] * k
        S = len(cols)
        skip = np.zeros(S, dtype=bool)
        if left and right:
            skip[sil + 1] = True
        start = np.zeros(S, dtype=bool)
        end = np.zeros(S, dtype=bool)
        if start_sil is None:           # the recording's first frame: leading silence or the first character
            start[sil] = True
            if right:
                start[sil + 1] = True
        elif start_sil:
            start[sil] = True
        elif ts[left[0], 0] == a:        # not silence: the window starts in the left word
            start[0] = True
        else:                            # inside its first character: any copy
            start[:k] = True
        if end_sil is None:             # the recording's last frame: the last character or trailing silence
            end[sil] = True
            if left:
                end[sil - 1] = True
        elif end_sil:
            end[sil] = True
        elif ts[right[-1], 1] == b:      # not silence: the window ends in the right word
            end[S - 1] = True
        else:                            # inside its last character: any copy
            end[S - k:] = True
        return Problem(a, b, np.array(cols, dtype=np.int64), skip, start, end,
                       sil - 1 if left else -1, sil, left_word, right_word)

    for g in range(n + 1):
        left = list(range(max(first[g - 1], first[g] - chars), first[g])) if g > 0 else []
        right = list(range(first[g], min(first[g + 1], first[g] + chars))) if g < n else []
        s_lo = int(ts[first[g] - 1, 1]) if g > 0 else 0              # left word's Viterbi end
        s_hi = int(ts[first[g], 0]) if g < n else n_frames           # right word's Viterbi start
        if not pauses and not (left and right and s_hi == s_lo):     # a decoded pause or the recording's edge
            continue
        fa = max(int(ts[left[0], 0]), s_lo - H) if left else max(0, s_hi - H)
        fb = min(int(ts[right[-1], 1]), s_hi + H) if right else min(n_frames, s_lo + H)
        start_sil = None if (not left and fa == 0) else (not left)
        end_sil = None if (not right and fb == n_frames) else (not right)
        if left and right and s_hi - s_lo > 2 * H:                   # a long pause: one problem per side
            out.append(build(fa, s_lo + H, left, [], g - 1, -1, False, True))
            out.append(build(s_hi - H, fb, [], right, -1, g, True, False))
        else:
            out.append(build(fa, fb, left, right, g - 1 if left else -1, g if right else -1, start_sil, end_sil))
    return out


def _survival_float(em: np.ndarray, p: Problem) -> tuple[np.ndarray, np.ndarray] | None:
    """Per frame t of one problem (emissions em [b - a, S]): P(the left word not yet ended at t) and
    P(the right word not yet started at t), i.e. P(state_t <= its last character / the silence)."""
    T, S = em.shape
    alpha = np.zeros((T, S))
    x = np.where(p.start, em[0], 0.0)
    for t in range(T):
        if t:
            prev = alpha[t - 1]
            x = prev.copy()
            x[1:] += prev[:-1]
            x[2:] += np.where(p.skip[2:], prev[:-2], 0.0)
            x *= em[t]
        m = x.max()
        if not m > 0:
            return None
        alpha[t] = x / m
    beta = np.where(p.end, 1.0, 0.0)
    g_left, g_right = np.zeros(T), np.zeros(T)
    for t in range(T - 1, -1, -1):
        if t < T - 1:
            y = beta * em[t + 1]
            z = y.copy()
            z[:-1] += y[1:]
            z[:-2] += np.where(p.skip[2:], y[2:], 0.0)
            m = z.max()
            if not m > 0:
                return None
            beta = z / m
        g = alpha[t] * beta
        den = g.sum()
        if not den > 0:
            return None
        g_left[t] = g[:p.last_left + 1].sum() / den if p.last_left >= 0 else 0.0
        g_right[t] = g[:p.sil + 1].sum() / den
    return g_left, g_right


def median_crossing(g: np.ndarray, q_bits: int | None = None):
    """The posterior median of a crossing, in frames after the window's first, from ``g[t]`` =
    P(not yet crossed at frame t) (non-increasing): with each frame edge's mass spread over half a
    frame on either side, where P(not yet crossed) falls through one half. Floats, or with ``q_bits``
    integers in Q``q_bits`` (exact integer arithmetic, result in the same Q format)."""
    half, one = (0.5, 1.0) if q_bits is None else (1 << (q_bits - 1), 1 << q_bits)
    below = np.flatnonzero(g <= half)
    t0 = int(below[0]) if len(below) else len(g)
    g0 = g[t0 - 1] if t0 > 0 else one
    g1 = g[t0] if t0 < len(g) else 0
    if q_bits is None:
        return t0 - 0.5 + (g0 - 0.5) / (g0 - g1)      # g0 > 1/2 >= g1
    return t0 * one - half + ((int(g0) - half) << q_bits) // (int(g0) - int(g1))


def _crossings_float(em: np.ndarray, p: Problem, estimator: str = "median") -> tuple[float, float] | None:
    """Crossing frames (left word's end, right word's start) of one problem: the posterior median
    (the estimate of least expected absolute error) or, for the study, the mean."""
    r = _survival_float(em, p)
    if r is None:
        return None
    if estimator == "mean":
        return p.a + r[0].sum(), p.a + r[1].sum()
    return p.a + median_crossing(r[0]), p.a + median_crossing(r[1])


def _logadd(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log(e^x + e^y) in LOG_UNITS per nat: the larger plus LOGADD[|x - y|] (its last entry, 0, past the table)."""
    return np.maximum(x, y) + LOGADD[np.minimum(np.abs(x - y), len(LOGADD) - 1)]


def _crossings_int(em: np.ndarray, p: Problem) -> tuple[int, int]:
    """Integer twin of :func:`_crossings_float` (the median) in the log domain: em [b - a, S] emissions
    in LOG_UNITS per nat (EMIT_LOG); returns the crossings in Q12 frames after ``a`` (from -2^11)."""
    T, S = em.shape
    alpha = np.full((T, S), NEG, dtype=np.int64)
    alpha[0] = np.where(p.start, em[0], NEG)
    neg2 = np.full(2, NEG)
    for t in range(1, T):
        prev = alpha[t - 1]
        x = prev.copy()
        x[1:] = _logadd(prev[1:], prev[:-1])
        x = np.where(p.skip, _logadd(x, np.concatenate([neg2, prev[:-2]])), x)
        alpha[t] = x + em[t]
    beta = np.where(p.end, 0, NEG).astype(np.int64)
    g_left, g_right = np.zeros(T, np.int64), np.zeros(T, np.int64)
    for t in range(T - 1, -1, -1):
        if t < T - 1:
            y = beta + em[t + 1]
            z = y.copy()
            z[:-1] = _logadd(y[:-1], y[1:])
            skip_next = np.concatenate([p.skip[2:], [False, False]])
            beta = np.where(skip_next, _logadd(z, np.concatenate([y[2:], neg2])), z)
        v = alpha[t] + beta
        d = v.max() - v
        g = EXP_Q15[np.minimum(d, len(EXP_Q15) - 1)]
        den = int(g.sum())                      # >= 2^15: the best state counts 2^15
        if p.last_left >= 0:
            g_left[t] = (int(g[:p.last_left + 1].sum()) << Q_BITS) // den
        g_right[t] = (int(g[:p.sil + 1].sum()) << Q_BITS) // den
    return median_crossing(g_left, Q_BITS), median_crossing(g_right, Q_BITS)


@dataclass(frozen=True)
class Refined:
    """Refined word boundaries in milliseconds (ordered: start <= end <= next start)."""

    start_ms: np.ndarray    #: [n] int64
    end_ms: np.ndarray      #: [n] int64


def refine_float(cols: np.ndarray, words: Sequence[Sequence[int]], token_spans: np.ndarray,
                 word_spans: np.ndarray, k: int, frame_max: np.ndarray | None = None, *,
                 temperature: float = REFINE_TEMPERATURE, chars: int = REFINE_CHARS,
                 reach: int = REFINE_REACH, estimator: str = "median", pauses: bool = REFINE_PAUSES) -> Refined:
    """Refined boundaries of a float decode (``cols`` [T, 1 + D] log-probabilities of the
    transcript's columns, ``words`` in those columns, the decoder's spans and duration floor;
    the keywords exist for ``eval/refine_study.py``, which chose the defaults)."""
    lp = np.asarray(cols, dtype=np.float64)
    fm = lp.max(axis=1) if frame_max is None else np.asarray(frame_max, dtype=np.float64)
    em_all = np.exp(temperature * (np.maximum(lp, -1e4) - fm[:, None]))
    ms_per_frame = 1000.0 * FRAME_SECONDS

    def solve(p):
        r = _crossings_float(em_all[p.a:p.b][:, p.cols], p, estimator)
        return None if r is None else tuple(int(np.floor(v * ms_per_frame + 0.5)) for v in r)

    return _refine(solve, problems(token_spans, words, lp.shape[0], k, chars, reach, pauses), word_spans)


def refine_int(cols: np.ndarray, words: Sequence[Sequence[int]], token_spans: np.ndarray,
               word_spans: np.ndarray, k: int, frame_max: np.ndarray, engine: str = "auto",
               pauses: bool = REFINE_PAUSES) -> Refined:
    """Refined boundaries of an int8 decode (``cols`` int8 LOG_SOFTMAX scores of the transcript's
    columns, ``frame_max`` the per-frame maximum over the whole vocabulary): the reference of
    ``ma_refine_s8``. ``engine``: ``"auto"`` runs that C kernel where it can be built (as
    :func:`.viterbi_int.viterbi_align_int` does; ``MICROALIGN_DECODE_ENGINE`` forces either),
    ``"numpy"`` this reference, ``"c"`` the kernel (built with ``MA_REFINE_PAUSES`` = :data:`REFINE_PAUSES`:
    the other ``pauses`` runs the reference)."""
    from .viterbi_int import _resolve_engine

    if pauses != REFINE_PAUSES and engine == "c":
        raise ValueError(f"the C kernel is built with pauses={REFINE_PAUSES} (microalign_refine.h)")
    if pauses == REFINE_PAUSES and _resolve_engine(engine) == "c":
        from . import native

        return Refined(*native.refine(np.asarray(cols), words, token_spans, k, np.asarray(frame_max)))
    q = np.asarray(cols, dtype=np.int64)
    d = np.asarray(frame_max, dtype=np.int64)[:, None] - q     # a score above frame_max counts as equal
    em_all = EMIT_LOG[np.clip(d, 0, 255)]
    ms = int(round(1000.0 * FRAME_SECONDS))

    def solve(p):
        r = _crossings_int(em_all[p.a:p.b][:, p.cols], p)
        return tuple(p.a * ms + ((v * ms + (1 << (Q_BITS - 1))) >> Q_BITS) for v in r)

    return _refine(solve, problems(token_spans, words, q.shape[0], k, pauses=pauses), word_spans)


def _refine(solve, probs: list[Problem], word_spans) -> Refined:
    ws = np.asarray(word_spans, dtype=np.int64)
    ms = int(round(1000.0 * FRAME_SECONDS))
    start, end = ws[:, 0] * ms, ws[:, 1] * ms
    for p in probs:
        r = solve(p)
        if r is None:           # the float mass vanished: the decoded boundary stays
            continue
        if p.left_word >= 0:
            end[p.left_word] = r[0]
        if p.right_word >= 0:
            start[p.right_word] = r[1]
    order(start, end)
    return Refined(start, end)


def order(start: np.ndarray, end: np.ndarray) -> None:
    """In place: every word at least 1 ms long and no word before the previous one's end (the
    boundaries of one junction are ordered already; this only guards words whose start and end,
    from two junctions, cross)."""
    prev = 0
    for i in range(len(start)):
        start[i] = max(start[i], prev)
        end[i] = max(end[i], start[i] + 1)
        prev = end[i]

