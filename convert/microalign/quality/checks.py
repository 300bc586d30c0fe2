"""Mismatch checks: does the transcript fit the audio, and where not?

:func:`assess` turns what the aligner computed (frame scores, decoded spans, log-mel
features) into calibrated word confidences, an utterance score and a list of
:class:`QualityWarning`. Codes (the README's "Confidence and warnings" section says the same):

===================  ====  =================================================================
code                 word  meaning
===================  ====  =================================================================
``unspoken_word``    yes   the word is probably not in the audio (fitted detector, see below)
``stretched_word``   yes   the word lasts far longer than any word is spoken, or is long (>= 1 s)
                           and improbable (confidence < 0.2): it absorbed audio that the
                           transcript does not explain
``squeezed_words``   yes   several consecutive words got only the minimum duration (audio
                           missing for them); the warning names the first of the run
``no_speech``        no    where the words were placed the model hears no speech, or the audio
                           is a steady noise without the level changes of speech
``text_too_long``    no    more characters per second of speech than anyone speaks
``text_too_short``   no    far fewer characters than the speech in the audio needs
``low_score``        no    the utterance score is so low that the transcript probably is not
                           what was said
``unlikely_transcript`` no the model's own best reading explains the speech far better than the
                           transcript does, given the score (fitted detector, see below)
``band_edge``        no    the decoder's path touched the edge of its widest band, so the
                           alignment is not proven optimal (added by :func:`microalign.align.align_pcm`)
===================  ====  =================================================================

Everything here is computed as the device computes it (:mod:`.fixed`: integer and fixed-point
features, logistic models and thresholds, the firmware's ``ma_quality.c`` being its C twin), so the
confidences and warnings of ``microalign align`` and of the firmware are the same numbers.

The unspoken-word detector is a logistic regression on the same word features as the
confidence, fitted on words inserted into correct transcripts (positives) against the
correct words. It reads two word-level log-likelihood ratios over the word's window (the previous
word's last characters to the next word's first ones), both ratios of the model's own scores, so
they do not depend on one model's absolute level: ``skip_gain``, how much better the best path
without the word explains the window than the decoded path does, and ``context_loss``, how much
worse the decoded path explains the window than each frame's best token, per frame. A correct word
said short (a reduced "the", "for") can look better skipped, but it leaves its neighbours' fit
alone; an unspoken word is forced onto frames the model hears as something else *and* pushes its
neighbours' adjoining characters off their sounds, so the loss of the whole window rises. Its
threshold (``eval/calibrate_confidence.py``) is the highest probability the most suspicious word of
any correct calibration utterance reaches; inserted and correct words still overlap (an inserted
"the" can hide in a vowel).

The transcript-level detector (``unlikely_transcript``) is a logistic regression on two utterance
numbers (:data:`~.features.UTTERANCE_FEATURES`), fitted on the calibration utterances with another
utterance's transcript or a partial transcript (positives) against the correct ones: ``fit_loss``,
the log-likelihood ratio of the model's unconstrained best reading (each frame's best token) against
the decoded path, per frame the model hears as speech (near 1 nat for a correct transcript: characters
held for their minimum duration, silent letters; 2-10 for another sentence; a ratio of the model's own
scores, so it does not depend on one model's absolute level), and the utterance score. Its threshold is
the highest probability any correct calibration utterance reaches.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..frontend import FRAME_SECONDS
from . import fixed
from .confidence import Calibration, load_calibration
from .features import UtteranceFrames, log_probs_of

CODES = ("unspoken_word", "stretched_word", "squeezed_words", "no_speech", "text_too_long", "text_too_short",
         "low_score", "unlikely_transcript", "band_edge")


@dataclass(frozen=True)
class QualityWarning:
    code: str                    #: one of :data:`CODES`
    message: str
    word: int | None = None      #: index into the aligned words (``None``: the whole utterance)
    start: float | None = None   #: seconds
    end: float | None = None

    def to_dict(self) -> dict:
        d: dict = {"code": self.code}
        if self.word is not None:
            d["word"] = self.word
        if self.start is not None:
            d["start"] = round(self.start, 3)
            d["end"] = round(float(self.end), 3)
        d["message"] = self.message
        return d

    def line(self) -> str:
        """One line for stderr."""
        where = f" at {self.start:.2f}-{self.end:.2f} s" if self.start is not None else ""
        return f"warning: {self.code}{where}: {self.message}"


@dataclass
class Assessment:
    confidence: np.ndarray              #: [n] calibrated word confidence (see :mod:`.confidence`)
    unspoken: np.ndarray                #: [n] probability that each word is not in the audio
    score: float                        #: mean confidence: expected share of words within 50 ms
    warnings: list[QualityWarning]
    features: np.ndarray                #: [n, len(FEATURES)]
    stats: dict = field(default_factory=dict)   #: utterance-level numbers the checks used
    #: what the device keeps of the utterance (:class:`FixedInputs`): enough to recompute every feature
    inputs: "FixedInputs | None" = field(default=None, repr=False)


@dataclass(frozen=True)
class FixedInputs:
    """The inputs of :func:`.fixed.evaluate` for one utterance: int8 scores ``[T, V]``, each frame's sum of
    its log-mel features, the words' token ids, the decoded spans and the decoder's character floor
    (``eval/calibrate_confidence.py`` caches these, so that a refit with changed features needs no realignment)."""

    scores: np.ndarray
    level: np.ndarray
    tokens: list
    token_spans: np.ndarray
    word_spans: np.ndarray
    min_char_frames: int

    def features_q16(self) -> np.ndarray:
        """``[n_words, len(FEATURES)]`` Q16 word features (:func:`.fixed.features_q16`)."""
        q = self.scores
        frames = fixed.FixedFrames.from_parts(q[:, 0], q.max(axis=1), self.level)
        return fixed.features_q16(q, self.tokens, self.token_spans, self.word_spans, frames, self.min_char_frames)


def utterance_stats(frames: UtteranceFrames, word_spans: np.ndarray, n_chars: int) -> dict:
    """Utterance-level numbers of the checks in floats (for reports): seconds of speech (model),
    characters per speech second, share of the words' frames heard as speech, spread (std, dB) of
    the level over those frames. :func:`assess` uses their integer twins (:mod:`.fixed`)."""
    placed = np.zeros(len(frames.speech), dtype=bool)
    for a, b in np.asarray(word_spans):
        placed[int(a):int(b)] = True
    speech_s = float(frames.speech.sum()) * FRAME_SECONDS
    lvl = frames.level_db[placed] if placed.any() else frames.level_db
    return {"speech_seconds": speech_s,
            "chars_per_speech_second": n_chars / max(speech_s, FRAME_SECONDS),
            "speech_fraction": float(frames.speech[placed].mean()) if placed.any() else 0.0,
            "level_spread_db": float(lvl.std())}


def int8_scores(values: np.ndarray, scale: float | None = None, zero_point: int | None = None) -> np.ndarray:
    """The int8 scores the quality model reads (:mod:`.fixed`): int8 scores with the fixed log-softmax
    quantisation as they are, any other scores (float log-probabilities, other quantisations)
    quantised to it."""
    v = np.asarray(values)
    if v.dtype == np.int8 and scale == fixed.SCORE_SCALE and zero_point == fixed.SCORE_ZERO_POINT:
        return v
    return fixed.quantize_log_probs(log_probs_of(v, scale, zero_point))


def assess(values: np.ndarray, tokens: list[list[int]], token_spans: np.ndarray, word_spans: np.ndarray,
           feats: np.ndarray, min_char_frames: int, words: list[str] | None = None, *,
           scale: float | None = None, zero_point: int | None = None,
           calibration: Calibration | None = None) -> Assessment:
    """Confidence, score and warnings of one decoded utterance, computed as the device computes them
    (integers and fixed point, :mod:`.fixed`; the firmware's ``ma_quality.c`` is the C twin).

    Args:
        values: frame scores ``[T, V]`` (float log-probs, or int8 with ``scale``/``zero_point``).
        tokens: token ids per word; ``token_spans`` ``[C, 2]`` / ``word_spans`` ``[n, 2]``: decoded frames.
        feats: the int8 log-mel features ``[T, N_MELS]`` the scores came from.
        min_char_frames: the decoder's minimum frames per character for this utterance.
        words: the aligned words (for the messages).
    """
    cal = calibration or load_calibration()
    model = fixed.FixedModel.of(cal)
    q = int8_scores(values, scale, zero_point)
    frames = fixed.FixedFrames.of(q, feats)
    r = fixed.evaluate(model, q, frames, tokens, token_spans, word_spans, min_char_frames)
    xq, q4, zu, fs = r.features, r.q4, r.z_unspoken, r.stats
    conf = np.asarray(q4, dtype=np.float64) / 10000.0
    unsp = np.array([1.0 / (1.0 + np.exp(-np.clip(z / 2.0 ** 32, -50, 50))) for z in zu])
    words = list(words) if words is not None else [f"#{i}" for i in range(len(tokens))]
    n_chars = sum(len(t) for t in tokens)
    stats = fs.as_dict(len(tokens))
    stats["chars_per_speech_second"] = n_chars / max(stats["speech_seconds"], FRAME_SECONDS)
    score = stats["score"]
    stats["mismatch_probability"] = float(1.0 / (1.0 + np.exp(-np.clip(r.z_mismatch / 2.0 ** 32, -50, 50))))
    sec = np.asarray(word_spans) * FRAME_SECONDS
    th = cal.thresholds
    out: list[QualityWarning] = []
    for f in r.flags:
        i = f.word
        if f.code == "unspoken_word":
            msg = f"word {i} {words[i]!r} looks unspoken (probability {unsp[i]:.3f}, confidence {conf[i]:.2f})"
        elif f.code == "stretched_word":
            dur = float(sec[i, 1] - sec[i, 0])
            msg = (f"word {i} {words[i]!r} lasts {dur:.2f} s ({dur / len(tokens[i]):.2f} s per character, "
                   f"confidence {conf[i]:.2f}): audio the transcript does not explain?")
        elif f.code == "squeezed_words":
            j = f.last + 1
            msg = (f"words {i}-{j - 1} ({' '.join(words[i:j][:6])}{' ...' if j - i > 6 else ''}) "
                   "all got the minimum duration: audio missing for them?")
            out.append(QualityWarning(f.code, msg, i, float(sec[i, 0]), float(sec[j - 1, 1])))
            continue
        elif f.code == "no_speech":
            msg = (f"no speech where the words were placed: the model hears speech in "
                   f"{100 * stats['speech_fraction']:.0f} % of their frames, the level varies by "
                   f"{stats['level_spread_db']:.1f} dB")
        elif f.code in ("text_too_long", "text_too_short"):
            cps = stats["chars_per_speech_second"]
            msg = (f"{n_chars} characters for {stats['speech_seconds']:.2f} s of speech "
                   + (f"({cps:.0f} per second; speech rarely exceeds {th.chars_per_second_high:.0f}): transcript "
                      "too long or audio truncated?" if f.code == "text_too_long" else
                      f"({cps:.1f} per second; speech rarely goes below {th.chars_per_second_low:.0f}): "
                      "transcript incomplete?"))
        elif f.code == "low_score":
            msg = (f"utterance score {score:.2f} (expected share of words within 50 ms): "
                   "the transcript may not match the audio")
        elif f.code == "unlikely_transcript":
            msg = (f"the model's own best reading explains the speech {stats['fit_loss']:.2f} nats per speech frame "
                   f"better than the transcript (utterance score {score:.2f}; mismatch probability "
                   f"{stats['mismatch_probability']:.3f}): the transcript is probably not what was said")
        else:   # pragma: no cover - checks() emits only the codes above (band_edge comes from align.py)
            raise AssertionError(f.code)
        if i is None:
            out.append(QualityWarning(f.code, msg))
        else:
            out.append(QualityWarning(f.code, msg, i, float(sec[i, 0]), float(sec[i, 1])))
    inputs = FixedInputs(q, frames.level, [list(t) for t in tokens], np.asarray(token_spans), np.asarray(word_spans),
                         int(min_char_frames))
    return Assessment(conf, unsp, score, out, xq.astype(np.float64) / fixed.ONE, stats, inputs)
