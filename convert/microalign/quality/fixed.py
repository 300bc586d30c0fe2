"""The one definition of the word features, calibrated confidence and mismatch checks that the
host and the device (``tflm_app/app/ma_quality.c``) compute bit for bit: integer and fixed-point
arithmetic only, on int8 scores.

Inputs (what the firmware keeps of an utterance): the int8 score of every frame for silence and
for the transcript's characters, each frame's maximum over the whole vocabulary, the decoded
character and word spans, and each frame's sum of its int8 log-mel features. The scores are
int8 log-probabilities with TFLite's fixed log-softmax quantisation (:data:`SCORE_SCALE` =
16/256, :data:`SCORE_ZERO_POINT` = 127); the float backends' log-probabilities are quantised
the same way first (:func:`quantize_log_probs`), so every backend gets the same model.

Fixed-point formats (``Q16`` = integer / 2**16):

==========================  ===============================================================
feature values              Q16 integers (:data:`ONE` = 1.0); the float features of
                            :func:`features_q16` / 65536 are what the calibration fits
gap, worst_char_gap         ``round_div(SCALE_Q16 * sum(q[t, char] - q_max[t]), frames)``
silence                     mean over the word's frames of ``SILENCE_Q16[q[t, 0] + 128]``
                            (``exp(min(log p_silence, 0))`` tabulated per int8 value)
log_frames_per_char         ``LN2_Q16 * (log2_q16(frames) - log2_q16(chars))``, an exact
                            integer ``log2`` (16 fraction bits, by repeated squaring)
level_db                    ``(2 L_word - frames M2) * DB_STEP_Q16 / (2 frames N_MELS)`` with
                            ``L`` the per-frame sums of the int8 log-mel features and ``M2``
                            twice the median of ``L`` over the speech frames
removal_gain                ``SCALE_Q16 * (aligned - best alternative)`` in int8 steps, clipped
skip_gain                   ``SCALE_Q16 * (decoded path - best path without the word)`` over the
                            word's window, in int8 steps (exact integer Viterbi of
                            :func:`.features.skip_gain`), clipped; ``SKIP_CLIP_Q16`` when no
                            path without the word fits
context_loss                ``SCALE_Q16 * sum(q_max[t] - q[t, decoded token])`` over the window
                            ``[A, B)`` of skip_gain (:func:`.features.skip_windows`), clipped to
                            ``CONTEXT_LOSS_CLIP_Q16``
chars                       ``chars * ONE``
fit_loss (utterance)        ``round_div(SCALE_Q16 * (U - F), max(speech frames, 1))`` clipped to
                            ``FIT_LOSS_CLIP_Q16``: ``U`` the sum of each frame's best int8 score over
                            the vocabulary, ``F`` the decoded path's (a character's score on its span,
                            silence elsewhere): the log-likelihood ratio of the model's own best
                            reading against the transcript, in nats per frame the model hears as speech
score (utterance)           ``round_div(sum(confidence_1e-4) * ONE, 10000 * words)``
logistic ``z``              Q32: ``BIAS_Q32 + sum(W_Q16[j] * x_q16[j])`` (int64), with
                            ``W = weight / std`` and the means folded into the bias
confidence                  ``sigmoid(z)`` in units of 1e-4 (:func:`sigmoid_q4`: an ``exp2``
                            table of 257 entries with linear interpolation, exact integer
                            rounding); the JSON's ``confidence`` is this number / 10000
unspoken detector           ``z_unspoken > logit(threshold)`` compared in Q32
mismatch detector           ``z_mismatch > logit(threshold)`` in Q32, ``z`` the logistic of the two
                            utterance features (:data:`~.features.UTTERANCE_FEATURES`)
level spread                variance of ``L`` over the placed frames as IEEE doubles from
                            exact integer sums, compared with a double threshold
==========================  ===============================================================

Rounding: ``round_div(a, b)`` (``b > 0``) rounds half away from zero, as the C twin's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..decode.viterbi_int import LOG_SOFTMAX_SCALE
from ..frontend.features import N_MELS
from .features import (CONTEXT_LOSS_CLIP, DB_PER_FEATURE_STEP, FEATURES, FIT_LOSS_CLIP, GAIN_CLIP, PAUSE_CAP_SECONDS,
                       SKIP_CLIP, SPEECH_PROB, UTTERANCE_FEATURES, QualityError, decoded_tokens, skip_gain,
                       skip_windows)

Q = 16
ONE = 1 << Q
SCORE_SCALE = LOG_SOFTMAX_SCALE     #: TFLite's int8 log-softmax output: scale 16/256 ...
SCORE_ZERO_POINT = 127              #: ... zero point 127 (log p = 0 at q = 127)
SCALE_Q16 = int(round(SCORE_SCALE * ONE))
LN2_Q16 = int(round(math.log(2.0) * ONE))
LOG2E_Q16 = int(round(ONE / math.log(2.0)))
DB_STEP_Q16 = int(round(DB_PER_FEATURE_STEP * ONE))
PAUSE_CAP_FRAMES = int(round(PAUSE_CAP_SECONDS * 100))
GAIN_CLIP_Q16 = int(round(GAIN_CLIP * ONE))
SKIP_CLIP_Q16 = int(round(SKIP_CLIP * ONE))
FIT_LOSS_CLIP_Q16 = int(round(FIT_LOSS_CLIP * ONE))
CONTEXT_LOSS_CLIP_Q16 = int(round(CONTEXT_LOSS_CLIP * ONE))
Z_CLIP_Q16 = 20 * ONE               #: |z| beyond 20 gives confidence 0 or 1 in 1e-4 units anyway
EXP2_BITS = 8                       #: the exp2 table has 2**8 + 1 entries
#: ``round(2**(-i / 256) * 2**30)``, i = 0..256
EXP2_Q30 = tuple(int(round(2.0 ** (-i / (1 << EXP2_BITS)) * (1 << 30))) for i in range((1 << EXP2_BITS) + 1))
#: ``round(exp(min((q - zp) * scale, 0)) * 2**16)`` for q = -128..127 (index q + 128)
SILENCE_Q16 = tuple(int(round(math.exp(min((q - SCORE_ZERO_POINT) * SCORE_SCALE, 0.0)) * ONE)) for q in range(-128, 128))
SPEECH_BELOW_Q16 = int(round(SPEECH_PROB * ONE))   #: a frame is speech when its silence value is below this
FRAME_MS = 10

assert SCALE_Q16 / ONE == SCORE_SCALE, "the score scale must be exact in Q16"
assert DB_STEP_Q16 / ONE == DB_PER_FEATURE_STEP, "dB per feature step must be exact in Q16"


def round_div(a: int, b: int) -> int:
    """``a / b`` rounded half away from zero (``b > 0``), as the C twin's ``rdiv``."""
    a, b = int(a), int(b)
    if b <= 0:
        raise QualityError(f"round_div by {b}")
    return (a + b // 2) // b if a >= 0 else -((-a + b // 2) // b)


def log2_q16(x: int) -> int:
    """``log2(x)`` of an integer ``x >= 1`` in Q16: integer part from the bit length, 16 fraction
    bits by squaring the mantissa (Q30) and truncating."""
    x = int(x)
    if x < 1 or x >= 1 << 30:
        raise QualityError(f"log2_q16 of {x}")
    k = x.bit_length() - 1
    y = x << (30 - k)
    r = 0
    for _ in range(Q):
        y = (y * y) >> 30
        if y >= 1 << 31:
            y >>= 1
            r = (r << 1) | 1
        else:
            r <<= 1
    return (k << Q) | r


def sigmoid_q4(z_q32: int) -> int:
    """``round(10000 / (1 + exp(-z)))`` for ``z`` in Q32, in the fixed-point form of the C twin."""
    z = round_div(int(z_q32), ONE)
    u = min(abs(z), Z_CLIP_Q16)
    t = (u * LOG2E_Q16 + (1 << 15)) >> Q            # u * log2(e), Q16
    k, f = t >> Q, t & (ONE - 1)
    i, r = f >> (Q - EXP2_BITS), f & ((1 << (Q - EXP2_BITS)) - 1)
    e = EXP2_Q30[i] - (((EXP2_Q30[i] - EXP2_Q30[i + 1]) * r + (1 << (Q - EXP2_BITS - 1))) >> (Q - EXP2_BITS))
    e = e >> k if k < 31 else 0                      # exp(-u) in Q30
    p = round_div(10000 << 30, (1 << 30) + e)
    return p if z >= 0 else 10000 - p


def quantize_log_probs(lp: np.ndarray) -> np.ndarray:
    """Float log-probabilities ``[T, V]`` -> int8 with :data:`SCORE_SCALE` / :data:`SCORE_ZERO_POINT`."""
    q = np.rint(np.asarray(lp, dtype=np.float64) / SCORE_SCALE) + SCORE_ZERO_POINT
    return np.clip(q, -128, 127).astype(np.int8)


def frame_levels(feats: np.ndarray) -> np.ndarray:
    """``[T]`` int64: each frame's sum of its int8 log-mel features (the device's ``L``)."""
    f = np.asarray(feats)
    if f.ndim != 2 or f.shape[1] != N_MELS:
        raise QualityError(f"log-mel features must be [T, {N_MELS}], got shape {f.shape}")
    return f.astype(np.int64).sum(axis=1)


# --------------------------------------------------------------------------- the fitted models in integers
@dataclass(frozen=True)
class FixedLogistic:
    """A :class:`~.confidence.Logistic` in integers: ``z_Q32 = bias_q32 + sum(w_q16 * x_q16)`` over all
    of ``names`` (:data:`~.features.FEATURES` for the word models, :data:`~.features.UTTERANCE_FEATURES`
    for the mismatch detector; unused ones weigh 0)."""

    w_q16: tuple[int, ...]
    bias_q32: int

    @classmethod
    def of(cls, m, names: tuple[str, ...] = FEATURES) -> "FixedLogistic":
        a = np.zeros(len(names))
        bias = float(m.bias)
        for name, mean, std, w in zip(m.features, m.mean, m.std, m.weights):
            if name not in names:
                raise QualityError(f"feature {name!r} is not one of {names}")
            a[names.index(name)] += w / std
            bias -= w * mean / std
        return cls(tuple(int(round(v * ONE)) for v in a), int(round(bias * (1 << 32))))

    def z(self, x_q16: np.ndarray) -> list[int]:
        return [self.bias_q32 + sum(w * int(v) for w, v in zip(self.w_q16, row)) for row in np.asarray(x_q16)]


def logit_q32(p: float) -> int:
    """``logit(p)`` in Q32 (the unspoken detector's threshold on ``z``)."""
    if not 0.0 < p < 1.0:
        raise QualityError(f"probability threshold {p} must lie in (0, 1)")
    return int(round(math.log(p / (1.0 - p)) * (1 << 32)))


@dataclass(frozen=True)
class FixedThresholds:
    """:class:`~.confidence.Thresholds` as the integers the device compares with."""

    unspoken_z_q32: int
    stretched_min_frames: int
    stretched_ms_per_char: int
    stretched_q4: int
    squeezed_run: int
    cps_low_c: int            # characters per speech second, in 1/100
    cps_high_c: int
    speech_fraction_milli: int
    level_var_low: float      # variance of L (feature-sum steps squared) below which the level is steady
    score_low_milli: int
    mismatch_z_q32: int       # the mismatch detector's z above which the transcript is flagged

    @classmethod
    def of(cls, th) -> "FixedThresholds":
        return cls(logit_q32(th.unspoken_probability), int(math.ceil(th.stretched_min_seconds * 100 - 1e-9)),
                   int(round(th.stretched_seconds_per_char * 1000)), int(round(th.stretched_confidence * 10000)),
                   int(th.squeezed_run), int(round(th.chars_per_second_low * 100)),
                   int(round(th.chars_per_second_high * 100)), int(round(th.speech_fraction_low * 1000)),
                   float((th.level_spread_db_low * N_MELS / DB_PER_FEATURE_STEP) ** 2),
                   int(round(th.score_low * 1000)), logit_q32(th.mismatch_probability))


@dataclass(frozen=True)
class FixedModel:
    confidence: FixedLogistic
    unspoken: FixedLogistic
    thresholds: FixedThresholds
    mismatch: FixedLogistic     #: over UTTERANCE_FEATURES

    @classmethod
    def of(cls, cal) -> "FixedModel":
        return cls(FixedLogistic.of(cal.confidence), FixedLogistic.of(cal.unspoken), FixedThresholds.of(cal.thresholds),
                   FixedLogistic.of(cal.mismatch, UTTERANCE_FEATURES))


# --------------------------------------------------------------------------- features
def median2(values: np.ndarray) -> int:
    """Twice the median of integers (the sum of the two middle ones; one middle one doubled)."""
    s = np.sort(np.asarray(values, dtype=np.int64))
    m = len(s)
    if m == 0:
        raise QualityError("median of no values")
    return int(s[(m - 1) // 2]) + int(s[m // 2])


@dataclass
class FixedFrames:
    """Per-frame integers of one utterance."""

    q0: np.ndarray          #: [T] int8 silence score
    qmax: np.ndarray        #: [T] int8 maximum over the vocabulary
    level: np.ndarray       #: [T] int64 sum of the frame's log-mel features
    speech: np.ndarray      #: [T] bool: SILENCE_Q16[q0] < SPEECH_BELOW_Q16
    level2: int             #: twice the median level of the speech frames (of all frames when none)

    @classmethod
    def of(cls, scores: np.ndarray, feats: np.ndarray) -> "FixedFrames":
        q = np.asarray(scores)
        if q.dtype != np.int8 or q.ndim != 2:
            raise QualityError(f"scores must be int8 [T, V], got {q.dtype} {q.shape}")
        level = frame_levels(feats)
        if len(level) != len(q):
            raise QualityError(f"features have {len(level)} frames but the scores {len(q)}")
        return cls.from_parts(q[:, 0], q.max(axis=1), level)

    @classmethod
    def from_parts(cls, q0: np.ndarray, qmax: np.ndarray, level: np.ndarray) -> "FixedFrames":
        """From the silence column, the per-frame maximum and the per-frame feature sums (what the device keeps)."""
        q0, qmax, level = np.asarray(q0, np.int8), np.asarray(qmax, np.int8), np.asarray(level, np.int64)
        if not len(q0) == len(qmax) == len(level) or len(q0) == 0:
            raise QualityError(f"per-frame arrays of {len(q0)}, {len(qmax)}, {len(level)} frames")
        sil = np.asarray(SILENCE_Q16, dtype=np.int64)[q0.astype(np.int64) + 128]
        speech = sil < SPEECH_BELOW_Q16
        return cls(q0.copy(), qmax.copy(), level, speech, median2(level[speech] if speech.any() else level))


def _gain(q: np.ndarray, a: int, b: int, aligned: int, prev_tok: int | None, next_tok: int | None) -> int:
    """``aligned`` minus the best score (int8 steps, zero point removed) of frames ``[a, b)`` as
    ``prev_tok``, then silence, then ``next_tok`` (each part possibly empty)."""
    n = b - a
    zero = np.zeros(1, dtype=np.int64)
    seg = q[a:b].astype(np.int64) - SCORE_ZERO_POINT
    Z = np.concatenate([zero, np.cumsum(seg[:, 0])])
    neg = np.iinfo(np.int64).min // 4
    idx = np.arange(n + 1)
    if prev_tok is not None:
        first = np.concatenate([zero, np.cumsum(seg[:, prev_tok])]) - Z
    else:
        first = np.where(idx == 0, 0, neg)
    if next_tok is not None:
        N = np.concatenate([zero, np.cumsum(seg[:, next_tok])])
        last = Z - N + N[n]
    else:
        last = np.where(idx == n, Z, neg)
    alternative = int((np.maximum.accumulate(first) + last).max())
    return aligned - alternative


def features_q16(scores: np.ndarray, tokens: list[list[int]], token_spans: np.ndarray, word_spans: np.ndarray,
                 frames: FixedFrames, min_char_frames: int) -> np.ndarray:
    """``[n_words, len(FEATURES)]`` int64 Q16 features (the module doc; columns in FEATURES order).
    ``scores`` int8 ``[T, V]`` indexed by token id (or compacted, with ``tokens`` in its columns)."""
    q = np.asarray(scores)
    n_tok = sum(len(t) for t in tokens)
    token_spans = np.asarray(token_spans, dtype=np.int64)
    word_spans = np.asarray(word_spans, dtype=np.int64)
    if token_spans.shape != (n_tok, 2) or word_spans.shape != (len(tokens), 2):
        raise QualityError(f"spans of shape {token_spans.shape} / {word_spans.shape} do not match "
                           f"{len(tokens)} words of {n_tok} characters")
    T = len(q)
    qmax = frames.qmax.astype(np.int64)
    sil = np.asarray(SILENCE_Q16, dtype=np.int64)[frames.q0.astype(np.int64) + 128]
    out = np.zeros((len(tokens), len(FEATURES)), dtype=np.int64)
    ci = 0
    for i, word in enumerate(tokens):
        total, counted, worst, aligned = 0, 0, 0, 0
        for tok in word:
            s, e = int(token_spans[ci, 0]), int(token_spans[ci, 1])
            ci += 1
            col = q[s:e, tok].astype(np.int64)
            g = int((col - qmax[s:e]).sum())
            total, counted = total + g, counted + (e - s)
            worst = min(worst, round_div(SCALE_Q16 * g, max(e - s, 1)))
            aligned += int(col.sum()) - SCORE_ZERO_POINT * (e - s)
        a, b = int(word_spans[i, 0]), int(word_spans[i, 1])
        n = max(b - a, 1)
        prev_end = int(word_spans[i - 1, 1]) if i > 0 else 0
        next_start = int(word_spans[i + 1, 0]) if i + 1 < len(tokens) else T
        level = (round_div((2 * int(frames.level[a:b].sum()) - (b - a) * frames.level2) * DB_STEP_Q16,
                           2 * (b - a) * N_MELS) if b > a else 0)
        gain = _gain(q, a, b, aligned, tokens[i - 1][-1] if i > 0 else None,
                     tokens[i + 1][0] if i + 1 < len(tokens) else None) if b > a else 0
        out[i] = (round_div(SCALE_Q16 * total, max(counted, 1)), worst,
                  round_div(int(sil[a:b].sum()), b - a) if b > a else ONE,
                  round_div(LN2_Q16 * (log2_q16(n) - log2_q16(len(word))), ONE),
                  ONE if n <= min_char_frames * len(word) else 0,
                  round_div(min(a - prev_end, PAUSE_CAP_FRAMES) * ONE, PAUSE_CAP_FRAMES),
                  round_div(min(next_start - b, PAUSE_CAP_FRAMES) * ONE, PAUSE_CAP_FRAMES),
                  level, 0, max(-GAIN_CLIP_Q16, min(GAIN_CLIP_Q16, SCALE_Q16 * gain)), 0, 0, len(word) * ONE)
    sk = FEATURES.index("skip_gain")
    for i, g in enumerate(skip_gain(q.astype(np.int64) - SCORE_ZERO_POINT, tokens, token_spans, word_spans,
                                    min_char_frames)):
        out[i, sk] = SKIP_CLIP_Q16 if g is None else max(-SKIP_CLIP_Q16, min(SKIP_CLIP_Q16, SCALE_Q16 * int(g)))
    loss = np.concatenate([np.zeros(1, dtype=np.int64),
                           np.cumsum(qmax - q[np.arange(T), decoded_tokens(T, tokens, token_spans)].astype(np.int64))])
    cl = FEATURES.index("context_loss")
    for i, (A, B) in enumerate(skip_windows(tokens, token_spans, word_spans)):
        out[i, cl] = min(SCALE_Q16 * int(loss[B] - loss[A]), CONTEXT_LOSS_CLIP_Q16)
    gap = [int(v) for v in out[:, 0]]
    nb = FEATURES.index("neighbour_gap")
    for i in range(len(gap)):
        if len(gap) == 1:
            out[i, nb] = gap[0]
        else:
            left = gap[i - 1] if i > 0 else gap[1]
            right = gap[i + 1] if i + 1 < len(gap) else gap[-2]
            out[i, nb] = round_div(left + right, 2)
    return out


# --------------------------------------------------------------------------- utterance numbers and checks
@dataclass
class FixedStats:
    """The utterance-level integers of the checks."""

    speech_frames: int        #: frames of the whole utterance the model hears as speech
    placed_frames: int        #: frames inside the words
    placed_speech: int        #: ... of which speech
    level_var: float          #: variance of L over the placed frames (all frames when none)
    q4_sum: int               #: sum of the words' confidences (1e-4 units)
    fit_loss_steps: int = 0   #: U - F of :func:`fit_loss_steps` (int8 steps, >= 0)

    def utterance_q16(self, n_words: int) -> list[int]:
        """The mismatch detector's inputs, :data:`~.features.UTTERANCE_FEATURES` in Q16."""
        fit = min(round_div(SCALE_Q16 * self.fit_loss_steps, max(self.speech_frames, 1)), FIT_LOSS_CLIP_Q16)
        return [fit, round_div(self.q4_sum * ONE, 10000 * max(n_words, 1))]

    def as_dict(self, n_words: int) -> dict:
        speech_s = self.speech_frames * FRAME_MS / 1000.0
        return {"speech_seconds": speech_s, "fit_loss": self.utterance_q16(n_words)[0] / ONE,
                "chars_per_speech_second": 0.0,
                "speech_fraction": self.placed_speech / self.placed_frames if self.placed_frames else 0.0,
                "level_spread_db": math.sqrt(max(self.level_var, 0.0)) * DB_PER_FEATURE_STEP / N_MELS,
                "score": self.q4_sum / (10000.0 * n_words) if n_words else 0.0}


def level_variance(level: np.ndarray) -> float:
    """``S2 / n - (S1 / n)**2`` in IEEE doubles from the exact integer sums (the C twin's order)."""
    n = len(level)
    if n == 0:
        return 0.0
    s1 = int(np.asarray(level, dtype=np.int64).sum())
    s2 = int((np.asarray(level, dtype=np.int64) ** 2).sum())
    m = float(s1) / float(n)
    return float(s2) / float(n) - m * m


def fit_loss_steps(scores: np.ndarray, qmax: np.ndarray, tokens: list[list[int]], token_spans: np.ndarray) -> int:
    """``U - F`` in int8 steps: the sum over all frames of each frame's best score (``qmax``, over the
    whole vocabulary) minus the decoded path's score (a character's column on its span, silence,
    column 0, on every other frame). ``>= 0``; the log-likelihood ratio of the model's own best
    reading against the transcript's, times ``1 / SCORE_SCALE``."""
    q = np.asarray(scores)
    forced = int(q[np.arange(len(q)), decoded_tokens(len(q), tokens, token_spans)].astype(np.int64).sum())
    return int(np.asarray(qmax, dtype=np.int64).sum()) - forced


def utterance_stats_fixed(frames: FixedFrames, word_spans: np.ndarray, q4: list[int], fit_loss: int = 0) -> FixedStats:
    placed = np.zeros(len(frames.speech), dtype=bool)
    for a, b in np.asarray(word_spans):
        placed[int(a):int(b)] = True
    n_placed = int(placed.sum())
    lvl = frames.level[placed] if n_placed else frames.level
    return FixedStats(int(frames.speech.sum()), n_placed, int(frames.speech[placed].sum()), level_variance(lvl),
                      int(sum(q4)), int(fit_loss))


@dataclass(frozen=True)
class Flag:
    """One warning as the device computes it: code, first word (or None), word span in frames."""

    code: str
    word: int | None = None
    last: int | None = None   #: last word of a squeezed run


def checks(model: FixedModel, x_q16: np.ndarray, q4: list[int], z_unspoken: list[int], tokens: list[list[int]],
           word_spans: np.ndarray, stats: FixedStats, n_chars: int, edge_free: bool = True,
           z_mismatch: int | None = None) -> list[Flag]:
    """The warnings, in the order the device emits them (the codes of :mod:`.checks`)."""
    th = model.thresholds
    spans = np.asarray(word_spans, dtype=np.int64)
    out: list[Flag] = []
    for i in range(len(tokens)):
        if z_unspoken[i] > th.unspoken_z_q32:
            out.append(Flag("unspoken_word", i))
        dur = int(spans[i, 1] - spans[i, 0])
        if dur >= th.stretched_min_frames and (dur * FRAME_MS > th.stretched_ms_per_char * len(tokens[i])
                                               or q4[i] < th.stretched_q4):
            out.append(Flag("stretched_word", i))
    floor = np.asarray(x_q16)[:, FEATURES.index("at_floor")] > 0
    i = 0
    while i < len(floor):
        j = i
        while j < len(floor) and floor[j]:
            j += 1
        if j - i >= th.squeezed_run:
            out.append(Flag("squeezed_words", i, j - 1))
        i = j + 1 if j == i else j
    if (stats.placed_speech * 1000 < th.speech_fraction_milli * stats.placed_frames or stats.placed_frames == 0
            or stats.level_var < th.level_var_low):
        out.append(Flag("no_speech"))
    sf = max(stats.speech_frames, 1)
    if n_chars * 10000 > th.cps_high_c * sf:
        out.append(Flag("text_too_long"))
    elif n_chars * 10000 < th.cps_low_c * sf:
        out.append(Flag("text_too_short"))
    if stats.q4_sum < th.score_low_milli * 10 * len(q4):
        out.append(Flag("low_score"))
    if z_mismatch is None:
        z_mismatch = model.mismatch.z([stats.utterance_q16(len(q4))])[0]
    if z_mismatch > th.mismatch_z_q32:
        out.append(Flag("unlikely_transcript"))
    if not edge_free:
        out.append(Flag("band_edge"))
    return out


@dataclass
class FixedResult:
    features: np.ndarray      #: [n, len(FEATURES)] int64 Q16
    q4: list[int]             #: calibrated confidences in 1e-4
    z_unspoken: list[int]     #: the unspoken detector's z (Q32)
    stats: FixedStats
    flags: list[Flag]
    utterance: list[int]      #: UTTERANCE_FEATURES in Q16
    z_mismatch: int           #: the mismatch detector's z (Q32)


def evaluate(model: FixedModel, scores: np.ndarray, frames: FixedFrames, tokens: list[list[int]],
             token_spans: np.ndarray, word_spans: np.ndarray, min_char_frames: int, edge_free: bool = True) -> FixedResult:
    """Everything the device computes for one utterance (``scores`` int8, columns as ``tokens`` index them)."""
    xq = features_q16(scores, tokens, token_spans, word_spans, frames, min_char_frames)
    q4 = [sigmoid_q4(z) for z in model.confidence.z(xq)]
    zu = model.unspoken.z(xq)
    st = utterance_stats_fixed(frames, word_spans, q4, fit_loss_steps(scores, frames.qmax, tokens, token_spans))
    xu = st.utterance_q16(len(tokens))
    zm = model.mismatch.z([xu])[0]
    n_chars = sum(len(t) for t in tokens)
    return FixedResult(xq, q4, zu, st, checks(model, xq, q4, zu, tokens, word_spans, st, n_chars, edge_free, zm), xu, zm)
