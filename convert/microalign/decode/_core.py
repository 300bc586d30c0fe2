"""The alignment recurrence shared by the float and the integer decoder.

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

Band (bounded memory). Frame ``t`` keeps scores for the ``W`` states
``[lo(t), lo(t) + W)`` only (``W = min(band, S)``, ``lo(0) = 0``); back-pointers
are ``T x W`` 2-bit codes. The window follows the best partial path: after
frame ``t``, with ``best`` the first state of maximal score ``x_best`` and
``top`` the highest state scoring at least ``x_best - beam``::

    lower = max(lo, min(best - W + 3, S - W))
    upper = min(lo + 2, best, S - W)
    lo(t+1) = min(max(top + 3 - W, lower), upper)

i.e. the window moves 0, 1 or 2 states per frame so that the most advanced
competitive hypothesis sits near its top: everything else in the window is
history. A noisy model makes the best partial path run ahead of the true
one, so keeping lagging hypotheses matters more than room ahead; ``beam``
(default 64 int8 units = 4 nats) keeps fast speech from being clipped.
States that cannot reach the end any more (fewer frames left than
characters after them) are unreachable by definition, so ``best`` can
always finish. Because ``lo(t+1) <= best`` and both ``best`` and its next
character state lie in the next window, a reachable state that can finish
exists at every frame: **the result is always a valid alignment** -- the best
one inside the band, and the exact optimum when ``W >= S`` (``lo`` stays 0).
Measured on synthetic utterances of 20-60 words: with ``W = 64`` the banded
path equals the exact optimum for every utterance when the model's frame
accuracy is >= 60 %, and for 29 of 30 at 26 % (tests/test_decode.py checks
the former).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: Status codes, identical to ``MA_DECODE_*`` in ``ma_decode_s8.h``.
STATUS_OK = 0
STATUS_ERR_ARGUMENT = -1
STATUS_ERR_TOKEN = -2
STATUS_ERR_TOO_SHORT = -3
STATUS_ERR_SCRATCH = -4

MAX_FRAMES = 1 << 18      # 43.7 minutes of 10 ms frames: keeps int32 scores far from overflow
MAX_PENALTY = 1024        # |silence_penalty| in int8 score units
MAX_VOCAB = 128           # token ids fit in 7 bits of the kernel's state table
MIN_BAND = 3              # the window proof needs W >= 3
DEFAULT_BAND = 64         # band=0 (auto): min(S, DEFAULT_BAND) states per frame
DEFAULT_BEAM = 64         # window placement beam, int8 score units (4 nats at scale 1/16)
MAX_BEAM = 1 << 20
NEG_INT = -(1 << 30)      # seeds unreachable states (guards, masked states) in the integer decoder
THRESH_INT = -(1 << 29)   # reachable scores are > THRESH_INT, unreachable ones < THRESH_INT

# Integer range: a reachable score is a sum of <= T emissions (|q| <= 128) and penalties
# (|p| <= 1024, at most one per frame), so |score| <= 1152 T <= 1152 * 2**18 < 2**29 - 1. An
# unreachable score starts from NEG_INT and drifts by at most 1152 per frame, so it stays in
# [-2**30 - 2**29, -2**30 + 2**29): below every reachable score and far from int32 overflow.
# No clamping is needed: unreachable candidates lose every comparison against reachable ones.


#: Minimum character duration (frames) the aligner asks for (see :func:`expand_min_frames`).
#: Chosen on data other than the dev set (eval/min_char_frames.py, k = 1..4): 3 frames (30 ms) gave
#: the lowest boundary error on espeak and festival held-out speech; on LJ Speech with pocketsphinx
#: labels 3 and 4 were within 2 ms of each other (4 lower for the synthetic-only model, 3 for the
#: model with real speech), both far better than 1 (59.6 -> 36.8 ms).
MIN_CHAR_FRAMES = 3

#: Scratch the aligner lets the integer decoder use (the band is the widest that fits, see
#: :func:`.viterbi_int.band_for_budget`): 256 KiB of the STM32H743's 1 MB SRAM. With 3 states per
#: character the default 64-state band is too narrow (it loses the path on real speech).
DECODE_BUDGET_BYTES = 256 * 1024


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


def check_frames(n_frames: int, graph: StateGraph) -> None:
    if n_frames < 1:
        raise DecodeError("no frames: scores has T=0 rows", STATUS_ERR_ARGUMENT)
    if n_frames > MAX_FRAMES:
        raise DecodeError(f"T={n_frames} frames exceeds the limit of {MAX_FRAMES}", STATUS_ERR_ARGUMENT)
    if graph.n_chars > n_frames:
        raise DecodeError(f"transcript has C={graph.n_chars} characters but scores has only T={n_frames} frames "
                          "(every character needs at least one frame)", STATUS_ERR_TOO_SHORT)


def resolve_band(band: int, n_states: int) -> int:
    """Number of states kept per frame: ``band=0`` means auto (``min(S, DEFAULT_BAND)``)."""
    band = int(band)
    if band == 0:
        band = DEFAULT_BAND
    if band < MIN_BAND:
        raise DecodeError(f"band={band} is too small (0 = auto, otherwise >= {MIN_BAND})", STATUS_ERR_ARGUMENT)
    return min(band, n_states)


@dataclass(frozen=True)
class Path:
    states: np.ndarray   # [T] state index per frame (non-decreasing)
    score: float | int


def viterbi(scores: np.ndarray, graph: StateGraph, band: int, penalty, beam, *, integer: bool) -> Path:
    """Banded Viterbi over ``scores`` [T, V] (float64 or int64 values); see the module docstring."""
    T = scores.shape[0]
    S = graph.n_states
    W = band
    dtype = np.int64 if integer else np.float64
    neg = dtype(NEG_INT) if integer else dtype(-np.inf)
    thresh = dtype(THRESH_INT) if integer else dtype(-np.inf)   # reachable <=> score > thresh
    tok = graph.tokens
    pen_s = np.where(tok == 0, penalty, 0).astype(dtype)
    skip_ok = graph.skip_ok
    # smin[t]: first state that can still reach the end (chars_after <= frames left after t)
    smin = np.searchsorted(-graph.chars_after, -(T - 1 - np.arange(T)), side="left")

    bp = np.zeros((T, W), dtype=np.uint8)
    lo_t = np.zeros(T, dtype=np.int64)
    cur = np.full(W, neg, dtype=dtype)
    cur[0] = dtype(scores[0, 0]) - dtype(penalty)
    cur[1] = scores[0, tok[1]]
    cur[: smin[0]] = neg
    lo = 0
    pad = np.full(W + 4, neg, dtype=dtype)
    for t in range(1, T):
        jb = int(np.argmax(cur))
        best = lo + jb
        top = lo + int(np.flatnonzero(cur >= cur[jb] - beam)[-1])
        lower = max(lo, min(best - W + 3, S - W))
        upper = min(lo + 2, best, S - W)
        lo1 = min(max(top + 3 - W, lower), upper)
        d = lo1 - lo
        pad[2:W + 2] = cur
        x = pad[2 + d: 2 + d + W]
        adv = pad[1 + d: 1 + d + W] - pen_s[lo1: lo1 + W]
        skip = np.where(skip_ok[lo1: lo1 + W], pad[d: d + W], neg)
        take_adv = adv > x
        x = np.where(take_adv, adv, x)
        take_skip = skip > x
        x = np.where(take_skip, skip, x)
        code = take_adv.astype(np.uint8)
        code[take_skip] = 2
        new = x + scores[t, tok[lo1: lo1 + W]]
        k = smin[t] - lo1
        if k > 0:
            new[:k] = neg
        bp[t] = code
        lo_t[t] = lo1
        lo = lo1
        cur = new

    # end: last char (S-2) unless sil_n (S-1) is strictly better
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
    states = np.empty(T, dtype=np.int64)
    states[T - 1] = s
    for t in range(T - 1, 0, -1):
        s -= int(bp[t, s - lo_t[t]])
        states[t - 1] = s
    return Path(states=states, score=int(score) if integer else float(score))


@dataclass(frozen=True)
class Spans:
    token_spans: np.ndarray   # [C, 2] start, end (exclusive) frame per character
    word_spans: np.ndarray    # [n, 2]
    frame_tokens: np.ndarray  # [T] token id aligned to each frame (0 = silence)
    word_score_sum: np.ndarray  # [n] sum over the word's frames of score[t, token] - max_v score[t, v]
    word_frames: np.ndarray     # [n]


def spans(scores: np.ndarray, graph: StateGraph, path: Path) -> Spans:
    st = path.states
    cs = graph.char_states
    tstart = np.searchsorted(st, cs, side="left")
    tend = np.searchsorted(st, cs, side="right")
    last = np.cumsum(graph.word_lengths) - 1
    first = last - graph.word_lengths + 1
    wstart, wend = tstart[first], tend[last]
    frame_tokens = graph.tokens[st]
    T = scores.shape[0]
    gap = scores[np.arange(T), frame_tokens] - scores.max(axis=1)
    csum = np.concatenate([[0], np.cumsum(gap)])
    wsum = csum[wend] - csum[wstart]
    return Spans(token_spans=np.stack([tstart, tend], axis=1), word_spans=np.stack([wstart, wend], axis=1),
                 frame_tokens=frame_tokens, word_score_sum=wsum, word_frames=wend - wstart)


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


def as_2d(x, name: str) -> np.ndarray:
    """[T, V] or [1, T, V] -> [T, V] (torchaudio's batch of one)."""
    a = np.asarray(x)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise DecodeError(f"{name} must have shape [T, V] or [1, T, V], got {tuple(np.shape(x))}",
                          STATUS_ERR_ARGUMENT)
    if a.shape[1] < 2 or a.shape[1] > MAX_VOCAB:
        raise DecodeError(f"{name} has V={a.shape[1]} tokens per frame; need 2 <= V <= {MAX_VOCAB} "
                          f"(shape {tuple(np.shape(x))})", STATUS_ERR_ARGUMENT)
    return a


def encode_if_text(words) -> Sequence[Sequence[int]]:
    """Accept words as strings too (encoded with :func:`microalign.text.tokens.encode_word`)."""
    if isinstance(words, (list, tuple)) and any(isinstance(w, str) for w in words):
        from ..text.tokens import encode_word
        return [encode_word(w) if isinstance(w, str) else w for w in words]
    return words

