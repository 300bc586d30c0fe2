"""Start-up cost of the ``microalign`` command line: wall and CPU time, peak memory, modules imported.

Each case runs in a fresh interpreter (``python -c`` calling ``microalign.cli.main``), ``--repeat``
times; the table gives the median wall time, the median CPU time (user + system: what the
process itself costs, whatever else the machine is doing), the peak RSS and the modules the run
imported (how many, and which of the heavy stacks: torch, TensorFlow, librosa, scipy, ...).

Cases: ``--help``, ``align --help``, ``align`` of a missing file, and aligning the shipped
sample (8.4 s of speech) with the default backend and with each offered backend.

    python eval/bench_startup.py                       # this checkout
    python eval/bench_startup.py --source /tmp/old/convert --label before
        # another checkout's package (e.g. `git archive HEAD | tar -x -C /tmp/old`), same interpreter
    python eval/bench_startup.py --phases          # where the default backend's CPU time goes

Results: eval/results/startup.md.

Only the time is measured here; tests/test_startup.py checks that the light paths stay light.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "tensorflow", "librosa", "scipy", "numba", "onnxruntime", "matplotlib", "pandas", "tflite_micro",
         "ai_edge_litert")

RUNNER = r"""
import atexit, json, os, sys
def _report():
    mods = {m.split('.')[0] for m in sys.modules}
    with open(os.environ['BENCH_STARTUP_OUT'], 'w') as f:
        json.dump({'modules': len(sys.modules), 'heavy': sorted(mods & set(json.loads(os.environ['BENCH_HEAVY'])))}, f)
atexit.register(_report)
from microalign.cli import main
main(json.loads(os.environ['BENCH_ARGV']), prog_name='microalign')
"""


PHASES = r"""
import json, sys, time
t = [time.process_time()]
rows = [("interpreter start-up", t[0])]
def lap(name):
    now = time.process_time(); rows.append((name, now - t[0])); t[0] = now
import numpy; lap("import numpy")
from microalign.cli import main; lap("import microalign.cli (click, commands)")
import microalign.align as A; from microalign.audio import load_audio; lap("import microalign.align")
from microalign.runtime import load_backend
pcm = load_audio(sys.argv[1], quiet=True); text = open(sys.argv[2], encoding="utf-8").read(); lap("read audio + transcript")
b = load_backend(sys.argv[3], None); lap("load the backend (model, interpreter)")
from microalign.text.normalize import normalize
words = normalize(text, b.tokens); lap("normalise the transcript (first: num2words)")
feats = A.features_from_pcm(pcm); lap("features")
from microalign.runtime.windows import frame_scores, window_starts
sc = frame_scores(feats, b); lap(f"model: {len(window_starts(len(feats), b.window))} windows")
import microalign.decode, microalign.quality; lap("import decode + quality")
al = A.align_pcm(pcm, text, b); lap("align_pcm again (all warm: features, model, decode, quality)")
from microalign.formats import render; render(al, "json", None); lap("render JSON")
print(json.dumps(rows))
"""


def phases(env: dict, backend: str) -> list[tuple[str, float]]:
    """CPU seconds of each step of aligning the sample, in a fresh interpreter."""
    sample, text = ROOT / "convert/microalign/assets/sample.wav", ROOT / "convert/microalign/assets/sample.txt"
    r = subprocess.run([sys.executable, "-c", PHASES, str(sample), str(text), backend], env=env, capture_output=True,
                       text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_case(argv: list[str], env: dict) -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "report.json"
        e = dict(env, BENCH_ARGV=json.dumps(argv), BENCH_STARTUP_OUT=str(out), BENCH_HEAVY=json.dumps(HEAVY))
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-c", RUNNER], env=e, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, cwd=d)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
        rep = json.loads(out.read_text()) if out.is_file() else {"modules": 0, "heavy": []}
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024, "status": p.returncode,
            "stderr": err.strip().splitlines()[-1:] if err.strip() else [], **rep}


def cases(backends: list[str]) -> list[tuple[str, list[str]]]:
    sample, text = ROOT / "convert/microalign/assets/sample.wav", ROOT / "convert/microalign/assets/sample.txt"
    out = [("--help", ["--help"]), ("align --help", ["align", "--help"]),
           ("align missing.wav", ["align", "missing.wav", "--text", "hello"]),
           ("align sample (default)", ["align", str(sample), "--text-file", str(text), "--format", "json"])]
    out += [(f"align sample --backend {b}", ["align", str(sample), "--text-file", str(text), "--format", "json",
                                             "--backend", b]) for b in backends]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=ROOT / "convert",
                    help="directory holding the microalign package to measure (default: this checkout's convert/)")
    ap.add_argument("--label", default="this checkout", help="name of the measured version in the heading")
    ap.add_argument("--repeat", type=int, default=3, help="runs per case (median reported)")
    ap.add_argument("--backends", default="torch,tflite,tflm", help="backends to time on the sample (comma list)")
    ap.add_argument("--phases", metavar="BACKEND", nargs="?", const="tflm", default=None,
                    help="instead: CPU time of each step of aligning the sample with BACKEND (default tflm), "
                         "median of --repeat fresh interpreters")
    a = ap.parse_args(argv)
    if not (a.source / "microalign" / "__init__.py").is_file():
        ap.error(f"no microalign package under {a.source}")
    env = dict(os.environ, PYTHONPATH=str(a.source.resolve()) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if a.phases:
        runs = [phases(env, a.phases) for _ in range(a.repeat)]
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"## CPU time by step: align the sample, backend {a.phases}, {a.label}, median of {a.repeat}, "
              f"load average {load:.1f} on {os.cpu_count()} CPUs\n")
        print("| step | CPU s |\n|---|---:|")
        for k, (name, _) in enumerate(runs[0]):
            print(f"| {name} | {statistics.median(r[k][1] for r in runs):.3f} |")
        tot = statistics.median(sum(x for name, x in r if not name.startswith("align_pcm again")) for r in runs)
        print(f"| total but the warm align_pcm (whose decode + quality part, ~0.05 s, a CLI run has too) | {tot:.3f} |")
        return 0
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        def tqdm(x, **k):
            return x
    todo = cases([b for b in a.backends.split(",") if b])
    rows = []
    for name, args in tqdm(todo, desc="cases", file=sys.stderr):
        runs = [run_case(args, env) for _ in range(a.repeat)]
        r = runs[-1]
        rows.append((name, statistics.median(x["wall"] for x in runs), statistics.median(x["cpu"] for x in runs),
                     max(x["rss_mb"] for x in runs), r["status"], r["modules"], r["heavy"], r["stderr"]))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"## start-up: {a.label} ({a.source}), median of {a.repeat}, load average {load:.1f} on "
          f"{os.cpu_count()} CPUs\n")
    print("| case | wall s | CPU s | peak RSS MB | exit | modules | heavy modules imported |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, wall, cpu, rss, status, mods, heavy, err in rows:
        note = f" ({err[0][:60]})" if status not in (0,) and err else ""
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {status}{note} | {mods} | {', '.join(heavy) or '-'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
