"""Readers that turn aligned corpora on disk into :class:`~microalign.corpus.Utterance` objects.

Three layouts:

- **TIMIT**: ``X.wav`` with ``X.wrd`` (``start_sample end_sample word``) and
  ``X.phn`` (same, 61-phone set) at 16 kHz; ``X.txt`` (``start end
  sentence``) gives the transcript when present. ``h#`` (and the pause
  labels ``pau``, ``epi``) are silence: they make no phone, and ``h#`` is
  never a word. Speaker: the folder name (``dr1-fvmh0``).
- **TextGrid** as the Montreal Forced Aligner writes it: tiers ``words`` and
  ``phones`` (or ``<speaker> - words`` / ``<speaker> - phones``); empty
  intervals (and ``sil``, ``sp``, ``<eps>``) are silence. The audio is the
  ``.wav`` (or ``.flac``) with the same name next to it.
- **JSON-lines manifest** (:func:`microalign.corpus.read_manifest`).

:func:`read_corpus` tells them apart by what a folder or file contains.
Word labels are normalised with :func:`microalign.text.normalize.normalize`
(TIMIT and MFA words already are, bar case). A corpus word that normalises
to several spoken words ("twenty-two") cannot be timed per spoken word: it
raises :class:`ValueError` naming the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..corpus import Segment, Utterance, read_manifest
from ..text.normalize import TextError, normalize

TIMIT_RATE = 16000
_TIMIT_SILENCE = {"h#", "pau", "epi"}
_TG_SILENCE = {"", "sil", "sp", "<eps>", "silence"}
_AUDIO_EXT = (".wav", ".WAV", ".flac", ".FLAC")


def _spoken_label(word: str, where: Path) -> str:
    """The one normalised spoken word for a corpus word label (ValueError if it is not exactly one)."""
    try:
        parts = [w.text for w in normalize(word)]
    except TextError as e:
        raise ValueError(f"{where}: word {word!r} cannot be normalised ({e})") from None
    if len(parts) != 1:
        raise ValueError(f"{where}: word {word!r} is {len(parts)} spoken words ({' '.join(parts)}); "
                         "a single time span cannot be shared out between them")
    return parts[0]


def _read_sample_spans(path: Path) -> list[tuple[int, int, str]]:
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 3:
                raise ValueError(f"{path}:{lineno}: expected 'start end label', got {line.strip()!r}")
            try:
                a, b = int(parts[0]), int(parts[1])
            except ValueError:
                raise ValueError(f"{path}:{lineno}: sample numbers must be integers, got {line.strip()!r}") from None
            if b < a or a < 0:
                raise ValueError(f"{path}:{lineno}: bad span {a}..{b}")
            out.append((a, b, " ".join(parts[2:])))
    return out


def read_timit_utterance(wav: str | Path, rate: int = TIMIT_RATE) -> Utterance:
    """One TIMIT utterance from its ``.wav`` path (``.wrd`` and ``.phn`` beside it)."""
    wav = Path(wav)
    if not wav.is_file():
        raise FileNotFoundError(f"TIMIT audio not found: {wav}")
    wrd, phn, txt = wav.with_suffix(".wrd"), wav.with_suffix(".phn"), wav.with_suffix(".txt")
    if not wrd.is_file():
        wrd, phn, txt = wav.with_suffix(".WRD"), wav.with_suffix(".PHN"), wav.with_suffix(".TXT")
    if not wrd.is_file():
        raise FileNotFoundError(f"TIMIT word file not found next to {wav} (expected {wav.with_suffix('.wrd').name})")
    words = [Segment(_spoken_label(w, wrd), a / rate, b / rate)
             for a, b, w in _read_sample_spans(wrd) if w not in _TIMIT_SILENCE]
    phones = ([Segment(p, a / rate, b / rate) for a, b, p in _read_sample_spans(phn) if p not in _TIMIT_SILENCE]
              if phn.is_file() else [])
    if txt.is_file():
        parts = txt.read_text(encoding="utf-8", errors="replace").split(maxsplit=2)
        text = parts[2].strip() if len(parts) == 3 and parts[0].isdigit() else " ".join(parts).strip()
    else:
        text = " ".join(w.label for w in words)
    speaker = wav.parent.name
    return Utterance(f"{speaker}-{wav.stem}", str(wav), text, words, phones, source="timit", speaker=speaker)


def read_timit(root: str | Path) -> Iterator[Utterance]:
    """Every TIMIT utterance under ``root`` (recursively; a ``.wav`` with a ``.wrd`` beside it), sorted by path."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"TIMIT folder not found: {root}")
    wavs = sorted(p for p in root.rglob("*") if p.suffix in (".wav", ".WAV")
                  and (p.with_suffix(".wrd").is_file() or p.with_suffix(".WRD").is_file()))
    if not wavs:
        raise ValueError(f"no TIMIT utterances (.wav with .wrd) under {root}")
    for wav in wavs:
        yield read_timit_utterance(wav)


def _tier(tg, kind: str, path: Path):
    names = list(tg.tierNames)
    for name in names:
        if name == kind or name.endswith(f" - {kind}"):
            return tg.getTier(name)
    if kind == "phones":
        return None
    raise ValueError(f"{path}: no {kind!r} tier (tiers: {', '.join(names) or 'none'})")


def read_textgrid_utterance(textgrid: str | Path, audio: str | Path | None = None) -> Utterance:
    """One utterance from an MFA-style TextGrid (``words``/``phones`` tiers) and the audio next to it."""
    from praatio import textgrid as ptg

    path = Path(textgrid)
    if not path.is_file():
        raise FileNotFoundError(f"TextGrid not found: {path}")
    if audio is None:
        cands = [path.with_suffix(ext) for ext in _AUDIO_EXT if path.with_suffix(ext).is_file()]
        if not cands:
            raise FileNotFoundError(f"no audio next to {path} (expected {path.with_suffix('.wav').name})")
        audio = cands[0]
    try:
        tg = ptg.openTextgrid(str(path), includeEmptyIntervals=False)
    except Exception as e:  # praatio raises several types for malformed files
        raise ValueError(f"{path}: not a readable TextGrid ({e})") from None
    words_tier = _tier(tg, "words", path)
    phones_tier = _tier(tg, "phones", path)
    words = [Segment(_spoken_label(e.label.strip(), path), float(e.start), float(e.end))
             for e in words_tier.entries if e.label.strip().lower() not in _TG_SILENCE]
    phones = ([] if phones_tier is None else
              [Segment(e.label.strip(), float(e.start), float(e.end))
               for e in phones_tier.entries if e.label.strip().lower() not in _TG_SILENCE])
    text = " ".join(w.label for w in words)
    speaker = path.parent.name
    return Utterance(path.stem, str(audio), text, words, phones, source="textgrid", speaker=speaker)


def read_textgrids(root: str | Path) -> Iterator[Utterance]:
    """Every ``.TextGrid`` under ``root`` (recursively, sorted) with the audio beside it."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"TextGrid folder not found: {root}")
    grids = sorted(p for p in root.rglob("*") if p.suffix.lower() == ".textgrid")
    if not grids:
        raise ValueError(f"no .TextGrid files under {root}")
    for g in grids:
        yield read_textgrid_utterance(g)


def read_manifests(path: str | Path, split: str | None = None) -> Iterator[Utterance]:
    """A manifest file, or every ``*.jsonl`` under a folder (only ``<split>.jsonl`` when ``split`` is given)."""
    path = Path(path)
    if path.is_file():
        yield from read_manifest(path)
        return
    if not path.exists():
        raise FileNotFoundError(f"manifest not found: {path}")
    pattern = f"{split}.jsonl" if split else "*.jsonl"
    files = sorted(path.rglob(pattern))
    if not files:
        raise ValueError(f"no {pattern} manifest under {path}")
    for f in files:
        yield from read_manifest(f)


def detect_corpus(path: str | Path) -> str:
    """``"manifest"``, ``"timit"`` or ``"textgrid"``: what ``path`` holds (manifest wins, then TIMIT)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"corpus not found: {path}")
    if path.is_file():
        if path.suffix in (".jsonl", ".json"):
            return "manifest"
        if path.suffix.lower() == ".textgrid":
            return "textgrid"
        if path.suffix.lower() in (".wav", ".wrd", ".phn"):
            return "timit"
        raise ValueError(f"cannot tell what corpus {path} is: expected a .jsonl manifest, a .TextGrid "
                         "or a TIMIT .wav/.wrd/.phn file")
    has = {"manifest": False, "timit": False, "textgrid": False}
    for p in path.rglob("*"):
        suf = p.suffix.lower()
        if suf == ".jsonl":
            has["manifest"] = True
            break
        if suf == ".wrd":
            has["timit"] = True
        elif suf == ".textgrid":
            has["textgrid"] = True
    for kind in ("manifest", "timit", "textgrid"):
        if has[kind]:
            return kind
    raise ValueError(f"cannot tell what corpus {path} is: it holds no .jsonl manifest, "
                     "no TIMIT .wav/.wrd/.phn files and no MFA .TextGrid files")


def corpus_tag(path: str | Path) -> str:
    """A short name for a corpus path, usable in file names: ``data/synth/espeak/test.jsonl``
    -> ``espeak-test``, ``../timit-sample-dev`` -> ``timit-sample-dev``."""
    p = Path(path)
    return f"{p.parent.name}-{p.stem}" if p.suffix == ".jsonl" and p.parent.name else (p.stem or str(p))


def read_corpus(path: str | Path, split: str | None = None) -> Iterator[Utterance]:
    """Utterances of the corpus at ``path``, whatever its layout (see :func:`detect_corpus`).

    ``split`` ("train", "test") picks ``<split>.jsonl`` in a folder of
    manifests; it is ignored for the other layouts.
    """
    path = Path(path)
    kind = detect_corpus(path)
    if kind == "manifest":
        return read_manifests(path, split)
    if kind == "timit":
        if path.is_file():
            return iter([read_timit_utterance(path.with_suffix(".wav") if path.suffix != ".WAV" else path)])
        return read_timit(path)
    if path.is_file():
        return iter([read_textgrid_utterance(path)])
    return read_textgrids(path)
