"""tflm_app/sources.mk, the one source list of every firmware build: what it lists exists, every C/C++ source of
the application, its kernels, frontend, TFLM adapters and boards is listed, make sees the same lists Python
parses, and a line Python cannot read is an error naming it."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, app_firmware

TFLM_APP = REPO / "tflm_app"


def test_every_listed_file_exists():
    src = app_firmware().read_sources()
    for name in ("MA_APP_SRCS", "MA_KERNEL_SRCS", "MA_FRONTEND_SRCS", "MA_ALIGNER_SRCS", "MA_MAIN_SRCS",
                 "MA_TFLM_SRCS", "MA_BOARD_mps2_an500_SRCS", "MA_BOARD_mps2_an500_LD", "MA_FLASH_IMAGE_SRCS"):
        assert src.get(name), name
    # every list of files (MA_TFLM_KERNELS names TFLM's kernels, not files of tflm_app/)
    listed = [p for k, v in src.items() if k not in ("MA_INCLUDE_DIRS", "MA_TFLM_KERNELS") for p in v]
    missing = [p for p in listed if not (TFLM_APP / p).is_file()]
    assert not missing, missing
    assert all((TFLM_APP / d).is_dir() for d in src["MA_INCLUDE_DIRS"])


def test_every_library_source_is_listed():
    """A new .c/.cc in app/, kernels/, frontend/, tflm/ or a board folder must go into sources.mk (or be a
    test, fuzz harness or host tool, which live in their own folders or have their own suffix)."""
    listed = {p for v in app_firmware().read_sources().values() for p in v}
    tools = {"tflm/fa_attention_test.cc", "tflm/ma_tflm_run.cc"}     # Makefile.tflm's host programs
    found = set()
    for folder in ("app", "kernels", "frontend", "tflm", "board", "board/host", "board/mps2_an500"):
        for p in (TFLM_APP / folder).glob("*"):
            if p.suffix in (".c", ".cc", ".S"):
                found.add(str(p.relative_to(TFLM_APP)))
    assert found - listed - tools == set()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_reads_the_same_lists():
    src = app_firmware().read_sources()
    mk = TFLM_APP / "sources.mk"
    for name in ("MA_APP_SRCS", "MA_BOARD_mps2_an500_SRCS", "MA_TFLM_SRCS"):
        p = subprocess.run(["make", "-s", "-f", str(mk), "-f", "-", f"--eval=print: ; @echo $({name})", "print"],
                           input="", capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert p.stdout.split() == src[name], name


def test_unreadable_line_is_an_error(tmp_path: Path):
    bad = tmp_path / "sources.mk"
    bad.write_text("MA_APP_SRCS = a.c \\\n  b.c\nMA_X = $(wildcard *.c)\n")
    with pytest.raises(ValueError, match=r"wildcard"):
        app_firmware().read_sources(bad)
    bad.write_text("MA_APP_SRCS = a.c \\\n  b.c   # two\nMA_APP_SRCS += c.c\n")
    assert app_firmware().read_sources(bad) == {"MA_APP_SRCS": ["a.c", "b.c", "c.c"]}
