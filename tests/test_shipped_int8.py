"""The shipped int8 flatbuffer: converted from the shipped checkpoint, pure int8, and aligning like float in TFLM."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tflite_micro")

ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
INT8 = ASSETS / "student_int8.tflite"
REPORT = ASSETS / "student_int8_report.json"


def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_shipped_int8_comes_from_the_shipped_checkpoint():
    report = json.loads(REPORT.read_text())
    assert report["checkpoint_sha256"] == _sha256(ASSETS / "student.pt"), \
        "student_int8.tflite is stale: reconvert the shipped checkpoint (see assets/README.md)"
    assert report["artefacts"]["tflite_int8"]["sha256"] == _sha256(INT8)
    assert report["int8"]["int8_only"] is True


def test_shipped_int8_aligns_the_sample_like_float():
    from microalign.align import align_file
    from microalign.export import load_backend

    text = (ASSETS / "sample.txt").read_text().strip()
    f = align_file(ASSETS / "sample.wav", text, load_backend("torch"))
    q = align_file(ASSETS / "sample.wav", text, load_backend("tflm"))      # default: the shipped int8 file
    assert [w.word for w in f.words] == [w.word for w in q.words]
    shift = np.mean([abs(a.start - b.start) + abs(a.end - b.end) for a, b in zip(f.words, q.words)]) / 2
    assert shift < 0.02, f"int8 boundaries moved {shift * 1000:.1f} ms on average from float"
