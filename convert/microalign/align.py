"""The aligner: audio + transcript -> word and character timestamps.

Data flow (one module per stage)::

    audio.load_audio         wav/flac/... -> 16 kHz int16 PCM
    frontend.features        PCM -> int8 log-mel frames (10 ms)
    align.frame_scores       fixed windows of the model, overlapped and stitched
    text.normalize/tokens    transcript -> spoken words -> token ids
    decode.viterbi(_int)     frame scores + token ids -> token and word spans
    formats                  spans -> JSON / TextGrid / SRT / VTT / CSV

Long audio is cut into windows of the model's fixed length overlapping by
``2 * margin`` frames; each frame's scores come from the window in which it
lies farthest from an edge.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from .audio import AudioError, load_audio
from .frontend import FRAME_SECONDS, HOP, SAMPLE_RATE, features_from_pcm, model_input
from .text import TextError, normalize
from .text.tokens import TOKENS, encode_word

SILENT_PEAK = 16            # int16 peak below which audio counts as silence (about -66 dBFS)
MARGIN = 50                 # frames of context dropped at each inner window edge


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


@dataclass
class Alignment:
    audio: str
    duration: float
    words: list[WordTiming]

    def to_dict(self) -> dict:
        return {"audio": self.audio, "duration": round(self.duration, 4),
                "words": [{"word": w.word, "source": w.source, "start": round(w.start, 3),
                           "end": round(w.end, 3), "confidence": round(w.confidence, 4),
                           "chars": [{"char": c.char, "start": round(c.start, 3), "end": round(c.end, 3)}
                                     for c in w.chars]} for w in self.words]}


@dataclass
class FrameScores:
    """Model output for a whole utterance: float log-probs, or int8 scores with their quantisation."""

    values: np.ndarray                  # [T, V] float32 or int8
    scale: float | None = None          # int8 only
    zero_point: int | None = None

    @property
    def is_int8(self) -> bool:
        return self.values.dtype == np.int8


class WindowScorer(Protocol):
    """Runs the model on one window of int8 features [W, N_MELS]."""

    window: int

    def __call__(self, feats: np.ndarray) -> FrameScores: ...


class TorchScorer:
    """The float PyTorch student."""

    def __init__(self, checkpoint: str | Path | None = None, threads: int | None = None) -> None:
        import torch

        from .model import load_checkpoint

        if threads:
            torch.set_num_threads(threads)
        self.model, self.meta = load_checkpoint(checkpoint)
        self.window = self.model.cfg.window

    def __call__(self, feats: np.ndarray) -> FrameScores:
        import torch

        with torch.no_grad():
            y = self.model(torch.from_numpy(model_input(feats))[None])[0]
        return FrameScores(y.numpy().astype(np.float32))


def window_starts(n_frames: int, window: int, margin: int = MARGIN) -> list[int]:
    if n_frames <= window:
        return [0]
    hop = window - 2 * margin
    starts = list(range(0, n_frames - window, hop)) + [n_frames - window]
    return sorted(set(starts))


def frame_scores(feats: np.ndarray, scorer: WindowScorer, margin: int = MARGIN) -> FrameScores:
    """Scores for every frame of an utterance from fixed-length model windows."""
    n, w = len(feats), scorer.window
    starts = window_starts(n, w, margin)
    out: FrameScores | None = None
    centres = np.array([s + w / 2 for s in starts])
    owner = np.argmin(np.abs(np.arange(n)[:, None] + 0.5 - centres[None, :]), axis=1)
    for k, s in enumerate(starts):
        win = np.full((w, feats.shape[1]), -128, dtype=np.int8)
        seg = feats[s:s + w]
        win[:len(seg)] = seg
        sc = scorer(win)
        if out is None:
            out = FrameScores(np.empty((n, sc.values.shape[1]), sc.values.dtype), sc.scale, sc.zero_point)
        idx = np.nonzero(owner == k)[0]
        out.values[idx] = sc.values[idx - s]
    assert out is not None
    return out


def _sec(frame) -> float:
    """Frame index -> seconds (correctly rounded: 140 -> 1.4)."""
    return int(frame) * HOP / SAMPLE_RATE


@dataclass
class Decoded:
    token_spans: np.ndarray   # [C, 2] frames
    word_spans: np.ndarray    # [n, 2] frames
    confidence: np.ndarray    # [n] in (0, 1]


def decode_scores(scores: FrameScores, tokens: list[list[int]], min_char_frames: int | None = None) -> Decoded:
    """Forced alignment of token ids to frame scores: the float Viterbi for float scores,
    the integer-exact decoder (the reference of the C kernel) for int8 scores.

    ``min_char_frames`` (default :data:`microalign.decode.MIN_CHAR_FRAMES`) is relaxed when
    the audio is too short for it."""
    from .decode import DECODE_BUDGET_BYTES, MIN_CHAR_FRAMES, band_for_budget, viterbi_align, viterbi_align_int
    from .decode import DecodeError

    n_frames, n_chars = len(scores.values), sum(len(t) for t in tokens)
    k = max(1, min(MIN_CHAR_FRAMES if min_char_frames is None else min_char_frames, n_frames // max(n_chars, 1)))
    if scores.is_int8:
        # the widest band whose back-pointers fit the device's decode budget (exact for
        # utterances up to about 20 s); beyond what even a 16-state band fits, the default band
        try:
            band = band_for_budget(n_frames, k * n_chars, len(tokens), DECODE_BUDGET_BYTES)
        except DecodeError:
            band = 0
        r = viterbi_align_int(scores.values, tokens, min_char_frames=k, band=band)
        return Decoded(r.token_spans, r.word_spans, r.word_confidence(scores.scale))
    r = viterbi_align(scores.values, tokens, min_char_frames=k)
    return Decoded(r.token_spans, r.word_spans, r.word_confidence)


def align_pcm(pcm: np.ndarray, transcript: str, scorer: WindowScorer, audio_name: str = "") -> Alignment:
    """Align int16 16 kHz PCM with its transcript."""
    words = normalize(transcript)
    tokens = [encode_word(w.text) for w in words]
    duration = len(pcm) / 16000.0
    if len(pcm) == 0:
        raise AudioError("audio is empty")
    if int(np.abs(pcm.astype(np.int32)).max()) < SILENT_PEAK:
        raise AudioError(f"audio is silent (peak {int(np.abs(pcm.astype(np.int32)).max())} of 32767): nothing to align")
    feats = features_from_pcm(pcm)
    n_chars = sum(len(t) for t in tokens)
    if n_chars > len(feats):
        raise AlignmentError(
            f"transcript too long for the audio: {n_chars} characters need at least {n_chars * FRAME_SECONDS:.2f} s"
            f" (one 10 ms frame each), the audio lasts {duration:.2f} s")
    scores = frame_scores(feats, scorer)
    res = decode_scores(scores, tokens)
    char_spans = np.split(res.token_spans, np.cumsum([len(t) for t in tokens])[:-1])
    out = []
    cap = float(np.floor(duration * 1000.0) / 1000.0)   # last frame may run past the end of the audio
    for i, w in enumerate(words):
        a, b = res.word_spans[i]
        chars = [CharTiming(TOKENS[tok], _sec(s), min(_sec(e), cap))
                 for tok, (s, e) in zip(tokens[i], char_spans[i])]
        out.append(WordTiming(w.text, w.source, _sec(a), min(_sec(b), cap),
                              float(res.confidence[i]), chars))
    return Alignment(audio_name, duration, out)


def align_file(audio: str | Path, transcript: str, scorer: WindowScorer) -> Alignment:
    pcm = load_audio(audio)
    return align_pcm(pcm, transcript, scorer, audio_name=str(audio))
