"""Readers for transcribed corpora, giving :class:`~microalign.corpus.Utterance` lists for labelling.

Audio paths come back absolute. Utterances have a transcript (``text``) and,
except for TIMIT, no timings: :func:`microalign.teachers.label_corpus` adds
them.

- :func:`read_speechocean762`: ``text`` (``uttid<TAB>TRANSCRIPT``),
  ``audio/SPEAKERxxxx/<uttid>.flac`` (or ``.wav``), ``utt2spk``, ``lexicon.txt``.
- :func:`read_ljspeech`: ``metadata.csv`` (``id|raw|normalised``), ``audio/<id>.flac``
  (or ``wavs/<id>.wav`` as in the original release).
- :func:`read_timit`: TIMIT through :func:`microalign.data.readers.read_timit`
  (the one TIMIT reader); reference word timings included.
"""
from __future__ import annotations

from pathlib import Path

from ..corpus import Utterance


class CorpusError(ValueError):
    """A corpus folder that does not have the expected layout."""


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        raise CorpusError(f"{what} not found: {path}")
    return path


def _find_audio(candidates: list[Path], uid: str) -> Path:
    for c in candidates:
        if c.is_file():
            return c
    raise CorpusError(f"audio for utterance {uid} not found (looked for {', '.join(str(c) for c in candidates)})")


def read_speechocean762(root: str | Path) -> list[Utterance]:
    """speechocean762 (a split folder such as ``speechocean762-train``): transcripts and speakers, no timings.

    ``text`` keeps the corpus's upper-case reading prompt; speakers come
    from ``utt2spk`` (``SPEAKER`` + the id), else from the audio folder name.
    """
    root = Path(root).resolve()
    text_file = _need(root / "text", "speechocean762 transcript file 'text'")
    spk: dict[str, str] = {}
    if (root / "utt2spk").is_file():
        for line in (root / "utt2spk").read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 2:
                spk[parts[0]] = parts[1]
    audio_dir = _need(root / "audio", "speechocean762 audio folder")
    by_id: dict[str, Path] = {}
    for p in audio_dir.glob("*/*"):
        if p.suffix.lower() in (".flac", ".wav"):
            by_id.setdefault(p.stem, p)
    out: list[Utterance] = []
    for lineno, line in enumerate(text_file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(None, 1)
        if len(parts) != 2:
            raise CorpusError(f"{text_file}:{lineno}: expected 'uttid<TAB>TRANSCRIPT', got {line[:60]!r}")
        uid, text = parts[0], parts[1].strip()
        audio = by_id.get(uid)
        if audio is None:
            s = spk.get(uid, "")
            audio = _find_audio([audio_dir / f"SPEAKER{s}" / f"{uid}.flac", audio_dir / f"SPEAKER{s}" / f"{uid}.wav"],
                                uid)
        speaker = f"SPEAKER{spk[uid]}" if uid in spk else audio.parent.name
        out.append(Utterance(id=uid, audio=str(audio), text=text, speaker=speaker))
    if not out:
        raise CorpusError(f"no utterances in {text_file}")
    return out


def speechocean762_lexicon(root: str | Path) -> Path:
    """The corpus's ARPAbet pronunciation lexicon (``lexicon.txt``), for the pocketsphinx teacher."""
    return _need(Path(root).resolve() / "lexicon.txt", "speechocean762 lexicon")


def read_ljspeech(root: str | Path, *, normalised: bool = True, speaker: str = "LJ") -> list[Utterance]:
    """LJ Speech: ``text`` is the normalised third field of ``metadata.csv`` (numbers and
    abbreviations spelled out) unless ``normalised=False``; all clips have one speaker."""
    root = Path(root).resolve()
    meta = _need(root / "metadata.csv", "LJ Speech metadata.csv")
    out: list[Utterance] = []
    for lineno, line in enumerate(meta.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) < 2:
            raise CorpusError(f"{meta}:{lineno}: expected 'id|raw|normalised', got {line[:60]!r}")
        uid = parts[0].strip()
        text = parts[2] if normalised and len(parts) >= 3 and parts[2].strip() else parts[1]
        audio = _find_audio([root / "audio" / f"{uid}.flac", root / "audio" / f"{uid}.wav",
                             root / "wavs" / f"{uid}.wav"], uid)
        out.append(Utterance(id=uid, audio=str(audio), text=text.strip(), speaker=speaker))
    if not out:
        raise CorpusError(f"no utterances in {meta}")
    return out


def read_timit(root: str | Path) -> list[Utterance]:
    """TIMIT-layout folder (any depth) through the project's one TIMIT reader,
    :func:`microalign.data.readers.read_timit` (ids ``<speaker folder>-<utterance>``,
    words normalised, phones when ``.phn`` files are there), with absolute audio
    paths; a missing or empty folder raises :class:`CorpusError`."""
    from ..data.readers import read_timit as _read_timit

    try:
        return list(_read_timit(Path(root).resolve()))
    except (FileNotFoundError, ValueError) as e:
        raise CorpusError(str(e)) from None


#: Corpus kind -> reader (root folder -> utterances), for ``microalign data label`` and ``python -m microalign.teachers``.
READERS = {"speechocean762": read_speechocean762, "ljspeech": read_ljspeech, "timit": read_timit}
