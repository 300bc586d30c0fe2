"""``microalign eval --out``: per-utterance and per-word CSVs, the CDF plot and the JSON summary,
checked on references made with known errors."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from microalign.cli import main

ASSETS = Path(__file__).resolve().parents[1] / "convert" / "microalign" / "assets"
BACKEND = "tflite"
TEXT = (ASSETS / "sample.txt").read_text(encoding="utf-8")
START_SHIFT, END_SHIFT = 0.02, -0.01     # reference = aligner's words moved by these: errors -20 ms and +10 ms


def make_labelled_set(root: Path) -> Path:
    """A manifest of three utterances of the sample: ``shifted`` (every reference word moved by
    known amounts), ``missing_first`` (reference lacks the first word), ``broken`` (unreadable audio)."""
    from microalign.align import align_file
    from microalign.runtime import load_backend

    al = align_file(ASSETS / "sample.wav", TEXT, load_backend(BACKEND))
    words = [{"word": w.word, "start": round(w.start + START_SHIFT, 3), "end": round(w.end + END_SHIFT, 3)}
             for w in al.words]
    exact = [{"word": w.word, "start": w.start, "end": w.end} for w in al.words]
    (root / "broken.wav").write_bytes(b"RIFF....not audio")
    lines = [{"id": "shifted", "audio": str(ASSETS / "sample.wav"), "text": TEXT, "words": words},
             {"id": "missing_first", "audio": str(ASSETS / "sample.wav"), "text": TEXT, "words": exact[1:]},
             {"id": "broken", "audio": "broken.wav", "text": "hello there", "words": [
                 {"word": "hello", "start": 0.1, "end": 0.4}, {"word": "there", "start": 0.4, "end": 0.8}]}]
    path = root / "set.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in lines), encoding="utf-8")
    return path


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def eval_out(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    data = make_labelled_set(root)
    res = CliRunner().invoke(main, ["eval", str(data), "--backend", BACKEND, "--aligner", "student",
                                    "--aligner", "uniform", "--out", str(root / "out")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return root / "out", res


def test_utterance_csv(eval_out):
    out, _ = eval_out
    r = {(x["aligner"], x["id"]): x for x in rows(out / "utterances.csv")}
    assert len(r) == 6
    s = r[("student (tflite)", "shifted")]
    assert s["status"] == "ok" and s["ref_words"] == s["hyp_words"] == s["matched"] == "23"
    assert float(s["mean_ms"]) == pytest.approx(15.0) and float(s["median_ms"]) == pytest.approx(15.0)
    assert float(s["max_ms"]) == pytest.approx(20.0)
    assert float(s["start_mean_ms"]) == pytest.approx(20.0) and float(s["end_mean_ms"]) == pytest.approx(10.0)
    assert float(s["within_10ms_pct"]) == pytest.approx(50.0) and float(s["within_20ms_pct"]) == pytest.approx(100.0)
    m = r[("student (tflite)", "missing_first")]
    assert (m["ref_words"], m["hyp_words"], m["matched"], float(m["mean_ms"])) == ("22", "23", "22", 0.0)
    b = r[("student (tflite)", "broken")]
    assert b["status"] == "failed" and "cannot read audio" in b["error"] and b["matched"] == "0"
    assert b["mean_ms"] == ""
    assert r[("uniform baseline", "shifted")]["status"] == "ok"


def test_word_csv(eval_out):
    out, _ = eval_out
    w = [x for x in rows(out / "words.csv") if x["aligner"] == "student (tflite)"]
    shifted = [x for x in w if x["id"] == "shifted"]
    assert len(shifted) == 23
    assert {x["start_err_ms"] for x in shifted} == {"-20.0"} and {x["end_err_ms"] for x in shifted} == {"10.0"}
    assert [x["ref_index"] for x in shifted] == [str(i) for i in range(23)]
    miss = [x for x in w if x["id"] == "missing_first"]
    assert miss[0]["ref_index"] == "" and miss[0]["hyp_index"] == "0" and miss[0]["ref_start"] == ""
    assert len(miss) == 23 and all(x["start_err_ms"] == "0.0" for x in miss[1:])
    broken = [x for x in w if x["id"] == "broken"]
    assert [x["word"] for x in broken] == ["hello", "there"] and all(x["hyp_index"] == "" for x in broken)


def test_summary_json_and_cdf(eval_out):
    out, res = eval_out
    d = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    st = d["aligners"]["student (tflite)"]
    assert d["n_utterances"] == 3 and st["n_failed"] == 1 and "broken" in st["failed"]
    assert st["n_matched"] == 23 + 22 and st["n_ref_words"] == 23 + 22 + 2
    assert st["mean_ms"] == pytest.approx(15.0 * 46 / 90)    # 46 boundaries at 15 ms mean, 44 at 0
    assert "aas_ms" not in st
    assert set(d["columns"]["words.csv"]) >= {"start_err_ms", "hyp_index"}
    assert (out / "cdf.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the printed table: start/end columns instead of an AAS that repeated the mean
    assert "| start ms | end ms |" in res.output and "AAS" not in res.output
    assert "| student (tflite) | 7.7 |" in res.output


def test_help_explains_the_columns():
    out = CliRunner().invoke(main, ["eval", "--help"]).output
    for col in ("utterances.csv", "words.csv", "start_err_ms", "summary.json", "AAS", "within_10ms_pct"):
        assert col in out


def test_eval_jobs_2_identical(eval_out, tmp_path):
    out, _ = eval_out
    data = make_labelled_set(tmp_path)
    res = CliRunner().invoke(main, ["eval", str(data), "--backend", BACKEND, "--aligner", "student",
                                    "--aligner", "uniform", "--out", str(tmp_path / "o2"), "-j", "2"])
    assert res.exit_code == 0, res.output
    for name in ("utterances.csv", "words.csv", "summary.json"):
        a = (out / name).read_text(encoding="utf-8").replace(str(out.parent), "ROOT")
        b = (tmp_path / "o2" / name).read_text(encoding="utf-8").replace(str(tmp_path), "ROOT")
        assert a == b, name
