"""Reading audio: any format libsndfile reads, converted to 16 kHz mono int16 PCM."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .frontend import SAMPLE_RATE, float_to_pcm16


class AudioError(ValueError):
    """Audio that cannot be used (missing, unreadable, empty, silent)."""


def load_audio(path: str | Path, *, quiet: bool = False) -> np.ndarray:
    """16 kHz mono int16 PCM of an audio file.

    Other sample rates are resampled (soxr, through librosa) and several
    channels are averaged; both say so on stderr unless ``quiet``.
    """
    import soundfile as sf

    path = Path(path)
    if not path.exists():
        raise AudioError(f"audio file not found: {path}")
    if not path.is_file():
        raise AudioError(f"not a file: {path}")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile's messages vary by format
        raise AudioError(f"cannot read audio {path}: unsupported or corrupt file ({str(e).strip()[:120]})") from None
    if data.shape[0] == 0:
        raise AudioError(f"audio file has no samples: {path}")
    if data.shape[1] > 1:
        if not quiet:
            print(f"note: {path.name}: {data.shape[1]} channels mixed down to mono", file=sys.stderr)
        data = data.mean(axis=1, keepdims=True)
    audio = data[:, 0]
    if sr != SAMPLE_RATE:
        import librosa

        if not quiet:
            print(f"note: {path.name}: resampled from {sr} Hz to {SAMPLE_RATE} Hz", file=sys.stderr)
        audio = librosa.resample(audio, orig_sr=sr, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    return float_to_pcm16(audio)
