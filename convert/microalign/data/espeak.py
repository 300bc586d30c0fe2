"""espeak-ng through ctypes: speech with word and phone times exact to the sample.

The library runs in synchronous mode with phoneme events. Its synth callback
hands over PCM chunks and a list of events; every event carries ``sample``,
the exact index of the sample where it happens (``audio_position`` is the
same rounded to milliseconds and is not used). From the events:

- a **word** starts at its WORD event, moved forward past any run of
  exact-zero samples (espeak's short pauses are digital silence, and the
  WORD event comes before them);
- a **phone** lasts from its PHONEME event to the next event of any kind;
  phones with an empty name are pauses and are dropped;
- a **word ends** at the end of its last phone, moved back over trailing
  exact-zero samples.

Phone boundaries are the engine's own markers (a vowel after l/r/m/n starts
30–40 ms before the acoustic edge); word times are solid. The text must be
normalised words (:func:`microalign.text.normalize.normalize`): numbers and
symbols otherwise give extra WORD events. :meth:`EspeakSynth.synthesize`
checks that the WORD events start at the words' character positions one to one and raises
:class:`SynthesisError` when they do not.

The Debian library (``libespeak-ng.so.1`` and its ``espeak-ng-data``) is used
when present, otherwise the one bundled with PyPI ``espeakng-loader``. With
1.52, every voice change queues a SAMPLERATE event, and dozens of voice
changes without synthesis in between overflow the event list so the first
WORD event is lost: the position check above catches that (one voice change
per utterance, as here, is fine).

**Every utterance is a pure function of its words and voice.** The library
keeps its synthesis state in dozens of C globals that nothing resets between
two ``espeak_Synth`` calls (the glottal wave phase, the sample count, the
flutter and pitch envelope positions, the echo buffer, Klatt's noise from libc
``rand()``): the same words with the same voice come out a few samples
longer or shorter and with other bytes depending on what the process said
before, and ``espeak_Terminate`` + ``espeak_Initialize`` (1.51) hangs.
:class:`EspeakSynth` therefore initialises the library once in a private
helper process (single-threaded, never synthesises) and says each utterance
in a ``fork()`` of it, which starts from that pristine state and exits. The
results are the same bytes in any order, in any worker, on any machine with
the same library (``-j`` and ``--ray`` of ``microalign data synth``). The fork
costs about a millisecond; ``fork`` is POSIX only (Linux, macOS).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import pickle
import random
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..corpus import Segment
from .tts_base import Spoken, SynthesisError

# espeak_EVENT_TYPE
_EV_LIST_TERMINATED, _EV_WORD, _EV_SENTENCE, _EV_MARK, _EV_PLAY, _EV_END, _EV_MSG_TERMINATED, _EV_PHONEME = range(8)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_PHONEME_IPA = 0x0002
_INIT_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000
_POS_CHARACTER = 1
_RATE, _VOLUME, _PITCH, _RANGE, _PUNCTUATION, _CAPITALS, _WORDGAP = 1, 2, 3, 4, 5, 6, 7

#: English accents of espeak-ng (1.51 and 1.52); "en" is British English (the name
#: "en-gb" is only a language code there and SetVoiceByName rejects it).
ACCENTS: tuple[str, ...] = ("en-us", "en", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
                            "en-gb-x-rp", "en-029", "en-us-nyc")
#: Voice variants that sound like a person. Left out: variants with a strong
#: echo (their tail runs past the word ends: Marco, Alicia, announcer, pablo,
#: RicishayMax*, robosoft*, Demonic, UniRobot, anikaRobot; f2–f5 and m2 keep
#: a faint 10–15 % echo), whisper/whisperf (no voicing),
#: Tweaky, fast and the ones whose file name has a space.
VARIANTS: tuple[str, ...] = (
    "", "f1", "f2", "f3", "f4", "f5", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8",
    "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6",
    "Alex", "Andrea", "Andy", "Annie", "AnxiousAndy", "Denis", "Diogo", "Gene", "Gene2", "Henrique", "Hugo",
    "Jacky", "Lee", "Mario", "Michael", "Mike", "Nguyen", "Storm", "adam", "anika", "antonio",
    "aunty", "belinda", "benjamin", "boris", "caleb", "croak", "david", "ed", "edward", "edward2", "gustave",
    "grandma", "grandpa", "iven", "iven2", "iven3", "iven4", "john", "kaukovalta", "linda", "marcelo", "max",
    "michel", "miguel", "norbert", "paul", "pedro", "quincy", "rob", "robert", "sandro", "shelby",
    "steph", "steph2", "steph3", "travis", "victor", "zac",
)


@dataclass(frozen=True)
class EspeakVoice:
    """One espeak-ng voice setting.

    ``rate`` is words per minute (80–450), ``pitch`` and ``pitch_range`` are
    0–100, ``word_gap`` is extra pause between words in units of 10 ms at
    normal speed.
    """

    name: str = "en-us"
    rate: int = 175
    pitch: int = 50
    pitch_range: int = 50
    word_gap: int = 0

    @property
    def speaker(self) -> str:
        """The speaker label stored in manifests: accent and variant (rate and pitch vary per utterance)."""
        return self.name


def random_voice(rng: random.Random, accents: tuple[str, ...] = ACCENTS,
                 variants: tuple[str, ...] = VARIANTS, rate: tuple[int, int] = (130, 210)) -> EspeakVoice:
    """A random accent+variant with random rate, pitch, range and word gap (mostly no extra gap)."""
    accent = rng.choice(accents)
    variant = rng.choice(variants)
    name = f"{accent}+{variant}" if variant else accent
    gap = 0 if rng.random() < 0.6 else rng.randint(1, 6)
    return EspeakVoice(name, rng.randint(*rate), rng.randint(25, 75), rng.randint(20, 90), gap)


@dataclass
class EspeakResult:
    """Audio (int16 at ``sample_rate``) with word and phone segments in seconds."""

    audio: np.ndarray
    sample_rate: int
    words: list[Segment]
    phones: list[Segment]


class _Event(ctypes.Structure):
    class _Id(ctypes.Union):
        _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _Id)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


def find_library() -> tuple[str, str | None]:
    """(library path, data path or None for the library's default) of libespeak-ng.

    The Debian system library comes first; PyPI ``espeakng-loader`` is the
    fall-back. Raises FileNotFoundError naming both when neither is there.
    """
    for cand in ("/usr/lib/x86_64-linux-gnu/libespeak-ng.so.1", "/usr/lib/aarch64-linux-gnu/libespeak-ng.so.1",
                 "/usr/lib/libespeak-ng.so.1", "/usr/local/lib/libespeak-ng.so.1"):
        if os.path.exists(cand):
            return cand, None
    found = ctypes.util.find_library("espeak-ng")
    if found:
        return found, None
    try:
        import espeakng_loader
    except ImportError:
        raise FileNotFoundError("libespeak-ng not found: install the Debian package espeak-ng "
                                "or PyPI espeakng-loader (pip install 'microalign[tts]')") from None
    return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()


class _EspeakLibrary:
    """The library itself, in this process (one global state: one wrapper per process).

    Only :func:`_zygote_main` uses it: an instance's output depends on everything it said
    before (see the module notes); :class:`EspeakSynth` is the pure interface.
    """

    _instance: "_EspeakLibrary | None" = None

    def __new__(cls, library: str | None = None, data_path: str | None = None):
        # the C library has one global state: share one wrapper per process
        if cls._instance is None:
            inst = super().__new__(cls)
            inst._init(library, data_path)
            cls._instance = inst
        elif library is not None and library != cls._instance.library:
            raise ValueError(f"espeak-ng is already loaded from {cls._instance.library} in this process; "
                             f"cannot load {library} too")
        return cls._instance

    def __init__(self, library: str | None = None, data_path: str | None = None) -> None:
        """Load ``library`` (default: :func:`find_library`) once per process; later calls share it."""

    def _init(self, library: str | None, data_path: str | None) -> None:
        if library is None:
            library, default_data = find_library()
            data_path = data_path or default_data
        if not Path(library).exists() and "/" in library:
            raise FileNotFoundError(f"espeak-ng library not found: {library}")
        self.library = library
        lib = ctypes.cdll.LoadLibrary(library)
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                     data_path.encode() if data_path else None,
                                     _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA | _INIT_DONT_EXIT)
        if rate <= 0:
            raise SynthesisError(f"espeak_Initialize failed ({rate}) with library {library} and data {data_path}")
        self.sample_rate = rate
        self._lib = lib
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, str]] = []
        self._callback = _CALLBACK(self._on_synth)  # keep a reference: ctypes does not
        lib.espeak_SetSynthCallback(self._callback)

    def _on_synth(self, wav, numsamples, events) -> int:
        if numsamples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        i = 0
        while True:
            ev = events[i]
            if ev.type == _EV_LIST_TERMINATED:
                break
            if ev.type == _EV_PHONEME:
                name = ev.id.string.decode("utf-8", "replace")
                self._events.append((ev.type, ev.sample, name))
            elif ev.type == _EV_WORD:
                if ev.length > 0:  # the end pause comes with a WORD event of length 0 at text position 0
                    self._events.append((ev.type, ev.sample, str(ev.text_position)))
            elif ev.type in (_EV_END, _EV_SENTENCE, _EV_MSG_TERMINATED):
                self._events.append((ev.type, ev.sample, ""))
            i += 1
        return 0

    def set_voice(self, voice: EspeakVoice) -> None:
        """Select the voice and set rate, pitch, range and word gap."""
        if self._lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice.name!r}")
        for param, value in ((_RATE, voice.rate), (_PITCH, voice.pitch), (_RANGE, voice.pitch_range),
                             (_WORDGAP, voice.word_gap), (_VOLUME, 100), (_PUNCTUATION, 0), (_CAPITALS, 0)):
            self._lib.espeak_SetParameter(param, int(value), 0)

    def synthesize(self, words: list[str], voice: EspeakVoice, end_pause: bool = True) -> EspeakResult:
        """Speak normalised words; raise SynthesisError if the WORD events do not match them 1:1."""
        if not words:
            raise ValueError("nothing to synthesise: empty word list")
        self.set_voice(voice)
        text = " ".join(words).encode("utf-8") + b"\0"
        self._chunks, self._events = [], []
        flags = _CHARS_UTF8 | (_ENDPAUSE if end_pause else 0)
        err = self._lib.espeak_Synth(text, len(text), 0, _POS_CHARACTER, 0, flags, None, None)
        self._lib.espeak_Synchronize()
        if err != 0:
            raise SynthesisError(f"espeak_Synth failed with code {err} for {voice.name}")
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        # WORD events carry the 1-based character position of their word: they must be our words' starts
        expected, pos = [], 1
        for w in words:
            expected.append(pos)
            pos += len(w.encode("utf-8")) + 1
        got = [int(e[2]) for e in self._events if e[0] == _EV_WORD]
        if got != expected:
            raise SynthesisError(f"espeak-ng's WORD events do not match the words ({len(got)} events for "
                                 f"{len(words)} words: {' '.join(words)[:60]!r})")
        word_samples, phones = _events_to_segments(self._events, audio)
        sr = float(self.sample_rate)
        seg_words = [Segment(w, s / sr, e / sr) for w, (s, e) in zip(words, word_samples)]
        seg_phones = [Segment(p, s / sr, e / sr) for p, s, e in phones]
        return EspeakResult(audio, self.sample_rate, seg_words, seg_phones)


def _send(f, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(struct.pack("<Q", len(data)) + data)
    f.flush()


def _recv(f):
    head = f.read(8)
    if len(head) < 8:
        raise EOFError("stream closed")
    (n,) = struct.unpack("<Q", head)
    data = f.read(n)
    if len(data) < n:
        raise EOFError("stream closed mid-message")
    return pickle.loads(data)


def _zygote_main() -> None:
    """The helper process of :class:`EspeakSynth` (``python -c``; requests on stdin, replies on stdout).

    Initialises the library once, reports ``("ready", sample_rate, library)``, then for each
    request ``(words, voice, end_pause)`` forks: the child synthesises from the pristine state
    and pipes back ``("ok", EspeakResult)`` or ``("err", exception)``. Exits when stdin closes.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle; it closes our stdin
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    library, data_path = _recv(stdin)
    try:
        lib = _EspeakLibrary(library, data_path)
    except Exception as e:       # FileNotFoundError, SynthesisError: the parent re-raises it
        _send(stdout, ("err", e))
        return
    _send(stdout, ("ready", lib.sample_rate, lib.library))
    while True:
        try:
            request = _recv(stdin)
        except EOFError:
            return
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:             # the child: one utterance from the pristine state, then exit
            os.close(r)
            try:
                try:
                    reply = ("ok", lib.synthesize(*request))
                except Exception as e:
                    reply = ("err", e)
                with os.fdopen(w, "wb") as f:
                    _send(f, reply)
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            data = f.read()
        _, status = os.waitpid(pid, 0)
        if len(data) >= 8:
            stdout.write(data)
            stdout.flush()
        else:
            _send(stdout, ("err", SynthesisError(f"espeak-ng crashed (wait status {status})")))


class EspeakSynth:
    """espeak-ng in synchronous mode; :meth:`synthesize` returns audio with exact word/phone times.

    Each call is a pure function of its arguments (a fork of a helper process that has
    only initialised the library: see the module notes), so utterances can be made in any
    order and in any number of processes. Use as a context manager or call :meth:`close`
    (the helper also exits on its own when this process ends).

    >>> synth = EspeakSynth()                                    # doctest: +SKIP
    >>> r = synth.synthesize(["ten", "cats"], EspeakVoice("en+m3"))  # doctest: +SKIP
    >>> r.words[0]                                               # doctest: +SKIP
    Segment(label='ten', start=0.0, end=0.29)
    """

    def __init__(self, library: str | None = None, data_path: str | None = None) -> None:
        """Start the helper with ``library`` (default: :func:`find_library`); FileNotFoundError
        or SynthesisError when espeak-ng cannot be loaded."""
        if not hasattr(os, "fork"):
            raise SynthesisError("espeak-ng synthesis needs os.fork (Linux or macOS): the library's state "
                                 "must be reset for every utterance")
        if library is None:
            library, default_data = find_library()
            data_path = data_path or default_data
        pkg_root = str(Path(__file__).resolve().parents[2])     # microalign importable in the helper
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [pkg_root, os.environ.get("PYTHONPATH")])))
        env.update({v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
        self._proc = subprocess.Popen([sys.executable, "-c", "from microalign.data.espeak import _zygote_main; "
                                       "_zygote_main()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        _send(self._proc.stdin, (library, data_path))
        reply = self._reply()
        if reply[0] != "ready":
            self.close()
            raise reply[1]
        _, self.sample_rate, self.library = reply

    def _reply(self):
        try:
            return _recv(self._proc.stdout)
        except EOFError:
            code = self._proc.wait()
            raise SynthesisError(f"the espeak-ng helper process exited (status {code})") from None

    def synthesize(self, words: list[str], voice: EspeakVoice, end_pause: bool = True) -> EspeakResult:
        """Speak normalised words; raise SynthesisError if the WORD events do not match them 1:1."""
        if not words:
            raise ValueError("nothing to synthesise: empty word list")
        if self._proc is None:
            raise SynthesisError("this EspeakSynth is closed")
        _send(self._proc.stdin, (list(words), voice, end_pause))
        status, value = self._reply()
        if status != "ok":
            raise value
        return value

    def close(self) -> None:
        proc, self._proc = getattr(self, "_proc", None), None
        if proc is not None:
            try:
                proc.stdin.close()
                proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            proc.stdout.close()

    def __enter__(self) -> "EspeakSynth":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def _skip_zeros(audio: np.ndarray, start: int, stop: int) -> int:
    """First index in [start, stop) whose sample is non-zero (stop when all are zero)."""
    nz = np.flatnonzero(audio[start:stop])
    return start + int(nz[0]) if nz.size else stop


def _trim_zeros(audio: np.ndarray, start: int, stop: int) -> int:
    """One past the last non-zero sample in [start, stop) (start when all are zero)."""
    nz = np.flatnonzero(audio[start:stop])
    return start + int(nz[-1]) + 1 if nz.size else start


def _events_to_segments(events: list[tuple[int, int, str]], audio: np.ndarray
                        ) -> tuple[list[tuple[int, int]], list[tuple[str, int, int]]]:
    """Word (start, end) and phone (name, start, end) sample spans from the callback's events.

    Events are taken in the order the library emits them (which is sample
    order). A phone belongs to the last WORD event emitted before it: when
    espeak links a word-final consonant to a vowel-initial word ("ran away")
    it emits that consonant's PHONEME event just before the next WORD event
    at the same sample, and the consonant stays with the word it is spelt in.
    A word therefore starts at ``max(WORD event, previous word's end)``,
    moved past exact-zero samples.
    """
    n = len(audio)
    samples = [min(max(e[1], 0), n) for e in events]
    groups: list[tuple[int, list[tuple[str, int, int]]]] = []
    for k, (typ, _, name) in enumerate(events):
        sample = samples[k]
        if typ == _EV_WORD:
            groups.append((sample, []))
        elif typ == _EV_PHONEME:
            nxt = next((s for s in samples[k + 1:] if s > sample), n)
            name = name.replace("ˈ", "").replace("ˌ", "").strip()
            if not name or nxt <= sample or not groups:
                continue  # a pause, a zero-length marker, or sound before the first word
            groups[-1][1].append((name, sample, nxt))
    words: list[tuple[int, int]] = []
    phones: list[tuple[str, int, int]] = []
    prev_end = 0
    for i, (ws, ph) in enumerate(groups):
        end = ph[-1][2] if ph else (groups[i + 1][0] if i + 1 < len(groups) else n)
        start = _skip_zeros(audio, max(ws, prev_end), end)
        end = _trim_zeros(audio, start, end)
        if end <= start:  # a word with no sound at all: a zero-length span where it would be
            start = end = min(max(ws, prev_end), n)
        words.append((start, end))
        prev_end = max(prev_end, end)
        for name, s, e in ph:
            s, e = max(s, start), min(e, end)
            if e > s:
                phones.append((name, s, e))
    return words, phones


class EspeakEngine:
    """The espeak-ng engine of :func:`microalign.data.synth.synthesize_engine`: held-out voice variants.

    A ``test_fraction`` of :data:`VARIANTS` (chosen from ``seed``) is used only
    for test utterances, so the test set measures unseen voices.
    """

    name = "espeak"

    def __init__(self, seed: int, test_fraction: float) -> None:
        self.synth = EspeakSynth()
        variants = list(VARIANTS)
        k = max(1, round(test_fraction * len(variants))) if test_fraction > 0 else 0
        held = set(random.Random(f"{seed}:espeak:heldout").sample(variants, k))
        self.test_variants = tuple(v for v in variants if v in held)
        self.train_variants = tuple(v for v in variants if v not in held)

    def speak(self, words: list[str], rng: random.Random, test: bool) -> Spoken:
        voice = random_voice(rng, variants=self.test_variants if test else self.train_variants)
        r = self.synth.synthesize(words, voice)
        return Spoken(r.audio, r.sample_rate, r.words, r.phones, voice.speaker)

    def close(self) -> None:
        self.synth.close()
