"""How data/ and teachers/ hang together: the TTS base module, the word list as data, one TIMIT reader,
the teacher interface apart from the labelling runner."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from microalign.corpus import Segment

REPO = Path(__file__).resolve().parents[1]


def _imports(code: str) -> set[str]:
    """microalign modules loaded by running ``code`` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(m for m in sys.modules "
                          "if m.startswith('microalign')))"], check=True, capture_output=True, text=True).stdout
    return set(out.split())


# ----------------------------------------------------------------------------- TTS base: no import loop

def test_engines_do_not_import_the_corpus_builder():
    mods = _imports("import microalign.data.festival, microalign.data.piper, microalign.data.espeak")
    assert "microalign.data.tts_base" in mods
    assert "microalign.data.synth" not in mods and "microalign.data.sentences" not in mods
    mods = _imports("import microalign.data.synth")
    assert not {"microalign.data.festival", "microalign.data.piper", "microalign.data.espeak"} & mods


def test_one_result_and_error_type_for_all_engines():
    from microalign.data import espeak, festival, piper, synth, tts_base

    for m in (espeak, festival, piper, synth):
        assert m.SynthesisError is tts_base.SynthesisError
    for m in (festival, piper, synth):
        assert m.Spoken is tts_base.Spoken
    for cls in (espeak.EspeakEngine, festival.FestivalEngine, piper.PiperEngine):
        assert isinstance(cls.name, str) and callable(cls.speak)


class _Beeper:
    """A TTS engine in 20 lines: a 440 Hz beep of 0.2 s per word."""

    name = "beeper"

    def speak(self, words, rng, test):
        from microalign.data.tts_base import Spoken, SynthesisError

        if "unsayable" in words:
            raise SynthesisError("beeper cannot say that")
        sr, per = 16000, 0.2
        t = np.arange(int(sr * per * len(words))) / sr
        segs = [Segment(w, i * per, (i + 1) * per) for i, w in enumerate(words)]
        return Spoken((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr, segs, [], "beep")


def test_any_engine_that_follows_the_protocol_builds_a_corpus(tmp_path):
    from microalign.corpus import read_manifest
    from microalign.data.synth import synthesize_engine
    from microalign.data.tts_base import TTSEngine

    assert isinstance(_Beeper(), TTSEngine) and not isinstance(object(), TTSEngine)
    rep = synthesize_engine(tmp_path, "beeper", 4, seed=1, test_fraction=0.0, progress=False,
                            engine_factory=lambda name, seed, frac: _Beeper())
    assert (rep.train, rep.test, rep.dropped) == (4, 0, {})
    utts = list(read_manifest(tmp_path / "beeper" / "train.jsonl"))
    assert len(utts) == 4
    for u in utts:
        n = len(u.words)
        assert sf.info(u.audio).duration == pytest.approx(0.2 * n, abs=1e-3)
        assert [w.end for w in u.words] == pytest.approx([0.2 * (i + 1) for i in range(n)])


# ----------------------------------------------------------------------------- word list as data

def test_packaged_word_list():
    from microalign.data import wordlist as W

    words = W.load_word_list()
    assert len(words) == 12000 == len(set(words))
    assert words[:8] == ("the", "to", "and", "of", "a", "in", "i", "is")
    assert all(W._WORD.fullmatch(w) for w in words)
    assert W.WORDLIST.read_text(encoding="utf-8").startswith(W.HEADER)
    assert not (REPO / "convert" / "microalign" / "data" / "_wordlist.py").exists()


def test_word_list_file_format(tmp_path):
    from microalign.data import wordlist as W

    p = W.write_word_list(["cat", "o'clock", "dog"], tmp_path / "w.txt")
    assert W.read_word_list(p) == ("cat", "o'clock", "dog")
    with pytest.raises(ValueError, match="not a lower-case word: 'Cat'"):
        W.write_word_list(["Cat"], tmp_path / "bad.txt")
    with pytest.raises(ValueError, match="repeats"):
        W.write_word_list(["a", "a"], tmp_path / "bad.txt")
    (tmp_path / "bad.txt").write_text("# c\ncat\nno way\n")
    with pytest.raises(ValueError, match="bad.txt:3: not a lower-case word: 'no way'"):
        W.read_word_list(tmp_path / "bad.txt")
    with pytest.raises(FileNotFoundError, match="word list not found"):
        W.read_word_list(tmp_path / "none.txt")


def test_word_list_builder_entry_point(tmp_path, capsys):
    from microalign.data import wordlist as W

    with pytest.raises(SystemExit) as e:
        W.main(["--help"])
    assert e.value.code == 0 and "wordfreq" in capsys.readouterr().out
    try:
        import wordfreq  # noqa: F401
    except ImportError:
        assert W.main(["-o", str(tmp_path / "w.txt"), "-n", "10"]) == 1
        assert "needs PyPI wordfreq" in capsys.readouterr().err
        return
    assert W.main(["-o", str(tmp_path / "w.txt"), "--cmudict", str(tmp_path / "none")]) == 1
    assert "CMU dictionary not found" in capsys.readouterr().err


def test_sentence_generator_uses_the_list():
    from microalign.data.sentences import SentenceGenerator
    from microalign.data.wordlist import load_word_list

    gen = SentenceGenerator(seed=3, vocabulary=200)
    assert set(gen.content) <= set(load_word_list()[:200]) and len(gen.content) > 100


# ----------------------------------------------------------------------------- one TIMIT reader

def _write_wav(path: Path, seconds: float) -> None:
    sf.write(str(path), (0.1 * np.sin(np.arange(int(16000 * seconds)) / 5)).astype(np.float32), 16000,
             subtype="PCM_16")


def _timit(root: Path) -> Path:
    spk = root / "dr1-x"
    spk.mkdir(parents=True)
    _write_wav(spk / "sa1.wav", 1.0)
    (spk / "sa1.wrd").write_text("1600 4800 she\n4800 9600 don't\n", encoding="utf-8")
    (spk / "sa1.phn").write_text("0 1600 h#\n1600 3000 sh\n3000 4800 iy\n", encoding="utf-8")
    (spk / "sa1.txt").write_text("0 16000 She don't.\n", encoding="utf-8")
    return root


def test_teachers_read_timit_through_the_data_reader(tmp_path):
    from microalign.data.readers import read_timit as data_read
    from microalign.teachers.corpora import CorpusError, read_timit as teacher_read

    root = _timit(tmp_path / "timit")
    [t] = teacher_read(root)
    [d] = list(data_read(root.resolve()))
    assert t == d
    assert (t.id, t.text, t.speaker, t.source) == ("dr1-x-sa1", "She don't.", "dr1-x", "timit")
    assert t.words == [Segment("she", 0.1, 0.3), Segment("don't", 0.3, 0.6)]
    assert t.phones == [Segment("sh", 0.1, 0.1875), Segment("iy", 0.1875, 0.3)]
    assert Path(t.audio).is_absolute()
    with pytest.raises(CorpusError, match="TIMIT folder not found"):
        teacher_read(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no TIMIT utterances"):
        teacher_read(tmp_path / "empty")


def test_one_timit_reader_in_the_tree():
    defs = [p for p in (REPO / "convert" / "microalign").rglob("*.py")
            if "def read_timit_utterance" in p.read_text(encoding="utf-8")
            or "rglob(\"*.wav\")" in p.read_text(encoding="utf-8")]
    assert [p.relative_to(REPO).as_posix() for p in defs] == ["convert/microalign/data/readers.py"]


# ----------------------------------------------------------------------------- teachers: interface vs runner

def test_teacher_interface_does_not_load_the_runner():
    import ast

    tree = ast.parse((REPO / "convert" / "microalign" / "teachers" / "base.py").read_text(encoding="utf-8"))
    imported = {"." * n.level + (n.module or "") for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported == {"__future__", "dataclasses", "typing", "..corpus"}
    from microalign import teachers
    from microalign.teachers import base, labelling

    assert teachers.label_corpus is labelling.label_corpus and teachers.Teacher is base.Teacher
    assert not hasattr(base, "label_corpus") and not hasattr(base, "LabelReport")


def test_teachers_command_line_bad_corpus_exit_1(tmp_path, capsys):
    from microalign.teachers.__main__ import main
    from microalign.teachers.corpora import READERS

    assert set(READERS) == {"speechocean762", "ljspeech", "timit"}
    assert main([f"timit={tmp_path / 'nowhere'}:{tmp_path / 'out.jsonl'}"]) == 1
    assert "TIMIT folder not found" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()
