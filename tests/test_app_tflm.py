"""The aligner firmware (tflm_app/app/main.c) with TFLM, end to end: the weight image of the shipped
device flatbuffer (FA_ATTENTION) and an input block (the transcript `microalign normalize` prints +
the PCM) in, JSON lines out -- equal, byte for byte, to what `microalign align --backend tflm
--format jsonl` prints for the same recording (the shipped sample, and a 62.6 s recording); a corrupt, truncated or mismatched image refused with
its reason and nothing run.

- on the host (board/host): TFLM from the `host_tflm` session fixture (build/tflm/libtflm.a);
- on QEMU's Cortex-M7 (board/mps2_an500) in each weight mode (xip: the flatbuffer used in place from
  the QSPI region; staged: constants copied per operator into SRAM; flash: the image linked into the
  firmware), with TFLM compiled for the M7 from TFLM_M7_ROOT (CMSIS-NN kernels) and from TFLM_ROOT
  (the reference kernels), each ONCE per run into build/tflm_m7/<tree>/ (the `m7_tflm` session
  fixture; ~3.5 min per tree on 2 cores when cold, then seconds) and the firmwares into
  build/tests_m7/ (incremental). These run in CI (not `slow`): see LONG_BUILDS for the one reduction.

Skips without the TFLM trees (TFLM_ROOT / TFLM_M7_ROOT, default ../shared/tflm/...) or without
the Arm toolchain and QEMU."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import app_firmware, qemu_harness
from microalign.audio import load_audio
from microalign.cli import main as cli_main
from microalign.export import image as I
from microalign.frontend import HOP
from microalign.runtime.windows import MARGIN, window_starts

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "tflm_app" / "app"
ASSETS = REPO / "convert" / "microalign" / "assets"
BAD_IMAGE_EXIT = 2     # main.c: image refused


def cli(*args: str) -> str:
    """stdout of one `microalign` command (warnings go to stderr, not compared)."""
    r = CliRunner().invoke(cli_main, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """(folder, image, input block, the CLI's jsonl lines) for the shipped sample."""
    d = tmp_path_factory.mktemp("app_tflm")
    image = d / "student_qspi.bin"
    image.write_bytes(I.write_image((ASSETS / "student_device.tflite").read_bytes()))
    spoken = cli("normalize", "--text-file", ASSETS / "sample.txt").strip()
    inp = d / "input.bin"
    inp.write_bytes(I.write_input_block(spoken, load_audio(ASSETS / "sample.wav")))
    want = cli("align", ASSETS / "sample.wav", "--text-file", ASSETS / "sample.txt", "--backend", "tflm",
               "--format", "jsonl")
    words = [json.loads(line) for line in want.splitlines()]
    assert [w["word"] for w in words] == spoken.split()      # the reference itself is sane
    assert len({w["confidence"] for w in words}) > 10 and words[-1]["end"] <= 8.435
    return d, image, inp, want


@pytest.fixture(scope="module")
def long_case(sample):
    """(input block, the CLI's jsonl lines) for a 62.6 s recording: the sample seven times, 0.5 s of silence after
    each, and its transcript seven times (161 words, 21 windows)."""
    import soundfile as sf

    d = sample[0]
    pcm = load_audio(ASSETS / "sample.wav")
    pcm = np.concatenate([np.concatenate([pcm, np.zeros(8000, np.int16)]) for _ in range(7)])
    wav, txt = d / "long.wav", d / "long.txt"
    sf.write(wav, pcm, 16000, subtype="PCM_16")
    txt.write_text(" ".join([(ASSETS / "sample.txt").read_text().strip()] * 7), encoding="utf-8")
    inp = d / "long_input.bin"
    inp.write_bytes(I.write_input_block(cli("normalize", "--text-file", txt).strip(), pcm))
    want = cli("align", wav, "--text-file", txt, "--backend", "tflm", "--format", "jsonl")
    assert len(want.splitlines()) == 161
    return inp, want


def model_window() -> int:
    """Frames per window of the shipped device model (its input tensor [1, W, n_mels])."""
    from microalign.export import flatbuffer as fbk

    m = fbk.load(ASSETS / "student_device.tflite")
    sg = m.subgraphs[0]
    return fbk.shape(sg.tensors[int(sg.inputs[0])])[1]


def check_frontend_report(fw, out: str, n_samples: int) -> None:
    """The firmware's ``# aligner frontend`` line (MA_APP_REPORT): every frame through the frontend once, the
    frames consecutive windows share carried from one to the next (not recomputed)."""
    nums = fw.app_report(out)
    window, n = model_window(), -(-n_samples // HOP)
    starts = window_starts(n, window, MARGIN)
    assert nums["frames"] == n and nums["frontend_frames"] == n, nums
    assert nums["windows"] == len(starts) > 1, nums
    assert nums["carried_frames"] == sum(min(window, n - s) for s in starts) - n > 0, nums


def bad_images(d: Path) -> dict[str, tuple[Path, str]]:
    """A corrupt, a truncated and a mismatched (other generated headers) image, with their message."""
    good = bytearray(I.write_image((ASSETS / "student_device.tflite").read_bytes()))
    out = {}
    img = bytearray(good)
    img[len(img) // 2] ^= 1
    out["corrupt"] = (img, "image payload corrupt")
    out["truncated"] = (good[:len(good) - 100], "image truncated")
    other = d / "other_headers"
    other.mkdir(exist_ok=True)
    for name, _ in I.header_hashes():
        (other / name).write_text("/* another build */\n")
    out["mismatched"] = (bytearray(I.write_image((ASSETS / "student_device.tflite").read_bytes(), other)),
                         "image built for other generated headers")
    paths = {}
    for name, (data, message) in out.items():
        p = d / f"bad_{name}.bin"
        p.write_bytes(bytes(data))
        paths[name] = (p, "error: weight image corrupt, truncated or mismatched: " + message)
    return paths


# ------------------------------------------------------------------------------------------- host


@pytest.fixture(scope="module")
def host_app(host_tflm, tmp_path_factory):
    d = tmp_path_factory.mktemp("app_tflm_host")
    p = subprocess.run(["make", "-s", "-C", str(APP), "host-tflm", f"BUILD={d}", f"TFLM_LIB={host_tflm.library}",
                        f"TFLM_ROOT={host_tflm.root}"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    return d / "microalign_app.host"


def run_host(exe: Path, image: Path, inp: Path | None) -> tuple[int, str]:
    env = dict(os.environ, MA_IMAGE=str(image))
    env.pop("MA_INPUT", None)
    if inp is not None:
        env["MA_INPUT"] = str(inp)
    p = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=600)
    return p.returncode, p.stdout + p.stderr


def test_host_sample_matches_cli(host_app, sample):
    _, image, inp, want = sample
    rc, out = run_host(host_app, image, inp)
    assert rc == 0, out
    assert out == want


def test_host_60s_matches_cli(host_app, sample, long_case):
    rc, out = run_host(host_app, sample[1], long_case[0])
    assert rc == 0, out
    assert out == long_case[1]


def test_host_refuses_bad_images(host_app, sample):
    d, _, inp, _ = sample
    for name, (path, message) in bad_images(d).items():
        rc, out = run_host(host_app, path, inp)
        assert rc == BAD_IMAGE_EXIT and out.startswith(message), (name, out)
        assert "{" not in out, (name, out)    # nothing ran


def test_host_rejects_text_outside_token_table(host_app, sample):
    d, image, _, _ = sample
    inp = d / "bad_text.bin"
    inp.write_bytes(I.write_input_block("hello Wörld", (np.arange(16000) % 200 - 100).astype(np.int16)))
    rc, out = run_host(host_app, image, inp)
    assert rc == 1 and out.startswith("error: "), out
    assert "{" not in out, out


# ------------------------------------------------------------------------ Cortex-M7 under QEMU


KERNELS = {"cmsis_nn": "tflm_m7_root", "reference": "tflm_host_root"}
MODES = ("xip", "staged", "flash")
# every weight mode with both kernel sets on the sample and the bad images
BUILDS = [(k, m) for k in KERNELS for m in MODES]
# the 60 s recording: every mode with CMSIS-NN, XIP with the reference kernels. The weight mode only changes
# where the constants are read from (the sample checks it with the reference kernels too); the reference
# kernels' arithmetic is mode-independent, and their 60 s run costs ~28 G instructions (minutes under QEMU).
LONG_BUILDS = [("cmsis_nn", m) for m in MODES] + [("reference", "xip")]
# firmwares are built in one folder per session (make is incremental; parallel workers wait on a lock)
M7_BUILD = REPO / "build" / "tests_m7"


def constants_per_op(model: bytes) -> list[list[int]]:
    """Byte counts of each operator's constant inputs (non-empty buffers), in execution order."""
    S = I._schema()
    m = S.ModelT.InitFromObj(S.Model.GetRootAsModel(model, 0))
    sg = m.subgraphs[0]
    datas = [[m.buffers[sg.tensors[t].buffer].data for t in op.inputs if t >= 0] for op in sg.operators]
    return [[len(d) for d in op if d is not None and len(d)] for op in datas]


@pytest.fixture(scope="session")
def m7_tflm(request):
    """(firmware module, kernels -> TFLM tree) with each tree's Cortex-M7 library built ONCE per test run
    (firmware.build_m7_tflm_lib: cold ~3.5 min per tree on 2 cores, then make only checks the objects)."""
    qemu_harness()   # skips without arm-none-eabi-gcc / qemu-system-arm
    fw = app_firmware()
    roots = {}
    for kernels, finder in KERNELS.items():
        try:
            root = getattr(fw, finder)()
        except ValueError as e:
            pytest.skip(str(e))
        if root is None:
            pytest.skip(f"no TFLM tree for the {kernels} kernels (set TFLM_M7_ROOT / TFLM_ROOT)")
        roots[kernels] = root
    for root in roots.values():     # the cold build, once per run (a no-op when build/tflm_m7 is up to date)
        fw.build_m7_tflm_lib(root)
    return fw, roots


def build_m7(m7_tflm, sample, kernels: str, mode: str, image: Path | None = None, name: str | None = None) -> Path:
    fw, roots = m7_tflm
    image = image if image is not None else (sample[1] if mode == "flash" else None)
    with fw.file_lock(M7_BUILD / ".lock"):
        # the staged build reports its copies ("# ..." lines after the JSON lines)
        return fw.build_tflm_firmware(roots[kernels], M7_BUILD, mode=mode, image=image, name=name,
                                      defines=["MA_APP_REPORT"] if mode == "staged" else None)


@pytest.fixture(scope="module")
def m7_app(request, m7_tflm, sample):
    kernels, mode = request.param
    return m7_tflm[0], build_m7(m7_tflm, sample, kernels, mode), mode


def run_m7(fw, elf: Path, mode: str, image: Path, inp: Path) -> tuple[int, str]:
    """Run under QEMU; in flash mode the image is the firmware's own and nothing is loaded at the QSPI address."""
    return fw.run_elf(elf, image=None if mode == "flash" else image, input=inp)


@pytest.mark.parametrize("m7_app", BUILDS, ids=["-".join(b) for b in BUILDS], indirect=True)
def test_m7_sample_matches_cli(m7_app, sample):
    fw, elf, mode = m7_app
    _, image, inp, want = sample
    rc, out = run_m7(fw, elf, mode, image, inp)
    assert rc == 0, out
    if mode != "staged":
        assert out == want
        return
    lines = out.splitlines(keepends=True)
    assert "".join(ln for ln in lines if not ln.startswith("# ")) == want
    report = next(ln for ln in lines if ln.startswith("# staged weights:"))
    ops = constants_per_op(I.read_image(image.read_bytes()).model)
    per_window = sum(map(sum, ops))
    n_windows = len(window_starts(len(load_audio(ASSETS / "sample.wav")) // HOP + 1, 400, MARGIN))
    nums = {k: int(v) for v, k in re.findall(r"(\d+) (ops|constant tensors|bytes per window|copies|bytes copied)",
                                             report)}
    assert nums["ops"] == len(ops) and nums["bytes per window"] == per_window, report
    assert nums["constant tensors"] == sum(map(len, ops)), report
    # every constant copied from the image exactly once per window (the QSPI bytes read per window)
    assert nums["copies"] == n_windows * nums["constant tensors"], report
    assert nums["bytes copied"] == n_windows * per_window, report
    # the staging buffer is sized from the model: two halves of its largest operator's constants (each 16-byte
    # aligned; halves rounded up to 32 bytes), taken from the end of the arena
    largest = max(sum((b + 15) // 16 * 16 for b in op) for op in ops)
    m = re.search(r"largest op (\d+)\), buffer (\d+) bytes", report)
    assert m and int(m.group(1)) == largest and int(m.group(2)) == 2 * ((largest + 31) // 32 * 32), report
    check_frontend_report(fw, out, len(load_audio(ASSETS / "sample.wav")))


@pytest.mark.parametrize("m7_app", LONG_BUILDS, ids=["-".join(b) for b in LONG_BUILDS], indirect=True)
def test_m7_60s_matches_cli(m7_app, sample, long_case):
    fw, elf, mode = m7_app
    rc, out = run_m7(fw, elf, mode, sample[1], long_case[0])
    assert rc == 0, out
    assert "".join(ln for ln in out.splitlines(keepends=True) if not ln.startswith("# ")) == long_case[1]
    if mode == "staged":   # built with MA_APP_REPORT
        check_frontend_report(fw, out, 7 * (len(load_audio(ASSETS / "sample.wav")) + 8000))


@pytest.mark.parametrize("m7_app", BUILDS, ids=["-".join(b) for b in BUILDS], indirect=True)
def test_m7_refuses_bad_images(m7_app, m7_tflm, sample, request):
    fw, elf, mode = m7_app
    d, _, inp, _ = sample
    kernels = request.node.callspec.params["m7_app"][0]
    for name, (path, message) in bad_images(d).items():
        if mode == "flash":    # the bad image linked into the firmware instead of the good one
            bad = build_m7(m7_tflm, sample, kernels, mode, image=path, name=f"{elf.stem}_bad_{name}")
            rc, out = fw.run_elf(bad, input=inp)
        else:
            if name == "truncated":   # a QSPI region has no file length: the missing tail reads as other bytes
                message = message.replace("image truncated", "image payload corrupt (CRC-32 mismatch)")
            rc, out = fw.run_elf(elf, image=path, input=inp)
        assert rc == BAD_IMAGE_EXIT and out.startswith(message), (name, out)
        assert "{" not in out, (name, out)


def test_flash_mode_needs_an_image(m7_tflm, tmp_path):
    fw, roots = m7_tflm
    with pytest.raises(ValueError, match="image= is required"):
        fw.build_tflm_firmware(roots["cmsis_nn"], tmp_path, mode="flash")
    with pytest.raises(ValueError, match="not one of"):
        fw.build_tflm_firmware(roots["cmsis_nn"], tmp_path, mode="sdram")
    p = subprocess.run(["make", "-s", "-C", str(APP), "elf-tflm", f"BUILD={tmp_path}", "MODE=flash",
                        f"TFLM_M7_ROOT={roots['cmsis_nn']}", f"IMAGE={tmp_path / 'absent.bin'}"],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "MODE=flash links the weight image" in p.stderr, p.stderr
