"""The host side of the firmware's interface: `microalign normalize` (the transcript the firmware
takes), `--format jsonl` (what the firmware prints) and `microalign headers` writing
microalign_image.h last (it hashes the other generated headers)."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from microalign.align import Alignment, CharTiming, WordTiming
from microalign.cli import main as cli_main
from microalign.export import image as I
from microalign.formats import FORMATS, ms_line, render, to_jsonl, word_line

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "convert" / "microalign" / "assets"


def invoke(*args):
    return CliRunner().invoke(cli_main, [str(a) for a in args])


def test_normalize_prints_spoken_form():
    r = invoke("normalize", "--text", "In 1999, she paid $5 & left.")
    assert r.exit_code == 0, r.output
    assert r.stdout == "in nineteen ninety nine she paid five dollars and left\n"


def test_normalize_text_file_and_errors(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("Hello,  World!\n", encoding="utf-8")
    r = invoke("normalize", "--text-file", f)
    assert r.exit_code == 0 and r.stdout == "hello world\n", r.output
    r = invoke("normalize")
    assert r.exit_code == 2 and "exactly one of --text or --text-file" in r.output
    r = invoke("normalize", "--text", "--- ...")
    assert r.exit_code == 1 and "transcript is empty" in r.output
    r = invoke("normalize", "--text-file", tmp_path / "missing.txt")
    assert r.exit_code == 1 and "transcript file not found" in r.output


def _alignment(confidence=0.123456, warnings=()):
    w = WordTiming("caf\u00e9", "Caf\u00e9", 0.1, 0.35, confidence, [CharTiming("c", 0.1, 0.2), CharTiming("a", 0.2, 0.25),
                                                          CharTiming("f", 0.25, 0.3), CharTiming("\u00e9", 0.3, 0.35)],
                   0.5)
    return Alignment("x.wav", 1.0, [w, WordTiming("x", "x", 0.35, 1.0, 1.0, [CharTiming("x", 0.35, 1.0)], 1.0)],
                     0.5, list(warnings))


def test_jsonl_lines():
    assert "jsonl" in FORMATS
    text = render(_alignment(), "jsonl")
    assert text == to_jsonl(_alignment())
    lines = text.splitlines(keepends=True)
    assert len(lines) == 2 and all(ln.endswith("\n") for ln in lines)
    assert lines[0] == ('{"word": "caf\u00e9", "start": 0.1, "end": 0.35, "confidence": 0.1235, "chars": '
                        '[{"char": "c", "start": 0.1, "end": 0.2}, {"char": "a", "start": 0.2, "end": 0.25}, '
                        '{"char": "f", "start": 0.25, "end": 0.3}, {"char": "\u00e9", "start": 0.3, "end": 0.35}]}\n')
    assert json.loads(lines[1]) == {"word": "x", "start": 0.35, "end": 1.0, "confidence": 1.0,
                                    "chars": [{"char": "x", "start": 0.35, "end": 1.0}]}


def test_jsonl_warnings_follow_the_words():
    from microalign.quality import QualityWarning

    ws = [QualityWarning("stretched_word", "long", 1, 0.35, 1.4), QualityWarning("low_score", "low")]
    lines = to_jsonl(_alignment(warnings=ws)).splitlines()
    assert len(lines) == 4 and lines[2:] == ['{"warning": "stretched_word", "word": 1, "start": 0.35, "end": 1.4}',
                                             '{"warning": "low_score"}']


def test_ms_line_times_and_cap():
    # 1400 ms -> 1.4 s exactly; ends capped at the audio's length floored to the millisecond
    line = ms_line("ab", 1400, 2000, 0.5, [("a", 1400, 1500), ("b", 1500, 2000)], n_samples=int(1.9555 * 16000))
    assert json.loads(line) == {"word": "ab", "start": 1.4, "end": 1.955, "confidence": 0.5,
                                "chars": [{"char": "a", "start": 1.4, "end": 1.5},
                                          {"char": "b", "start": 1.5, "end": 1.955}]}
    assert line == word_line("ab", 1.4, 1.955, 0.5, [("a", 1.4, 1.5), ("b", 1.5, 1.955)])


def test_align_jsonl_agrees_with_json():
    pytest.importorskip("tflite_micro")
    args = ["align", ASSETS / "sample.wav", "--text-file", ASSETS / "sample.txt", "--backend", "tflm"]
    rj, rl = invoke(*args, "--format", "json"), invoke(*args, "--format", "jsonl")
    assert rj.exit_code == 0 and rl.exit_code == 0, rj.output + rl.output
    words = json.loads(rj.stdout)["words"]
    lines = [json.loads(ln) for ln in rl.stdout.splitlines()]
    assert len(lines) == len(words) == 23 and json.loads(rj.stdout)["warnings"] == []
    for w, ln in zip(words, lines):
        assert list(ln) == ["word", "start", "end", "confidence", "chars"]
        assert (ln["word"], ln["start"], ln["end"], ln["confidence"], ln["chars"]) == \
            (w["word"], w["start"], w["end"], w["confidence"], w["chars"])   # one confidence, not two
        assert 0.0 < ln["confidence"] <= 1.0
    assert len({ln["confidence"] for ln in lines}) > 10


def test_headers_writes_image_header_last(tmp_path):
    r = invoke("headers", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    written = re.findall(r"wrote (\S+)", r.stdout)
    assert Path(written[-1]).name == I.HEADER_FILENAME and len(written) == len(set(written)) >= 4
    text = (tmp_path / I.HEADER_FILENAME).read_text()
    for p in sorted(tmp_path.glob("*.h")):
        if p.name == I.HEADER_FILENAME:
            continue
        digest = hashlib.sha256(p.read_bytes()).digest()
        assert f'"{p.name}"' in text and ", ".join(f"0x{x:02x}" for x in digest[:16]) in text, p.name
    # the repository's generated headers are what `microalign headers` writes now
    for p in tmp_path.glob("*.h"):
        assert p.read_bytes() == (I.GENERATED_DIR / p.name).read_bytes(), f"{p.name}: run `microalign headers`"
