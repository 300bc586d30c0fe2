import json
import pickle
import re

import pytest

from microalign.text import TextError, normalize
from microalign.text.tokens import CHARACTERS, CODEPOINTS, NUM_TOKENS, TOKENS, TokenError, encode_word


def words(s):
    return [w.text for w in normalize(s)]


def test_case_and_punctuation():
    assert words("Hello, World!") == ["hello", "world"]
    assert words("  (Yes)... no?!  ") == ["yes", "no"]


def test_apostrophes_inside_kept_edges_dropped():
    assert words("Don't stop 'em, dogs' bones") == ["don't", "stop", "em", "dogs", "bones"]
    assert words("it\u2019s") == ["it's"]


def test_numbers():
    assert words("42") == ["forty", "two"]
    assert words("1,250") == ["one", "thousand", "two", "hundred", "and", "fifty"]
    assert words("3.5%") == ["three", "point", "five", "percent"]
    assert words("the 21st") == ["the", "twenty", "first"]
    assert words("in 1999") == ["in", "nineteen", "ninety", "nine"]
    assert words("$7.50") == ["seven", "dollars", "and", "fifty", "cents"]
    assert words("10:45") == ["ten", "forty", "five"]
    assert words("-3") == ["minus", "three"]


def test_hyphens_and_symbols():
    assert words("well-known rock-n-roll") == ["well", "known", "rock", "n", "roll"]
    assert words("salt & pepper") == ["salt", "and", "pepper"]


def test_accents_folded():
    assert words("Café crème") == ["cafe", "creme"]


def test_mapping_back_to_source():
    text = "Pay $7.50, now."
    ws = normalize(text)
    assert [w.source for w in ws] == ["Pay", "$7.50,", "$7.50,", "$7.50,", "$7.50,", "$7.50,", "now."]
    assert [w.source_index for w in ws] == [0, 1, 1, 1, 1, 1, 2]
    for w in ws:
        a, b = w.span
        assert text[a:b] == w.source


@pytest.mark.parametrize("bad", ["", "   ", "... !!"])
def test_empty_transcript(bad):
    with pytest.raises(TextError, match="empty"):
        normalize(bad)


def test_out_of_table_character_named():
    with pytest.raises(TextError, match="U\\+4F60"):
        normalize("你好 world")


def test_token_table():
    assert NUM_TOKENS == 1 + len(CHARACTERS) == 28
    assert list(CODEPOINTS) == sorted(CODEPOINTS)
    assert encode_word("a'z") == [2, 1, 27]
    with pytest.raises(TokenError):
        encode_word("é")


# ----------------------------------------------------------------------------- TokenTable
from microalign.text import ENGLISH, TokenTable  # noqa: E402
from microalign.text.normalize import (NormalizedWord, languages, normalizer_for, register_normalizer,  # noqa: E402
                                       unregister_normalizer)


def test_english_table_is_the_compat_names():
    assert ENGLISH.tokens == TOKENS and ENGLISH.num_tokens == NUM_TOKENS and ENGLISH.language == "en"
    assert ENGLISH.characters == CHARACTERS and ENGLISH.silence_id == 0 and ENGLISH.symbol(0) == "<sil>"
    assert list(ENGLISH) == list(TOKENS) and ENGLISH[27] == "z" and len(ENGLISH) == 28
    assert ENGLISH.encode_words(["it's", "a"]) == [[10, 21, 1, 20], [2]]
    assert ENGLISH.decode_ids([10, 21, 0, 2]) == "it a"


def test_table_round_trips_and_compares():
    t = TokenTable(("a", "b", "\u00e9", "\u4e2d"), language="qaa-x", silence="_")
    d = t.to_dict()
    assert d == {"format": "microalign-tokens/1", "language": "qaa-x", "silence": "_",
                 "characters": ["a", "b", "\u00e9", "\u4e2d"]}
    back = TokenTable.from_dict(json.loads(json.dumps(d)))
    assert back == t and hash(back) == hash(t) and back != ENGLISH
    assert back.encode_word("\u4e2da") == [4, 1] and back.codepoints == (0x61, 0x62, 0xE9, 0x4E2D)
    again = pickle.loads(pickle.dumps(t))                  # worker processes get the table by pickling
    assert again == t and again.encode_word("b\u00e9") == [2, 3]
    with pytest.raises(AttributeError):
        t.language = "en"                                  # frozen: a model's table cannot drift


@pytest.mark.parametrize("chars, language, match", [
    (("b", "a"), "en", "ascending"),
    (("a", "a"), "en", "ascending"),
    (("ab",), "en", "exactly one code point"),
    ((" ",), "en", "whitespace"),
    (("\n",), "en", "whitespace"),
    ((), "en", "at least one"),
    ("abc", "en", "tuple"),
    (("a",), "English", "language"),
    (("a",), "", "language"),
])
def test_bad_tables_name_the_problem(chars, language, match):
    with pytest.raises(TokenError, match=match):
        TokenTable(chars, language=language)


@pytest.mark.parametrize("d, match", [
    ({"language": "en", "characters": ["a"]}, "format"),
    ({"format": "microalign-tokens/1", "characters": ["a"]}, "language"),
    ({"format": "microalign-tokens/1", "language": "en", "characters": "ab"}, "list"),
    ({"format": "microalign-tokens/1", "language": "en", "characters": ["a"], "silence": "a"}, "silence"),
    ([1, 2], "mapping"),
])
def test_bad_table_dicts(d, match):
    with pytest.raises(TokenError, match=match):
        TokenTable.from_dict(d)


def test_unknown_character_named_with_table():
    with pytest.raises(TokenError, match=r"'\u00e9' \(U\+00E9\) is not in the token table \(language 'en'"):
        ENGLISH.encode_word("caf\u00e9")
    with pytest.raises(TokenError, match="outside this table"):
        ENGLISH.symbol(28)


# ----------------------------------------------------------------------------- normalisers per language
TOY = TokenTable(("a", "i", "k", "n", "\u00f1"), language="qaa")   # a made-up language, private-use tag


def _toy_normalizer(text, table):
    """Words are whitespace tokens; 'x' is spoken 'kan' (a toy expansion); '.' is dropped."""
    out = []
    for i, m in enumerate(re.finditer(r"\S+", text)):
        tok = m.group()
        for w in ("kan" if tok == "x" else tok.strip(".").lower()).split():
            out.append(NormalizedWord(w, tok, i, (m.start(), m.end())))
    return out


@pytest.fixture
def toy_language():
    register_normalizer("qaa", _toy_normalizer)
    yield TOY
    unregister_normalizer("qaa")


def test_non_english_table_plugs_in(toy_language):
    ws = normalize("Ni x \u00f1a.", toy_language)
    assert [(w.text, w.source, w.source_index) for w in ws] == [("ni", "Ni", 0), ("kan", "x", 1),
                                                                 ("\u00f1a", "\u00f1a.", 2)]
    assert [toy_language.encode_word(w.text) for w in ws] == [[4, 2], [3, 1, 4], [5, 1]]
    assert normalizer_for("qaa-x") is _toy_normalizer            # subtags fall back to the language
    assert "qaa" in languages() and "en" in languages()
    # the registry checks what a normaliser returns against the table
    with pytest.raises(TextError, match=r"'z' \(U\+007A\) of 'zi' is not in the token table"):
        normalize("zi", toy_language)
    with pytest.raises(ValueError, match="already registered"):
        register_normalizer("qaa", _toy_normalizer)


def test_english_normaliser_uses_the_tables_characters():
    # an English table without the apostrophe rejects "don't" instead of passing it on
    no_apos = TokenTable(CHARACTERS[1:], language="en-GB")
    assert [w.text for w in normalize("Dogs run", no_apos)] == ["dogs", "run"]
    with pytest.raises(TextError, match="U\\+0027"):
        normalize("don't", no_apos)


def test_language_without_normaliser():
    with pytest.raises(TextError, match="no transcript normaliser for language 'zz'"):
        normalize("a", TokenTable(("a",), language="zz"))


# ----------------------------------------------------------------------------- issue 14: no silent wrong words
@pytest.mark.parametrize("text,spoken", [
    ("$1.5 million", "one point five million dollars"),
    ("$5 billion.", "five billion dollars"),
    ("1990s", "nineteen nineties"),
    ("the '80s", "the eighties"),
    ("100s", "hundreds"),
    ("½", "one half"),
    ("3¾", "three and three quarters"),
    ("3/4", "three quarters"),
    ("¥100", "one hundred yen"),
    ("₹5", "five rupees"),
    ("50¢", "fifty cents"),
    ("me@home", "me at home"),
    ("2+2=4", "two plus two equals four"),
    ("C++", "c plus plus"),
    ("#1 fan", "number one fan"),
    ("25°", "twenty five degrees"),
    # unchanged readings (the device's transcripts stay the same)
    ("$7.50", "seven dollars and fifty cents"),
    ("£10,500.", "ten thousand five hundred pounds"),
    ("1.5 million", "one point five million"),
    ("24/7", "twenty four seven"),
    ("mp3", "mp three"),
])
def test_verbalised(text, spoken):
    assert " ".join(words(text)) == spoken


def test_currency_after_scale_word_maps_to_that_token():
    ws = normalize("about $1.5 million, then")
    assert [(w.text, w.source) for w in ws][1:] == [
        ("one", "$1.5"), ("point", "$1.5"), ("five", "$1.5"), ("million", "million,"), ("dollars", "million,"),
        ("then", "then")]


@pytest.mark.parametrize("text,token,why", [
    ("we won 😀 today", "😀", "U+1F600"),
    ("say 你好 now", "你好", "U+4F60"),
    ("at 2:30:15 sharp", "2:30:15", "number form"),
    ("version 1.2.3", "1.2.3", "number form"),
    ("x → y", "→", "U+2192"),
])
def test_unspeakable_token_named_whole(text, token, why):
    with pytest.raises(TextError) as e:
        normalize(text)
    msg = str(e.value)
    assert f"cannot verbalise {token!r}" in msg and why in msg


def test_byte_order_mark_and_zero_width_space_separate_tokens():
    ws = normalize("\ufeffHello\u200bworld")
    assert [(w.text, w.source) for w in ws] == [("hello", "Hello"), ("world", "world")]
    assert ws[0].span == (1, 6)
