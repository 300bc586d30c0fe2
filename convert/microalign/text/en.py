"""English transcript normalisation: written text -> spoken words.

The normaliser of tables whose language is ``en`` (registered in
:mod:`microalign.text.normalize`; call it through
:func:`~microalign.text.normalize.normalize`). Every output word remembers
where it came from: the original token (as written, punctuation included),
its index among the transcript's whitespace-separated tokens, and its
character span in the transcript. One written token can give several spoken
words ("1,250" -> "one thousand two hundred and fifty", "well-known" ->
"well known"); the aligner reports times per spoken word and the writers can
regroup them by source token.

Rules, in order:
- Unicode NFKC, curly quotes and apostrophes folded to ASCII, accents
  stripped (café -> cafe), lower case.
- Numbers (num2words): cardinals "42", "1,250", decimals "3.5" ("three point
  five"), ordinals "21st", years "1999" as a year, "$7.50", "£3", "50%",
  times "10:45", negatives "-3".
- Hyphens, slashes and dashes split words; "&" -> "and".
- Apostrophes stay inside words ("don't", "o'clock") and are dropped at a
  word's edges (quotes, "dogs'" -> "dogs").
- Other punctuation is removed. A character that is none of the above and
  is not in the token table (for example CJK) raises :class:`TextError`
  naming it.
"""
from __future__ import annotations

import re
import unicodedata

from num2words import num2words

from .normalize import NormalizedWord, TextError
from .tokens import ENGLISH, TokenTable

_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "`": "'",
                       "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2212": "-"})
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
             "€": ("euro", "euros", "cent", "cents")}
_NUM = r"\d{1,3}(?:,\d{3})+|\d+"
_RE_MONEY = re.compile(rf"^([$£€])({_NUM})(?:\.(\d{{1,2}}))?$")
_RE_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_RE_ORD = re.compile(r"^(\d+)(st|nd|rd|th)$")
_RE_PCT = re.compile(rf"^(-?(?:{_NUM})(?:\.\d+)?)%$")
_RE_DEC = re.compile(rf"^(-?)({_NUM})\.(\d+)$")
_RE_INT = re.compile(rf"^(-?)({_NUM})$")
_RE_TOKEN = re.compile(r"\S+")
_RE_PIECE = re.compile(r"[$£€]?-?\d[\d,.:]*(?:st|nd|rd|th|%)?|[^\W\d_](?:[^\W\d_]|')*|'(?:[^\W\d_]|')*", re.UNICODE)


def _words(s: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", s.lower().replace("-", " ")).split()


def _number_words(piece: str) -> list[str] | None:
    """Spoken words for a numeric piece, or None if it is not one."""
    m = _RE_MONEY.match(piece)
    if m:
        sym, whole, frac = m.groups()
        one, many, sub1, subn = _CURRENCY[sym]
        n = int(whole.replace(",", ""))
        out = _words(num2words(n)) + [one if n == 1 else many]
        if frac:
            c = int(frac.ljust(2, "0"))
            if c:
                out += ["and"] + _words(num2words(c)) + [sub1 if c == 1 else subn]
        return out
    m = _RE_TIME.match(piece)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        h, mi = int(m.group(1)), int(m.group(2))
        out = _words(num2words(h))
        if mi == 0:
            return out + ["o'clock"]
        return out + (["oh"] if mi < 10 else []) + _words(num2words(mi))
    m = _RE_ORD.match(piece)
    if m:
        return _words(num2words(int(m.group(1)), to="ordinal"))
    m = _RE_PCT.match(piece)
    if m:
        return (_number_words(m.group(1)) or []) + ["percent"]
    m = _RE_DEC.match(piece)
    if m:
        sign, whole, frac = m.groups()
        out = (["minus"] if sign else []) + _words(num2words(int(whole.replace(",", ""))))
        return out + ["point"] + [_words(num2words(int(d)))[0] for d in frac]
    m = _RE_INT.match(piece)
    if m:
        sign, digits = m.groups()
        n = int(digits.replace(",", ""))
        if not sign and "," not in digits and len(digits) == 4 and 1100 <= n <= 2099 and n % 100:
            return _words(num2words(n, to="year"))
        return (["minus"] if sign else []) + _words(num2words(n))
    return None


def _fold(token: str) -> str:
    token = unicodedata.normalize("NFKC", token).translate(_FOLD)
    decomposed = unicodedata.normalize("NFD", token)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


def _token_words(token: str, table: TokenTable) -> list[str]:
    t = _fold(token).replace("&", " and ")
    t = re.sub(r"[/\\_+=|~]", " ", t)
    out: list[str] = []
    for chunk in re.split(r"(?<=[^\d])-|-(?=[^\d])|\s+", t):
        if not chunk:
            continue
        for piece in _RE_PIECE.findall(chunk):
            piece = piece.rstrip(".,:")
            if not piece:
                continue
            num = _number_words(piece) if re.search(r"\d", piece) else None
            if num is not None:
                out += num
                continue
            if re.search(r"\d", piece):
                # digits mixed with letters ("mp3", "4x4"): read digits one by one
                for part in re.findall(r"\d|[^\d]+", piece):
                    out += _number_words(part) or _clean(part, table)
                continue
            out += _clean(piece, table)
        leftover = _RE_PIECE.sub(" ", chunk)
        for ch in leftover:
            if ch.isalnum() and not table.has_char(ch):
                raise TextError(f"character {ch!r} (U+{ord(ch):04X}) is not in the token table")
    return out


def _clean(piece: str, table: TokenTable) -> list[str]:
    w = piece.strip("'")
    bad = [c for c in w if not table.has_char(c)]
    if bad:
        raise TextError(f"character {bad[0]!r} (U+{ord(bad[0]):04X}) is not in the token table")
    return [w] if w else []


def normalize(text: str, table: TokenTable = ENGLISH) -> list[NormalizedWord]:
    """Spoken words of an English transcript, each mapped back to its source token.

    ``table`` gives the characters a word may contain (the apostrophe and
    a-z for :data:`~microalign.text.tokens.ENGLISH`). Raises
    :class:`TextError` for an empty transcript (nothing speakable) or a
    character outside the table.
    """
    if not isinstance(text, str):
        raise TextError(f"transcript must be a string, not {type(text).__name__}")
    out: list[NormalizedWord] = []
    for i, m in enumerate(_RE_TOKEN.finditer(text)):
        for w in _token_words(m.group(), table):
            out.append(NormalizedWord(w, m.group(), i, (m.start(), m.end())))
    if not out:
        raise TextError("transcript is empty (no words to align)")
    return out
