"""Reading audio: any format libsndfile reads, converted to 16 kHz mono int16 PCM."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .frontend import SAMPLE_RATE, float_to_pcm16


class AudioError(ValueError):
    """Audio that cannot be used (missing, unreadable, empty, silent)."""


def load_audio(path: str | Path, *, quiet: bool = False, content: bytes | None = None) -> np.ndarray:
    """16 kHz mono int16 PCM of an audio file.

    Other sample rates are resampled (soxr "HQ", as librosa does) and several
    channels are averaged; both say so on stderr unless ``quiet``.
    ``content``: the file's bytes, already read (a corpus job ships them to
    its workers); ``path`` then only names the file in messages.
    """
    import soundfile as sf

    path = Path(path)
    if content is None:
        if not path.exists():
            raise AudioError(f"audio file not found: {path}")
        if not path.is_file():
            raise AudioError(f"not a file: {path}")
    try:
        if content is not None:
            import io

            buf = io.BytesIO(content)
            data, sr = sf.read(buf, dtype="float32", always_2d=True)
        else:
            data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile's messages vary by format
        why = str(e).strip().replace(repr(buf), repr(str(path))) if content is not None else str(e).strip()
        raise AudioError(f"cannot read audio {path}: unsupported or corrupt file ({why[:120]})") from None
    if data.shape[0] == 0:
        raise AudioError(f"audio file has no samples: {path}")
    if data.shape[1] > 1:
        if not quiet:
            print(f"note: {path.name}: {data.shape[1]} channels mixed down to mono", file=sys.stderr)
        data = data.mean(axis=1, keepdims=True)
    audio = data[:, 0]
    if sr != SAMPLE_RATE:
        if not quiet:
            print(f"note: {path.name}: resampled from {sr} Hz to {SAMPLE_RATE} Hz", file=sys.stderr)
        audio = resample(audio, sr)
    return float_to_pcm16(audio)


def resample(audio: np.ndarray, sr: int) -> np.ndarray:
    """``audio`` at ``sr`` Hz -> SAMPLE_RATE: soxr "HQ", length ``ceil(n * SAMPLE_RATE / sr)`` (what
    ``librosa.resample(res_type="soxr_hq")`` computes, without importing librosa)."""
    import soxr

    y = soxr.resample(np.asarray(audio, dtype=np.float32), sr, SAMPLE_RATE, quality="HQ")
    n = int(np.ceil(len(audio) * SAMPLE_RATE / sr))
    return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))
