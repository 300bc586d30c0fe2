"""Integer forced alignment over int8 scores: the reference of ``ma_decode_s8``.

The C kernel ``tflm_app/kernels/ma_decode_s8.c`` reproduces every output of
:func:`viterbi_align_int` bit for bit (tests/test_decode_c.py); on the host,
``engine="auto"`` runs that kernel itself (:mod:`.native`, compiled on first
use) and falls back to this numpy reference when no C compiler is present.
Scores are the int8 output of the model's LOG_SOFTMAX, ``q[t, v]``; any affine
map with a positive scale gives the same path, so no quantisation parameters
are needed except to turn the confidence into a probability.

Algorithm, memory and arithmetic: :mod:`._core` (a band that follows the best
partial path, checkpointed back-pointers replayed one segment at a time,
widening when the path touches the band's edge, per-frame renormalised int32
scores). Memory, ``W`` the widest band tried (``max_band``, capped at ``S``),
``K`` the checkpoint interval, ``S = C + n + 1`` states::

    scratch    (SRAM, any T)   8 (W + 4) + 4 K ceil(W/16) + 8 (K + 1)        bytes  (scratch_bytes)
    checkpoint (external RAM)  4 ceil(S/2) + 4 (floor((T-1)/K) + 1) (W + 3)   bytes  (checkpoint_bytes)

With the defaults (W 128 widened up to 1024, K 128): 42,024 bytes of scratch at
any length; checkpoints of 32 bytes per frame (13.6 KB for 10 s, 223 KB for
60 s, 11.8 MB for 60 min), see :mod:`._core` for the trade-offs.

Confidence: ``word_score_sum[i]`` is the sum over the word's frames of
``q[t, aligned token] - frame_max[t]`` (<= 0; ``frame_max`` = the maximum over the
model's whole vocabulary, see :func:`._core.compact`) and ``word_frames[i]`` the
number of frames; :meth:`IntAlignment.word_confidence` maps it to (0, 1] with
``exp(scale * sum / frames)`` -- for int8 LOG_SOFTMAX (scale 1/16) the same
number :func:`..viterbi.viterbi_align` reports on the dequantised scores.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import _core
from ._core import DEFAULT_BEAM, MAX_BEAM, MAX_PENALTY, DecodeError, checkpoint_bytes, scratch_bytes

#: Output scale of TFLite's int8 LOG_SOFTMAX (zero point 127): float = (q - 127) / 16.
LOG_SOFTMAX_SCALE = 16.0 / 256.0

#: Environment variable that forces an engine for ``engine="auto"`` ("numpy" or "c").
ENGINE_ENV = "MICROALIGN_DECODE_ENGINE"

__all__ = ["IntAlignment", "viterbi_align_int", "scratch_bytes", "checkpoint_bytes", "LOG_SOFTMAX_SCALE"]


@dataclass(frozen=True)
class IntAlignment:
    """Result of :func:`viterbi_align_int` (the outputs of ``ma_decode_s8``). End frames are exclusive."""

    token_spans: np.ndarray      #: [C, 2] int32 [start, end) frames per character
    word_spans: np.ndarray       #: [n, 2] int32 [start, end) frames per word
    word_score_sum: np.ndarray   #: [n] int32, sum of q[t, tok] - frame_max[t] over the word's frames (<= 0)
    word_frames: np.ndarray      #: [n] int32, frames in the word
    frame_tokens: np.ndarray     #: [T] int32, token aligned to each frame (0 = silence)
    score: int                   #: path score (int32): sum of aligned q minus silence penalties
    band: int                    #: states kept per frame (W) of the returned path
    edge_free: bool = True       #: the path never touched its band's edge (W = S: exact optimum)
    engine: str = "numpy"        #: "numpy" (reference) or "c" (ma_decode_s8 through ctypes)

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


def _check_int8(a: np.ndarray, name: str) -> np.ndarray:
    if not np.issubdtype(a.dtype, np.integer):
        raise DecodeError(f"{name} must be int8, got dtype {a.dtype} (shape {a.shape})", _core.STATUS_ERR_ARGUMENT)
    if a.size and (a.min() < -128 or a.max() > 127):
        raise DecodeError(f"{name} of shape {a.shape} has values outside the int8 range", _core.STATUS_ERR_ARGUMENT)
    return a


def viterbi_align_int(scores, words: Sequence[Sequence[int]], *, silence_penalty: int = 0,
                      band: int = 0, max_band: int = 0, checkpoint_interval: int = 0, beam: int = DEFAULT_BEAM,
                      min_char_frames: int = 1, frame_max=None, engine: str = "auto") -> IntAlignment:
    """Force-align ``words`` to int8 ``scores`` ``[T, V]`` (or ``[1, T, V]``), token 0 = silence.

    Args:
        scores: int8 (or integer values in -128..127) quantised log-probabilities, or only the
            transcript's columns (:func:`._core.compact`).
        words: one sequence of token ids (``1..V-1``) per word; strings are encoded.
        silence_penalty: int, ``|p| <= 1024``, subtracted per silence state entered.
        band: first band (states kept per frame), ``0`` = auto (128), otherwise ``>= 3``.
        max_band: widest band tried when the path touches the band's edge (``0`` = auto, 1024;
            ``<= band``: no retry). The result says whether its path is ``edge_free``.
        checkpoint_interval: frames between checkpoints ``K`` (``0`` = auto, 128).
        beam: window placement beam (int8 units, ``0..2**20``), see :mod:`._core`.
        min_char_frames: minimum frames per character: every token is repeated this many
            times before decoding (what a caller of ``ma_decode_s8`` does) and the
            character spans are merged back; bands count the repeated states.
        frame_max: int8 ``[T]``, per-frame maximum over the full vocabulary for the confidence
            (``None`` = maximum of ``scores``' rows).
        engine: ``"auto"`` (the C kernel if it can be built, else numpy; the environment variable
            ``MICROALIGN_DECODE_ENGINE`` can force either), ``"numpy"`` (the reference) or ``"c"``.

    Raises:
        ValueError (:class:`._core.DecodeError`, ``.status`` = the kernel's status code).
    """
    q = _check_int8(_core.as_2d(scores, "scores"), "scores")
    T = q.shape[0]
    pen = _check_penalty(silence_penalty)
    if not isinstance(beam, (int, np.integer)) or isinstance(beam, bool) or not 0 <= beam <= MAX_BEAM:
        raise DecodeError(f"beam must be an int in 0..{MAX_BEAM}, got {beam!r}", _core.STATUS_ERR_ARGUMENT)
    if frame_max is not None:
        frame_max = _check_int8(np.asarray(frame_max), "frame_max")
        if frame_max.shape != (T,):
            raise DecodeError(f"frame_max must have shape ({T},) (one value per frame), got {frame_max.shape}",
                              _core.STATUS_ERR_ARGUMENT)
    k = _core.check_min_frames(min_char_frames)
    graph = _core.min_frames_graph(words, q.shape[1], k)
    _core.check_frames(T, graph)
    bp = _core.resolve_band(band, graph.n_states, max_band, checkpoint_interval)
    engine = _resolve_engine(engine)
    if engine == "c":
        from . import native
        return native.decode(q, graph, k, bp, pen, int(beam), frame_max)
    q64 = q.astype(np.int64)
    path = _core.viterbi(q64, graph, bp, pen, int(beam), integer=True)
    sp = _core.spans(q64, graph, path, None if frame_max is None else frame_max.astype(np.int64))
    i32 = np.int32
    return IntAlignment(token_spans=_core.merge_token_spans(sp.token_spans, k).astype(i32),
                        word_spans=sp.word_spans.astype(i32),
                        word_score_sum=sp.word_score_sum.astype(i32), word_frames=sp.word_frames.astype(i32),
                        frame_tokens=sp.frame_tokens.astype(i32), score=int(path.score), band=path.band,
                        edge_free=path.edge_free, engine="numpy")


def _resolve_engine(engine: str) -> str:
    if engine not in ("auto", "numpy", "c"):
        raise DecodeError(f"engine must be 'auto', 'numpy' or 'c', got {engine!r}", _core.STATUS_ERR_ARGUMENT)
    if engine == "auto":
        forced = os.environ.get(ENGINE_ENV, "")
        if forced in ("numpy", "c"):
            return forced
        from . import native
        return "c" if native.available() else "numpy"
    return engine
