"""Corpus mode of ``microalign align`` (microalign.batch): layout, per-file errors, report, resume, -j."""
from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest
import soundfile as sf
from click.testing import CliRunner

from microalign.cli import main

ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
BACKEND = "tflite"     # int8, exact integer decoder: the fastest shipped backend
TEXT = (ASSETS / "sample.txt").read_text(encoding="utf-8")


def make_corpus(root: Path) -> Path:
    """Two speakers; .lab and .txt transcripts; a FLAC; a missing transcript; an unreadable file;
    a transcript too long for its audio; a transcript with characters outside the token table."""
    pcm, sr = sf.read(ASSETS / "sample.wav", dtype="int16")
    c = root / "corpus"
    for d in ("spk1", "spk2", "spk2/sub"):
        (c / d).mkdir(parents=True)
    shutil.copy(ASSETS / "sample.wav", c / "spk1" / "a.wav")
    (c / "spk1" / "a.lab").write_text(TEXT, encoding="utf-8")
    (c / "spk1" / "a.txt").write_text("ignored: .lab wins", encoding="utf-8")
    sf.write(c / "spk2" / "b.flac", pcm, sr)
    (c / "spk2" / "b.txt").write_text(TEXT, encoding="utf-8")
    shutil.copy(ASSETS / "sample.wav", c / "spk2" / "sub" / "c.wav")
    (c / "spk2" / "sub" / "c.lab").write_text("\ufeff" + TEXT, encoding="utf-8")    # a BOM, as Notepad writes
    shutil.copy(ASSETS / "sample.wav", c / "spk1" / "no_transcript.wav")
    (c / "spk1" / "broken.wav").write_bytes(b"RIFF not really a wav file")
    (c / "spk1" / "broken.lab").write_text("hello", encoding="utf-8")
    sf.write(c / "spk2" / "short.wav", pcm[:1600], sr)      # 0.1 s
    (c / "spk2" / "short.lab").write_text(TEXT, encoding="utf-8")
    shutil.copy(ASSETS / "sample.wav", c / "spk2" / "cjk.wav")
    (c / "spk2" / "cjk.lab").write_text("hello 世界", encoding="utf-8")
    (c / "spk2" / "orphan.lab").write_text("a transcript without audio is ignored", encoding="utf-8")
    return c


def run(*args: str) -> object:
    return CliRunner().invoke(main, ["align", *map(str, args)], catch_exceptions=False)


def report(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "alignment_report.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["path"] for r in rows] == sorted(r["path"] for r in rows)
    return {r["path"]: r for r in rows}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    """One -j 1 run over the test corpus (shared by the tests that only read its results)."""
    root = tmp_path_factory.mktemp("corpus")
    c = make_corpus(root)
    res = run(c, root / "out", "--backend", BACKEND)
    return c, root / "out", res


def test_outputs_mirror_the_corpus_and_equal_single_file_mode(corpus_run):
    from microalign.align import align_file
    from microalign.formats import render
    from microalign.runtime import load_backend

    c, out, res = corpus_run
    assert res.exit_code == 1, res.output              # some files failed: exit status 1 after the whole run
    outputs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.TextGrid"))
    assert outputs == ["spk1/a.TextGrid", "spk2/b.TextGrid", "spk2/sub/c.TextGrid"]
    al = align_file(ASSETS / "sample.wav", TEXT, load_backend(BACKEND))
    al.audio = "spk1/a.wav"
    assert (out / "spk1" / "a.TextGrid").read_text(encoding="utf-8") == render(al, "textgrid")
    # the FLAC holds the same samples: the same alignment
    assert (out / "spk2" / "b.TextGrid").read_bytes() == (out / "spk1" / "a.TextGrid").read_bytes()
    assert (out / "spk2" / "sub" / "c.TextGrid").read_bytes() == (out / "spk1" / "a.TextGrid").read_bytes()


def test_report_rows_and_errors(corpus_run):
    from microalign.align import align_file
    from microalign.runtime import load_backend
    from microalign.text import normalize

    c, out, res = corpus_run
    rows = report(out)
    assert set(rows) == {"spk1/a.wav", "spk1/broken.wav", "spk1/no_transcript.wav", "spk2/b.flac", "spk2/cjk.wav",
                         "spk2/short.wav", "spk2/sub/c.wav"}
    al = align_file(ASSETS / "sample.wav", TEXT, load_backend(BACKEND))
    for p in ("spk1/a.wav", "spk2/b.flac", "spk2/sub/c.wav"):
        r = rows[p]
        assert r["status"] == "aligned" and r["error"] == ""
        assert float(r["duration"]) == pytest.approx(len(sf.read(ASSETS / "sample.wav")[0]) / 16000, abs=1e-3)
        assert int(r["words"]) == len(normalize(TEXT)) == len(al.words)
        assert float(r["mean_confidence"]) == pytest.approx(al.score, abs=1e-4)
        assert r["warnings"] == ";".join(w.code for w in al.warnings)
    assert rows["spk1/no_transcript.wav"]["status"] == "failed"
    assert "no transcript" in rows["spk1/no_transcript.wav"]["error"]
    assert "cannot read audio spk1/broken.wav" in rows["spk1/broken.wav"]["error"]
    assert "0x" not in rows["spk1/broken.wav"]["error"]          # no object address: reports are reproducible
    assert rows["spk2/short.wav"]["status"] == "failed" and "too long" in rows["spk2/short.wav"]["error"]
    assert float(rows["spk2/short.wav"]["duration"]) == pytest.approx(0.1)
    assert rows["spk2/cjk.wav"]["status"] == "failed" and "世" in rows["spk2/cjk.wav"]["error"]
    # the summary on stderr counts them
    assert "7 files: 3 aligned, 0 skipped (up to date), 4 failed" in res.output
    assert "× real time" in res.output
    assert res.output.count("error: ") == 4


def test_resume_skips_up_to_date_outputs_and_overwrite_redoes_them(tmp_path):
    c = make_corpus(tmp_path)
    out = tmp_path / "out"
    run(c, out, "--backend", BACKEND)
    first = report(out)
    a = out / "spk1" / "a.TextGrid"
    old = a.stat().st_mtime_ns
    res = run(c, out, "--backend", BACKEND)
    assert "3 skipped (up to date)" in res.output and "0 aligned" in res.output
    assert a.stat().st_mtime_ns == old
    rows = report(out)
    for p in ("spk1/a.wav", "spk2/b.flac"):   # skipped rows keep the figures of the run that made them
        assert rows[p]["status"] == "skipped"
        assert {k: v for k, v in rows[p].items() if k != "status"} == {k: v for k, v in first[p].items() if k != "status"}
    assert rows["spk1/broken.wav"]["status"] == "failed"       # failures are retried, not skipped
    # a transcript edited after the output: that file only is redone
    t = c / "spk2" / "b.txt"
    os.utime(t, ns=(old + 10**9, old + 10**9))
    os.utime(out / "spk2" / "b.TextGrid", ns=(old, old))
    res = run(c, out, "--backend", BACKEND)
    assert "1 aligned, 2 skipped" in res.output
    assert report(out)["spk2/b.flac"]["status"] == "aligned"
    res = run(c, out, "--backend", BACKEND, "--overwrite")
    assert "3 aligned, 0 skipped" in res.output
    assert a.stat().st_mtime_ns > old


def test_jobs_2_gives_identical_bytes(corpus_run, tmp_path):
    c, out1, _ = corpus_run
    res = run(c, tmp_path / "out2", "--backend", BACKEND, "-j", "2")
    assert "2 local worker processes" in res.output
    assert tree(tmp_path / "out2") == tree(out1)


def test_format_option_and_json_names_the_relative_path(tmp_path):
    c = make_corpus(tmp_path)
    for p in c.rglob("*"):                  # only the good files: exit status 0
        if p.is_file() and p.stem in ("no_transcript", "broken", "short", "cjk"):
            p.unlink()
    res = run(c, tmp_path / "out", "--backend", BACKEND, "--format", "json")
    assert res.exit_code == 0, res.output
    d = json.loads((tmp_path / "out" / "spk2" / "sub" / "c.json").read_text(encoding="utf-8"))
    assert d["audio"] == "spk2/sub/c.wav" and len(d["words"]) == 23
    assert d["backend"] == BACKEND and d["model"]["name"] == "student_int8.tflite"   # as in single-file mode
    assert not list((tmp_path / "out").rglob("*.TextGrid"))


def test_output_clash_and_strict(tmp_path):
    c = tmp_path / "c"
    c.mkdir()
    shutil.copy(ASSETS / "sample.wav", c / "x.wav")
    pcm, sr = sf.read(ASSETS / "sample.wav", dtype="int16")
    sf.write(c / "x.flac", pcm, sr)
    (c / "x.lab").write_text(TEXT, encoding="utf-8")
    res = run(c, tmp_path / "out", "--backend", BACKEND)
    assert res.exit_code == 1
    rows = report(tmp_path / "out")
    assert {r["status"] for r in rows.values()} == {"failed"}
    assert all("x.TextGrid" in r["error"] for r in rows.values())


def test_usage_errors_are_one_line(tmp_path):
    c = make_corpus(tmp_path)
    r = run(c)
    assert r.exit_code == 2 and "corpus mode needs an output folder" in r.output
    r = run(c, tmp_path / "o", "--text", "hi")
    assert r.exit_code == 2 and "--text only apply to one file" in r.output
    r = run(ASSETS / "sample.wav", tmp_path / "o", "--text", "hi")
    assert r.exit_code == 2 and "OUT_DIR only apply to corpus mode" in r.output
    r = run(ASSETS / "sample.wav", "--text", "hi", "-j", "2")
    assert r.exit_code == 2 and "-j only apply to corpus mode" in r.output
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run(empty, tmp_path / "o")
    assert r.exit_code == 1 and "no audio files in" in r.output
    r = run(c, tmp_path / "o", "--backend", BACKEND, "--model", tmp_path / "missing.tflite")
    assert r.exit_code == 1 and "model file not found" in r.output
    assert not (tmp_path / "o" / "alignment_report.csv").exists()      # checked before any work


def test_executor_local_pool_keeps_indices_and_order():
    from microalign.batch.executor import LocalExecutor, ordered

    with LocalExecutor(2) as ex:
        pairs = list(ex.map(_setup_offset, _add, range(20)))
    assert sorted(i for i, _ in pairs) == list(range(20))
    assert all(r == i + 100 for i, r in pairs)
    assert list(ordered(iter([(1, "b"), (0, "a"), (2, "c")]))) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="jobs must be >= 1"):
        LocalExecutor(0)


def _setup_offset():
    return 100


def _add(state, x):
    return x + state
