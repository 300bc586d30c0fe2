"""Float Viterbi forced alignment over per-frame log-probabilities.

    >>> from microalign.decode import viterbi_align
    >>> from microalign.text.tokens import encode_words
    >>> ali = viterbi_align(log_probs, encode_words(["hello", "world"]))   # log_probs: [T, 28]
    >>> ali.word_spans * 0.01            # seconds: [[start, end), ...]

The state graph, transitions, tie-breaking, the band, the checkpointed
back-pointers and the memory bound are described in :mod:`microalign.decode._core`;
:func:`microalign.decode.viterbi_int.viterbi_align_int`
runs the same recurrence on int8 scores (and is the reference of the C kernel).
On dequantised int8 scores with a power-of-two scale (int8 LOG_SOFTMAX has
scale 1/16, zero point 127) all sums are exact in float64, so both return
the same path.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import _core

#: log-probabilities below this (including -inf) are clipped to it, so every path has a finite score.
LOG_PROB_FLOOR = -1e4


@dataclass(frozen=True)
class Alignment:
    """Result of :func:`viterbi_align`. Frames are 10 ms; ``end`` is exclusive (seconds = frames * 0.01)."""

    token_spans: np.ndarray       #: [C, 2] int64, [start, end) frames of each character (all words, in order)
    word_spans: np.ndarray        #: [n, 2] int64, [start, end) frames of each word (first char start, last char end)
    word_confidence: np.ndarray   #: [n] float64 in (0, 1]: exp(mean over the word's frames of lp[t, tok] - max_v lp[t, v])
    frame_tokens: np.ndarray      #: [T] int64, token aligned to each frame (0 = silence)
    score: float                  #: path score: sum of aligned log-probs minus the silence penalties
    band: int = 0                 #: states kept per frame (W) of the returned path (= S: exact full Viterbi)
    edge_free: bool = True        #: the path never touched its band's edge (see :mod:`._core`)


def viterbi_align(log_probs, words: Sequence[Sequence[int]], *, silence_penalty: float = 0.0,
                  band: int | None = 0, max_band: int = 0, checkpoint_interval: int = 0,
                  beam: float = _core.DEFAULT_BEAM / 16.0, min_char_frames: int = 1, frame_max=None,
                  drop_margin: float = _core.DROP_MARGIN_INT / 16.0) -> Alignment:
    """Force-align ``words`` to ``log_probs``.

    Args:
        log_probs: float array ``[T, V]`` (or ``[1, T, V]``) of per-frame log-probabilities,
            token 0 = silence (or only the transcript's columns, :func:`._core.compact`).
            Values below ``LOG_PROB_FLOOR`` (and -inf) are clipped to it.
        words: the transcript, one sequence of token ids (``1..V-1``) per word
            (e.g. :func:`microalign.text.tokens.encode_words`); strings are encoded.
        silence_penalty: subtracted from the path score for every silence state entered
            (including starting in the leading silence); positive values discourage pauses.
        band: first band (states kept per frame, see :mod:`._core`), ``0`` = auto (128), as in the
            integer decoder; ``None`` = all states (the exact full Viterbi, memory ``O(T S / K)``).
        max_band: widest band tried when the path touches its band's edge (``0`` = auto, 1024).
        checkpoint_interval: frames between checkpoints (``0`` = auto, 128).
        beam: window placement beam in nats; the default equals the integer decoder's default
            on int8 LOG_SOFTMAX scores (64 / 16).
        min_char_frames: minimum frames per character (:func:`._core.expand_min_frames`;
            the aligner uses :data:`._core.MIN_CHAR_FRAMES`). Bands count the repeated states.
        frame_max: ``[T]`` per-frame maximum over the full vocabulary for the confidence
            (``None`` = maximum of ``log_probs``' rows).
        drop_margin: nats; a state this close to the frame's best that leaves the band counts as an
            edge touch (the default equals the integer decoder's 1024 units at scale 1/16).

    Raises:
        ValueError (:class:`._core.DecodeError`): bad shape, NaN/+inf scores, empty transcript or word,
        token id out of range, fewer frames than characters × min_char_frames, band < 3.
    """
    lp = _core.as_2d(log_probs, "log_probs")
    lp = _clean(lp, "log_probs")
    if frame_max is not None:
        frame_max = _clean(np.asarray(frame_max), "frame_max")
        if frame_max.shape != (lp.shape[0],):
            raise _core.DecodeError(f"frame_max must have shape ({lp.shape[0]},) (one value per frame), "
                                    f"got {frame_max.shape}", _core.STATUS_ERR_ARGUMENT)
    penalty = float(silence_penalty)
    if not np.isfinite(penalty):
        raise _core.DecodeError(f"silence_penalty must be finite, got {silence_penalty}", _core.STATUS_ERR_ARGUMENT)
    beam = float(beam)
    if not (0.0 <= beam < np.inf):
        raise _core.DecodeError(f"beam must be finite and >= 0, got {beam}", _core.STATUS_ERR_ARGUMENT)
    k = _core.check_min_frames(min_char_frames)
    graph = _core.min_frames_graph(words, lp.shape[1], k)
    _core.check_frames(lp.shape[0], graph)
    S = graph.n_states
    bp = (_core.resolve_band(_core.MAX_BAND, S, _core.MAX_BAND, checkpoint_interval) if band is None
          else _core.resolve_band(band, S, max_band, checkpoint_interval))
    if band is None:
        bp = _core.BandParams(band=S, max_band=S, interval=bp.interval)
    drop_margin = float(drop_margin)
    if not drop_margin >= 0.0:
        raise _core.DecodeError(f"drop_margin must be >= 0, got {drop_margin}", _core.STATUS_ERR_ARGUMENT)
    path = _core.viterbi(lp, graph, bp, penalty, beam, integer=False, drop_margin=drop_margin)
    sp = _core.spans(lp, graph, path, frame_max)
    return Alignment(token_spans=_core.merge_token_spans(sp.token_spans, k), word_spans=sp.word_spans,
                     word_confidence=np.exp(sp.word_score_sum / sp.word_frames),
                     frame_tokens=sp.frame_tokens, score=path.score, band=path.band, edge_free=path.edge_free)


def _clean(a: np.ndarray, name: str) -> np.ndarray:
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise _core.DecodeError(f"{name} must be real numbers, got dtype {a.dtype}", _core.STATUS_ERR_ARGUMENT)
    a = a.astype(np.float64)
    if np.isnan(a).any() or np.isposinf(a).any():
        raise _core.DecodeError(f"{name} of shape {a.shape} contains NaN or +inf", _core.STATUS_ERR_ARGUMENT)
    return np.maximum(a, LOG_PROB_FLOOR)
