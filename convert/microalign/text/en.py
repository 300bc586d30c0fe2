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

Numbers are verbalised by ``num2words`` (cardinals, ordinals, years); the
rules here only decide which reading a written form has. (Full text
normalisation grammars such as NeMo's need pynini, Linux-only wheels and
minutes of grammar compilation: no fit for a light install that starts in
under a second.) Rules, in order:

- Unicode NFKC, curly quotes and apostrophes folded to ASCII, accents
  stripped (café -> cafe), lower case; a byte-order mark or zero-width space
  separates tokens.
- Numbers: cardinals "42", "1,250", decimals "3.5" ("three point five"),
  ordinals "21st", years "1999" as a year, decades and plurals "1990s"
  ("nineteen nineties"), "'80s", "7s"; money "$7.50", "£3", "€2", "¥100",
  "₹5", "50¢", with a scale word "$1.5 million" ("one point five million
  dollars"); "50%"; fractions "½", "3¾" ("three and three quarters"), "3/4";
  times "10:45"; negatives "-3".
- Symbols said aloud: "&" and, "@" at, "+" plus, "=" equals, "%" percent,
  "#5" number five, "°" degrees, "×" times.
- Hyphens, slashes, dashes, "_", "|" and "~" split words.
- Apostrophes stay inside words ("don't", "o'clock") and are dropped at a
  word's edges (quotes, "dogs'" -> "dogs").
- Other punctuation is removed.
- Anything else -- a letter outside the token table (CJK, say), an emoji or
  another symbol, a number form with no reading ("2:30:15", "1.2.3") --
  raises :class:`TextError` naming the whole token; nothing is dropped or
  guessed silently.
"""
from __future__ import annotations

import re
import unicodedata

from num2words import num2words

from .normalize import NormalizedWord, TextError
from .tokens import ENGLISH, TokenTable

_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2032": "'", "`": "'",
                       "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2212": "-"})
#: currency symbol -> (one, many, one of the subunit, many of the subunit); subunit None: none spoken
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
             "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", None, None),
             "₹": ("rupee", "rupees", "paisa", "paise"), "₩": ("won", "won", None, None),
             "₽": ("ruble", "rubles", "kopek", "kopeks")}
_CUR = "".join(_CURRENCY)
_SCALES = ("hundred", "thousand", "million", "billion", "trillion")
#: symbols said aloud, wherever they stand
_SAID = {"&": "and", "@": "at", "+": "plus", "=": "equals", "°": "degrees", "×": "times"}
#: vulgar fractions (before NFKC, which would turn "3½" into "31⁄2")
_VULGAR = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5),
           "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅐": (1, 7), "⅛": (1, 8), "⅜": (3, 8),
           "⅝": (5, 8), "⅞": (7, 8), "⅑": (1, 9), "⅒": (1, 10)}
_RE_VULGAR = re.compile(r"(\d?)([" + "".join(_VULGAR) + r"])")
_FRAC = "\u2044"          # FRACTION SLASH: "3/4" and "½" become "3⁄4", one piece
_NUM = r"\d{1,3}(?:,\d{3})+|\d+"
_RE_MONEY = re.compile(rf"^([{_CUR}])({_NUM})(?:\.(\d+))?$")
_RE_CENTS = re.compile(r"^(\d+)¢$")
_RE_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_RE_ORD = re.compile(r"^(\d+)(st|nd|rd|th)$")
_RE_PLURAL = re.compile(r"^(\d+)s$")
_RE_PCT = re.compile(rf"^(-?(?:{_NUM})(?:\.\d+)?)%$")
_RE_DEC = re.compile(rf"^(-?)({_NUM})\.(\d+)$")
_RE_INT = re.compile(rf"^(-?)({_NUM})$")
_RE_FRACTION = re.compile(rf"^(\d+){_FRAC}(\d+)$")
_RE_ASCII_FRACTION = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")
_RE_TOKEN = re.compile(r"[^\s\ufeff\u200b\u2060]+")
_RE_PIECE = re.compile(rf"[{_CUR}]?-?\d[\d,.:{_FRAC}]*(?:st|nd|rd|th|s|%|¢)?|[^\W\d_](?:[^\W\d_]|')*|'(?:[^\W\d_]|')*",
                       re.UNICODE)
_SEPARATORS = "/\\_|~-"


def _words(s: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", s.lower().replace("-", " ")).split()


def _plural(word: str) -> str:
    """"ninety" -> "nineties", "six" -> "sixes", "seven" -> "sevens"."""
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "o", "u"):
        return word[:-1] + "ies"
    if word.endswith(("s", "x")):
        return word + "es"
    return word + "s"


def _fraction_words(num: int, den: int) -> list[str]:
    """3/4 -> "three quarters", 1/2 -> "one half", 5/8 -> "five eighths"."""
    if den == 2:
        part = ["half" if num == 1 else "halves"]
    elif den == 4:
        part = ["quarter" if num == 1 else "quarters"]
    else:
        part = _words(num2words(den, to="ordinal"))
        if num != 1:
            part[-1] = _plural(part[-1])
    return _words(num2words(num)) + part


def _cardinal_or_decimal(whole: str, frac: str | None) -> list[str]:
    out = _words(num2words(int(whole.replace(",", ""))))
    if frac:
        out += ["point"] + [_words(num2words(int(d)))[0] for d in frac]
    return out


def _number_words(piece: str, scale_follows: bool = False) -> tuple[list[str], list[str]] | None:
    """Spoken words for a numeric piece, or None if it is not one; the second list holds words
    said after the next token (the currency of "$1.5 million": "... million dollars")."""
    m = _RE_MONEY.match(piece)
    if m:
        sym, whole, frac = m.groups()
        one, many, sub1, subn = _CURRENCY[sym]
        if scale_follows:                       # "$1.5 million": one point five million dollars
            return _cardinal_or_decimal(whole, frac), [many]
        n = int(whole.replace(",", ""))
        if frac and (len(frac) > 2 or sub1 is None):
            return _cardinal_or_decimal(whole, frac) + [many], []     # "¥1.5", "$0.125": point reading
        out = _words(num2words(n)) + [one if n == 1 else many]
        if frac:
            c = int(frac.ljust(2, "0"))
            if c:
                out += ["and"] + _words(num2words(c)) + [sub1 if c == 1 else subn]
        return out, []
    m = _RE_CENTS.match(piece)
    if m:
        c = int(m.group(1))
        return _words(num2words(c)) + ["cent" if c == 1 else "cents"], []
    m = _RE_TIME.match(piece)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        h, mi = int(m.group(1)), int(m.group(2))
        out = _words(num2words(h))
        if mi == 0:
            return out + ["o'clock"], []
        return out + (["oh"] if mi < 10 else []) + _words(num2words(mi)), []
    m = _RE_ORD.match(piece)
    if m:
        return _words(num2words(int(m.group(1)), to="ordinal")), []
    m = _RE_PLURAL.match(piece)                 # "1990s", "80s", "7s"
    if m:
        digits = m.group(1)
        n = int(digits)
        out = (_words(num2words(n, to="year")) if len(digits) == 4 and 1100 <= n <= 2099
               else _words(num2words(n)))
        if len(out) == 2 and out[0] == "one" and out[1] in _SCALES:
            out = out[1:]                       # "100s" -> "hundreds"
        out[-1] = _plural(out[-1])
        return out, []
    m = _RE_FRACTION.match(piece)
    if m:
        num, den = int(m.group(1)), int(m.group(2))
        if den < 2:
            return None
        return _fraction_words(num, den), []
    m = _RE_PCT.match(piece)
    if m:
        r = _number_words(m.group(1))
        return ((r[0] if r else []) + ["percent"]), []
    m = _RE_DEC.match(piece)
    if m:
        sign, whole, frac = m.groups()
        return (["minus"] if sign else []) + _cardinal_or_decimal(whole, frac), []
    m = _RE_INT.match(piece)
    if m:
        sign, digits = m.groups()
        n = int(digits.replace(",", ""))
        if not sign and "," not in digits and len(digits) == 4 and 1100 <= n <= 2099 and n % 100:
            return _words(num2words(n, to="year")), []
        return (["minus"] if sign else []) + _words(num2words(n)), []
    return None


def _unfraction(token: str) -> str:
    """Vulgar fractions before NFKC: "½" -> "1⁄2", "3¾" -> "3 and 3⁄4"."""
    def sub(m: re.Match) -> str:
        num, den = _VULGAR[m.group(2)]
        return (f"{m.group(1)} and " if m.group(1) else "") + f"{num}{_FRAC}{den}"

    return _RE_VULGAR.sub(sub, token)


def _fold(token: str) -> str:
    token = unicodedata.normalize("NFKC", _unfraction(token)).translate(_FOLD)
    decomposed = unicodedata.normalize("NFD", token)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


def _unspeakable(token: str, what: str) -> TextError:
    return TextError(f"cannot verbalise {token!r}: {what}; write it out as it is spoken")


def _char_name(ch: str) -> str:
    return f"{ch!r} (U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')})"


def _token_words(token: str, table: TokenTable, scale_follows: bool = False) -> tuple[list[str], list[str]]:
    """The spoken words of one whitespace-separated token, and words said after the next one."""
    t = _fold(token)
    t = _RE_ASCII_FRACTION.sub(lambda m: f"{m.group(1)}{_FRAC}{m.group(2)}"
                               if 0 < int(m.group(1)) < int(m.group(2)) <= 16 else m.group(0), t)
    t = re.sub(r"#(?=\d)", " number ", t)
    for sym, word in _SAID.items():
        t = t.replace(sym, f" {word} ")
    t = re.sub(r"(?<=\s)%|^%", " percent ", t)
    t = re.sub(r"[/\\_|~]", " ", t)
    out: list[str] = []
    deferred: list[str] = []
    chunks = [c for c in re.split(r"(?<=[^\d])-|-(?=[^\d])|\s+", t) if c]
    for ci, chunk in enumerate(chunks):
        pieces = _RE_PIECE.findall(chunk)
        for pi, piece in enumerate(pieces):
            piece = piece.rstrip(".,:")
            if not piece:
                continue
            if re.search(r"\d", piece):
                last = ci == len(chunks) - 1 and pi == len(pieces) - 1
                num = _number_words(piece, scale_follows and last)
                if num is not None:
                    out += num[0]
                    deferred += num[1]
                    continue
                if not re.fullmatch(r"[^\W_]+", piece):
                    raise _unspeakable(token, f"no reading for the number form {piece!r}")
                # digits mixed with letters ("mp3", "4x4"): read digits one by one
                for part in re.findall(r"\d|[^\d]+", piece):
                    r = _number_words(part)
                    out += r[0] if r else _clean(part, table, token)
                continue
            out += _clean(piece, table, token)
        for ch in _RE_PIECE.sub(" ", chunk):
            cat = unicodedata.category(ch)
            if ch.isspace() or cat[0] in "PZ" or cat in ("Mn", "Cf"):
                continue                      # punctuation, spaces, joiners: not spoken
            if cat[0] in "LN" and not table.has_char(ch):
                raise _unspeakable(token, f"{_char_name(ch)} is not in the token table "
                                          f"(language {table.language!r})")
            raise _unspeakable(token, f"no spoken form for {_char_name(ch)}")
    return out, deferred


def _clean(piece: str, table: TokenTable, token: str) -> list[str]:
    w = piece.strip("'")
    bad = [c for c in w if not table.has_char(c)]
    if bad:
        raise _unspeakable(token, f"{_char_name(bad[0])} is not in the token table (language {table.language!r})")
    return [w] if w else []


def _scale_word(token: str | None) -> bool:
    return token is not None and _fold(token).strip(".,;:!?\"')(") in _SCALES


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
    tokens = list(_RE_TOKEN.finditer(text))
    carry: list[str] = []                       # "dollars" of "$1.5 million", said after "million"
    for i, m in enumerate(tokens):
        nxt = tokens[i + 1].group() if i + 1 < len(tokens) else None
        spoken, deferred = _token_words(m.group(), table, scale_follows=_scale_word(nxt))
        for w in spoken + carry:
            out.append(NormalizedWord(w, m.group(), i, (m.start(), m.end())))
        carry = deferred
    if not out:
        raise TextError("transcript is empty (no words to align)")
    return out
