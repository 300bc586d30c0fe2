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


def qemu_harness():
    """The tflm_app/qemu test-firmware harness, or skip when the Arm toolchain or QEMU is missing."""
    import sys

    qemu_dir = REPO / "tflm_app" / "qemu"
    sys.path.insert(0, str(qemu_dir))
    try:
        import harness
    finally:
        sys.path.pop(0)
    missing = harness.missing_tools(qemu=True)
    if missing:
        pytest.skip(f"Cortex-M7 run needs {', '.join(missing)} (Debian: apt-get install gcc-arm-none-eabi "
                    "libnewlib-arm-none-eabi qemu-system-arm)")
    return harness
