"""Shared fixtures. Data from ../shared is optional: tests that need it skip with a clear message."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MICROALIGN_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when it is absent (users do not have it)."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the ../shared data folder exists on the developers' machines and CI only)")
    return p


@pytest.fixture
def timit_dev() -> Path:
    return shared_path("data", "timit-sample-dev")


@pytest.fixture
def repo() -> Path:
    return REPO


def _import_from(folder: Path, name: str):
    """Import the module ``name`` from ``folder`` (a script folder of tflm_app, not a package)."""
    import importlib
    import sys

    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


def assert_compiles_cleanly(source: Path, includes=()) -> None:
    """A pure C kernel compiles without a warning (-Werror, conversions, alignment) for the host (gcc) and
    for the Cortex-M7 (arm-none-eabi-gcc), whichever of the two compilers is installed."""
    import shutil
    import subprocess

    for cc, flags in [("gcc", ["-Wconversion", "-Wsign-conversion", "-Wshadow", "-Wcast-align=strict"]),
                      ("arm-none-eabi-gcc", ["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-mthumb",
                                             "-Wconversion", "-Wcast-align"])]:
        if shutil.which(cc) is None:
            continue
        p = subprocess.run([cc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Werror", *flags,
                            *(f"-I{i}" for i in includes), "-c", str(source), "-o", "/dev/null"],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr


@pytest.fixture
def fresh_native(tmp_path, monkeypatch):
    """microalign.decode.native reset to build its shared object afresh in tmp_path (``native``; the test may
    then take the compiler away with ``monkeypatch.setattr(native, "_compiler", lambda: None)``)."""
    from microalign.decode import native

    monkeypatch.setenv("MICROALIGN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setattr(native, "_error", None)
    return native


def app_firmware():
    """tflm_app/app/firmware.py: builds and runs the application firmware (host, QEMU, with TFLM)."""
    return _import_from(REPO / "tflm_app" / "app", "firmware")


def qemu_harness():
    """tflm_app/app/firmware.py (``Firmware``, ``AppFirmware``, ``build_tflm_firmware``, ...) for a run on QEMU's
    Cortex-M7, or skip when the Arm toolchain or QEMU is missing."""
    harness = app_firmware()
    missing = harness.missing_tools(qemu=True)
    if missing:
        pytest.skip(f"Cortex-M7 run needs {', '.join(missing)} (Debian: apt-get install gcc-arm-none-eabi "
                    "libnewlib-arm-none-eabi qemu-system-arm)")
    return harness


@pytest.fixture(scope="session")
def host_tflm():
    """TFLite Micro built on the host with the FA_ATTENTION adapter (microalign.export.tflm_host), ONCE per
    test run: one object folder, build/tflm, shared by every test that needs TFLM (make reuses the
    objects between runs; parallel workers wait on a lock). Skips when there is no TFLM tree."""
    from microalign.export import tflm_host
    from microalign.kernels import attention_oracle as ao

    try:
        root = tflm_host.find_tflm_root()
    except ValueError as e:
        pytest.skip(str(e))
    if root is None:
        pytest.skip(f"no TFLite Micro tree: {tflm_host.HOW_TO} (default {tflm_host.DEFAULT_TREE}, absent here)")
    vectors = tflm_host.DEFAULT_BUILD / "vectors"
    header = ao.render_header(ao.default_cases(seed=0, small=True))
    target = vectors / ao.HEADER_NAME
    if not target.is_file() or target.read_text() != header:    # rewritten only when it changed
        vectors.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(header)
        os.replace(tmp, target)
    return tflm_host.build_host_tflm(root, vectors=vectors)


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the tests marked slow (minutes each: 5-60 min recordings, exhaustive checks); "
                          "the default run, and CI, leave them out")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` are deselected unless ``--run-slow`` or a ``-m`` expression naming slow is given."""
    if config.getoption("--run-slow") or "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [it for it in items if it.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [it for it in items if not it.get_closest_marker("slow")]
