"""``--ray``: the same corpus / eval job on a local Ray cluster started by the test gives the local run's bytes."""
from __future__ import annotations

import builtins
import shutil

import pytest
from click.testing import CliRunner

from microalign.cli import main

from test_corpus_mode import ASSETS, BACKEND, make_corpus, report, tree


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'microalign[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def invoke(*args) -> object:
    return CliRunner().invoke(main, [*map(str, args)], catch_exceptions=False)


def test_corpus_on_ray_equals_local_run(ray_cluster, tmp_path):
    c = make_corpus(tmp_path)
    local = invoke("align", c, tmp_path / "local", "--backend", BACKEND)
    on_ray = invoke("align", c, tmp_path / "ray", "--backend", BACKEND, "--ray", "auto")
    assert "2 Ray actors on a cluster of 2 CPUs" in on_ray.output
    assert on_ray.exit_code == local.exit_code == 1                # the same 4 bad files fail
    assert tree(tmp_path / "ray") == tree(tmp_path / "local")
    assert len(list((tmp_path / "ray").rglob("*.TextGrid"))) == 3
    assert ray_cluster.is_initialized()                          # the test's session is reused, not shut down


def test_model_file_is_shipped_to_the_actors(ray_cluster, tmp_path):
    """A --model outside the package reaches the workers as bytes (no shared file system needed)."""
    c = make_corpus(tmp_path)
    model = tmp_path / "models" / "student_int8.tflite"       # same bytes, another folder: JSON "model" equal
    model.parent.mkdir()
    shutil.copy(ASSETS / "student_int8.tflite", model)
    invoke("align", c, tmp_path / "local", "--backend", BACKEND, "--format", "json")
    res = invoke("align", c, tmp_path / "ray", "--backend", BACKEND, "--format", "json", "--model", model,
                 "--ray", "auto", "-j", "1")
    assert "1 Ray actors" in res.output
    assert tree(tmp_path / "ray") == tree(tmp_path / "local")
    assert report(tmp_path / "ray")["spk1/a.wav"]["status"] == "aligned"


def test_eval_on_ray_equals_local_run(ray_cluster, tmp_path):
    from test_eval_cmd import make_labelled_set

    data = make_labelled_set(tmp_path)
    local = invoke("eval", data, "--backend", BACKEND, "--aligner", "student", "--aligner", "uniform",
                   "--out", tmp_path / "local")
    on_ray = invoke("eval", data, "--backend", BACKEND, "--aligner", "student", "--aligner", "uniform",
                    "--out", tmp_path / "ray", "--ray", "auto")
    assert local.exit_code == on_ray.exit_code == 0, on_ray.output
    assert tree(tmp_path / "ray") == tree(tmp_path / "local")


def test_without_ray_the_error_names_the_extra(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_ray(name, *a, **k):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    c = make_corpus(tmp_path)
    res = invoke("align", c, tmp_path / "out", "--backend", BACKEND, "--ray", "auto")
    assert res.exit_code == 1
    assert "pip install 'microalign[ray]'" in res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs the espeak-ng program to make speech")
def test_teacher_labelling_on_ray_equals_local(ray_cluster, tmp_path):
    import subprocess

    from microalign.batch import RayExecutor
    from microalign.corpus import Utterance
    from microalign.teachers import label_corpus
    from microalign.teachers.pocketsphinx_teacher import PocketsphinxTeacher

    utts = []
    for i, text in enumerate(["Seven green bottles.", "Standing tall!", "A third one."]):
        wav = tmp_path / f"e{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), text], check=True)
        utts.append(Utterance(f"e{i}", str(wav), text))
    utts.append(Utterance("missing", str(tmp_path / "missing.wav"), "nothing here"))
    rep_l = label_corpus(utts, PocketsphinxTeacher(), tmp_path / "local.jsonl", progress=False)
    ex = RayExecutor("auto")
    rep_r = label_corpus(utts, PocketsphinxTeacher(), tmp_path / "ray.jsonl", progress=False, executor=ex)
    ex.close()
    assert (rep_r.labelled, rep_r.failed) == (rep_l.labelled, rep_l.failed) == (3, 1)
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()

