"""The shipped int8 flatbuffer: converted from the shipped checkpoint, and pure int8."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

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


# Aligning the sample like float: tests/test_runtime.py::test_sample_aligns_like_torch[tflm] (every backend).
