"""Integer Viterbi forced alignment over int8 scores: the reference of ``ma_decode_s8``.

The C kernel ``tflm_app/kernels/ma_decode_s8.c`` reproduces every output of
:func:`viterbi_align_int` bit for bit (tests/test_decode_c.py). Scores are the
int8 output of the model's LOG_SOFTMAX, ``q[t, v]``; any affine map with a
positive scale gives the same path, so no quantisation parameters are needed
except to turn the confidence into a probability.

Arithmetic: int32 path scores, validated so they never overflow (``T <= 2**18``,
``|silence_penalty| <= 1024``: reachable scores stay within ``±2**29``); unreachable
states are seeded with ``-2**30`` and never clamped (see :mod:`._core`); tie-breaking as in
:mod:`._core`.

Memory (the kernel's scratch, :func:`scratch_bytes`), with ``W = min(band, S)``,
``S = C + n + 1`` states for ``C`` characters in ``n`` words::

    8 (W + 4)            two rows of int32 scores (2 guard entries each side)
  + 4 ceil(S / 4)        state table (token id + skip flag per state)
  + 4 ceil(T / 16)       window steps, 2 bits per frame
  + 4 (T - 1) ceil(W/16) back-pointers, 2 bits per state and frame

The default band (``band=0``) is ``min(S, 64)``: 16 bytes of back-pointers per
frame, i.e. about 1.6 KB per second of audio (48 KB for 30 s), and exact
whenever ``S <= 64`` (about 50 characters); :func:`band_for_budget` picks the
widest band that fits a byte budget.

Confidence: ``word_score_sum[i]`` is the sum over the word's frames of
``q[t, aligned token] - max_v q[t, v]`` (<= 0) and ``word_frames[i]`` the
number of frames; :meth:`IntAlignment.word_confidence` maps it to (0, 1] with
``exp(scale * sum / frames)`` -- for int8 LOG_SOFTMAX (scale 1/16) the same
number :func:`..viterbi.viterbi_align` reports on the dequantised scores.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import _core
from ._core import DEFAULT_BAND, DEFAULT_BEAM, MAX_BEAM, MAX_FRAMES, MAX_PENALTY, DecodeError

#: Output scale of TFLite's int8 LOG_SOFTMAX (zero point 127): float = (q - 127) / 16.
LOG_SOFTMAX_SCALE = 16.0 / 256.0


@dataclass(frozen=True)
class IntAlignment:
    """Result of :func:`viterbi_align_int` (the outputs of ``ma_decode_s8``). End frames are exclusive."""

    token_spans: np.ndarray      #: [C, 2] int32 [start, end) frames per character
    word_spans: np.ndarray       #: [n, 2] int32 [start, end) frames per word
    word_score_sum: np.ndarray   #: [n] int32, sum of q[t, tok] - max_v q[t, v] over the word's frames (<= 0)
    word_frames: np.ndarray      #: [n] int32, frames in the word
    frame_tokens: np.ndarray     #: [T] int32, token aligned to each frame (0 = silence)
    score: int                   #: path score (int32): sum of aligned q minus silence penalties
    band: int                    #: states kept per frame (W)

    def word_confidence(self, scale: float = LOG_SOFTMAX_SCALE) -> np.ndarray:
        """exp(scale * mean gap) in (0, 1]; ``scale`` = the scores' quantisation scale."""
        return np.exp(scale * self.word_score_sum.astype(np.float64) / self.word_frames)


def _check_penalty(silence_penalty) -> int:
    if not isinstance(silence_penalty, (int, np.integer)) or isinstance(silence_penalty, bool):
        raise DecodeError(f"silence_penalty must be an int (int8 score units), got {silence_penalty!r}",
                          _core.STATUS_ERR_ARGUMENT)
    if abs(int(silence_penalty)) > MAX_PENALTY:
        raise DecodeError(f"|silence_penalty|={abs(int(silence_penalty))} exceeds {MAX_PENALTY}",
                          _core.STATUS_ERR_ARGUMENT)
    return int(silence_penalty)


def viterbi_align_int(scores, words: Sequence[Sequence[int]], *, silence_penalty: int = 0,
                      band: int = 0, beam: int = DEFAULT_BEAM, min_char_frames: int = 1) -> IntAlignment:
    """Force-align ``words`` to int8 ``scores`` ``[T, V]`` (or ``[1, T, V]``), token 0 = silence.

    Args:
        scores: int8 (or integer values in -128..127) quantised log-probabilities.
        words: one sequence of token ids (``1..V-1``) per word; strings are encoded.
        silence_penalty: int, ``|p| <= 1024``, subtracted per silence state entered.
        band: states kept per frame, ``0`` = auto (``min(S, 64)``), otherwise ``>= 3``.
            If the band excludes the optimal path the result is the best valid
            alignment inside the band.
        beam: window placement beam (int8 units, ``0..2**20``), see :mod:`._core`.
        min_char_frames: minimum frames per character: every token is repeated this many
            times before decoding (what a caller of ``ma_decode_s8`` does) and the
            character spans are merged back; ``band`` counts the repeated states.

    Raises:
        ValueError (:class:`._core.DecodeError`, ``.status`` = the kernel's status code).
    """
    q = _core.as_2d(scores, "scores")
    if not np.issubdtype(q.dtype, np.integer):
        raise DecodeError(f"scores must be int8, got dtype {q.dtype} (shape {q.shape})", _core.STATUS_ERR_ARGUMENT)
    if q.size and (q.min() < -128 or q.max() > 127):
        raise DecodeError(f"scores of shape {q.shape} has values outside the int8 range", _core.STATUS_ERR_ARGUMENT)
    q = q.astype(np.int64)
    pen = _check_penalty(silence_penalty)
    if not isinstance(beam, (int, np.integer)) or isinstance(beam, bool) or not 0 <= beam <= MAX_BEAM:
        raise DecodeError(f"beam must be an int in 0..{MAX_BEAM}, got {beam!r}", _core.STATUS_ERR_ARGUMENT)
    k = _core.check_min_frames(min_char_frames)
    graph = _core.min_frames_graph(words, q.shape[1], k)
    _core.check_frames(q.shape[0], graph)
    W = _core.resolve_band(band, graph.n_states)
    path = _core.viterbi(q, graph, W, pen, int(beam), integer=True)
    sp = _core.spans(q, graph, path)
    i32 = np.int32
    return IntAlignment(token_spans=_core.merge_token_spans(sp.token_spans, k).astype(i32),
                        word_spans=sp.word_spans.astype(i32),
                        word_score_sum=sp.word_score_sum.astype(i32), word_frames=sp.word_frames.astype(i32),
                        frame_tokens=sp.frame_tokens.astype(i32), score=int(path.score), band=W)


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def scratch_bytes(n_frames: int, n_tokens: int, n_words: int, band: int = 0) -> int:
    """Bytes of scratch ``ma_decode_s8`` needs (= ``ma_decode_s8_get_buffer_size``)."""
    if n_frames < 1 or n_frames > MAX_FRAMES or n_words < 1 or n_tokens < n_words or n_tokens > MAX_FRAMES:
        raise DecodeError(f"bad sizes: T={n_frames}, tokens={n_tokens}, words={n_words}", _core.STATUS_ERR_ARGUMENT)
    S = n_tokens + n_words + 1
    W = _core.resolve_band(band, S)
    return 8 * (W + 4) + 4 * _ceil(S, 4) + 4 * _ceil(n_frames, 16) + 4 * (n_frames - 1) * _ceil(W, 16)


def band_for_budget(n_frames: int, n_tokens: int, n_words: int, budget_bytes: int) -> int:
    """The widest band (multiple of 16, or all S states) whose scratch fits ``budget_bytes``."""
    S = n_tokens + n_words + 1
    if scratch_bytes(n_frames, n_tokens, n_words, S) <= budget_bytes:
        return S
    best = 0
    W = 16
    while W < S and scratch_bytes(n_frames, n_tokens, n_words, W) <= budget_bytes:
        best = W
        W += 16
    if best == 0:
        raise DecodeError(f"budget of {budget_bytes} bytes is too small for T={n_frames} even with band 16 "
                          f"({scratch_bytes(n_frames, n_tokens, n_words, 16)} bytes)", _core.STATUS_ERR_SCRATCH)
    return best
