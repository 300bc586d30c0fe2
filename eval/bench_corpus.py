"""Corpus mode at scale: a 1,000-file corpus aligned with ``-j 2`` and through a local Ray cluster.

    python eval/bench_corpus.py --n 1000 [--ljspeech ../shared/data/ljspeech-subset] [--jobs 2] [--backend tflite]

The corpus (built once under ``--work``, default ``build/bench_corpus/corpus``) is MFA-style:

- ``ljspeech/LJxxx-xxxx.flac`` + ``.lab``: the LJ Speech clips of ``--ljspeech`` (real speech,
  16 kHz FLAC) with their raw transcripts (numbers, abbreviations: the normaliser's job);
- ``espeak/<voice>/espeak-xxxxxx.wav`` + ``.lab``: TTS speech from espeak-ng
  (:func:`microalign.data.synth.synthesize_engine`, the generator of ``microalign data synth``)
  for the rest of the ``--n`` files, one speaker folder per voice.

Nothing is repeated while ``--n`` <= clips + synthesised utterances (the TTS part grows to fill
``--n``). It then runs the real CLI twice, ``microalign align CORPUS OUT -j N`` and
``microalign align CORPUS OUT --ray local -j N`` (a private one-machine Ray cluster of N CPUs),
both with ``--overwrite``, prints each run's summary line (files, hours, failures, × real time)
and the wall time of each command (with start-up: Python, Ray), and checks that the two output
trees (every output file and ``alignment_report.csv``) are byte-identical; exit status 1 if not.
"""
from __future__ import annotations

import argparse
import csv
import filecmp
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_corpus(dest: Path, n: int, ljspeech: Path | None) -> dict[str, int]:
    """LJ Speech clips + espeak utterances, ``n`` files in all (cached: rebuilt only if ``n`` changes)."""
    from microalign.data.synth import synthesize_engine

    marker = dest / ".complete"
    if marker.is_file() and marker.read_text().strip() == str(n):
        counts = {}
        for sub in ("ljspeech", "espeak"):
            counts[sub] = sum(1 for p in (dest / sub).rglob("*.lab")) if (dest / sub).is_dir() else 0
        return counts
    dest.mkdir(parents=True, exist_ok=True)
    n_lj = 0
    if ljspeech is not None:
        out = dest / "ljspeech"
        out.mkdir(exist_ok=True)
        with open(ljspeech / "metadata.csv", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE)][:n]
        for uid, raw, *_ in rows:
            src = ljspeech / "audio" / f"{uid}.flac"
            if not src.is_file():
                continue
            if not (out / src.name).is_file():
                (out / src.name).write_bytes(src.read_bytes())
            (out / f"{uid}.lab").write_text(raw + "\n", encoding="utf-8")
            n_lj += 1
    n_tts = n - n_lj
    if n_tts > 0:
        tts_dir = dest.parent / f"{dest.name}_espeak_src"     # outside the corpus
        synthesize_engine(tts_dir, "espeak", n_tts, seed=7, test_fraction=0.0)
        from microalign.corpus import read_manifest

        for u in read_manifest(tts_dir / "espeak" / "train.jsonl"):
            spk = dest / "espeak" / (u.speaker or "voice").replace("/", "_").replace("+", "_")
            spk.mkdir(parents=True, exist_ok=True)
            wav = spk / Path(u.audio).name
            if not wav.is_file():
                wav.write_bytes(Path(u.audio).read_bytes())
            (spk / (wav.stem + ".lab")).write_text(u.text + "\n", encoding="utf-8")
    marker.write_text(f"{n}\n")
    return {"ljspeech": n_lj, "espeak": max(n_tts, 0)}


def run(cmd: list[str]) -> tuple[float, str, int]:
    print("$", " ".join(cmd), flush=True)
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    lines = [ln for ln in p.stderr.splitlines() if " files: " in ln]
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error: ")]
    for ln in errors[:5]:
        print("  " + ln)
    if len(errors) > 5:
        print(f"  ... {len(errors) - 5} more errors (see alignment_report.csv)")
    if not lines:
        print(p.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"no summary from {' '.join(cmd)} (exit status {p.returncode})")
    return wall, lines[-1], p.returncode


def compare_trees(a: Path, b: Path) -> tuple[int, list[str]]:
    """Number of files compared and the relative paths that differ or exist on one side only."""
    fa = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
    bad = sorted(fa ^ fb)
    bad += [r for r in sorted(fa & fb) if not filecmp.cmp(a / r, b / r, shallow=False)]
    return len(fa | fb), bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="files in the corpus")
    ap.add_argument("--ljspeech", type=Path, default=ROOT.parent / "shared" / "data" / "ljspeech-subset",
                    help="LJ Speech subset folder (metadata.csv, audio/*.flac); missing: TTS speech only")
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "bench_corpus")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--backend", default="tflite", help="aligner backend (int8 LiteRT by default)")
    ap.add_argument("--no-ray", action="store_true", help="only the local run")
    ap.add_argument("--build-only", action="store_true", help="only build the corpus")
    args = ap.parse_args(argv)
    lj = args.ljspeech if (args.ljspeech / "metadata.csv").is_file() else None
    if lj is None:
        print(f"note: {args.ljspeech} not found: the corpus is TTS speech only")
    corpus = args.work / f"corpus{args.n}"
    counts = build_corpus(corpus, args.n, lj)
    print(f"corpus {corpus}: {counts.get('ljspeech', 0)} LJ Speech clips + {counts.get('espeak', 0)} espeak-ng "
          f"utterances = {sum(counts.values())} files (none repeated)")
    if args.build_only:
        return 0
    exe = str(Path(sys.executable).with_name("microalign"))
    base = [exe, "align", str(corpus)]
    out_local = args.work / f"out{args.n}_j{args.jobs}"
    wall_l, sum_l, rc_l = run(base + [str(out_local), "-j", str(args.jobs), "--backend", args.backend, "--overwrite"])
    print(f"local -j {args.jobs}: {sum_l}\n  command wall time {wall_l:.1f} s (exit status {rc_l})")
    if args.no_ray:
        return 0
    out_ray = args.work / f"out{args.n}_ray"
    wall_r, sum_r, rc_r = run(base + [str(out_ray), "--ray", "local", "-j", str(args.jobs), "--backend",
                                      args.backend, "--overwrite"])
    print(f"Ray (local cluster, {args.jobs} CPUs): {sum_r}\n  command wall time {wall_r:.1f} s (exit status {rc_r})")
    n, bad = compare_trees(out_local, out_ray)
    if bad:
        print(f"DIFFERENT: {len(bad)} of {n} files differ, e.g. {bad[:5]}")
        return 1
    print(f"identical: all {n} files of the two output trees (outputs and alignment_report.csv) are byte-identical")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
