"""Output error of one backend against a reference, in the style of X-CUBE-AI's ``validate``.

For reference ``r`` and prediction ``p`` (flattened):

- ``rmse`` = sqrt(mean((p - r)²)), ``mae`` = mean(|p - r|), ``max_abs`` = max |p - r|
- ``l2r`` = ||p - r||₂ / ||r||₂ (relative L2 error)
- ``cosine`` = <p, r> / (||p|| ||r||)
- ``argmax`` = share of frames whose best token agrees (the frame decision the aligner builds on)

Log-probabilities are clipped below at ``clip_min`` before comparison when
given: the int8 LOG_SOFTMAX output saturates at its most negative code
(about -16), so differences beneath it are no information about the model.
"""
from __future__ import annotations

import numpy as np

INT8_LOGPROB_FLOOR = -15.9375   # (-128 - 127) * 16/256: the most negative int8 LOG_SOFTMAX output


def output_errors(ref: np.ndarray, pred: np.ndarray, clip_min: float | None = INT8_LOGPROB_FLOOR) -> dict[str, float]:
    """Errors of ``pred`` against ``ref``, both float ``[frames, tokens]`` (see the module doc)."""
    r = np.asarray(ref, dtype=np.float64)
    p = np.asarray(pred, dtype=np.float64)
    if r.shape != p.shape:
        raise ValueError(f"shape mismatch: reference {r.shape}, prediction {p.shape}")
    if r.size == 0:
        raise ValueError("nothing to compare (empty arrays)")
    agree = float(np.mean(r.argmax(-1) == p.argmax(-1))) if r.ndim >= 2 else float("nan")
    if clip_min is not None:
        r, p = np.maximum(r, clip_min), np.maximum(p, clip_min)
    d = (p - r).ravel()
    nr, np_ = np.linalg.norm(r), np.linalg.norm(p)
    return {"rmse": float(np.sqrt(np.mean(d * d))), "mae": float(np.mean(np.abs(d))),
            "max_abs": float(np.max(np.abs(d))),
            "l2r": float(np.linalg.norm(d) / nr) if nr > 0 else float("nan"),
            "cosine": float(np.dot(p.ravel(), r.ravel()) / (nr * np_)) if nr > 0 and np_ > 0 else float("nan"),
            "argmax": agree}


def int8_lsb_diff(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """How far two int8 outputs of the same model are apart, in LSB."""
    d = np.abs(np.asarray(a, np.int32) - np.asarray(b, np.int32))
    return {"max_lsb": int(d.max()), "mean_lsb": float(d.mean()), "equal": float(np.mean(d == 0))}
