"""Pronunciations (ARPAbet, no stress) for words a teacher's dictionary lacks.

Pocketsphinx can only align words its dictionary (CMUdict) knows. For the
others :class:`Pronouncer` tries, in order:

1. extra lexicon files (``WORD  PH ON ES`` per line, ARPAbet, stress digits
   allowed: speechocean762's ``lexicon.txt`` is one);
2. a derived form of a dictionary word: ``X's`` / ``Xs`` from ``X``
   (adding S, Z or IH Z after the last phone as English does); for an
   unknown ``X's`` the guess for ``X`` (steps 3-4) plus that suffix;
3. espeak-ng's letter-to-sound rules (the ``espeak-ng`` program, IPA output
   mapped to ARPAbet), when the program is installed;
4. a small built-in grapheme-to-phoneme rule set (crude, but it always gives
   a pronunciation of about the right length, which is what alignment needs).

The source of each pronunciation is reported so callers can count how many
words were guessed.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Callable, Iterable

#: The 39 ARPAbet phones of CMUdict (the pocketsphinx en-us model's phone set, besides SIL).
ARPABET = frozenset("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
                    "UH UW V W Y Z ZH".split())

_VOICELESS_NONSIBILANT = {"P", "T", "K", "F", "TH"}
_SIBILANT = {"S", "Z", "SH", "ZH", "CH", "JH"}


class LexiconError(ValueError):
    """A lexicon file that cannot be read, or a pronunciation with a phone outside ARPAbet."""


def strip_stress(phones: Iterable[str]) -> list[str]:
    """ARPAbet phones without stress digits (``AH0`` -> ``AH``), upper case."""
    return [re.sub(r"\d$", "", p.upper()) for p in phones]


def read_lexicon(path: str | Path) -> dict[str, list[list[str]]]:
    """A pronunciation lexicon: lower-case word -> pronunciations (stress removed), in file order.

    Lines are ``WORD PH ON ES`` separated by spaces or tabs; ``WORD(2)``
    alternates and ``#`` comment lines are accepted. Raises :class:`LexiconError`
    naming the file and line for a phone outside ARPAbet.
    """
    path = Path(path)
    if not path.is_file():
        raise LexiconError(f"lexicon not found: {path}")
    lex: dict[str, list[list[str]]] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) < 2:
                raise LexiconError(f"{path}:{lineno}: expected 'WORD PHONES...', got {line[:60]!r}")
            word = re.sub(r"\(\d+\)$", "", parts[0]).lower()
            phones = strip_stress(parts[1:])
            bad = [p for p in phones if p not in ARPABET]
            if bad:
                raise LexiconError(f"{path}:{lineno}: phone {bad[0]!r} of {parts[0]!r} is not ARPAbet")
            prons = lex.setdefault(word, [])
            if phones not in prons:
                prons.append(phones)
    return lex


def plural_suffix(phones: list[str]) -> list[str]:
    """The phones English adds for -s / -'s after a word ending in ``phones``."""
    last = phones[-1] if phones else ""
    if last in _SIBILANT:
        return ["IH", "Z"]
    if last in _VOICELESS_NONSIBILANT:
        return ["S"]
    return ["Z"]


# ----------------------------------------------------------------------------- espeak-ng letter-to-sound

# IPA (as espeak-ng writes it for en-us) -> ARPAbet; longest symbols first.
_IPA = [
    ("aɪə", ["AY", "ER"]), ("aʊə", ["AW", "ER"]),
    ("tʃ", ["CH"]), ("dʒ", ["JH"]), ("aɪ", ["AY"]), ("aʊ", ["AW"]), ("ɔɪ", ["OY"]), ("eɪ", ["EY"]),
    ("oʊ", ["OW"]), ("əʊ", ["OW"]), ("ɪə", ["IH", "R"]), ("ɛə", ["EH", "R"]), ("ʊə", ["UH", "R"]),
    ("ɜː", ["ER"]), ("ɑː", ["AA"]), ("ɔː", ["AO"]), ("iː", ["IY"]), ("uː", ["UW"]), ("oː", ["OW"]),
    ("eː", ["EY"]), ("aː", ["AA"]), ("ɐ", ["AH"]), ("ə", ["AH"]), ("ɚ", ["ER"]), ("ɝ", ["ER"]), ("ɜ", ["ER"]),
    ("ᵻ", ["IH"]), ("ɪ", ["IH"]), ("i", ["IY"]), ("ɛ", ["EH"]), ("e", ["EH"]), ("æ", ["AE"]), ("a", ["AE"]),
    ("ɑ", ["AA"]), ("ɒ", ["AA"]), ("ɔ", ["AO"]), ("o", ["OW"]), ("ʌ", ["AH"]), ("ʊ", ["UH"]), ("u", ["UW"]),
    ("y", ["UW"]), ("ɹ", ["R"]), ("r", ["R"]), ("ɾ", ["T"]), ("l", ["L"]), ("ɫ", ["L"]), ("m", ["M"]),
    ("n", ["N"]), ("ŋ", ["NG"]), ("p", ["P"]), ("b", ["B"]), ("t", ["T"]), ("d", ["D"]), ("k", ["K"]),
    ("ɡ", ["G"]), ("g", ["G"]), ("f", ["F"]), ("v", ["V"]), ("θ", ["TH"]), ("ð", ["DH"]), ("s", ["S"]),
    ("z", ["Z"]), ("ʃ", ["SH"]), ("ʒ", ["ZH"]), ("h", ["HH"]), ("x", ["K"]), ("ç", ["HH"]), ("w", ["W"]),
    ("ʍ", ["W"]), ("j", ["Y"]), ("ʔ", []),
]
_IPA_SKIP = set("ˈˌːˑ.‿-_ ")


def ipa_to_arpabet(ipa: str) -> list[str]:
    """ARPAbet phones of an IPA string (espeak-ng's en-us output); unknown symbols are skipped."""
    s = "".join(c for c in unicodedata.normalize("NFD", ipa) if unicodedata.category(c) != "Mn")
    out: list[str] = []
    i = 0
    while i < len(s):
        if s[i] in _IPA_SKIP:
            i += 1
            continue
        for sym, ph in _IPA:
            if s.startswith(sym, i):
                out += ph
                i += len(sym)
                break
        else:
            i += 1
    return out


class EspeakLTS:
    """espeak-ng's letter-to-sound rules through its command-line program (``espeak-ng -q --ipa``)."""

    def __init__(self, program: str = "espeak-ng", voice: str = "en-us"):
        self.program = shutil.which(program)
        self.voice = voice

    @property
    def available(self) -> bool:
        return self.program is not None

    def __call__(self, word: str) -> list[str] | None:
        if not self.program or not re.fullmatch(r"[A-Za-z']+", word):
            return None
        try:
            r = subprocess.run([self.program, "-q", "--ipa", "-v", self.voice, word],
                               capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if r.returncode != 0:
            return None
        phones = ipa_to_arpabet(r.stdout.strip())
        return phones or None


# ----------------------------------------------------------------------------- built-in rules (last resort)

_RULES = [
    ("tch", ["CH"]), ("igh", ["AY"]), ("sch", ["S", "K"]), ("tion", ["SH", "AH", "N"]), ("sion", ["ZH", "AH", "N"]),
    ("ch", ["CH"]), ("sh", ["SH"]), ("th", ["TH"]), ("ph", ["F"]), ("wh", ["W"]), ("ng", ["NG"]), ("ck", ["K"]),
    ("qu", ["K", "W"]), ("kn", ["N"]), ("wr", ["R"]), ("gh", ["G"]), ("ee", ["IY"]), ("ea", ["IY"]),
    ("oo", ["UW"]), ("ai", ["EY"]), ("ay", ["EY"]), ("oa", ["OW"]), ("ou", ["AW"]), ("ow", ["OW"]),
    ("oi", ["OY"]), ("oy", ["OY"]), ("au", ["AO"]), ("aw", ["AO"]), ("ew", ["UW"]), ("ie", ["IY"]),
    ("er", ["ER"]), ("ir", ["ER"]), ("ur", ["ER"]), ("ar", ["AA", "R"]), ("or", ["AO", "R"]),
    ("a", ["AE"]), ("b", ["B"]), ("c", ["K"]), ("d", ["D"]), ("e", ["EH"]), ("f", ["F"]), ("g", ["G"]),
    ("h", ["HH"]), ("i", ["IH"]), ("j", ["JH"]), ("k", ["K"]), ("l", ["L"]), ("m", ["M"]), ("n", ["N"]),
    ("o", ["AA"]), ("p", ["P"]), ("q", ["K"]), ("r", ["R"]), ("s", ["S"]), ("t", ["T"]), ("u", ["AH"]),
    ("v", ["V"]), ("w", ["W"]), ("x", ["K", "S"]), ("y", ["IY"]), ("z", ["Z"]),
]


def rule_lts(word: str) -> list[str]:
    """A rough ARPAbet pronunciation from spelling alone (greedy grapheme rules).

    Silent final ``e``, doubled consonants and apostrophes are dropped;
    ``c`` before e/i/y is S; ``y`` starting a word is Y. Never empty for a
    word with a letter.
    """
    w = re.sub(r"[^a-z]", "", word.lower())
    if len(w) > 3 and w.endswith("e") and not w.endswith(("ee", "ie", "ye")):
        w = w[:-1]
    w = re.sub(r"([b-df-hj-np-tv-z])\1", r"\1", w)
    out: list[str] = []
    i = 0
    while i < len(w):
        if w[i] == "c" and i + 1 < len(w) and w[i + 1] in "eiy":
            out.append("S")
            i += 1
            continue
        if w[i] == "y" and i == 0:
            out.append("Y")
            i += 1
            continue
        for g, ph in _RULES:
            if w.startswith(g, i):
                out += ph
                i += len(g)
                break
        else:
            i += 1
    if not out and w:
        out = ["AH"]
    return out


# ----------------------------------------------------------------------------- the chain


class Pronouncer:
    """Pronunciations for words outside a base dictionary, with the source of each.

    ``lookup`` is the base dictionary (word -> ARPAbet string or None), used
    for derived forms. ``letter_to_sound`` is ``"auto"`` (espeak-ng when
    installed, else the built-in rules), ``"espeak"`` (required), ``"rules"``
    or ``"none"`` (words in no lexicon then raise :class:`LexiconError`).
    """

    def __init__(self, lookup: Callable[[str], str | None], lexicons: Iterable[str | Path] = (),
                 letter_to_sound: str = "auto"):
        if letter_to_sound not in ("auto", "espeak", "rules", "none"):
            raise ValueError(f"letter_to_sound must be auto, espeak, rules or none, not {letter_to_sound!r}")
        self.lookup = lookup
        self.lexicon: dict[str, list[list[str]]] = {}
        for p in lexicons:
            for w, prons in read_lexicon(p).items():
                self.lexicon.setdefault(w, prons)
        self.espeak = EspeakLTS() if letter_to_sound in ("auto", "espeak") else None
        if letter_to_sound == "espeak" and not self.espeak.available:
            raise LexiconError("letter_to_sound='espeak' needs the espeak-ng program on PATH")
        self.rules = letter_to_sound in ("auto", "rules")

    def _base(self, word: str) -> list[str] | None:
        s = self.lookup(word)
        if s:
            return s.split()
        if word in self.lexicon:
            return list(self.lexicon[word][0])
        return None

    def __call__(self, word: str) -> tuple[list[str], str]:
        """(phones, source) for a word the base dictionary lacks; source is lexicon/derived/espeak/rules."""
        w = word.lower()
        if w in self.lexicon:
            return list(self.lexicon[w][0]), "lexicon"
        for stem in (w[:-2] if w.endswith("'s") else None, w[:-1] if w.endswith("s") else None):
            if stem and len(stem) > 1:
                base = self._base(stem)
                if base:
                    return base + plural_suffix(base), "derived"
        if w.endswith("'s") and len(w) > 3:
            # an unknown word's possessive: guess the word, add the suffix English adds
            stem_phones, source = self(w[:-2])
            return stem_phones + plural_suffix(stem_phones), source
        if self.espeak is not None and self.espeak.available:
            ph = self.espeak(w)
            if ph:
                return ph, "espeak"
        if self.rules:
            ph = rule_lts(w)
            if ph:
                return ph, "rules"
        raise LexiconError(f"no pronunciation for {word!r}: not in the dictionary or the extra lexicons,"
                           " and letter-to-sound is off")
