"""Aligned utterances and the JSON-lines manifest every stage reads and writes.

One line per utterance::

    {"id": "espeak-000001", "audio": "wav/espeak-000001.wav", "text": "Ten cats.",
     "words": [{"word": "ten", "start": 0.112, "end": 0.391}, ...],
     "phones": [{"phone": "t", "start": 0.112, "end": 0.160}, ...],
     "source": "espeak", "speaker": "en-us+f3"}

Times are seconds from the start of the audio file. ``audio`` is relative to
the manifest's folder unless absolute. ``words`` hold the *normalised* spoken
form (lower case, letters and apostrophes: what the token table covers);
``text`` is the original transcript. ``phones`` are optional. Words may leave
pauses between them or overlap slightly (hand-placed boundaries do).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator


@dataclass
class Segment:
    """A labelled time span in seconds (a word or a phone)."""

    label: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if not (self.end >= self.start >= 0.0):
            raise ValueError(f"segment {self.label!r}: bad times start={self.start} end={self.end}")


@dataclass
class Utterance:
    id: str
    audio: str
    text: str
    words: list[Segment] = field(default_factory=list)
    phones: list[Segment] = field(default_factory=list)
    source: str = ""
    speaker: str = ""

    def to_json(self) -> dict:
        d = {"id": self.id, "audio": self.audio, "text": self.text,
             "words": [{"word": w.label, "start": round(w.start, 5), "end": round(w.end, 5)} for w in self.words]}
        if self.phones:
            d["phones"] = [{"phone": p.label, "start": round(p.start, 5), "end": round(p.end, 5)} for p in self.phones]
        d["source"] = self.source
        d["speaker"] = self.speaker
        return d

    @classmethod
    def from_json(cls, d: dict, root: Path | None = None) -> "Utterance":
        for key in ("id", "audio", "text"):
            if key not in d:
                raise ValueError(f"manifest entry lacks {key!r}: {str(d)[:80]}")
        audio = Path(d["audio"])
        if root is not None and not audio.is_absolute():
            audio = root / audio
        return cls(
            id=str(d["id"]), audio=str(audio), text=str(d["text"]),
            words=[Segment(w["word"], float(w["start"]), float(w["end"])) for w in d.get("words", [])],
            phones=[Segment(p["phone"], float(p["start"]), float(p["end"])) for p in d.get("phones", [])],
            source=str(d.get("source", "")), speaker=str(d.get("speaker", "")),
        )


def write_manifest(path: str | Path, utterances: Iterable[Utterance], relative_to: Path | None = None) -> int:
    """Write utterances as JSON lines; audio paths are made relative to the manifest folder when possible."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = (relative_to or path.parent).resolve()
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for u in utterances:
            d = u.to_json()
            try:
                d["audio"] = str(Path(u.audio).resolve().relative_to(root))
            except ValueError:
                pass
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_manifest(path: str | Path) -> Iterator[Utterance]:
    """Read a JSON-lines manifest; audio paths come back resolved against its folder
    (the folder of the file itself when ``path`` is a symbolic link, so manifests can be
    gathered into one folder with ``ln -s``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest not found: {path}")
    root = path.resolve().parent
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{lineno}: not JSON ({e.msg})") from None
            yield Utterance.from_json(d, root)
