"""The aligner: audio + transcript -> word and character timestamps.

Data flow (one module per stage)::

    audio.load_audio         wav/flac/... -> 16 kHz int16 PCM
    frontend.features        PCM -> int8 log-mel frames (10 ms)
    runtime.frame_scores     fixed windows of the model (any backend), overlapped and stitched
    text.normalize/tokens    transcript -> spoken words -> token ids
    decode.viterbi(_int)     frame scores + token ids -> token and word spans (10 ms frames)
    decode.refine            word boundaries between frames (each junction's local posterior), ms
    formats                  spans -> JSON / TextGrid / SRT / VTT / CSV

Long audio is cut into windows of the model's fixed length overlapping by
``2 * margin`` frames; each frame's scores come from the window in which it
lies farthest from an edge (:mod:`microalign.runtime.windows`). The window
scorer is any :mod:`microalign.runtime` backend; its ``tokens`` table
encodes the transcript.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .audio import AudioError, load_audio
from .frontend import FRAME_SECONDS, HOP, features_from_pcm
from .runtime import MARGIN, FrameScores, WindowScorer, frame_scores, window_starts  # noqa: F401 (re-exported)
from .runtime import TorchBackend as TorchScorer  # noqa: F401  (the float PyTorch scorer, old name)
from .text import normalize
from .text.tokens import ENGLISH

SILENT_PEAK = 16            # int16 peak below which audio counts as silence (about -66 dBFS)


class AlignmentError(ValueError):
    """Inputs that cannot be aligned (the message names the problem)."""


@dataclass
class CharTiming:
    char: str
    start: float
    end: float


@dataclass
class WordTiming:
    word: str          # spoken, normalised form that was aligned
    source: str        # the transcript token it came from
    start: float
    end: float
    confidence: float
    chars: list[CharTiming] = field(default_factory=list)
    # the decoder's acoustic confidence exp(scale * mean score gap) (decode.viterbi_int), before
    # calibration (the `confidence` above is the calibrated one, microalign.quality)
    acoustic: float | None = None
    source_index: int = -1   # index of `source` among the transcript's whitespace-separated tokens (-1: unknown)


@dataclass
class Alignment:
    audio: str
    duration: float
    words: list[WordTiming]
    score: float | None = None      # utterance score: mean calibrated word confidence (microalign.quality)
    warnings: list = field(default_factory=list)   # microalign.quality.QualityWarning
    quality: object = field(default=None, repr=False, compare=False)  # the full microalign.quality.Assessment

    def to_dict(self) -> dict:
        d = {"audio": self.audio, "duration": round(self.duration, 4)}
        if self.score is not None:
            d["score"] = round(self.score, 4)
            d["warnings"] = [w.to_dict() for w in self.warnings]
        return d | {
                "words": [{"word": w.word, "source": w.source, "start": round(w.start, 3),
                           "end": round(w.end, 3), "confidence": round(w.confidence, 4),
                           "chars": [{"char": c.char, "start": round(c.start, 3), "end": round(c.end, 3)}
                                     for c in w.chars]} for w in self.words]}


@dataclass
class Decoded:
    token_spans: np.ndarray   # [C, 2] frames
    word_spans: np.ndarray    # [n, 2] frames
    confidence: np.ndarray    # [n] in (0, 1]
    edge_free: bool = True    # the decoder's path never touched its band's edge (microalign.decode._core)
    min_char_frames: int = 1  # the character duration floor the decoder used (see char_floor)
    word_ms: np.ndarray | None = None   # [n, 2] int milliseconds: the refined boundaries (decode.refine)


def char_floor(n_frames: int, n_chars: int, min_char_frames: int | None = None) -> int:
    """Frames per character the decoder asks for: ``min_char_frames`` (default
    :data:`microalign.decode.MIN_CHAR_FRAMES`), lowered when the audio is too short for it."""
    from .decode import MIN_CHAR_FRAMES

    k = MIN_CHAR_FRAMES if min_char_frames is None else min_char_frames
    return max(1, min(k, n_frames // max(n_chars, 1)))


def decode_scores(scores: FrameScores, tokens: list[list[int]], min_char_frames: int | None = None) -> Decoded:
    """Forced alignment of token ids to frame scores: the float decoder for float scores, the
    integer-exact one (the C kernel ``ma_decode_s8`` itself on the host, or its numpy reference)
    for int8 scores. Both run the bounded-memory banded decoder of :mod:`microalign.decode` on
    the transcript's score columns only (:func:`microalign.decode.compact`); the word boundaries
    are then refined between frames (:mod:`microalign.decode.refine`, ``ma_refine_s8`` for int8).

    ``min_char_frames`` (default :data:`microalign.decode.MIN_CHAR_FRAMES`) is relaxed when
    the audio is too short for it."""
    from .decode import compact, viterbi_align, viterbi_align_int
    from .decode.refine import refine_float, refine_int

    k = char_floor(len(scores.values), sum(len(t) for t in tokens), min_char_frames)
    cols, local, frame_max = compact(scores.values, tokens)
    if scores.is_int8:
        r = viterbi_align_int(cols, local, min_char_frames=k, frame_max=frame_max)
        f = refine_int(cols, local, r.token_spans, r.word_spans, k, frame_max)
        return Decoded(r.token_spans, r.word_spans, r.word_confidence(scores.scale), r.edge_free, k,
                       np.stack([f.start_ms, f.end_ms], axis=1))
    r = viterbi_align(cols, local, min_char_frames=k, frame_max=frame_max)
    f = refine_float(cols, local, r.token_spans, r.word_spans, k, frame_max)
    return Decoded(r.token_spans, r.word_spans, r.word_confidence, r.edge_free, k, np.stack([f.start_ms, f.end_ms], axis=1))


def align_pcm(pcm: np.ndarray, transcript: str, scorer: WindowScorer, audio_name: str = "", *,
              calibration=None) -> Alignment:
    """Align int16 16 kHz PCM with its transcript (encoded with the scorer's token table).

    The result carries calibrated word confidences, an utterance score and mismatch warnings
    (:func:`microalign.quality.assess`; ``calibration`` overrides the shipped parameters)."""
    from .decode import MAX_FRAMES
    from .quality import assess
    from .quality.progress import PROGRESS_MIN_SECONDS, ProgressScorer

    table = getattr(scorer, "tokens", None) or ENGLISH
    words = normalize(transcript, table)
    tokens = [table.encode_word(w.text) for w in words]
    duration = len(pcm) / 16000.0
    if len(pcm) == 0:
        raise AudioError("audio is empty")
    if int(np.abs(pcm.astype(np.int32)).max()) < SILENT_PEAK:
        raise AudioError(f"audio is silent (peak {int(np.abs(pcm.astype(np.int32)).max())} of 32767): nothing to align")
    if len(pcm) // HOP + 1 > MAX_FRAMES:   # checked before any work (features_from_pcm gives len // HOP + 1 frames)
        raise AlignmentError(f"audio lasts {duration:.1f} s; the decoder handles at most "
                             f"{(MAX_FRAMES - 1) * FRAME_SECONDS:.1f} s ({(MAX_FRAMES - 1) * FRAME_SECONDS / 60:.1f} min)")
    feats = features_from_pcm(pcm)
    n_chars = sum(len(t) for t in tokens)
    if n_chars > len(feats):
        raise AlignmentError(
            f"transcript too long for the audio: {n_chars} characters need at least {n_chars * FRAME_SECONDS:.2f} s"
            f" (one 10 ms frame each), the audio lasts {duration:.2f} s")
    if duration > PROGRESS_MIN_SECONDS:
        bar = ProgressScorer(scorer, len(window_starts(len(feats), scorer.window)), desc=f"scoring {duration:.0f} s")
        try:
            scores = frame_scores(feats, bar)
        finally:
            bar.close()
    else:
        scores = frame_scores(feats, scorer)
    res = decode_scores(scores, tokens)
    q = assess(scores.values, tokens, res.token_spans, res.word_spans, feats, res.min_char_frames, [w.text for w in words],
               scale=scores.scale, zero_point=scores.zero_point, calibration=calibration)
    if not res.edge_free:
        from .quality import QualityWarning

        q.warnings.append(QualityWarning("band_edge", "the decoder's path touched the edge of its widest band: "
                                         "the alignment may not be the best one"))
    char_spans = np.split(res.token_spans, np.cumsum([len(t) for t in tokens])[:-1])
    out = []
    cap = int(np.floor(duration * 1000.0))   # ms; the last frame may run past the end of the audio
    for i, w in enumerate(words):
        ms = edge_char_ms(char_spans[i], res.word_ms[i])
        chars = [CharTiming(table.symbol(tok), a / 1000.0, min(b, cap) / 1000.0) for tok, (a, b) in zip(tokens[i], ms)]
        out.append(WordTiming(w.text, w.source, int(res.word_ms[i][0]) / 1000.0, min(int(res.word_ms[i][1]), cap) / 1000.0,
                              float(q.confidence[i]), chars, float(res.confidence[i]), w.source_index))
    return Alignment(audio_name, duration, out, q.score, q.warnings, q)


def edge_char_ms(char_spans: np.ndarray, word_ms) -> list[tuple[int, int]]:
    """A word's characters in milliseconds: their decoded frames, except that the first one starts
    and the last one ends where the refined word does (when that leaves them a positive length;
    ``ma_aligner.c`` does the same)."""
    frame_ms = int(round(1000.0 * FRAME_SECONDS))
    ms = [[int(a) * frame_ms, int(b) * frame_ms] for a, b in char_spans]
    if int(word_ms[0]) < ms[0][1]:
        ms[0][0] = int(word_ms[0])
    if int(word_ms[1]) > ms[-1][0]:
        ms[-1][1] = int(word_ms[1])
    return [(a, b) for a, b in ms]


def align_file(audio: str | Path, transcript: str, scorer: WindowScorer) -> Alignment:
    pcm = load_audio(audio)
    return align_pcm(pcm, transcript, scorer, audio_name=str(audio))
