"""Corpus readers: TIMIT triples, MFA TextGrids, manifests, and telling them apart."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from conftest import shared_path

from microalign.corpus import Segment, Utterance, write_manifest
from microalign.data.readers import (detect_corpus, read_corpus, read_textgrid_utterance, read_timit,
                                     read_timit_utterance)


def _wav(path, seconds=1.5, sr=16000):
    sf.write(str(path), np.zeros(int(seconds * sr), np.int16), sr, subtype="PCM_16")


def _timit(folder):
    folder.mkdir(parents=True)
    _wav(folder / "sa1.wav")
    (folder / "sa1.txt").write_text("0 24000 Don't ask me, Ten.\n")
    (folder / "sa1.wrd").write_text("3200 8000 don't\n8000 11200 ask\n12800 16000 me\n16000 20800 ten\n")
    (folder / "sa1.phn").write_text("0 3200 h#\n3200 4800 d\n4800 6400 ow\n6400 8000 n\n8000 11200 ae\n"
                                    "11200 12800 pau\n12800 16000 m\n16000 20800 t\n20800 24000 h#\n")


def test_timit_triple(tmp_path):
    _timit(tmp_path / "dr1-abcd0")
    u = read_timit_utterance(tmp_path / "dr1-abcd0" / "sa1.wav")
    assert u.id == "dr1-abcd0-sa1" and u.speaker == "dr1-abcd0" and u.source == "timit"
    assert u.text == "Don't ask me, Ten."
    assert [(w.label, w.start, w.end) for w in u.words] == [
        ("don't", 0.2, 0.5), ("ask", 0.5, 0.7), ("me", 0.8, 1.0), ("ten", 1.0, 1.3)]
    assert [p.label for p in u.phones] == ["d", "ow", "n", "ae", "m", "t"], "h# and pau are silence"
    assert u.phones[0].start == 0.2


def test_timit_errors(tmp_path):
    _timit(tmp_path / "s")
    (tmp_path / "s" / "sa1.wrd").write_text("3200 x don't\n")
    with pytest.raises(ValueError, match=r"sa1.wrd:1: sample numbers"):
        read_timit_utterance(tmp_path / "s" / "sa1.wav")
    (tmp_path / "s" / "sa1.wrd").write_text("3200 8000 twenty-two\n")
    with pytest.raises(ValueError, match="2 spoken words"):
        read_timit_utterance(tmp_path / "s" / "sa1.wav")
    (tmp_path / "s" / "sa1.wrd").unlink()
    with pytest.raises(FileNotFoundError, match="word file"):
        read_timit_utterance(tmp_path / "s" / "sa1.wav")


def _mfa_textgrid(path):
    from praatio import textgrid
    from praatio.utilities.constants import Interval

    tg = textgrid.Textgrid()
    words = [Interval(0.0, 0.31, ""), Interval(0.31, 0.62, "Hello"), Interval(0.62, 0.7, ""),
             Interval(0.7, 1.1, "world"), Interval(1.1, 1.5, "")]
    phones = [Interval(0.0, 0.31, ""), Interval(0.31, 0.4, "HH"), Interval(0.4, 0.5, "AH0"),
              Interval(0.5, 0.55, "L"), Interval(0.55, 0.62, "OW1"), Interval(0.62, 0.7, "sil"),
              Interval(0.7, 0.8, "W"), Interval(0.8, 0.95, "ER1"), Interval(0.95, 1.02, "L"),
              Interval(1.02, 1.1, "D"), Interval(1.1, 1.5, "")]
    tg.addTier(textgrid.IntervalTier("words", words, 0.0, 1.5))
    tg.addTier(textgrid.IntervalTier("phones", phones, 0.0, 1.5))
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True)


def test_mfa_textgrid(tmp_path):
    _mfa_textgrid(tmp_path / "utt1.TextGrid")
    _wav(tmp_path / "utt1.wav")
    u = read_textgrid_utterance(tmp_path / "utt1.TextGrid")
    assert u.audio == str(tmp_path / "utt1.wav") and u.id == "utt1"
    assert [(w.label, w.start, w.end) for w in u.words] == [("hello", 0.31, 0.62), ("world", 0.7, 1.1)]
    assert [p.label for p in u.phones] == ["HH", "AH0", "L", "OW1", "W", "ER1", "L", "D"]
    assert u.text == "hello world"
    (tmp_path / "utt1.wav").unlink()
    with pytest.raises(FileNotFoundError, match="no audio next to"):
        read_textgrid_utterance(tmp_path / "utt1.TextGrid")


def test_textgrid_without_words_tier(tmp_path):
    from praatio import textgrid
    from praatio.utilities.constants import Interval

    tg = textgrid.Textgrid()
    tg.addTier(textgrid.IntervalTier("syllables", [Interval(0.1, 0.2, "ba")], 0.0, 1.0))
    tg.save(str(tmp_path / "x.TextGrid"), format="short_textgrid", includeBlankSpaces=True)
    _wav(tmp_path / "x.wav")
    with pytest.raises(ValueError, match="no 'words' tier"):
        read_textgrid_utterance(tmp_path / "x.TextGrid")


def test_read_corpus_detects_each_layout(tmp_path):
    _timit(tmp_path / "timit" / "dr2-spk0")
    assert detect_corpus(tmp_path / "timit") == "timit"
    assert [u.id for u in read_corpus(tmp_path / "timit")] == ["dr2-spk0-sa1"]

    (tmp_path / "mfa").mkdir()
    _mfa_textgrid(tmp_path / "mfa" / "a.TextGrid")
    _wav(tmp_path / "mfa" / "a.wav")
    assert detect_corpus(tmp_path / "mfa") == "textgrid"
    assert [w.label for u in read_corpus(tmp_path / "mfa") for w in u.words] == ["hello", "world"]

    man = tmp_path / "man"
    _wav(tmp_path / "a.wav")
    us = [Utterance("a", str(tmp_path / "a.wav"), "Ten cats.", [Segment("ten", 0.1, 0.4), Segment("cats", 0.4, 0.9)]),
          Utterance("b", str(tmp_path / "a.wav"), "No.", [Segment("no", 0.2, 0.5)])]
    write_manifest(man / "train.jsonl", us[:1])
    write_manifest(man / "test.jsonl", us[1:])
    assert detect_corpus(man) == "manifest" and detect_corpus(man / "train.jsonl") == "manifest"
    assert sorted(u.id for u in read_corpus(man)) == ["a", "b"]
    assert [u.id for u in read_corpus(man, split="test")] == ["b"]
    got = next(read_corpus(man / "train.jsonl"))
    assert got.words == us[0].words and got.audio == str((tmp_path / "a.wav").resolve())

    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("nothing aligned here")
    with pytest.raises(ValueError, match="cannot tell what corpus"):
        detect_corpus(tmp_path / "junk")
    with pytest.raises(FileNotFoundError, match="corpus not found"):
        read_corpus(tmp_path / "missing")
    with pytest.raises(ValueError, match="no TIMIT utterances"):
        list(read_timit(tmp_path / "junk"))


def test_real_timit_dev():
    root = shared_path("data", "timit-sample-dev")
    us = list(read_corpus(root))
    assert len(us) == 40 and len({u.speaker for u in us}) == 4
    for u in us:
        info = sf.info(u.audio)
        assert info.samplerate == 16000
        assert u.words and all(w.label != "h#" for w in u.words)
        assert all(0 <= w.start < w.end <= info.duration + 1e-6 for w in u.words)
        assert u.phones and all(p.label not in ("h#", "pau", "epi") for p in u.phones)
        assert u.words[0].start >= 0.05, "leading h# silence is not part of the first word"
    sa1 = next(u for u in us if u.id == "dr1-fvmh0-sa1")
    assert sa1.text.startswith("She had your dark suit")
    assert [w.label for w in sa1.words[:3]] == ["she", "had", "your"]
    assert sa1.words[0].start == pytest.approx(7812 / 16000)


def test_symlinked_manifest_resolves_audio_next_to_the_real_file(tmp_path):
    from microalign.corpus import Segment, Utterance, read_manifest, write_manifest

    (tmp_path / "a" / "wav").mkdir(parents=True)
    (tmp_path / "a" / "wav" / "x.wav").write_bytes(b"")
    write_manifest(tmp_path / "a" / "train.jsonl",
                   [Utterance("x", str(tmp_path / "a" / "wav" / "x.wav"), "hi", [Segment("hi", 0.1, 0.3)])])
    assert '"audio": "wav/x.wav"' in (tmp_path / "a" / "train.jsonl").read_text()     # stored relative
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "a.jsonl").symlink_to(tmp_path / "a" / "train.jsonl")
    (u,) = read_manifest(tmp_path / "b" / "a.jsonl")
    assert u.audio == str((tmp_path / "a" / "wav" / "x.wav").resolve())
