"""The shipped model's output for the bundled sample, byte for byte, per backend.

``tests/golden/sample_<backend>.json`` is what ``microalign align sample.wav
--text-file sample.txt --backend <backend>`` printed when the file was made.
A change meant to move the outputs regenerates them with
``python tests/golden/regenerate.py`` (which prints the diff); any other
change must leave them identical.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from microalign.runtime import BACKENDS

GOLDEN = Path(__file__).resolve().parent / "golden"


def _regenerate():
    spec = importlib.util.spec_from_file_location("golden_regenerate", GOLDEN / "regenerate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


regen = _regenerate()


@pytest.mark.parametrize("name", sorted(regen.CASES))
def test_output_is_byte_identical_to_golden(name):
    path = GOLDEN / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `python tests/golden/regenerate.py`")
    reason = BACKENDS[regen.backend_of(name)].unavailable()
    if reason:
        pytest.skip(reason)
    want, got = path.read_text(encoding="utf-8"), regen.render(name)
    if got != want:
        pytest.fail(f"output differs from {path.name} (regenerate with `python tests/golden/regenerate.py` "
                    "only if the change is meant):\n" + "".join(regen.diff(name, want, got)[:80]))


def test_golden_files_are_the_sample():
    """The golden files themselves hold an alignment of the bundled sample (not an error or an empty run)."""
    text = (GOLDEN.parents[1] / "convert" / "microalign" / "assets" / "sample.txt").read_text().split()
    for name in regen.CASES:
        d = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
        assert d["audio"] == regen.SAMPLE_WAV and 8.0 < d["duration"] < 9.0, name
        assert [w["source"] for w in d["words"]][:3] == text[:3], name
        assert all(w["start"] < w["end"] for w in d["words"]), name


def test_a_changed_output_is_reported_with_a_diff():
    old = (GOLDEN / "sample_torch.json").read_text(encoding="utf-8")
    new = old.replace('"start": 0.0,', '"start": 0.01,', 1)
    lines = regen.diff("sample_torch.json", old, new)
    assert any(line.startswith('-      "start": 0.0,') for line in lines)
    assert any(line.startswith('+      "start": 0.01,') for line in lines)
