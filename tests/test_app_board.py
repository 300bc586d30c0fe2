"""The QEMU board layer (tflm_app/board/mps2_an500): the weight image and an input block loaded into
PSRAM, read through board.h by a test firmware on the STM32H743 memory plan (memory_plan.ld)."""
from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from conftest import app_firmware, qemu_harness
from microalign.export import image as I

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "convert" / "microalign" / "assets" / "student_int8.tflite"


@pytest.fixture(scope="module")
def board_fw(tmp_path_factory):
    qemu_harness()   # skips without the Arm toolchain / QEMU
    firmware = app_firmware()
    d = tmp_path_factory.mktemp("board")
    I.write_header(d, I.GENERATED_DIR)   # hashes of the headers as they are now
    fw = firmware.AppFirmware(main=str(REPO / "tflm_app" / "tests" / "test_board_mps2.c"), build=d / "build",
                              extra_includes=[str(d)])
    fw.build_elf()
    return fw, d


def test_board_with_image_and_input(board_fw):
    fw, d = board_fw
    img = d / "student_qspi.bin"
    img.write_bytes(I.write_image(MODEL.read_bytes()))
    pcm = (np.sin(np.arange(16000 * 3 + 123) / 9.0) * 8000).astype(np.int16)
    text = "it's a test"
    inp = d / "input.bin"
    inp.write_bytes(I.write_input_block(text, pcm))
    rc, out = fw.run_qemu(image=img, input=inp, timeout=120)
    assert rc == 0, out
    assert "board: 0 failures" in out
    assert f"text: {text}\n" in out
    assert f"audio: {len(pcm)} samples of {len(pcm)}, crc32 {zlib.crc32(pcm.astype('<i2').tobytes()):08x}" in out
    m = re.search(r"image: ok \(ok\), model (\d+) bytes, (\d+) buffers", out)
    assert m and int(m.group(1)) == len(I.reorder_by_first_use(MODEL.read_bytes()).data), out
    used = int(re.search(r"stack: (\d+) bytes used", out).group(1))
    assert 64 < used < 32 * 1024


def test_board_refuses_a_corrupt_image(board_fw):
    fw, d = board_fw
    img = bytearray(I.write_image(MODEL.read_bytes()))
    img[len(img) // 2] ^= 0x40
    bad = d / "corrupt.bin"
    bad.write_bytes(bytes(img))
    rc, out = fw.run_qemu(image=bad, timeout=120)
    assert rc == 0, out
    assert "image: refused (image payload corrupt (CRC-32 mismatch))" in out
    assert "input: none" in out


def test_input_block_layout():
    pcm = np.array([1, -2, 32767], np.int16)
    b = I.write_input_block("ab", pcm)
    assert b[:8] == b"MAINPUT\0" and len(b) == 32 + 4 + 6
    assert np.frombuffer(b[36:], "<i2").tolist() == [1, -2, 32767]
    with pytest.raises(I.ImageError, match="int16"):
        I.write_input_block("a", np.zeros(3, np.float32))


def test_board_console_on_uart0(board_fw, tmp_path):
    """The same firmware with its console on the CMSDK UART0 instead of semihosting."""
    fw, d = board_fw
    uart = type(fw)(main=fw.main, build=tmp_path / "build", extra_includes=fw.extra_includes,
                    defines=["MA_BOARD_CONSOLE_UART"])
    img = d / "student_qspi_uart.bin"
    img.write_bytes(I.write_image(MODEL.read_bytes()))
    rc, out = uart.run_qemu(image=img, timeout=120, serial="stdio")
    assert rc == 0, out
    assert "image: ok (ok)" in out and "board: 0 failures" in out
    rc, out = uart.run_qemu(image=img, timeout=120)   # UART not connected: the output goes nowhere
    assert rc == 0 and "board: 0 failures" not in out
