"""Long recordings, per length x backend: are the clips still where they belong?

Recordings of 1 s, 20 s, 60 s, 5 min, 20 min and 60 min are built by concatenating LJ Speech
clips (``../shared/data/ljspeech-subset``, in order, repeating in the long ones;
:mod:`microalign.quality.concat`). For each, one child process aligns it with the backend
(so ``ru_maxrss`` is the peak memory of that run alone, model and audio included) and the
table reports:

- clips whose first word starts within 100 ms of where it is expected (the clip's offset plus
  its first word's start when the clip is aligned alone with the same backend), goal >= 95 %;
- the worst such error; wall time of the child; its peak resident memory;
- whether the decoded word spans (frames, before the refinement between frames) equal those of the
  unbounded exact Viterbi (the float decoder with
  ``band=None`` on the same frame scores, dequantised for int8; only where ``T x states`` fits
  ``--exact-limit``);
- the warnings the run drew (a correct recording should draw none), each with the clip it falls in and
  whether that clip aligned alone draws the same warning (then the warning is the model's, on that clip,
  not something the length caused).

    python eval/long_audio.py --ljspeech ../shared/data/ljspeech-subset --backend torch --backend tflm

Writes ``eval/results/long_audio.md`` (``-o``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "convert"))

LENGTHS = {"1 s": 1, "20 s": 20, "60 s": 60, "5 min": 300, "20 min": 1200, "60 min": 3600}
TOLERANCE = 0.1


def load_clips(root: Path, limit: int = 0):
    from microalign.audio import load_audio
    from microalign.teachers.corpora import read_ljspeech

    utts = read_ljspeech(root)
    if limit:
        utts = utts[:limit]
    return [(u.id, load_audio(u.audio), u.text) for u in utts]


# ---- child processes -------------------------------------------------------------------------

def child_align(a) -> int:
    """Align one concatenated recording; write word starts, spans and frame scores into a.work."""
    from microalign.align import align_pcm
    from microalign.quality.concat import concatenate
    from microalign.runtime import load_backend

    t0 = time.perf_counter()
    clips = load_clips(a.ljspeech, a.n_clips)
    cat = concatenate(clips, a.seconds)
    del clips
    scorer = load_backend(a.backend)
    t1 = time.perf_counter()
    scores_box = {}
    import microalign.align as A
    real_decode = A.decode_scores

    def keep(scores, tokens, *args, **kw):      # keep the frame scores and the decoded path for the exact comparison
        scores_box["s"] = scores
        scores_box["d"] = real_decode(scores, tokens, *args, **kw)
        return scores_box["d"]

    A.decode_scores = keep
    al = align_pcm(cat.pcm, cat.text, scorer)
    t2 = time.perf_counter()
    s = scores_box["s"]
    work = Path(a.work)
    np.save(work / "values.npy", s.values)
    starts = np.array([w.start for w in al.words])
    np.save(work / "spans.npy", scores_box["d"].word_spans)   # the decoder's path (frames), before the refinement
    (work / "result.json").write_text(json.dumps({
        "duration": cat.duration, "clips": cat.clip_ids, "offsets": cat.offsets.tolist(),
        "first_word": cat.first_word.tolist(), "starts": starts.tolist(), "n_words": len(al.words),
        "scale": s.scale, "zero_point": s.zero_point, "text": cat.text,
        "warnings": [[w.code, w.word] for w in al.warnings], "score": al.score,
        "load_seconds": t1 - t0, "align_seconds": t2 - t1}))
    return 0


def child_alone(a) -> int:
    """First-word start (the expected position) and warning codes of every clip aligned alone."""
    from microalign.align import align_pcm
    from microalign.runtime import load_backend

    scorer = load_backend(a.backend)
    out = {}
    for cid, pcm, text in load_clips(a.ljspeech, a.n_clips):
        al = align_pcm(pcm, text, scorer)
        out[cid] = {"start": al.words[0].start, "warnings": sorted({w.code for w in al.warnings})}
    Path(a.work, "alone.json").write_text(json.dumps(out))
    return 0


def child_exact(a) -> int:
    """Word spans from the unbounded float Viterbi over the saved scores."""
    from microalign.align import char_floor
    from microalign.decode import viterbi_align
    from microalign.text import normalize
    from microalign.text.tokens import ENGLISH

    work = Path(a.work)
    r = json.loads((work / "result.json").read_text())
    v = np.load(work / "values.npy")
    lp = (v.astype(np.float64) - r["zero_point"]) * r["scale"] if v.dtype == np.int8 else v.astype(np.float64)
    tokens = [ENGLISH.encode_word(w.text) for w in normalize(r["text"])]
    n_chars = sum(map(len, tokens))
    ex = viterbi_align(lp, tokens, band=None, min_char_frames=char_floor(len(lp), n_chars))
    spans = np.load(work / "spans.npy")
    cap = int(np.floor(r["duration"] * 100))
    ws = np.minimum(ex.word_spans, cap)
    spans = np.minimum(spans, cap)
    Path(work, "exact.json").write_text(json.dumps({"equal": bool(np.array_equal(ws, spans)),
                                                    "differ": int((ws != spans).any(axis=1).sum())}))
    return 0


def describe_warnings(warnings: list, clips: list[str], first_word: list[int], alone: dict) -> str:
    """The table's warnings cell: each code once per clip, with that clip and whether the clip
    aligned alone draws the same code (utterance-level warnings name no clip)."""
    seen: dict[tuple, bool | None] = {}
    for code, word in warnings:
        if word is None:
            seen.setdefault((code, None), None)
            continue
        cid = clips[int(np.searchsorted(np.asarray(first_word), word, side="right")) - 1]
        seen.setdefault((code, cid), code in alone[cid]["warnings"])
    cells = [code if cid is None else f"{code} ({cid}{', also alone' if same else ', not alone'})"
             for (code, cid), same in sorted(seen.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]
    return "; ".join(cells) or "none"


def run_child(mode: str, a, work: Path, seconds: float = 0.0) -> tuple[int, float, float]:
    """(status, wall seconds, peak RSS MB) of one child run."""
    cmd = [sys.executable, __file__, "--child", mode, "--backend", a.backend_one, "--ljspeech", str(a.ljspeech),
           "--work", str(work), "--seconds", str(seconds), "--n-clips", str(a.n_clips)]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL if not a.verbose else None)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, time.perf_counter() - t0, ru.ru_maxrss / 1024.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ljspeech", type=Path, required=True)
    ap.add_argument("--backend", action="append", default=[])
    ap.add_argument("--lengths", default=",".join(LENGTHS), help=f"comma-separated subset of {', '.join(LENGTHS)}")
    ap.add_argument("--n-clips", type=int, default=0, help="use only the first N clips (0 = all)")
    ap.add_argument("--exact-limit", type=float, default=2e8, help="largest frames x states for the exact Viterbi")
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "eval" / "results" / "long_audio.md")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--child", choices=("align", "alone", "exact"), help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=0.0, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        a.backend = a.backend[0]
        return {"align": child_align, "alone": child_alone, "exact": child_exact}[a.child](a)
    lengths = [s.strip() for s in a.lengths.split(",")]
    bad = [s for s in lengths if s not in LENGTHS]
    if bad:
        ap.error(f"unknown lengths {bad}; choose from {', '.join(LENGTHS)}")
    from microalign.decode import MIN_CHAR_FRAMES

    rows = ["| length | backend | clips | first word within 100 ms | worst error | time | peak memory | "
            "= exact Viterbi | warnings |", "|---|---|---|---|---|---|---|---|---|"]
    from microalign.decode import __doc__ as decoder_doc
    misses: list[str] = []

    def write(final: bool) -> None:
        text = "\n".join([
            "# Long recordings: concatenated LJ Speech clips", "",
            f"`python eval/long_audio.py {' '.join(sys.argv[1:] if argv is None else argv)}`"
            + ("" if final else " (interrupted: the rows measured so far)"), "",
            "Expected position of a clip's first word: the clip's offset plus that word's start when the clip is "
            "aligned alone with the same backend. Time and peak memory (ru_maxrss) are those of one child process "
            "that loads all the clips, builds the recording, loads the model and aligns (align: the alignment "
            "alone). The exact Viterbi is the float decoder with band=None on the same frame scores. "
            f"Decoder: {(decoder_doc or '').strip().splitlines()[0]}", "", *rows, "",
            "Clips whose first word is more than 100 ms from where it is expected (signed error: the long "
            "alignment minus the expected start):", "", *(misses or ["none"]), ""])
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text, encoding="utf-8")

    for backend in a.backend or ["torch"]:
        a.backend_one = backend
        with tempfile.TemporaryDirectory() as tmp:
            st, _, _ = run_child("alone", a, Path(tmp))
            if st:
                raise SystemExit(f"aligning the clips alone with {backend} failed (status {st})")
            alone = json.loads(Path(tmp, "alone.json").read_text())
        for name in lengths:
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                st, wall, rss = run_child("align", a, work, LENGTHS[name])
                if st:
                    rows.append(f"| {name} | {backend} | | failed (status {st}) | | {wall:.1f} s | {rss:.0f} MB | | |")
                    print(rows[-1], flush=True)
                    write(False)
                    continue
                r = json.loads((work / "result.json").read_text())
                starts = np.array(r["starts"])
                expected = np.array(r["offsets"]) + np.array([alone[c]["start"] for c in r["clips"]])
                signed = starts[np.array(r["first_word"], dtype=int)] - expected
                err = np.abs(signed)
                far = np.nonzero(err > TOLERANCE + 1e-9)[0]
                if len(far):
                    misses.append(f"- {name}, {backend}: " + ", ".join(
                        f"{r['clips'][k]} at {r['offsets'][k]:.1f} s ({1000 * signed[k]:+.0f} ms)" for k in far))
                ok = int((err <= TOLERANCE + 1e-9).sum())
                n_states = 2 * r["n_words"] + 1 + MIN_CHAR_FRAMES * sum(
                    len(w) for w in r["text"].split())   # approximate size of the state graph
                T = round(r["duration"] * 100)
                if T * n_states <= a.exact_limit:
                    st2, _, _ = run_child("exact", a, work)
                    exact = ("yes" if json.loads((work / "exact.json").read_text())["equal"] else
                             f"no ({json.loads((work / 'exact.json').read_text())['differ']} words differ)") \
                        if st2 == 0 else f"failed ({st2})"
                else:
                    exact = "– (too large)"
                warns = describe_warnings(r["warnings"], r["clips"], r["first_word"], alone)
                rows.append(f"| {name} ({r['duration']:.1f} s) | {backend} | {len(err)} | {ok}/{len(err)} "
                            f"({100 * ok / len(err):.1f} %) | {1000 * err.max():.0f} ms | {wall:.1f} s "
                            f"(align {r['align_seconds']:.1f} s) | {rss:.0f} MB | {exact} | {warns} |")
                print(rows[-1], flush=True)
                write(False)
    write(True)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
