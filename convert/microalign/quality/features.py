"""What the aligner knows about each placed word, as numbers: the inputs of the confidence
calibration (:mod:`.confidence`) and of the mismatch checks (:mod:`.checks`).

All of it comes from what the aligner computed anyway — the model's per-frame
log-probabilities, the decoded character spans and the int8 log-mel features. These are the
float definitions; :mod:`.fixed` computes the same features in integers and fixed point from
int8 scores (what :func:`.checks.assess` and the device use).

Per word (columns of :func:`word_features`, names in :data:`FEATURES`):

=====================  =====================================================================
``gap``                mean over the word's frames of ``lp[t, aligned char] - max_v lp[t, v]``
                       (nats, <= 0): how much the model prefers another token; ``exp(gap)`` is
                       the uncalibrated confidence of earlier versions
``worst_char_gap``     the same mean for the word's worst character
``silence``            mean over the word's frames of the model's silence probability
``log_frames_per_char``  ``log`` of the word's frames per character (10 ms frames)
``at_floor``           1 when the word is no longer than the decoder's minimum duration
``pause_before``       seconds of silence placed before the word (capped at 1 s)
``pause_after``        seconds of silence placed after the word (capped at 1 s)
``level_db``           the word's mean log-mel level minus the utterance's speech level (dB)
``neighbour_gap``      mean ``gap`` of the words before and after it (an unspoken word takes
                       frames from its neighbours and lowers their gap too)
``removal_gain``       what the word's characters explain that the alternatives do not: the
                       score of its frames under the aligned characters minus the best score
                       of the same frames as the previous word's last character, then
                       silence, then the next word's first character (each part possibly
                       empty; :func:`removal_gain`), in nats, clipped to +-``GAIN_CLIP``. A
                       spoken word gains (its frames fit its own characters); an unspoken
                       one, squeezed into its neighbours' sounds, gains little or loses
``skip_gain``          the log-likelihood ratio of the word being there against it being
                       absent (:func:`skip_gain`): the decoded path's score over a window from
                       the previous word's last :data:`SKIP_CONTEXT_CHARS` characters to the next
                       word's first ones, minus the best path over the same frames *without*
                       the word (those neighbour characters, each at least the decoder's
                       minimum duration, optional silence between), in nats, clipped to
                       +-``SKIP_CLIP``. A spoken word is worth many nats; an unspoken one costs
                       them (its characters are forced onto frames its neighbours explain)
``context_loss``       the decoded path's loss against each frame's best token summed over the
                       same window as ``skip_gain`` (:func:`skip_windows`), in nats, clipped to
                       ``CONTEXT_LOSS_CLIP``: an unspoken word is forced onto frames the model hears
                       as something else and squeezes its neighbours, so the window's loss rises
                       with the word's length (a correct word said short, which may look better
                       skipped, costs little and leaves its neighbours' fit alone)
``chars``              the word's characters (what its context loss and skip gain scale with)
=====================  =====================================================================
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..frontend import FRAME_SECONDS

#: dB per int8 log-mel step (256 steps span 144 dB, see :mod:`microalign.frontend.features`)
DB_PER_FEATURE_STEP = 144.0 / 256.0
#: frames whose silence probability is below this count as speech for the model
SPEECH_PROB = 0.5
PAUSE_CAP_SECONDS = 1.0
GAIN_CLIP = 50.0
#: characters of each neighbour in the window of :func:`skip_gain`
SKIP_CONTEXT_CHARS = 4
#: the skip path's characters last at least min(min_char_frames, SKIP_MAX_FLOOR) frames (bounds its states)
SKIP_MAX_FLOOR = 8
SKIP_CLIP = 100.0
#: the context loss of a word (nats over its window) is clipped here
CONTEXT_LOSS_CLIP = 1000.0
#: the utterance's fit loss (nats per speech frame) is clipped here (white noise reaches hundreds)
FIT_LOSS_CLIP = 32.0


FEATURES = ("gap", "worst_char_gap", "silence", "log_frames_per_char", "at_floor",
            "pause_before", "pause_after", "level_db", "neighbour_gap", "removal_gain", "skip_gain",
            "context_loss", "chars")
NEIGHBOUR = FEATURES.index("neighbour_gap")
#: utterance features of the mismatch detector (:mod:`.fixed`): ``fit_loss``, the log-likelihood ratio
#: of the model's own best reading (each frame's best token) against the decoded path, in nats per
#: speech frame (clipped to ``FIT_LOSS_CLIP``), and ``score``, the mean calibrated word confidence
UTTERANCE_FEATURES = ("fit_loss", "score")


class QualityError(ValueError):
    """Inconsistent inputs to the quality checks (the message names the problem)."""


def log_probs_of(values: np.ndarray, scale: float | None = None, zero_point: int | None = None) -> np.ndarray:
    """Float log-probabilities ``[T, V]`` from float scores or int8 scores with their quantisation."""
    v = np.asarray(values)
    if v.ndim != 2:
        raise QualityError(f"frame scores must be [T, V], got shape {v.shape}")
    if v.dtype == np.int8:
        if scale is None or zero_point is None:
            raise QualityError("int8 frame scores need their scale and zero point")
        return (v.astype(np.float64) - float(zero_point)) * float(scale)
    return v.astype(np.float64)


@dataclass
class UtteranceFrames:
    """Per-frame quantities shared by the word features and the utterance checks."""

    silence_prob: np.ndarray    #: [T] model probability of silence
    level_db: np.ndarray        #: [T] mean log-mel level in dB (relative to the frontend's floor)
    speech: np.ndarray          #: [T] bool, the model hears speech (silence probability < SPEECH_PROB)
    speech_level_db: float      #: median level of the speech frames (of all frames when there are none)

    @classmethod
    def of(cls, log_probs: np.ndarray, feats: np.ndarray) -> "UtteranceFrames":
        lp = np.asarray(log_probs, dtype=np.float64)
        f = np.asarray(feats)
        if len(f) != len(lp):
            raise QualityError(f"features have {len(f)} frames but the scores {len(lp)}")
        sil = np.exp(np.minimum(lp[:, 0], 0.0))
        level = (f.astype(np.float64).mean(axis=1) + 128.0) * DB_PER_FEATURE_STEP
        speech = sil < SPEECH_PROB
        ref = float(np.median(level[speech])) if speech.any() else float(np.median(level))
        return cls(sil, level, speech, ref)


def removal_gain(lp: np.ndarray, a: int, b: int, aligned: float, prev_tok: int | None, next_tok: int | None) -> float:
    """``aligned`` (the score of frames ``[a, b)`` under the word's characters) minus the best score of
    the same frames as ``prev_tok`` (the previous word's last character; none for the first word),
    then silence (token 0), then ``next_tok`` (none for the last word), each part possibly empty:
    ``max over a <= x <= y <= b`` of the three prefix sums, in O(b - a)."""
    n = b - a
    if n <= 0:
        return 0.0
    seg = lp[a:b]
    zero = np.zeros(1)
    P = np.concatenate([zero, np.cumsum(seg[:, prev_tok])]) if prev_tok is not None else None
    Z = np.concatenate([zero, np.cumsum(seg[:, 0])])
    N = np.concatenate([zero, np.cumsum(seg[:, next_tok])]) if next_tok is not None else None
    # best over x <= y of P[x] + (Z[y] - Z[x]) + (N[n] - N[y]); without prev, x = 0; without next, y = n
    idx = np.arange(n + 1)
    first = (P - Z) if P is not None else np.where(idx == 0, 0.0, -np.inf)
    best_first = np.maximum.accumulate(first)                  # best P[x] - Z[x] over x <= y
    last = (Z - N + N[n]) if N is not None else np.where(idx == n, Z, -np.inf)
    alternative = float((best_first + last).max())
    return float(np.clip(aligned - alternative, -GAIN_CLIP, GAIN_CLIP))


def skip_windows(tokens: list[list[int]], token_spans: np.ndarray, word_spans: np.ndarray) -> list[tuple[int, int]]:
    """Per word, the frames ``[A, B)`` of :func:`skip_gain`'s window: from the start of the previous word's
    last :data:`SKIP_CONTEXT_CHARS` characters (the word's own start for the first word) to the end of
    the next word's first ones (its own end for the last word)."""
    first = np.cumsum([0] + [len(t) for t in tokens])
    n = len(tokens)
    out = []
    for i in range(n):
        if i > 0:
            A = int(token_spans[first[i - 1] + max(0, len(tokens[i - 1]) - SKIP_CONTEXT_CHARS)][0])
        else:
            A = int(word_spans[i][0])
        if i + 1 < n:
            B = int(token_spans[first[i + 1] + min(SKIP_CONTEXT_CHARS, len(tokens[i + 1])) - 1][1])
        else:
            B = int(word_spans[i][1])
        out.append((A, B))
    return out


def decoded_tokens(T: int, tokens: list[list[int]], token_spans: np.ndarray) -> np.ndarray:
    """``[T]`` the decoded path's token per frame: a character on its span, silence (0) elsewhere."""
    col = np.zeros(T, dtype=np.int64)
    for tok, (s, e) in zip((t for w in tokens for t in w), np.asarray(token_spans, dtype=np.int64)):
        col[int(s):int(e)] = tok
    return col


def skip_gain(v: np.ndarray, tokens: list[list[int]], token_spans: np.ndarray, word_spans: np.ndarray,
              min_char_frames: int) -> list:
    """Per word: the decoded path's score minus the best score without the word, over the window
    from the start of the previous word's last :data:`SKIP_CONTEXT_CHARS` characters (the word's own
    start for the first word) to the end of the next word's first ones (its own end for the last word).

    ``v`` ``[T, V]`` are log-probabilities (float, -> float gains) or int8 scores with the zero point
    removed (int64, -> exact integer gains: the device's definition, :mod:`.fixed`). On the decoded
    path a frame inside a character's span scores that character, any other frame silence (token 0).
    The path without the word runs through the window's neighbour characters in order, each lasting
    at least ``min(min_char_frames, SKIP_MAX_FLOOR)`` frames, with optional silence between them (and
    before / after them when the window starts / ends with the word itself), from the window's first
    frame to its last. ``None`` where no such path fits in the window."""
    is_int = np.issubdtype(np.asarray(v).dtype, np.integer)
    v = np.asarray(v, dtype=np.int64 if is_int else np.float64)
    T = len(v)
    k = max(1, min(int(min_char_frames), SKIP_MAX_FLOOR))
    first = np.cumsum([0] + [len(t) for t in tokens])
    for w, word in enumerate(tokens):
        last = int(word_spans[w][0])
        for c in range(len(word)):
            s, e = (int(x) for x in token_spans[first[w] + c])
            if not last <= s <= e <= int(word_spans[w][1]):
                raise QualityError(f"character {first[w] + c} spans frames [{s}, {e}) outside its word's "
                                   f"[{last}, {int(word_spans[w][1])}) or before the previous character's end")
            last = e
    path = np.concatenate([np.zeros(1, dtype=v.dtype),
                           np.cumsum(v[np.arange(T), decoded_tokens(T, tokens, token_spans)])])
    neg = np.iinfo(np.int64).min // 4 if is_int else -np.inf
    out: list = []
    n = len(tokens)
    for i, (A, B) in enumerate(skip_windows(tokens, token_spans, word_spans)):
        toks: list[int] = []
        if i > 0:
            toks += [t for t in tokens[i - 1][max(0, len(tokens[i - 1]) - SKIP_CONTEXT_CHARS):] for _ in range(k)]
        sil_at = len(toks)
        toks.append(0)
        if i + 1 < n:
            toks += [t for t in tokens[i + 1][:SKIP_CONTEXT_CHARS] for _ in range(k)]
        S = len(toks)
        tk = np.asarray(toks)
        # a character's last sub-state and the silence hold; the skip jumps over the silence
        loop = np.zeros(S, dtype=bool)
        loop[sil_at] = True
        loop[[j for j in range(S) if j != sil_at and (j - (j > sil_at)) % k == k - 1]] = True
        if B <= A:
            out.append(None)
            continue
        x = np.full(S, neg, dtype=v.dtype)
        x[0] = v[A, tk[0]]
        if sil_at == 0 and S > 1:
            x[1] = v[A, tk[1]]
        for t in range(A + 1, B):
            y = np.where(loop, x, neg)
            y[1:] = np.maximum(y[1:], x[:-1])
            if 0 < sil_at < S - 1:
                y[sil_at + 1] = max(y[sil_at + 1], x[sil_at - 1])
            x = np.where(y == neg, neg, y + v[t, tk])
        best = x[-1] if sil_at < S - 1 or S == 1 else max(x[-1], x[-2])
        out.append(None if best == neg else (path[B] - path[A]) - best)
    return out


def word_features(log_probs: np.ndarray, tokens: list[list[int]], token_spans: np.ndarray,
                  word_spans: np.ndarray, frames: UtteranceFrames, min_char_frames: int) -> np.ndarray:
    """``[n_words, len(FEATURES)]`` float64 features of the decoded words (see the module doc)."""
    lp = np.asarray(log_probs, dtype=np.float64)
    n_tok = sum(len(t) for t in tokens)
    token_spans = np.asarray(token_spans)
    word_spans = np.asarray(word_spans)
    if token_spans.shape != (n_tok, 2) or word_spans.shape != (len(tokens), 2):
        raise QualityError(f"spans of shape {token_spans.shape} / {word_spans.shape} do not match "
                           f"{len(tokens)} words of {n_tok} characters")
    T = len(lp)
    best = lp.max(axis=1)
    out = np.zeros((len(tokens), len(FEATURES)))
    ci = 0
    for i, word in enumerate(tokens):
        total, counted, worst, aligned = 0.0, 0, 0.0, 0.0
        for tok in word:
            s, e = (int(x) for x in token_spans[ci])
            ci += 1
            g = float((lp[s:e, tok] - best[s:e]).sum())
            total, counted = total + g, counted + (e - s)
            worst = min(worst, g / max(e - s, 1))
            aligned += float(lp[s:e, tok].sum())
        a, b = (int(x) for x in word_spans[i])
        n = max(b - a, 1)
        prev_end = int(word_spans[i - 1][1]) if i > 0 else 0
        next_start = int(word_spans[i + 1][0]) if i + 1 < len(tokens) else T
        sil = frames.silence_prob[a:b]
        out[i] = (total / max(counted, 1), worst, float(sil.mean()) if b > a else 1.0,
                  np.log(n / len(word)), float(n <= min_char_frames * len(word)),
                  min((a - prev_end) * FRAME_SECONDS, PAUSE_CAP_SECONDS),
                  min((next_start - b) * FRAME_SECONDS, PAUSE_CAP_SECONDS),
                  float(frames.level_db[a:b].mean() - frames.speech_level_db) if b > a else 0.0, 0.0,
                  removal_gain(lp, a, b, aligned, tokens[i - 1][-1] if i > 0 else None,
                               tokens[i + 1][0] if i + 1 < len(tokens) else None), 0.0, 0.0, len(word))
    for i, g in enumerate(skip_gain(lp, tokens, token_spans, word_spans, min_char_frames)):
        out[i, FEATURES.index("skip_gain")] = SKIP_CLIP if g is None else float(np.clip(g, -SKIP_CLIP, SKIP_CLIP))
    loss = best - lp[np.arange(T), decoded_tokens(T, tokens, token_spans)]
    for i, (A, B) in enumerate(skip_windows(tokens, token_spans, word_spans)):
        out[i, FEATURES.index("context_loss")] = min(float(loss[A:B].sum()), CONTEXT_LOSS_CLIP)
    gap = out[:, 0]
    if len(gap) == 1:
        out[:, NEIGHBOUR] = gap
    else:
        padded = np.concatenate([gap[1:2], gap, gap[-2:-1]])     # an edge word's only neighbour counts twice
        out[:, NEIGHBOUR] = (padded[:-2] + padded[2:]) / 2
    return out

