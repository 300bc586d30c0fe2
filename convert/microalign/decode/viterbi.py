"""Float Viterbi forced alignment over per-frame log-probabilities.

    >>> from microalign.decode import viterbi_align
    >>> from microalign.text.tokens import encode_words
    >>> ali = viterbi_align(log_probs, encode_words(["hello", "world"]))   # log_probs: [T, 28]
    >>> ali.word_spans * 0.01            # seconds: [[start, end), ...]

The state graph, transitions and tie-breaking are described in
:mod:`microalign.decode._core`; :func:`microalign.decode.viterbi_int.viterbi_align_int`
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


def viterbi_align(log_probs, words: Sequence[Sequence[int]], *, silence_penalty: float = 0.0,
                  band: int | None = None, beam: float = _core.DEFAULT_BEAM / 16.0,
                  min_char_frames: int = 1) -> Alignment:
    """Force-align ``words`` to ``log_probs``.

    Args:
        log_probs: float array ``[T, V]`` (or ``[1, T, V]``) of per-frame log-probabilities,
            token 0 = silence. Values below ``LOG_PROB_FLOOR`` (and -inf) are clipped to it.
        words: the transcript, one sequence of token ids (``1..V-1``) per word
            (e.g. :func:`microalign.text.tokens.encode_words`); strings are encoded.
        silence_penalty: subtracted from the path score for every silence state entered
            (including starting in the leading silence); positive values discourage pauses.
        band: states kept per frame (see :mod:`._core`); ``None`` = all (exact optimum),
            ``0`` = auto as in the integer decoder; the result is then the best
            valid alignment inside the band (see :mod:`._core`).
        beam: window placement beam in nats (only used when ``band < S``); the default
            equals the integer decoder's default on int8 LOG_SOFTMAX scores (64 / 16).
        min_char_frames: minimum frames per character (:func:`._core.expand_min_frames`;
            the aligner uses :data:`._core.MIN_CHAR_FRAMES`). The band counts the repeated states.

    Raises:
        ValueError (:class:`._core.DecodeError`): bad shape, NaN/+inf scores, empty transcript or word,
        token id out of range, fewer frames than characters × min_char_frames, band < 3.
    """
    lp = _core.as_2d(log_probs, "log_probs")
    if not np.issubdtype(lp.dtype, np.number) or np.iscomplexobj(lp):
        raise _core.DecodeError(f"log_probs must be real numbers, got dtype {lp.dtype}", _core.STATUS_ERR_ARGUMENT)
    lp = lp.astype(np.float64)
    if np.isnan(lp).any() or np.isposinf(lp).any():
        raise _core.DecodeError(f"log_probs of shape {lp.shape} contains NaN or +inf", _core.STATUS_ERR_ARGUMENT)
    lp = np.maximum(lp, LOG_PROB_FLOOR)
    penalty = float(silence_penalty)
    if not np.isfinite(penalty):
        raise _core.DecodeError(f"silence_penalty must be finite, got {silence_penalty}", _core.STATUS_ERR_ARGUMENT)
    beam = float(beam)
    if not (0.0 <= beam < np.inf):
        raise _core.DecodeError(f"beam must be finite and >= 0, got {beam}", _core.STATUS_ERR_ARGUMENT)
    k = _core.check_min_frames(min_char_frames)
    graph = _core.min_frames_graph(words, lp.shape[1], k)
    _core.check_frames(lp.shape[0], graph)
    W = graph.n_states if band is None else _core.resolve_band(band, graph.n_states)
    path = _core.viterbi(lp, graph, W, penalty, beam, integer=False)
    sp = _core.spans(lp, graph, path)
    return Alignment(token_spans=_core.merge_token_spans(sp.token_spans, k), word_spans=sp.word_spans,
                     word_confidence=np.exp(sp.word_score_sum / sp.word_frames),
                     frame_tokens=sp.frame_tokens, score=path.score)
