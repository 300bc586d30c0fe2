import pytest

from microalign.text import TextError, normalize
from microalign.text.tokens import CHARACTERS, CODEPOINTS, NUM_TOKENS, TokenError, encode_word


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
