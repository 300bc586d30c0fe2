"""Distillation teachers: pocketsphinx alignment, out-of-dictionary words, corpus labelling, corpus readers."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import shared_path
from microalign.audio import load_audio
from microalign.corpus import Segment, Utterance, read_manifest
from microalign.teachers import TeacherError, label_corpus
from microalign.teachers.base import Teacher, TeacherAlignment, check_input, finish_segments
from microalign.teachers.corpora import CorpusError, read_ljspeech, read_speechocean762, read_timit
from microalign.teachers.lexicon import (LexiconError, Pronouncer, ipa_to_arpabet, plural_suffix, read_lexicon,
                                         rule_lts)

pytest.importorskip("pocketsphinx")
from microalign.teachers.pocketsphinx_teacher import PocketsphinxTeacher  # noqa: E402

SR = 16000
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs the espeak-ng program")


@pytest.fixture(scope="module")
def teacher() -> PocketsphinxTeacher:
    return PocketsphinxTeacher()


def _espeak_words(words: list[str], folder: Path, gap: float = 0.3) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Each word spoken alone by espeak-ng (resampled to 16 kHz, trimmed), joined with silences.

    Returns the PCM and each word's true (start, end) in seconds.
    """
    silence = np.zeros(int(gap * SR), np.int16)
    parts, truth, t = [silence], [], len(silence)
    for i, w in enumerate(words):
        wav = folder / f"w{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), w], check=True)
        x = load_audio(wav, quiet=True)
        voiced = np.nonzero(np.abs(x.astype(np.int32)) > 300)[0]
        x = x[voiced[0]: voiced[-1] + 1]
        truth.append((t / SR, (t + len(x)) / SR))
        parts += [x, silence]
        t += len(x) + len(silence)
    return np.concatenate(parts), truth


def _check_against_truth(segs: list[Segment], words: list[str], truth: list[tuple[float, float]], tol: float):
    assert [s.label for s in segs] == words
    for s, (a, b) in zip(segs, truth):
        assert abs(s.start - a) < tol and abs(s.end - b) < tol, (s, (a, b))
        assert a <= (s.start + s.end) / 2 <= b
    starts = [s.start for s in segs]
    assert starts == sorted(starts)
    assert all(s2.start >= s1.end - 1e-9 for s1, s2 in zip(segs, segs[1:]))


# ----------------------------------------------------------------------------- pocketsphinx


@needs_espeak
def test_pocketsphinx_aligns_espeak_speech(teacher, tmp_path):
    words = ["seven", "green", "bottles", "standing", "tall"]
    pcm, truth = _espeak_words(words, tmp_path)
    res = teacher.align_detailed(pcm, words)
    _check_against_truth(res.words, words, truth, tol=0.08)
    assert res.oov == {}
    # phones: ARPAbet, inside their words, in order
    assert res.phones and all(p.label.isupper() and p.label != "SIL" for p in res.phones)
    assert [p.label for p in res.phones[:5]] == ["S", "EH", "V", "AH", "N"]
    for p in res.phones:
        assert any(w.start - 1e-6 <= p.start and p.end <= w.end + 1e-6 for w in res.words), p
    # words only (no second pass) gives the same word times
    assert PocketsphinxTeacher(phones=False).align(pcm, words) == res.words


@needs_espeak
def test_pocketsphinx_out_of_dictionary_and_apostrophes(tmp_path):
    words = ["don't", "count", "zorblaxian", "rachel's", "money"]
    pcm, truth = _espeak_words(words, tmp_path)
    t = PocketsphinxTeacher()
    res = t.align_detailed(pcm, words)
    _check_against_truth(res.words, words, truth, tol=0.15)
    assert res.oov == {"zorblaxian": "espeak"}
    assert t.oov == {"zorblaxian": "espeak"}
    # the added word stays known: a second utterance reports it again, without asking espeak
    assert t.align_detailed(pcm, words).oov == {"zorblaxian": "espeak"}


def test_pocketsphinx_oov_fallbacks(tmp_path):
    lex = tmp_path / "lexicon.txt"
    lex.write_text("# test lexicon\nZORBLAX  Z AO1 R B L AE2 K S\nZORBLAX(2) Z AO R B L AH K S\n", encoding="utf-8")
    t = PocketsphinxTeacher(lexicons=[lex], letter_to_sound="rules")
    assert t.pronunciation("zorblax") == "Z AO R B L AE K S"
    assert t.pronunciation("ZORBLAX") == "Z AO R B L AE K S"
    assert t.pronunciation("zorblax's") == "Z AO R B L AE K S IH Z"   # derived from the lexicon word
    assert t.pronunciation("quokkaroo's") == "K W AA K AA R UW Z"        # rules for the word, then 's
    assert t.oov == {"zorblax": "lexicon", "zorblax's": "derived", "quokkaroo's": "rules"}
    assert t.pronunciation("cat") == "K AE T" and "cat" not in t.oov

    strict = PocketsphinxTeacher(letter_to_sound="none")
    pcm = (np.random.RandomState(0).randn(SR * 2) * 300).astype(np.int16)
    with pytest.raises(TeacherError, match="no pronunciation for 'zorblax'"):
        strict.align(pcm, ["zorblax"])


def test_pocketsphinx_rejects_bad_input(teacher):
    pcm = np.zeros(SR, np.int16)
    with pytest.raises(TeacherError, match="1-D int16"):
        teacher.align(pcm.astype(np.float32), ["cat"])
    with pytest.raises(TeacherError, match="empty"):
        teacher.align(np.zeros(0, np.int16), ["cat"])
    with pytest.raises(TeacherError, match="no words"):
        teacher.align(pcm, [])
    with pytest.raises(TeacherError, match="whitespace"):
        teacher.align(pcm, ["two words"])
    with pytest.raises(TeacherError, match="audio too short"):
        teacher.align(np.zeros(SR // 10, np.int16), ["seven", "green", "bottles"])
    with pytest.raises(ValueError, match="letter_to_sound"):
        PocketsphinxTeacher(letter_to_sound="maybe")
    with pytest.raises(FileNotFoundError, match="lexicon not found"):
        PocketsphinxTeacher(lexicons=["/nonexistent/lexicon.txt"])


def test_pocketsphinx_silence_still_gives_ordered_in_range_words(teacher):
    # no speech at all: alignment either fails cleanly or returns well-formed segments
    pcm = (np.random.RandomState(1).randn(SR * 2) * 30).astype(np.int16)
    try:
        segs = teacher.align(pcm, ["seven", "green"])
    except TeacherError:
        return
    assert [s.label for s in segs] == ["seven", "green"]
    assert 0 <= segs[0].start <= segs[0].end <= segs[1].start <= segs[1].end <= 2.0


# ----------------------------------------------------------------------------- lexicon helpers


def test_lexicon_helpers(tmp_path):
    assert ipa_to_arpabet("tʃˈɜːtʃ") == ["CH", "ER", "CH"]
    assert ipa_to_arpabet("wˈʊdkʌɾɚz") == ["W", "UH", "D", "K", "AH", "T", "ER", "Z"]
    assert ipa_to_arpabet("ʒɪvˈɑːɡoʊ") == ["ZH", "IH", "V", "AA", "G", "OW"]
    assert rule_lts("church") == ["CH", "ER", "CH"]
    assert rule_lts("city")[0] == "S" and rule_lts("yes")[0] == "Y"
    assert rule_lts("'") == [] and rule_lts("x") == ["K", "S"]
    assert plural_suffix(["K", "AE", "T"]) == ["S"]
    assert plural_suffix(["D", "AO", "G"]) == ["Z"]
    assert plural_suffix(["B", "AH", "S"]) == ["IH", "Z"]
    bad = tmp_path / "bad.txt"
    bad.write_text("WORD  W ER1 D\nOTHER  XX\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"bad.txt:2: phone 'XX'"):
        read_lexicon(bad)
    good = tmp_path / "good.txt"
    good.write_text("A\tAH0\nA\tEY1\n", encoding="utf-8")
    assert read_lexicon(good) == {"a": [["AH"], ["EY"]]}
    p = Pronouncer(lambda w: {"dog": "D AO G"}.get(w), [good], letter_to_sound="none")
    assert p("dogs") == (["D", "AO", "G", "Z"], "derived")
    assert p("a") == (["AH"], "lexicon")


def test_check_input_and_finish_segments():
    assert check_input(np.zeros(10, np.int16), ("a", "b")) == ["a", "b"]
    segs = finish_segments(["a", "b", "c"], [(-0.1, 0.5), (0.4, 0.3), (0.9, 5.0)], duration=2.0)
    assert segs == [Segment("a", 0.0, 0.5), Segment("b", 0.4, 0.4), Segment("c", 0.9, 2.0)]
    with pytest.raises(TeacherError, match="2 word spans for 3 words"):
        finish_segments(["a", "b", "c"], [(0, 1), (1, 2)], 2.0)
    with pytest.raises(TeacherError, match="non-finite"):
        finish_segments(["a"], [(float("nan"), 1.0)], 2.0)


# ----------------------------------------------------------------------------- label_corpus


class _Uniform(Teacher):
    """A trivial teacher: words share the audio equally (tests the labelling machinery quickly)."""

    name = "uniform"

    def align(self, pcm, words):
        words = check_input(pcm, words)
        d = len(pcm) / SR / len(words)
        return [Segment(w, i * d, (i + 1) * d) for i, w in enumerate(words)]


def _write_wav(path: Path, seconds: float, seed: int = 0) -> Path:
    sf.write(str(path), (np.random.RandomState(seed).randn(int(SR * seconds)) * 1000).astype(np.int16), SR)
    return path


def test_label_corpus_writes_manifest_and_reports_failures(tmp_path):
    utts = [
        Utterance("u1", str(_write_wav(tmp_path / "u1.wav", 1.0)), "Ten cats."),
        Utterance("u2", str(tmp_path / "missing.wav"), "hello"),
        Utterance("u3", str(_write_wav(tmp_path / "u3.wav", 2.0, 1)), "!!!"),  # nothing speakable
        Utterance("u4", str(_write_wav(tmp_path / "u4.wav", 2.0, 2)), "It's 42.", speaker="s4"),
    ]
    out = tmp_path / "out" / "labels.jsonl"
    rep = label_corpus(utts, _Uniform(), out, progress=False)
    assert (rep.total, rep.labelled, rep.failed) == (4, 2, 2)
    assert [f[0] for f in rep.failures] == ["u2", "u3"]
    assert "audio" in rep.failures[0][1] and "transcript" in rep.failures[1][1]
    assert rep.audio_seconds == pytest.approx(3.0)  # u3 failed before its audio was read
    got = list(read_manifest(out))
    assert [u.id for u in got] == ["u1", "u4"]
    assert [w.label for w in got[1].words] == ["it's", "forty", "two"]
    assert got[1].words[-1].end == pytest.approx(2.0)
    assert got[1].text == "It's 42." and got[1].source == "uniform" and got[1].speaker == "s4"
    assert Path(got[0].audio) == tmp_path / "u1.wav"
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["audio"] == str(tmp_path / "u1.wav")  # outside the manifest's folder: stays absolute
    fails = (tmp_path / "out" / "labels.jsonl.failures.tsv").read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[0] for line in fails] == ["u2", "u3"]

    # resume: labelled utterances are kept, only the others are tried again
    _write_wav(tmp_path / "missing.wav", 1.0)
    rep2 = label_corpus(utts, _Uniform(), out, progress=False, resume=True)
    assert (rep2.resumed, rep2.labelled, rep2.failed) == (2, 3, 1)
    assert [u.id for u in read_manifest(out)] == ["u1", "u2", "u4"]


@needs_espeak
def test_label_corpus_with_pocketsphinx_in_worker_processes(tmp_path):
    utts = []
    for i, text in enumerate(["Seven green bottles.", "Standing tall!"]):
        wav = tmp_path / f"e{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), text], check=True)
        utts.append(Utterance(f"e{i}", str(wav), text))
    out = tmp_path / "ps.jsonl"
    rep = label_corpus(utts, PocketsphinxTeacher(), out, workers=2, progress=False)
    assert (rep.labelled, rep.failed) == (2, 0)
    got = list(read_manifest(out))
    assert [[w.label for w in u.words] for u in got] == [["seven", "green", "bottles"], ["standing", "tall"]]
    for u in got:
        assert u.source == "pocketsphinx" and u.phones
        dur = sf.info(u.audio).duration
        assert all(0 <= w.start < w.end <= dur + 1e-6 for w in u.words)


# ----------------------------------------------------------------------------- corpus readers


def test_readers_on_small_folders(tmp_path):
    so = tmp_path / "so"
    (so / "audio" / "SPEAKER0001").mkdir(parents=True)
    _write_wav(so / "audio" / "SPEAKER0001" / "000010011.wav", 0.5)
    (so / "text").write_text("000010011\tWE CALL IT BEAR\n", encoding="utf-8")
    (so / "utt2spk").write_text("000010011 0001\n", encoding="utf-8")
    [u] = read_speechocean762(so)
    assert (u.id, u.text, u.speaker) == ("000010011", "WE CALL IT BEAR", "SPEAKER0001")
    assert Path(u.audio).is_absolute() and Path(u.audio).is_file()
    (so / "text").write_text("000010011\tWE CALL IT BEAR\n000099999\tMISSING\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="000099999 not found"):
        read_speechocean762(so)

    lj = tmp_path / "lj"
    (lj / "audio").mkdir(parents=True)
    _write_wav(lj / "audio" / "LJ001-0001.wav", 0.5)
    (lj / "metadata.csv").write_text("LJ001-0001|Dr. Smith, 1st|Doctor Smith, first\n", encoding="utf-8")
    assert read_ljspeech(lj)[0].text == "Doctor Smith, first"
    assert read_ljspeech(lj, normalised=False)[0].text == "Dr. Smith, 1st"

    ti = tmp_path / "timit" / "dr1-x"
    ti.mkdir(parents=True)
    _write_wav(ti / "sa1.wav", 1.0)
    (ti / "sa1.wrd").write_text("1600 4800 she\n4800 9600 had\n", encoding="utf-8")
    (ti / "sa1.txt").write_text("0 16000 She had.\n", encoding="utf-8")
    [t] = read_timit(tmp_path / "timit")
    assert (t.id, t.text) == ("dr1-x-sa1", "She had.")
    assert t.words == [Segment("she", 0.1, 0.3), Segment("had", 0.3, 0.6)]
    with pytest.raises(CorpusError, match="not found"):
        read_ljspeech(tmp_path / "nowhere")


def test_readers_on_shared_corpora():
    so = read_speechocean762(shared_path("data", "speechocean762-train"))
    lj = read_ljspeech(shared_path("data", "ljspeech-subset"))
    ti = read_timit(shared_path("data", "timit-sample-dev"))
    assert (len(so), len(lj), len(ti)) == (2500, 385, 40)
    assert all(Path(u.audio).is_file() for u in so[:20] + lj[:20] + ti)
    assert so[0].speaker.startswith("SPEAKER")
    from microalign.teachers.labelling import default_words
    for u in ti:  # the TIMIT transcripts normalise to exactly the reference words
        assert default_words(u.text) == [w.label for w in u.words]


def test_consensus_keeps_agreed_words_and_marks_the_rest():
    from microalign.corpus import Segment
    from microalign.teachers.consensus import UNCERTAIN_PREFIX, consensus_words, is_uncertain

    a = [Segment("one", 0.10, 0.40), Segment("two", 0.40, 0.70), Segment("three", 0.90, 1.30)]
    b = [Segment("one", 0.12, 0.44), Segment("two", 0.44, 0.90), Segment("three", 0.95, 1.28)]
    out = consensus_words(a, b, tolerance=0.05)
    assert [w.label for w in out] == ["one", UNCERTAIN_PREFIX + "two", "three"]
    assert out[0].start == pytest.approx(0.11) and out[2].end == pytest.approx(1.29)   # means
    # 'one' (mean end 0.42) and uncertain 'two' (a's start 0.40) overlap: they meet half-way
    assert out[0].end == pytest.approx(0.41) and out[1].start == pytest.approx(0.41) and out[1].end == 0.70
    assert is_uncertain(out[1].label) and not is_uncertain(out[2].label)
    with pytest.raises(ValueError, match="2 and 3 words"):
        consensus_words(a[:2], b, 0.05)
    with pytest.raises(ValueError, match="mismatch"):
        consensus_words(a, [Segment("uno", 0.1, 0.4)] + b[1:], 0.05)


def test_consensus_corpus_counts_and_skips_what_the_second_aligner_rejects():
    from microalign.corpus import Segment, Utterance
    from microalign.teachers.consensus import ConsensusStats, consensus_corpus

    def utt(i, words):
        return Utterance(f"u{i}", "a.wav", " ".join(w.label for w in words), words, source="ps")

    good = utt(0, [Segment("a", 0.1, 0.2), Segment("b", 0.2, 0.4)])
    bad = utt(1, [Segment("c", 0.1, 0.3)])

    def second(u):
        if u.id == "u1":
            raise ValueError("cannot align")
        return [Segment("a", 0.11, 0.21), Segment("b", 0.3, 0.4)]     # agrees on 'a' only

    stats = ConsensusStats()
    out = list(consensus_corpus([good, bad], second, 0.03, stats, progress=False))
    assert [u.id for u in out] == ["u0"] and out[0].source == "ps+consensus"
    assert [w.label for w in out[0].words] == ["a", "?b"]
    assert (stats.utterances, stats.words, stats.agreed, stats.failed) == (1, 2, 1, 1)
    assert stats.agreed_fraction == 0.5
