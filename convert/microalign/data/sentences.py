"""A deterministic generator of varied English sentences for speech synthesis.

Three kinds of sentence, mixed:

- **template** sentences: small grammatical frames ("the old man will carry
  the basket to the river.") with slots filled from hand-written word
  classes, so the TTS engines get natural phrasing and intonation;
- **frequency** sentences: function words interleaved with content words
  drawn from :func:`microalign.data.wordlist.load_word_list` (the 12,000 most
  frequent English words, by rank) with a Zipf-like weight, so the long tail
  of spellings appears;
- **numeric/punctuated** variants of either: numbers, years, money, times,
  ordinals, percentages, hyphenated words, commas, questions and quotes, to
  exercise :mod:`microalign.text.normalize`.

Sentences are 3–20 words long as written (more after numbers are spelled
out). Everything depends only on the seed.

The word list is generated data (``data/wordlist.txt``):
:func:`microalign.data.wordlist.build_word_list` rebuilds it from PyPI
``wordfreq`` (needed only for that) and the CMU dictionary shipped with
festival (to drop acronyms and junk); ``python -m microalign.data.wordlist --help``.
"""
from __future__ import annotations

import bisect
import random
import re
from typing import Iterator

FUNCTION_WORDS: tuple[str, ...] = (
    "the", "a", "an", "of", "to", "in", "and", "or", "but", "for", "with", "on", "at", "by", "from", "as", "into",
    "over", "under", "after", "before", "about", "than", "that", "this", "these", "those", "it", "he", "she",
    "they", "we", "you", "i", "his", "her", "their", "our", "my", "your", "its", "is", "was", "are", "were",
    "be", "been", "has", "had", "have", "will", "would", "can", "could", "should", "may", "might", "must",
    "not", "no", "so", "if", "when", "while", "where", "there", "here", "then", "some", "any", "all", "each",
    "every", "very", "too", "also", "just", "only", "what", "which", "who", "how", "why", "because", "through",
    "up", "down", "out", "off", "again", "still", "never", "always", "often", "much", "many", "more", "most",
)

NOUNS: tuple[str, ...] = (
    "man", "woman", "child", "girl", "boy", "teacher", "doctor", "farmer", "driver", "student", "artist",
    "neighbour", "captain", "baker", "nurse", "pilot", "singer", "soldier", "lawyer", "engineer", "king",
    "queen", "friend", "family", "dog", "cat", "horse", "bird", "fish", "rabbit", "mouse", "sheep", "goat",
    "house", "garden", "river", "mountain", "village", "city", "street", "road", "bridge", "forest", "field",
    "window", "door", "table", "chair", "kitchen", "office", "school", "market", "station", "library",
    "hospital", "church", "island", "valley", "lake", "ocean", "beach", "desert", "castle", "tower", "farm",
    "basket", "letter", "book", "paper", "pencil", "bottle", "glass", "cup", "plate", "knife", "spoon",
    "coat", "shirt", "shoe", "hat", "umbrella", "ladder", "rope", "box", "bag", "key", "lamp", "clock",
    "picture", "mirror", "blanket", "pillow", "bread", "cheese", "apple", "orange", "potato", "carrot",
    "soup", "coffee", "tea", "milk", "water", "sugar", "salt", "butter", "cake", "music", "song", "story",
    "question", "answer", "problem", "idea", "plan", "reason", "money", "price", "weather", "storm", "rain",
    "snow", "wind", "sun", "moon", "star", "sky", "cloud", "fire", "stone", "wood", "iron", "gold", "silver",
    "car", "train", "boat", "ship", "plane", "bicycle", "engine", "wheel", "machine", "computer", "phone",
    "camera", "radio", "newspaper", "message", "meeting", "party", "holiday", "morning", "evening", "night",
    "week", "month", "year", "summer", "winter", "autumn", "spring", "minute", "hour", "corner", "edge",
    "floor", "wall", "roof", "garage", "shop", "factory", "museum", "theatre", "concert", "game", "team",
    "ball", "map", "ticket", "journey", "road", "path", "hill", "cave", "tree", "flower", "grass", "leaf",
)

ADJECTIVES: tuple[str, ...] = (
    "old", "young", "new", "big", "small", "little", "long", "short", "tall", "heavy", "light", "dark",
    "bright", "quiet", "loud", "soft", "hard", "warm", "cold", "hot", "cool", "wet", "dry", "clean", "dirty",
    "empty", "full", "happy", "sad", "angry", "tired", "hungry", "busy", "lazy", "clever", "brave", "gentle",
    "strange", "famous", "careful", "honest", "polite", "rich", "poor", "cheap", "expensive", "beautiful",
    "ugly", "red", "blue", "green", "yellow", "black", "white", "brown", "grey", "golden", "wooden", "narrow",
    "wide", "deep", "shallow", "sharp", "smooth", "rough", "sweet", "bitter", "fresh", "rotten", "early",
    "late", "quick", "slow", "simple", "difficult", "important", "ordinary", "curious", "silent", "broken",
)

VERBS_PAST: tuple[str, ...] = (
    "carried", "found", "lost", "bought", "sold", "painted", "opened", "closed", "cleaned", "fixed", "broke",
    "took", "brought", "moved", "pushed", "pulled", "watched", "followed", "saw", "heard", "left", "kept",
    "washed", "cooked", "built", "dropped", "lifted", "hid", "showed", "noticed", "visited", "remembered",
    "forgot", "wanted", "needed", "liked", "loved", "hated", "checked", "counted", "described", "packed",
    "borrowed", "returned", "ordered", "covered", "filled", "emptied", "passed", "reached", "caught", "threw",
)

VERBS_BASE: tuple[str, ...] = (
    "carry", "find", "lose", "buy", "sell", "paint", "open", "close", "clean", "fix", "break", "take", "bring",
    "move", "push", "pull", "watch", "follow", "see", "hear", "leave", "keep", "wash", "cook", "build", "drop",
    "lift", "hide", "show", "visit", "remember", "forget", "check", "count", "describe", "pack", "borrow",
    "return", "order", "cover", "fill", "pass", "reach", "catch", "throw", "explain", "answer", "finish",
)

VERBS_INTRANSITIVE: tuple[str, ...] = (
    "slept", "laughed", "waited", "smiled", "arrived", "disappeared", "shouted", "whispered", "danced",
    "worked", "listened", "stopped", "returned", "fell", "ran", "walked", "swam", "sang", "cried", "stayed",
    "trembled", "hurried", "paused", "agreed", "complained", "wondered",
)

ADVERBS: tuple[str, ...] = (
    "slowly", "quickly", "quietly", "loudly", "carefully", "suddenly", "happily", "badly", "softly", "early",
    "late", "again", "yesterday", "today", "tomorrow", "outside", "inside", "together", "alone", "twice",
)

PREPOSITIONS: tuple[str, ...] = (
    "to", "from", "into", "behind", "beside", "near", "under", "over", "across", "along", "through", "past",
    "towards", "inside", "outside", "around", "above", "below", "between", "without",
)

NAMES: tuple[str, ...] = (
    "John", "Mary", "Peter", "Susan", "David", "Emma", "Robert", "Linda", "James", "Sarah", "Thomas", "Anna",
    "Michael", "Laura", "George", "Helen", "Daniel", "Rachel", "Oliver", "Grace", "Henry", "Alice", "Samuel",
)

_TEMPLATES: tuple[str, ...] = (
    "{det} {adj} {noun} {vpast} {det} {noun}",
    "{det} {noun} {vpast} {det} {adj} {noun} {prep} {det} {noun}",
    "{name} {vpast} {det} {noun} {adv}",
    "{name} and {name} {vintr} {prep} {det} {noun}",
    "{pron} will {vbase} {det} {noun} {prep} {det} {adj} {noun}",
    "did {det} {noun} {vbase} {det} {noun}?",
    "why did {name} {vbase} {det} {adj} {noun}?",
    "{det} {noun} {vintr} {adv} when {det} {noun} {vpast} {det} {noun}",
    "there was {a} {adj} {noun} {prep} {det} {noun}",
    "we should {vbase} {det} {noun} before {det} {noun} gets {adj}",
    "{pron} never {vpast} {det} {noun} {prep} {det} {adj} {noun} {adv}",
    "please {vbase} {det} {noun}, {name}",
    "{det} {adj} {noun} is {adv2} {adj}",
    "{name} said that {det} {noun} was {adj}",
    "if {pron} {vpast} {det} {noun}, {pron} would {vbase} {det} {noun}",
    "{det} {noun} and {det} {noun} {vintr} {adv}",
    "can you {vbase} {det} {noun} {prep} {det} {noun}?",
    "{name}'s {noun} {vpast} {det} {adj} {noun}",
    "after {det} {noun}, {det} {noun} {vintr}",
    "{pron} {vpast} {num} {noun}s {prep} {det} {noun}",
)

def _number_token(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.30:
        return str(rng.choice([rng.randint(0, 20), rng.randint(21, 99), rng.randint(100, 999)]))
    if kind < 0.40:
        return f"{rng.randint(1, 99)},{rng.randint(0, 999):03d}"
    if kind < 0.55:
        return str(rng.randint(1200, 2030))
    if kind < 0.65:
        n = rng.randint(1, 40)
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"
    if kind < 0.75:
        return rng.choice(["$", "£", "€"]) + (f"{rng.randint(1, 500)}" if rng.random() < 0.5
                                               else f"{rng.randint(0, 99)}.{rng.randint(1, 99):02d}")
    if kind < 0.85:
        return f"{rng.randint(1, 12)}:{rng.choice([0, 5, 10, 15, 20, 30, 45, 50]):02d}"
    if kind < 0.93:
        return f"{rng.randint(1, 100)}%"
    return f"{rng.randint(0, 99)}.{rng.randint(0, 9)}"


class SentenceGenerator:
    """Seeded stream of varied English sentences.

    >>> gen = SentenceGenerator(seed=1)
    >>> s = gen.sentence()
    >>> isinstance(s, str) and len(s.split()) >= 3
    True

    ``template_fraction`` of the sentences come from grammatical templates,
    the rest from the frequency list; ``number_fraction`` of them get a
    number-like token, ``hyphen_fraction`` a hyphenated compound.
    """

    def __init__(self, seed: int = 0, min_words: int = 3, max_words: int = 20, template_fraction: float = 0.45,
                 number_fraction: float = 0.2, hyphen_fraction: float = 0.05, vocabulary: int = 12000) -> None:
        if not 1 <= min_words <= max_words:
            raise ValueError(f"need 1 <= min_words <= max_words, got {min_words}, {max_words}")
        for name, v in (("template_fraction", template_fraction), ("number_fraction", number_fraction),
                        ("hyphen_fraction", hyphen_fraction)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        from .wordlist import load_word_list

        if vocabulary < 100:
            raise ValueError(f"vocabulary must be at least 100 words, got {vocabulary}")
        self.rng = random.Random(seed)
        self.min_words, self.max_words = min_words, max_words
        self.template_fraction = template_fraction
        self.number_fraction = number_fraction
        self.hyphen_fraction = hyphen_fraction
        function = set(FUNCTION_WORDS)
        self.content = [w for w in load_word_list()[:vocabulary] if w not in function]
        # Zipf-like weights flattened (exponent 0.6) so rarer words still come up
        self._cum: list[float] = []
        total = 0.0
        for rank in range(len(self.content)):
            total += 1.0 / (rank + 10) ** 0.6
            self._cum.append(total)

    def reseed(self, seed: int | str) -> None:
        """Restart the stream from ``seed`` (the word list is kept: cheaper than a new generator)."""
        self.rng = random.Random(seed)

    def _content_word(self) -> str:
        x = self.rng.random() * self._cum[-1]
        return self.content[min(bisect.bisect_left(self._cum, x), len(self.content) - 1)]

    def _template(self) -> str:
        r = self.rng
        tpl = r.choice(_TEMPLATES)

        def fill(m: re.Match) -> str:
            slot = m.group(1)
            if slot == "det":
                return r.choice(("the", "the", "the", "a", "this", "that", "my", "your", "his", "her", "our",
                                 "their", "every", "one"))
            if slot == "a":
                return "a"
            if slot == "pron":
                return r.choice(("i", "you", "he", "she", "we", "they"))
            if slot == "adv2":
                return r.choice(("very", "rather", "quite", "too", "not", "always", "never", "so"))
            if slot == "num":
                return str(r.randint(2, 12)) if r.random() < 0.5 else r.choice(("two", "three", "seven", "ten"))
            pool = {"adj": ADJECTIVES, "noun": NOUNS, "vpast": VERBS_PAST, "vbase": VERBS_BASE,
                    "vintr": VERBS_INTRANSITIVE, "adv": ADVERBS, "prep": PREPOSITIONS, "name": NAMES}[slot]
            if slot in ("noun", "adj") and r.random() < 0.15:
                return self._content_word()  # a rarer word now and then
            return r.choice(pool)

        s = re.sub(r"\{(\w+)\}", fill, tpl)
        s = re.sub(r"\ba (?=[aeiou])", "an ", s)
        return s

    def _frequency(self) -> str:
        r = self.rng
        n = r.randint(self.min_words, self.max_words)
        out: list[str] = []
        while len(out) < n:
            if r.random() < 0.45:
                out.append(r.choice(FUNCTION_WORDS))
            out.append(self._content_word())
        out = out[:n]
        if n > 8 and r.random() < 0.5:
            out[r.randint(2, n - 3)] += ","
        return " ".join(out)

    def sentence(self) -> str:
        """One sentence (text as written: may hold capitals, digits and punctuation)."""
        r = self.rng
        while True:
            s = self._template() if r.random() < self.template_fraction else self._frequency()
            words = s.split()
            if r.random() < self.number_fraction:
                words.insert(r.randint(0, len(words)), _number_token(r))
            if r.random() < self.hyphen_fraction and len(words) > 1:
                i = r.randrange(len(words) - 1)
                if words[i].isalpha() and words[i + 1].isalpha():
                    words[i:i + 2] = [words[i] + "-" + words[i + 1]]
            if self.min_words <= len(words) <= self.max_words:
                break
        words[0] = words[0][:1].upper() + words[0][1:]
        words = [w.capitalize() if w in ("i",) else w for w in words]
        s = " ".join(words)
        if s[-1] not in "?.!":
            s += r.choices((".", "!", ""), (0.85, 0.05, 0.10))[0]
        if r.random() < 0.03:
            s = '"' + s + '"'
        return s

    def __iter__(self) -> Iterator[str]:
        while True:
            yield self.sentence()

    def take(self, n: int) -> list[str]:
        """The next ``n`` sentences."""
        return [self.sentence() for _ in range(n)]
