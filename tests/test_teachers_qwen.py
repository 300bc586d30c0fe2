"""Qwen3-ForcedAligner teacher plumbing, with a tiny randomly initialised model of the real architecture.

The real weights cannot be downloaded here; these tests check that the
teacher loads a model folder through ``qwen-asr``, feeds it our words and
turns its timestamp classes into ordered, in-range word segments.
"""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

# find_spec, not importorskip: importing qwen_asr here would pull in TensorFlow through transformers
# before the teacher switches that off
if importlib.util.find_spec("qwen_asr") is None:
    pytest.skip("needs the 'teacher' extra (pip install 'microalign[teacher]')", allow_module_level=True)

from microalign.corpus import Segment  # noqa: E402
from microalign.teachers import TeacherError  # noqa: E402
from microalign.teachers.qwen_teacher import ENV_VAR, QwenTeacher, save_tiny_random_aligner  # noqa: E402

SR = 16000


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_random_aligner(tmp_path_factory.mktemp("qwen_tiny"))


@pytest.fixture(scope="module")
def teacher(tiny_model):
    return QwenTeacher(tiny_model)


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.RandomState(seed).randn(int(SR * seconds)) * 2000).astype(np.int16)


def test_random_model_gives_well_formed_segments(teacher):
    words = ["hello", "world", "it's", "o'clock", "fine"]
    for seconds in (0.7, 2.5):
        segs = teacher.align(_noise(seconds), words)
        assert [s.label for s in segs] == words
        assert all(isinstance(s, Segment) and 0.0 <= s.start <= s.end <= seconds for s in segs)
        starts = [s.start for s in segs]
        assert starts == sorted(starts)
    assert teacher.align_detailed(_noise(1.0), ["a"]).phones == []


def test_timestamp_classes_become_seconds(teacher):
    """Force the model's output: timestamp slot i predicts class 2(i+1), i.e. 0.16(i+1) s at 80 ms a class."""
    import torch

    aligner = teacher._load()
    ts_id = aligner.timestamp_token_id

    def hook(module, args, kwargs, output):
        ids = kwargs["input_ids"]
        logits = torch.full_like(output.logits, -1e4)
        for b in range(ids.shape[0]):
            pos = (ids[b] == ts_id).nonzero().flatten()
            for i, p in enumerate(pos.tolist()):
                logits[b, p, 2 * (i + 1)] = 0.0
        output.logits = logits
        return output

    handle = aligner.model.thinker.register_forward_hook(hook, with_kwargs=True)
    try:
        segs = teacher.align(_noise(2.0), ["one", "two", "three"])
    finally:
        handle.remove()
    assert segs == [Segment("one", 0.16, 0.32), Segment("two", 0.48, 0.64), Segment("three", 0.8, 0.96)]
    # and times past the end of the audio are clipped to it
    handle = aligner.model.thinker.register_forward_hook(hook, with_kwargs=True)
    try:
        segs = teacher.align(_noise(0.5), ["one", "two", "three"])
    finally:
        handle.remove()
    assert [(s.start, s.end) for s in segs] == [(0.16, 0.32), (0.48, 0.5), (0.5, 0.5)]


def test_teacher_pickles_without_its_model(teacher):
    import pickle

    teacher._load()
    clone = pickle.loads(pickle.dumps(teacher))
    assert clone._aligner is None and clone.model_dir == teacher.model_dir
    assert len(clone.align(_noise(1.0), ["a", "b"])) == 2


def test_model_folder_errors(tmp_path, monkeypatch, tiny_model):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(TeacherError, match=ENV_VAR):
        QwenTeacher()
    with pytest.raises(TeacherError, match="folder not found"):
        QwenTeacher(tmp_path / "nope")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(TeacherError, match="missing preprocessor_config.json, tokenizer_config.json, model weights"):
        QwenTeacher(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(tiny_model))
    assert QwenTeacher().model_dir == tiny_model.resolve()
    with pytest.raises(ValueError, match="dtype"):
        QwenTeacher(tiny_model, dtype="int8")


def test_too_long_audio_is_refused(teacher):
    with pytest.raises(TeacherError, match="at most 300 s"):
        teacher.align(np.zeros(SR * 301, np.int16), ["a"])
