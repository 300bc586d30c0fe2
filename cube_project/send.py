"""Send audio + transcript to the aligner firmware on an STM32H743 board over its serial port and print the
JSON lines it answers (the serial protocol of tflm_app/board/stm32h743/README.md, "Serial input").

    pip install pyserial                     # optional dependency, only for this script
    .venv/bin/python cube_project/send.py --port /dev/ttyACM0 --audio convert/microalign/assets/sample.wav \
        --text-file convert/microalign/assets/sample.txt

The transcript is normalised to its spoken form first (what `microalign normalize` prints: the firmware takes
only the characters of its token table); the audio is read and resampled to 16 kHz mono int16 as
`microalign align` does. Lines starting with '#' are the firmware's status lines (ready, input, exit);
--json-only prints just the JSON lines, i.e. what `microalign align --backend tflm --format jsonl` prints.
Exit status: the firmware's ('# exit N'), 3 when the port stays silent.
"""
from __future__ import annotations

import argparse
import struct
import sys
import time
import zlib
from pathlib import Path

BAUD = 921600  # board_stm32h743.h MA_H743_BAUD


def input_frame(text: str, audio: Path) -> bytes:
    """The bytes to send: the input block (microalign.export.image.write_input_block) + its CRC-32, little-endian."""
    from microalign.audio import load_audio
    from microalign.export.image import write_input_block
    from microalign.text import normalize

    spoken = " ".join(w.text for w in normalize(text))
    if not spoken:
        raise ValueError(f"the transcript {text[:60]!r} has no words to align")
    block = write_input_block(spoken, load_audio(audio))
    return block + struct.pack("<I", zlib.crc32(block))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", required=True, help="serial port of the board (ST-LINK virtual COM port)")
    ap.add_argument("--audio", type=Path, required=True, help="audio file (any rate/channels soundfile reads)")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the transcript")
    src.add_argument("--text-file", type=Path, help="file holding the transcript (UTF-8)")
    ap.add_argument("--baud", type=int, default=BAUD, help="default %(default)s (the firmware's)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the firmware (default %(default)s)")
    ap.add_argument("--json-only", action="store_true", help="print only the JSON lines")
    a = ap.parse_args(argv)
    try:
        import serial  # pyserial
    except ImportError:
        print("error: this script needs pyserial: pip install pyserial", file=sys.stderr)
        return 2
    text = a.text if a.text is not None else a.text_file.read_text(encoding="utf-8")
    try:
        frame = input_frame(text, a.audio)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with serial.Serial(a.port, a.baud, timeout=a.timeout) as port:
        line = port.readline()  # '# ready: input block N bytes max' after reset
        if not line.startswith(b"# ready"):
            print(f"error: no '# ready' line from {a.port} within {a.timeout:g} s (got {line[:80]!r}); reset the board "
                  "and run this again", file=sys.stderr)
            return 3
        t0 = time.monotonic()
        port.write(frame)
        port.flush()
        print(f"# sent {len(frame):,} bytes in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        status = 3
        for raw in iter(port.readline, b""):
            s = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if s.startswith("# exit "):
                status = int(s.split()[2])
                print(f"{s} ({time.monotonic() - t0:.1f} s after sending began)", file=sys.stderr)
                break
            if s.startswith("#") or s.startswith("error:"):
                print(s, file=sys.stderr)
            elif not a.json_only or s.startswith("{"):
                print(s)
        return status


if __name__ == "__main__":
    sys.exit(main())
