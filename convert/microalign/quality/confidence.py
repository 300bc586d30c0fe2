"""Calibrated word confidence and the other fitted parameters of the quality checks.

**Confidence** of a word = the probability that *both* of its boundaries are within
:data:`TOLERANCE_SECONDS` (50 ms) of where a careful annotator would put them. It is a
logistic regression on the word's :data:`~.features.FEATURES` (all but the unspoken-word detector's
own ``context_loss`` and ``chars``, which weigh 0 in it), fitted by
``eval/calibrate_confidence.py`` on synthetic speech with exact timings (held-out voices) and
on real speech labelled by the pocketsphinx teacher — never on the TIMIT dev set, which
measures it. Over many words, those given confidence 0.8 have both boundaries within
50 ms about 80 % of the time (the script prints the reliability table).

The **utterance score** is the mean confidence of its words: the expected share of words
whose both boundaries are within 50 ms.

The **mismatch detector** is a logistic regression on two utterance numbers
(:data:`~.features.UTTERANCE_FEATURES`: how much better the model's own best reading explains the
speech than the transcript does, per speech frame, and the score), fitted on the same calibration
utterances (correct: negatives; another utterance's transcript and partial transcripts: positives).

The parameters live in ``microalign/assets/quality_calibration.json`` (a few hundred bytes of
numbers, rewritten by the script); :func:`load_calibration` reads them once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .features import FEATURES, UTTERANCE_FEATURES, QualityError

TOLERANCE_SECONDS = 0.05
CALIBRATION_FILE = Path(__file__).resolve().parent.parent / "assets" / "quality_calibration.json"
FORMAT_VERSION = 2


@dataclass(frozen=True)
class Logistic:
    """``p = sigmoid(bias + weights . (x - mean) / std)`` over the named features."""

    features: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: float

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.features):
            raise QualityError(f"expected features [n, {len(self.features)}], got shape {x.shape}")
        z = self.bias + ((x - self.mean) / self.std) @ self.weights
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, features: tuple[str, ...] = FEATURES, l2: float = 1e-2,
            iters: int = 50, balanced: bool = False) -> "Logistic":
        """Maximum likelihood with a small L2 penalty (Newton / IRLS) on standardised features;
        ``balanced`` weighs both classes equally (for rare positives, e.g. inserted words)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
            raise QualityError(f"need features [n, F] and n labels, got {x.shape} and {y.shape}")
        if not (0 < y.mean() < 1):
            raise QualityError(f"labels must contain both classes (mean {y.mean():.3f})")
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        std[std < 1e-9] = 1.0
        z = np.hstack([np.ones((len(x), 1)), (x - mean) / std])
        sw = np.where(y > 0.5, 0.5 / y.mean(), 0.5 / (1 - y.mean())) if balanced else np.ones(len(y))
        w = np.zeros(z.shape[1])
        reg = np.full(z.shape[1], l2 * len(x))
        reg[0] = 0.0
        for _ in range(iters):
            p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
            grad = z.T @ (sw * (p - y)) + reg * w
            hess = (z * (sw * p * (1 - p))[:, None]).T @ z + np.diag(reg) + 1e-9 * np.eye(len(w))
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.abs(step).max() < 1e-10:
                break
        return cls(tuple(features), mean, std, w[1:], float(w[0]))

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": [round(float(v), 6) for v in self.mean],
                "std": [round(float(v), 6) for v in self.std],
                "weights": [round(float(v), 6) for v in self.weights], "bias": round(self.bias, 6)}

    @classmethod
    def from_json(cls, d: dict) -> "Logistic":
        try:
            feats = tuple(d["features"])
            arrs = [np.asarray(d[k], dtype=np.float64) for k in ("mean", "std", "weights")]
            bias = float(d["bias"])
        except (KeyError, TypeError, ValueError) as e:
            raise QualityError(f"bad logistic model in the calibration file: {e}") from None
        if any(a.shape != (len(feats),) for a in arrs) or (arrs[1] <= 0).any():
            raise QualityError(f"logistic model arrays do not match its {len(feats)} features")
        return cls(feats, arrs[0], arrs[1], arrs[2], bias)


@dataclass(frozen=True)
class Thresholds:
    """Limits of the mismatch checks (:mod:`.checks`); chosen by ``eval/calibrate_confidence.py``."""

    unspoken_probability: float = 0.5       #: a word is flagged unspoken above this probability
    stretched_seconds_per_char: float = 0.3  #: a word is flagged stretched above this ...
    stretched_min_seconds: float = 1.0      #: ... and when it is at least this long
    stretched_confidence: float = 0.2       #: a word this long is also flagged below this confidence
    squeezed_run: int = 3                   #: this many consecutive words at the minimum duration
    chars_per_second_low: float = 5.0       #: characters per second of speech below this: text too short
    chars_per_second_high: float = 30.0     #: ... above this: text too long for the audio
    speech_fraction_low: float = 0.3        #: share of the words' frames the model hears as speech
    level_spread_db_low: float = 2.0        #: spread (std) of the level over the words' frames (steady noise)
    score_low: float = 0.3                  #: utterance score below this: the transcript may not match
    mismatch_probability: float = 0.5       #: the mismatch detector flags the transcript above this

    @classmethod
    def from_json(cls, d: dict) -> "Thresholds":
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise QualityError(f"unknown thresholds in the calibration file: {sorted(unknown)}")
        return cls(**{k: (int(v) if k == "squeezed_run" else float(v)) for k, v in d.items()})


@dataclass(frozen=True)
class Calibration:
    confidence: Logistic
    unspoken: Logistic
    thresholds: Thresholds
    mismatch: Logistic          #: over UTTERANCE_FEATURES
    info: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"version": FORMAT_VERSION, "confidence": self.confidence.to_json(),
                "unspoken": self.unspoken.to_json(), "mismatch": self.mismatch.to_json(),
                "thresholds": dict(self.thresholds.__dict__), "info": self.info}

    @classmethod
    def from_json(cls, d: dict) -> "Calibration":
        if d.get("version") != FORMAT_VERSION:
            raise QualityError(f"calibration file version {d.get('version')!r}, expected {FORMAT_VERSION}")
        try:
            conf, unsp, mism = (Logistic.from_json(d[k]) for k in ("confidence", "unspoken", "mismatch"))
        except KeyError as e:
            raise QualityError(f"calibration file has no {e.args[0]!r} model") from None
        for m, known in ((conf, FEATURES), (unsp, FEATURES), (mism, UTTERANCE_FEATURES)):
            missing = set(m.features) - set(known)
            if missing:
                raise QualityError(f"calibration file uses unknown features {sorted(missing)}")
        return cls(conf, unsp, Thresholds.from_json(d.get("thresholds", {})), mism, dict(d.get("info", {})))

    def save(self, path: str | Path = CALIBRATION_FILE) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")


def select(x: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Columns ``names`` of a full feature matrix (columns in :data:`FEATURES` order)."""
    return np.asarray(x)[:, [FEATURES.index(n) for n in names]]


@lru_cache(maxsize=4)
def load_calibration(path: str | None = None) -> Calibration:
    p = Path(path) if path else CALIBRATION_FILE
    if not p.is_file():
        raise FileNotFoundError(f"quality calibration file not found: {p} (write it with eval/calibrate_confidence.py)")
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise QualityError(f"{p} is not valid JSON: {e}") from None
    return Calibration.from_json(d)
