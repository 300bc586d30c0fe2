"""Subtitle phrases and the transcript tier, on hand-made alignments (no model needed)."""
import re

from microalign.align import Alignment, WordTiming
from microalign.formats import phrases, render, source_words, to_srt, to_vtt


def _al(spec):
    """spec: (word, source, source_index, start, end) rows."""
    return Alignment("x.wav", 10.0, [WordTiming(w, s, a, b, 0.9, [], None, i) for w, s, i, a, b in spec])


AL = _al([
    ("hello", "Hello,", 0, 0.00, 0.40),
    ("the", "the", 1, 0.45, 0.55),          # the same token twice: two source words, not one
    ("the", "the", 2, 0.56, 0.70),
    ("one", "$1.5", 3, 0.75, 0.90), ("point", "$1.5", 3, 0.90, 1.10), ("five", "$1.5", 3, 1.10, 1.30),
    ("million", "million", 4, 1.30, 1.70), ("dollars", "million", 4, 1.70, 2.10),
    ("after", "after", 5, 3.00, 3.30),      # a 0.9 s pause before it
    ("a", "a<b&c", 6, 3.35, 3.50),
])


def test_source_words_group_by_token():
    sw = source_words(AL)
    assert [(w.text, w.start, w.end) for w in sw] == [
        ("Hello,", 0.0, 0.4), ("the", 0.45, 0.55), ("the", 0.56, 0.7), ("$1.5", 0.75, 1.3),
        ("million", 1.3, 2.1), ("after", 3.0, 3.3), ("a<b&c", 3.35, 3.5)]


def test_phrases_break_at_punctuation_and_pauses():
    assert [[w.text for w in p] for p in phrases(AL)] == [
        ["Hello,"], ["the", "the", "$1.5", "million"], ["after", "a<b&c"]]


def test_phrases_break_before_too_long_text():
    long = _al([(f"w{i}", "abcdefghij", i, i * 0.1, i * 0.1 + 0.09) for i in range(20)])
    ps = phrases(long, max_chars=42)
    assert all(len(" ".join(w.text for w in p)) <= 42 for p in ps) and sum(map(len, ps)) == 20


def test_srt_cues_are_phrases():
    assert to_srt(AL) == ("1\n00:00:00,000 --> 00:00:00,400\nHello,\n\n"
                          "2\n00:00:00,450 --> 00:00:02,100\nthe the $1.5 million\n\n"
                          "3\n00:00:03,000 --> 00:00:03,500\nafter a<b&c\n")


def test_vtt_karaoke_tags_and_escapes():
    vtt = to_vtt(AL)
    assert vtt.startswith("WEBVTT\n\n")
    assert "00:00:00.450 --> 00:00:02.100\nthe <00:00:00.560>the <00:00:00.750>$1.5 <00:00:01.300>million\n" in vtt
    assert "after <00:00:03.350>a&lt;b&amp;c\n" in vtt
    for cue in re.findall(r"(\S+) --> (\S+)\n(.*)\n", vtt):
        tags = re.findall(r"<([\d:.]+)>", cue[2])
        assert all(cue[0] < t < cue[1] for t in tags) and tags == sorted(tags)


def test_textgrid_has_transcript_tier(tmp_path):
    from praatio import textgrid

    p = tmp_path / "a.TextGrid"
    p.write_text(render(AL, "TextGrid"), encoding="utf-8")
    tg = textgrid.openTextgrid(str(p), includeEmptyIntervals=False)
    assert list(tg.tierNames) == ["words", "chars", "transcript"]
    assert [(e.label, e.start, e.end) for e in tg.getTier("transcript").entries][3:5] == [
        ("$1.5", 0.75, 1.3), ("million", 1.3, 2.1)]


def test_json_meta_goes_first():
    import json

    d = json.loads(render(AL, "json", {"version": "9", "backend": "tflm", "model": {"name": "m", "sha256": "0"}}))
    assert list(d)[:4] == ["version", "backend", "model", "audio"]
