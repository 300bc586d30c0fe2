"""The alignment algorithm shared by the float decoder, the integer decoder and ``ma_decode_s8``.

State graph for words ``w_1..w_n`` (``S = C + n + 1`` states, ``C`` characters)::

    sil_0, chars of w_1, sil_1, chars of w_2, ..., chars of w_n, sil_n

Silence states (token 0) are optional and may last any number of frames;
every character state lasts at least one frame. Into state ``s`` at frame
``t`` a path comes by *stay* (from ``s``), *advance* (from ``s-1``) or *skip*
(from ``s-2``, only when ``s`` is the first character of word ``i >= 2`` and
``s-1`` is the optional silence ``sil_{i-1}``). A path starts in ``sil_0`` or
in the first character of ``w_1`` and ends in the last character of ``w_n``
or in ``sil_n``. Its score is the sum of the frames' emission scores minus
``silence_penalty`` for every silence state it enters (starting in ``sil_0``
counts as entering it).

Tie-breaking (fully specified, shared with ``tflm_app/kernels/ma_decode_s8.c``):

* per state: stay, then advance, then skip; a later candidate wins only if
  strictly better;
* at the last frame: the last character wins over ``sil_n`` unless ``sil_n``
  is strictly better;
* so among equally good paths the one that enters every state earliest is
  returned (traced back, each state is held as long as possible);
* the window's ``best`` (below) is the lowest of equally scoring states.

**Band.** Frame ``t`` keeps scores for the ``W`` states ``[lo(t), lo(t) + W)``
only (``lo(0) = 0``). The window follows the best partial path: after frame
``t``, with ``best`` the first state of maximal score ``x_best`` and ``top``
the highest state scoring at least ``x_best - beam``::

    lower = max(lo, min(best - W + 3, S - W))
    upper = min(lo + 2, best, S - W)
    lo(t+1) = min(max(top + floor(W/8) + 3 - W, lower), upper)

i.e. the window moves 0, 1 or 2 states per frame so that the most advanced
competitive hypothesis sits ``W/8 + 2`` states below its top: room for a
path that is not yet competitive but runs ahead (with only 2 states of room,
as before this decoder, such paths were cut: the optimum was lost at the top
edge on synthetic speech), everything else is history (a noisy model makes
the best partial path run ahead of the true one, so lagging hypotheses
matter more than room ahead). *Competitive* is the same notion for placing
the band and for checking it: the default ``beam`` equals the edge check's
``drop_margin`` (1024 int8 units, 64 nats). With a 4-nat beam (before) the
band ignored a hypothesis running 30-45 states ahead of a lagging best one
until it was within 4 nats: on the shipped sample repeated 7 times (62.55 s),
14.0 s in, the best partial path held the ``o`` of *bought* for 26 frames
while a path at *the crown*, 43 states ahead, closed in from 117 to 13 nats
and sat at the 256-state band's top with its successors outside, so the edge
check fired and the whole decode was redone with 512 states (it had not lost
the optimum); 5 minutes of LJ Speech widened to 512 the same way. With the
64-nat beam the band keeps such a hypothesis ``W/8 + 2`` states below its top,
and bands of 96 to 256 states decode both, and 60 s of LJ Speech, edge-free
and equal to the exact Viterbi (int8 and float), so the first band is 128.
States that cannot reach
the end any more (fewer frames left than characters after them) are
unreachable by definition. Because ``lo(t+1) <= best`` and both ``best`` and
its next character state lie in the next window, a reachable state that can
finish exists at every frame: **the result is always a valid alignment**, the
best one inside the band. Time is ``O(T W)``.

**Checkpointed back-pointers.** The forward pass keeps two score rows and,
every ``K`` frames (``t = 0, K, 2K, ...``), a *checkpoint*: the band's score
row, its position ``lo`` and the first state that can still finish. The
traceback replays one segment of ``K`` frames at a time from its checkpoint
(the replay recomputes the same rows and window positions, deterministically)
to rebuild that segment's 2-bit back-pointers, then follows them from the
segment's last frame to its first. Memory, with ``W`` the widest band tried
(``max_band``, at most ``S``) and ``S`` the number of states::

    scratch    (device SRAM)   8 (W + 4) + 4 K ceil(W/16) + 8 (K + 1)              bytes
    checkpoint (external RAM)  4 ceil(S/2) + 4 (floor((T-1)/K) + 1) (W + 3)         bytes

(two int32 rows with guards, one segment of packed back-pointers, the
segment's window positions and ``smin``; a 16-bit state table and the int32
checkpoints). The scratch does not depend on ``T``. Defaults: ``W`` = 128
widened up to 1024, ``K`` = 128, i.e. 42,024 bytes of SRAM at any length
(<= 48 KB) and checkpoints of 32 bytes per frame: 13.6 KB for 10 s (``S`` <
1024: ``W = S``), 223 KB for 60 s, 11.8 MB for 60 min (measured ``S`` of LJ
Speech with 3 states per character). The trade-off: ``K`` = 256 halves the
checkpoints (6.1 MB for 60 min) but doubles the back-pointer segment (76 KB
of SRAM at ``W`` = 1024); ``max_band`` = 512 with ``K`` = 256 needs 39 KB of
SRAM and 3.2 MB for 60 min, but leaves no room to widen past 512 (the band
real LJ Speech needed: 512 from 5 minutes on). The time is about twice a
forward pass (each segment is computed twice), ``O(T W)``.

**Exactness.** A band can lose the optimal path. After the traceback the path
is checked against the band: if at some transition ``t-1 -> t`` a successor of
the path's state (advance or skip) lies above band ``t`` (which does not reach
``S - 1``), or a predecessor of its state lies below band ``t-1`` although it
could still finish (``>= smin(t-1)``), the path ran next to a cell the band
excluded; or if, in the forward pass, a state scoring within ``drop_margin``
(1024 int8 units = 64 nats) of the frame's best left the band at its bottom
(a competitive lagging hypothesis was cut) or sat at its top while its
successors lay above the next band (a competitive hypothesis running ahead of
the best one was walled in: the window cannot move past ``best``, so a path
more than ``W`` states ahead of it is cut -- 60 s of LJ Speech at ``W`` = 256
lost the optimum this way, by up to 17 s, before this check existed), the whole decode is redone with
``2W`` (then ``4W``, ... up to ``max_band``). The result says whether the
returned path is *edge-free* (neither happened); ``W >= S`` is the full Viterbi
(exact, no edges). An edge-free path is the best path inside its band, but
that does not prove it is the global optimum: a better path could run
entirely outside the band. We found no useful certificate: the simple bound
"best score with which any path can leave the band + sum of the per-frame
maximum scores of the remaining frames" exceeds the found score by thousands
of nats on minutes of audio (each frame adds the gap between its best token
and the aligned one), and tighter bounds need the backward scores of the
whole graph, i.e. the full ``T x S`` computation the band avoids. Instead the
tests compare the banded decoders with an unbounded exact Viterbi on every
test recording (tests/test_decode.py, tests/test_decode_long.py). Measured on
real model outputs (LJ Speech clips concatenated, int8 and float): 1 and 5
minutes equal the exact Viterbi with the defaults at the first band, 128 (with
the former 4-nat beam: 1, 5 and 13 minutes equal with the defaults of then,
band 512 after one widening from 5 minutes on, while bands of 64 and 128 lost
the optimum there and were flagged; 60 minutes decoded edge-free at band 512). On
deliberately poor synthetic models (frame accuracy far below a trained
model's, 2 s pauses; measured with the former 4-nat beam) a 256-state band lost the optimum on 8 of 12
utterances, and every one of them is flagged.

**Arithmetic** (integer decoder and C kernel). Every frame is renormalised:
the previous row's maximum ``m`` (always a reachable state) is subtracted
while the new row is computed, and a candidate more than ``CLAMP = 2**29``
below ``m`` becomes unreachable (``NEG = -2**30``). Stored reachable scores are
then in ``[-2**29 - 128, 1151]``, so int32 never overflows at any length; the
path score is the final row's value plus the sum of the subtracted maxima
(int64 in C; ``|score| <= 1152 T < 2**31`` for ``T <= MAX_FRAMES``). The
clamp changes a result only if a partial path more than 2**29 int8 units
(33 million nats) below the best one at some frame were optimal at the end.
The float decoder does not renormalise (float64 cannot overflow here).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: Status codes, identical to ``MA_OK`` / ``MA_ERR_*`` in ``tflm_app/kernels/ma_status.h``.
STATUS_OK = 0
STATUS_ERR_ARGUMENT = -1
STATUS_ERR_TOKEN = -2
STATUS_ERR_TOO_SHORT = -3
STATUS_ERR_SCRATCH = -4

FRAME_SECONDS = 0.01
MAX_FRAMES = 1_800_000    # 5 hours of 10 ms frames: |path score| <= 1152 T < 2**31
MAX_PENALTY = 1024        # |silence_penalty| in int8 score units
MAX_VOCAB = 32768         # score columns: 15-bit token id + skip flag per state in the kernel's table
MIN_BAND = 3              # the window proof needs W >= 3
MAX_BAND = 65536
MAX_INTERVAL = 65536
DEFAULT_BAND = 128        # band=0 (auto): the first band tried
DEFAULT_MAX_BAND = 1024   # max_band=0 (auto): widest band of a retry (scratch 42,024 B)
DEFAULT_INTERVAL = 128    # checkpoint_interval=0 (auto): K frames per checkpoint
DEFAULT_BEAM = 1024       # window placement beam, int8 score units (64 nats at scale 1/16) = DROP_MARGIN_INT
DROP_MARGIN_INT = 1024    # a state this close to the frame's best leaving the band is an edge touch (64 nats)
MAX_BEAM = 1 << 20
NEG_INT = -(1 << 30)      # unreachable states in the integer decoder
CLAMP_INT = 1 << 29       # renormalisation clamp (see the module docstring)
THRESH_INT = -(3 << 28)   # reachable scores are > THRESH_INT, unreachable ones == NEG_INT

#: Minimum character duration (frames) the aligner asks for (see :func:`expand_min_frames`).
#: Chosen on data other than the dev set (eval/min_char_frames.py, k = 1..4): 3 frames (30 ms) gave
#: the lowest boundary error on espeak and festival held-out speech; on LJ Speech with pocketsphinx
#: labels 3 and 4 were within 2 ms of each other (4 lower for the synthetic-only model, 3 for the
#: model with real speech), both far better than 1 (59.6 -> 36.8 ms).
MIN_CHAR_FRAMES = 3

#: SRAM the decoder may use on the device (the STM32H743 budget for ``ma_decode_s8``'s scratch);
#: the default parameters need :func:`scratch_bytes` = 42,024 bytes at any length.
DECODE_SRAM_BYTES = 48 * 1024



class DecodeError(ValueError):
    """A bad argument; ``status`` is the code ``ma_decode_s8`` returns for it."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class StateGraph:
    """The left-to-right state sequence of one transcript."""

    tokens: np.ndarray        # [S] token id per state (0 = silence)
    skip_ok: np.ndarray       # [S] bool: the skip transition (from s-2) is allowed into s
    chars_after: np.ndarray   # [S] number of character states after s (non-increasing)
    char_states: np.ndarray   # [C] state index of each character
    word_lengths: np.ndarray  # [n]

    @property
    def n_states(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def n_chars(self) -> int:
        return int(self.char_states.shape[0])


def build_graph(words: Sequence[Sequence[int]], n_vocab: int) -> StateGraph:
    """Validate ``words`` (lists of token ids in ``1..n_vocab-1``) and build the state graph."""
    if isinstance(words, (str, bytes)) or not isinstance(words, Sequence) and not isinstance(words, np.ndarray):
        raise DecodeError(f"words must be a sequence of words (sequences of token ids), got {type(words).__name__}",
                          STATUS_ERR_ARGUMENT)
    if len(words) == 0:
        raise DecodeError("empty transcript: words has length 0", STATUS_ERR_ARGUMENT)
    tokens = [0]
    lengths = []
    for i, w in enumerate(words):
        ids = np.asarray(w)
        if ids.ndim != 1 or ids.shape[0] == 0:
            raise DecodeError(f"word {i} must be a non-empty 1-D sequence of token ids, got shape {ids.shape}",
                              STATUS_ERR_TOKEN)
        if not np.issubdtype(ids.dtype, np.integer):
            raise DecodeError(f"word {i} has non-integer token ids (dtype {ids.dtype})", STATUS_ERR_TOKEN)
        bad = (ids < 1) | (ids >= n_vocab)
        if bad.any():
            raise DecodeError(f"word {i}: token id {int(ids[bad][0])} outside 1..{n_vocab - 1} "
                              f"(0 is silence, V={n_vocab})", STATUS_ERR_TOKEN)
        tokens.extend(int(x) for x in ids)
        tokens.append(0)
        lengths.append(ids.shape[0])
    tok = np.asarray(tokens, dtype=np.int64)
    is_char = tok != 0
    skip_ok = np.zeros(tok.shape[0], dtype=bool)
    skip_ok[2:] = is_char[2:] & ~is_char[1:-1]
    chars_after = is_char[::-1].cumsum()[::-1] - is_char
    return StateGraph(tokens=tok, skip_ok=skip_ok, chars_after=chars_after.astype(np.int64),
                      char_states=np.flatnonzero(is_char), word_lengths=np.asarray(lengths, dtype=np.int64))


def _seconds(frames: int) -> str:
    return f"{frames * FRAME_SECONDS:.2f} s"


def check_frames(n_frames: int, graph: StateGraph) -> None:
    if n_frames < 1:
        raise DecodeError("no frames: scores has T=0 rows", STATUS_ERR_ARGUMENT)
    if n_frames > MAX_FRAMES:
        raise DecodeError(f"T={n_frames} frames ({_seconds(n_frames)}) exceeds the decoder's limit of "
                          f"{MAX_FRAMES} frames ({MAX_FRAMES * FRAME_SECONDS / 3600:.1f} hours)", STATUS_ERR_ARGUMENT)
    if graph.n_chars > n_frames:
        raise DecodeError(f"transcript has C={graph.n_chars} characters but scores has only T={n_frames} frames "
                          f"({_seconds(n_frames)}; every character needs at least one frame)", STATUS_ERR_TOO_SHORT)


def _check_int(value, name: str, lo: int, hi: int, zero_ok: bool = True) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise DecodeError(f"{name} must be an int, got {value!r}", STATUS_ERR_ARGUMENT)
    v = int(value)
    if not (v == 0 and zero_ok) and not lo <= v <= hi:
        raise DecodeError(f"{name}={v} is out of range (0 = auto, otherwise {lo}..{hi})", STATUS_ERR_ARGUMENT)
    return v


@dataclass(frozen=True)
class BandParams:
    """Resolved band parameters (see :func:`resolve_band`)."""

    band: int        # first band W (<= S)
    max_band: int    # widest band of a retry (>= band, <= S)
    interval: int    # checkpoint interval K


def resolve_band(band, n_states: int, max_band=0, interval=0) -> BandParams:
    """``0`` = default for each; bands are capped at ``S``; ``max_band < band`` means no widening."""
    band = _check_int(band, "band", MIN_BAND, MAX_BAND) or DEFAULT_BAND
    max_band = _check_int(max_band, "max_band", MIN_BAND, MAX_BAND) or DEFAULT_MAX_BAND
    interval = _check_int(interval, "checkpoint_interval", 1, MAX_INTERVAL) or DEFAULT_INTERVAL
    w = min(band, n_states)
    return BandParams(band=w, max_band=max(w, min(max_band, n_states)), interval=interval)


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def scratch_bytes(n_tokens: int, n_words: int, band=0, max_band=0, interval=0) -> int:
    """SRAM bytes of ``ma_decode_s8``'s scratch (= ``ma_decode_s8_get_scratch_size``), independent of T."""
    if n_words < 1 or n_tokens < n_words or n_tokens > MAX_FRAMES:
        raise DecodeError(f"bad sizes: tokens={n_tokens}, words={n_words}", STATUS_ERR_ARGUMENT)
    p = resolve_band(band, n_tokens + n_words + 1, max_band, interval)
    W, K = p.max_band, p.interval
    return 8 * (W + 4) + 4 * K * _ceil(W, 16) + 8 * (K + 1)


def checkpoint_bytes(n_frames: int, n_tokens: int, n_words: int, band=0, max_band=0, interval=0) -> int:
    """External-RAM bytes of ``ma_decode_s8``'s checkpoint buffer (= ``ma_decode_s8_get_checkpoint_size``)."""
    if n_frames < 1 or n_frames > MAX_FRAMES or n_words < 1 or n_tokens < n_words or n_tokens > MAX_FRAMES:
        raise DecodeError(f"bad sizes: T={n_frames}, tokens={n_tokens}, words={n_words}", STATUS_ERR_ARGUMENT)
    S = n_tokens + n_words + 1
    p = resolve_band(band, S, max_band, interval)
    n = 4 * _ceil(S, 2) + 4 * ((n_frames - 1) // p.interval + 1) * (p.max_band + 3)
    if n > 2 ** 31 - 1:
        raise DecodeError(f"checkpoint buffer for T={n_frames} frames ({_seconds(n_frames)}) would need {n} bytes "
                          "(more than 2 GB): use a larger checkpoint_interval", STATUS_ERR_ARGUMENT)
    return n


def path_bytes(n_frames: int, n_tokens: int, n_words: int, band=0, max_band=0, interval=0) -> int:
    """External-RAM bytes for the checkpoints plus the first band's whole path (= ``ma_decode_s8_get_path_size``):
    with a buffer this large the C kernel's traceback reads every frame's back-pointers, band position and smin
    (``4 ceil(W1 / 16) + 8`` bytes per frame, ``W1`` the first band) instead of replaying checkpoints. The numpy
    reference gives the same outputs either way."""
    S = n_tokens + n_words + 1
    n = checkpoint_bytes(n_frames, n_tokens, n_words, band, max_band, interval)
    p = resolve_band(band, S, max_band, interval)
    n += n_frames * (4 * _ceil(p.band, 16) + 8)
    if n > 2 ** 31 - 1:
        raise DecodeError(f"checkpoints and path for T={n_frames} frames would need {n} bytes (more than 2 GB)",
                          STATUS_ERR_ARGUMENT)
    return n


@dataclass(frozen=True)
class Path:
    states: np.ndarray   # [T] state index per frame (non-decreasing)
    score: float | int
    band: int            # W of the returned path
    edge_free: bool      # the path never touched an edge of its band (always True when W = S)
    attempts: int        # bands tried


class _Stepper:
    """One frame of the banded recurrence; the forward pass and the replay both call :meth:`step`."""

    def __init__(self, scores, graph: StateGraph, W: int, penalty, beam, integer: bool, drop_margin=None):
        self.scores, self.W, self.beam, self.integer = scores, W, beam, integer
        self.drop_margin = DROP_MARGIN_INT if drop_margin is None else drop_margin
        self.S = graph.n_states
        dtype = np.int64 if integer else np.float64
        self.neg = dtype(NEG_INT) if integer else dtype(-np.inf)
        self.tok = graph.tokens
        self.pen_s = np.where(graph.tokens == 0, penalty, 0).astype(dtype)
        self.skip_ok = graph.skip_ok
        T = scores.shape[0]
        # smin[t]: first state that can still reach the end (chars_after <= frames left after t)
        self.smin = np.searchsorted(-graph.chars_after, -(T - 1 - np.arange(T)), side="left")
        self.pad = np.full(W + 4, self.neg, dtype=dtype)

    def first(self, penalty) -> np.ndarray:
        cur = np.full(self.W, self.neg, dtype=self.pad.dtype)
        cur[0] = self.pad.dtype.type(self.scores[0, 0]) - self.pad.dtype.type(penalty)
        cur[1] = self.scores[0, self.tok[1]]
        cur[: self.smin[0]] = self.neg
        return cur

    def step(self, cur: np.ndarray, lo: int, t: int):
        """Row ``t`` from row ``t-1`` (window at ``lo``): (row, lo(t), max of row t-1, codes, whether a state
        within ``drop_margin`` of the maximum left the band at its bottom, or sat at its top with its
        successors above the next band)."""
        W, S, neg = self.W, self.S, self.neg
        jb = int(np.argmax(cur))
        m = cur[jb]
        best = lo + jb
        top = lo + jb + int(np.flatnonzero(cur[jb:] >= m - self.beam)[-1])
        lower = max(lo, min(best - W + 3, S - W))
        upper = min(lo + 2, best, S - W)
        lo1 = min(max(top + (W >> 3) + 3 - W, lower), upper)
        d = lo1 - lo
        dropped = d > 0 and bool((cur[:d] >= m - self.drop_margin).any())
        hi1 = lo1 + W - 1
        if hi1 < S - 1:   # a competitive state at the band's top whose successors lie above the next band
            j0, j1 = max(hi1 - 1 - lo, 0), min(hi1 - lo, W - 1)
            dropped = dropped or (j0 <= j1 and bool((cur[j0:j1 + 1] >= m - self.drop_margin).any()))
        pad = self.pad
        pad[2:W + 2] = cur
        x = pad[2 + d: 2 + d + W]
        adv = pad[1 + d: 1 + d + W] - self.pen_s[lo1: lo1 + W]
        skip = np.where(self.skip_ok[lo1: lo1 + W], pad[d: d + W], neg)
        take_adv = adv > x
        x = np.where(take_adv, adv, x)
        take_skip = skip > x
        x = np.where(take_skip, skip, x)
        code = take_adv.astype(np.uint8)   # 0 stay, 1 advance, 2 skip
        code[take_skip] = 2
        e = self.scores[t, self.tok[lo1: lo1 + W]]
        if self.integer:
            new = np.where(x < m - CLAMP_INT, neg, x + (e - m))
        else:
            new = x + e
        k = self.smin[t] - lo1
        if k > 0:
            new[:k] = neg
        return new, lo1, m, code, dropped


def _banded(scores, graph: StateGraph, W: int, K: int, penalty, beam, integer: bool, drop_margin):
    """One banded decode: (states, score, edge_free)."""
    T, S = scores.shape[0], graph.n_states
    st = _Stepper(scores, graph, W, penalty, beam, integer, drop_margin)
    cur = st.first(penalty)
    lo = 0
    ckpts = [(0, cur)]
    offset = 0
    edge_free = True
    for t in range(1, T):
        cur, lo, m, _, dropped = st.step(cur, lo, t)
        if dropped:
            edge_free = False
        if integer:
            offset += int(m)
        if t % K == 0:
            ckpts.append((lo, cur))

    # end: last char (S-2) unless sil_n (S-1) is strictly better
    thresh = THRESH_INT if integer else -np.inf

    def end_score(s):
        j = s - lo
        return cur[j] if 0 <= j < W and cur[j] > thresh else None

    a, b = end_score(S - 2), end_score(S - 1)
    if a is None and b is None:  # cannot happen (see the module docstring); kept as a guard
        raise AssertionError("no reachable end state")
    if b is None or (a is not None and a >= b):
        s, score = S - 2, a
    else:
        s, score = S - 1, b
    score = int(score) + offset if integer else float(score)

    # traceback, one checkpoint segment at a time (last first), replaying each segment
    states = np.empty(T, dtype=np.int64)
    states[T - 1] = s
    smin = st.smin
    for c in range(len(ckpts) - 1, -1, -1):
        a0 = c * K
        b0 = min(a0 + K, T - 1)
        if b0 == a0:
            continue
        lo, cur = ckpts[c]
        codes = np.empty((b0 - a0, W), dtype=np.uint8)
        los = np.empty(b0 - a0 + 1, dtype=np.int64)
        los[0] = lo
        for i in range(b0 - a0):
            cur, lo, _, codes[i], _ = st.step(cur, lo, a0 + 1 + i)
            los[i + 1] = lo
        s = int(states[b0])
        for t in range(b0, a0, -1):
            s -= int(codes[t - a0 - 1, s - int(los[t - a0])])
            states[t - 1] = s
        if edge_free and touches_edge(states[a0:b0 + 1], los, a0, W, graph, smin):
            edge_free = False
    return states, score, edge_free


def touches_edge(seg: np.ndarray, los: np.ndarray, t0: int, W: int, graph: StateGraph, smin: np.ndarray) -> bool:
    """Whether the path ``seg`` (states of frames ``t0..t0+len-1``, bands at ``los``) touches its band's edge.

    For each transition ``t-1 -> t`` (path ``p -> s``): *upper*, a successor of ``p`` (``p+1``,
    or ``p+2`` by a skip) lies above band ``t`` while band ``t`` does not reach ``S-1``;
    *lower*, a predecessor of ``s`` (``s-1``, or ``s-2`` by a skip) lies below band ``t-1``
    although it could still finish (``>= smin(t-1)``). Either means the path was next to a
    lattice cell the band excluded.
    """
    S = graph.n_states
    p, s = seg[:-1], seg[1:]
    lo_prev, lo_cur = los[:-1], los[1:]
    hi = lo_cur + W - 1
    skip_ok = np.append(graph.skip_ok, [False, False])
    up = (hi < S - 1) & ((p + 1 > hi) | (skip_ok[p + 2] & (p + 2 > hi)))
    sm = smin[t0:t0 + len(p)]
    low = ((s - 1 >= sm) & (s - 1 < lo_prev)) | (skip_ok[s] & (s - 2 >= sm) & (s - 2 < lo_prev))
    return bool(up.any() or low.any())


def viterbi(scores: np.ndarray, graph: StateGraph, band: BandParams, penalty, beam, *, integer: bool,
            drop_margin=None) -> Path:
    """Banded, checkpointed Viterbi over ``scores`` [T, V] (float64 or int64 values), widened on an edge touch.

    See the module docstring; ``band`` comes from :func:`resolve_band`.
    """
    W = band.band
    attempts = 0
    while True:
        attempts += 1
        states, score, edge_free = _banded(scores, graph, W, band.interval, penalty, beam, integer, drop_margin)
        if edge_free or W >= band.max_band:
            return Path(states=states, score=score, band=W, edge_free=edge_free, attempts=attempts)
        W = min(2 * W, band.max_band)


@dataclass(frozen=True)
class Spans:
    token_spans: np.ndarray   # [C, 2] start, end (exclusive) frame per character
    word_spans: np.ndarray    # [n, 2]
    frame_tokens: np.ndarray  # [T] token id aligned to each frame (0 = silence)
    word_score_sum: np.ndarray  # [n] sum over the word's frames of score[t, token] - frame_max[t]
    word_frames: np.ndarray     # [n]


def spans(scores: np.ndarray, graph: StateGraph, path: Path, frame_max: np.ndarray | None = None) -> Spans:
    """Spans of ``path``; ``frame_max`` [T] = per-frame maximum over the full vocabulary (default: of ``scores``)."""
    st = path.states
    cs = graph.char_states
    tstart = np.searchsorted(st, cs, side="left")
    tend = np.searchsorted(st, cs, side="right")
    last = np.cumsum(graph.word_lengths) - 1
    first = last - graph.word_lengths + 1
    wstart, wend = tstart[first], tend[last]
    frame_tokens = graph.tokens[st]
    T = scores.shape[0]
    fmax = scores.max(axis=1) if frame_max is None else frame_max
    gap = scores[np.arange(T), frame_tokens] - fmax
    csum = np.concatenate([[0], np.cumsum(gap)])
    wsum = csum[wend] - csum[wstart]
    return Spans(token_spans=np.stack([tstart, tend], axis=1), word_spans=np.stack([wstart, wend], axis=1),
                 frame_tokens=frame_tokens, word_score_sum=wsum, word_frames=wend - wstart)


def compact(scores, words) -> tuple[np.ndarray, list[list[int]], np.ndarray]:
    """Only the score columns a transcript needs: ``(cols, local_words, frame_max)``.

    ``cols`` [T, 1 + D] = ``scores[:, [0] + the D distinct token ids of words, ascending]``,
    ``local_words`` the transcript in column indices (1..D), ``frame_max`` [T] the per-frame
    maximum over ALL columns of ``scores`` (the word confidence compares with it). Decoding
    ``cols`` with ``frame_max`` gives exactly the result of decoding ``scores``: the recurrence
    only reads the transcript's columns.
    """
    a = as_2d(scores, "scores", check_vocab=False)
    words = encode_if_text(words)
    build_graph(words, a.shape[1])   # validates ids against the full vocabulary
    ids = np.unique(np.concatenate([np.asarray(w, dtype=np.int64) for w in words]))
    if ids.shape[0] + 1 > MAX_VOCAB:
        raise DecodeError(f"transcript has {ids.shape[0]} distinct characters; the decoder takes at most "
                          f"{MAX_VOCAB - 1}", STATUS_ERR_TOKEN)
    local = np.zeros(a.shape[1], dtype=np.int64)
    local[ids] = np.arange(1, ids.shape[0] + 1)
    cols = np.ascontiguousarray(a[:, np.concatenate([[0], ids])])
    return cols, [[int(local[c]) for c in w] for w in words], a.max(axis=1)


def expand_min_frames(words: Sequence[Sequence[int]], k: int) -> list[list[int]]:
    """Each character token repeated ``k`` times: a minimum duration of ``k`` frames per character.

    The state graph gives every character state at least one frame, so ``k``
    consecutive states of the same token last at least ``k`` frames, with no
    change to the recurrence (or to the C kernel: a caller passes the
    repeated tokens and merges the spans back with :func:`merge_token_spans`).
    Real characters are rarely shorter than 30 ms, and the floor stops a
    noisy model from squeezing a word into a few frames while its neighbour
    swallows the rest.
    """
    k = check_min_frames(k)
    return [[int(t) for t in w for _ in range(k)] for w in words]


def check_min_frames(k) -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise DecodeError(f"min_char_frames must be an int >= 1, got {k!r}", STATUS_ERR_ARGUMENT)
    return int(k)


def min_frames_graph(words, n_vocab: int, k: int) -> StateGraph:
    """The state graph of ``words`` (strings are encoded) with each character repeated ``k`` times.

    The transcript is validated as given, before the repetition, so errors name the caller's words.
    """
    words = encode_if_text(words)
    graph = build_graph(words, n_vocab)
    return build_graph(expand_min_frames(words, k), n_vocab) if k > 1 else graph


def merge_token_spans(token_spans: np.ndarray, k: int) -> np.ndarray:
    """[C*k, 2] spans of the repeated tokens -> [C, 2] spans of the characters."""
    ts = np.asarray(token_spans)
    return np.stack([ts[0::k, 0], ts[k - 1::k, 1]], axis=1) if k > 1 else ts


def as_2d(x, name: str, check_vocab: bool = True) -> np.ndarray:
    """[T, V] or [1, T, V] -> [T, V] (torchaudio's batch of one)."""
    a = np.asarray(x)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise DecodeError(f"{name} must have shape [T, V] or [1, T, V], got {tuple(np.shape(x))}",
                          STATUS_ERR_ARGUMENT)
    if a.shape[1] < 2 or (check_vocab and a.shape[1] > MAX_VOCAB):
        raise DecodeError(f"{name} has V={a.shape[1]} tokens per frame; need 2 <= V <= {MAX_VOCAB} "
                          f"(shape {tuple(np.shape(x))})", STATUS_ERR_ARGUMENT)
    return a


def encode_if_text(words) -> Sequence[Sequence[int]]:
    """Accept words as strings too (encoded with :func:`microalign.text.tokens.encode_word`)."""
    if isinstance(words, (list, tuple)) and any(isinstance(w, str) for w in words):
        from ..text.tokens import encode_word
        return [encode_word(w) if isinstance(w, str) else w for w in words]
    return words

