"""The device weight image ``student_qspi.bin``: what is programmed into the QSPI flash.

The firmware reads the model from this image (memory-mapped QSPI on the STM32H743, a
separate PSRAM region on QEMU's mps2-an500) and refuses to run when the image is corrupt,
truncated, of another format version, or built for other generated headers than the ones
the firmware was compiled with. The C reader is ``tflm_app/app/ma_image.[ch]``; its
constants and the expected header hashes come from :func:`render_header`
(``tflm_app/generated/microalign_image.h``), never typed by hand.

Layout (all integers little-endian; offsets in bytes from the start of the image)::

    offset  size  field
    ------  ----  ---------------------------------------------------------------
         0     8  magic "MALIGNQ\\0"
         8     4  format version (IMAGE_VERSION)
        12     4  header_size: bytes of the header, section table and hash table
        16     4  total_size: bytes of the whole image (header + payload)
        20     4  payload_crc32: CRC-32 (zlib / IEEE 802.3) of bytes [header_size, total_size)
        24     4  n_sections
        28     4  n_hashes
        32    32  model_sha256: SHA-256 of the MODEL section's bytes
        64     4  header_crc32: CRC-32 of bytes [0, header_size) with this field read as 0
        68    12  reserved (0)
        80  16*n  section table: {u32 kind, u32 offset, u32 size, u32 reserved}
         .  64*n  hash table: {char name[32] (NUL-padded), u8 sha256[32]}, one entry per
                  generated header the image was built for (tflm_app/generated/*.h except
                  microalign_image.h), sorted by name
         .     .  zero padding up to header_size (a multiple of SECTION_ALIGN)
    header_size   payload: the sections, each at a multiple of SECTION_ALIGN (64) bytes

Sections (``kind``):

* ``SECTION_MODEL`` (1): the device flatbuffer, its constant buffers reordered by first
  use (:func:`reorder_by_first_use`): the operators' metadata first, then the constant data
  in the order the interpreter reads it, every buffer 16-byte aligned, so that an XIP read
  or a staged copy of operator ``i``'s weights walks the flash forwards.
* ``SECTION_LAYOUT`` (2): one record per constant buffer, in flash order:
  ``{u32 buffer_index, u32 first_operator, u32 offset_in_model, u32 size}``
  (``first_operator`` = 0xFFFFFFFF for buffers no operator reads, e.g. metadata): what a
  staged-weights loader copies before each operator.

Usage::

    python -m microalign.export.image write MODEL.tflite -o student_qspi.bin
    python -m microalign.export.image info student_qspi.bin
    python -m microalign.export.image header --out tflm_app/generated   # microalign_image.h
"""
from __future__ import annotations

import argparse
import hashlib
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"MALIGNQ\x00"
IMAGE_VERSION = 1
FIXED_HEADER_BYTES = 80
SECTION_ENTRY_BYTES = 16
HASH_ENTRY_BYTES = 64
HASH_NAME_BYTES = 32
SECTION_ALIGN = 64          # payload sections start at multiples of this (>= 16, a cache line pair)
BUFFER_ALIGN = 16           # flatbuffer constant buffers (TFLite schema: force_align 16)
SECTION_MODEL = 1
SECTION_LAYOUT = 2
LAYOUT_RECORD_BYTES = 16
NOT_USED = 0xFFFFFFFF
MAX_SECTIONS = 16
MAX_HASHES = 32

# The input block a test host loads next to the image (QEMU: PSRAM; see tflm_app/board/board.h):
#   0 magic "MAINPUT\0", 8 u32 sample rate (16000), 12 u32 text bytes, 16 u32 samples,
#   20 u32 text offset (32), 24 u32 audio offset (4-aligned, after the text), 28 u32 reserved;
#   the transcript (UTF-8, spoken form), then int16 little-endian PCM.
INPUT_MAGIC = b"MAINPUT\x00"
INPUT_HEADER_BYTES = 32

HEADER_FILENAME = "microalign_image.h"
GENERATOR = "microalign.export.image"
GENERATED_DIR = Path(__file__).resolve().parents[3] / "tflm_app" / "generated"


#: Why :func:`read_image` refuses an image, in the order of ``ma_image_reason`` (tflm_app/app/ma_image.h).
REASONS = ("ok", "truncated", "bad_magic", "bad_version", "bad_header", "header_corrupt", "payload_corrupt",
           "bad_section", "no_model", "model_corrupt", "headers_mismatch")


class ImageError(ValueError):
    """A weight image that cannot be written or read (the message names the problem; ``reason``
    is one of :data:`REASONS` when reading, as the C reader reports it)."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


# --------------------------------------------------------------------------- flatbuffer order


@dataclass
class BufferPlacement:
    buffer: int          # index into Model.buffers
    first_op: int        # first operator (subgraph 0 order) that reads it; NOT_USED if none
    offset: int          # byte offset of its data in the reordered flatbuffer
    size: int


@dataclass
class Reordered:
    data: bytes
    placements: list[BufferPlacement]   # flash order

    def layout_bytes(self) -> bytes:
        return b"".join(struct.pack("<4I", p.buffer, p.first_op, p.offset, p.size) for p in self.placements)


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    return fb


def first_use_order(model) -> list[tuple[int, int]]:
    """(buffer index, first operator) of every non-empty buffer: buffers read by operators in
    execution order (subgraph 0 first, then the other subgraphs), then the rest in index order."""
    def nonempty(b):
        return b is not None and b.data is not None and len(b.data) > 0

    seen: dict[int, int] = {}
    op_index = 0
    for sg in model.subgraphs or []:
        for op in sg.operators or []:
            ins = list(op.inputs if op.inputs is not None else []) + list(
                op.intermediates if op.intermediates is not None else [])
            for t in ins:
                if t < 0:
                    continue
                b = int(sg.tensors[t].buffer)
                if 0 <= b < len(model.buffers) and nonempty(model.buffers[b]) and b not in seen:
                    seen[b] = op_index
            op_index += 1
    order = list(seen.items())
    order += [(b, NOT_USED) for b, buf in enumerate(model.buffers) if nonempty(buf) and b not in seen]
    return order


class _PlacedBuffer:
    """A BufferT stand-in whose data vector was already written (at its place in flash order)."""

    def __init__(self, data_offset: int | None) -> None:
        self.data_offset = data_offset

    def Pack(self, builder):  # noqa: N802 (flatbuffers object-API name)
        fb = _schema()
        fb.BufferStart(builder)
        if self.data_offset is not None:
            fb.BufferAddData(builder, self.data_offset)
        return fb.BufferEnd(builder)


def reorder_by_first_use(tflite: bytes) -> Reordered:
    """Rewrite a TFLite flatbuffer so that its constant buffers lie in first-use order after
    all metadata, each 16-byte aligned. Everything else (tensors, operators, options,
    metadata, signatures) is unchanged; :func:`same_model` checks that."""
    import flatbuffers

    fb = _schema()
    try:
        if len(tflite) < 8 or bytes(tflite[4:8]) != b"TFL3":
            raise ImageError(f"not a TFLite flatbuffer (file identifier {bytes(tflite[4:8])!r}, expected b'TFL3')")
        model = fb.ModelT.InitFromPackedBuf(bytearray(tflite), 0)
    except ImageError:
        raise
    except Exception as e:  # flatbuffers raises struct/index errors on garbage
        raise ImageError(f"model does not parse as a TFLite flatbuffer: {e}") from e
    for i, b in enumerate(model.buffers or []):
        if b is not None and (b.offset or b.size):
            raise ImageError(f"buffer {i} keeps its data outside the flatbuffer (offset {b.offset}, size {b.size}):"
                             " not supported in a device image")
    order = first_use_order(model)
    datas = {b: bytes(np.asarray(model.buffers[b].data, dtype=np.uint8).tobytes()) for b, _ in order}
    builder = flatbuffers.Builder(len(tflite) + 64 * len(order) + 4096)
    offsets: dict[int, int] = {}
    # flatbuffers build from the end backwards: the last-used buffer is written first
    for b, _ in reversed(order):
        d = datas[b]
        builder.StartVector(1, len(d), BUFFER_ALIGN)
        builder.head -= len(d)
        builder.Bytes[builder.head:builder.head + len(d)] = d
        offsets[b] = builder.EndVector()
    model.buffers = [_PlacedBuffer(offsets.get(i)) for i in range(len(model.buffers))]
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    out = bytes(builder.Output())
    placements = []
    for b, op in order:
        pos = len(out) - offsets[b] + 4          # vector offsets count from the end; skip the length
        if out[pos:pos + len(datas[b])] != datas[b] or pos % BUFFER_ALIGN:
            raise AssertionError(f"buffer {b} misplaced at {pos}")
        placements.append(BufferPlacement(b, op, pos, len(datas[b])))
    return Reordered(out, placements)


def same_model(a: bytes, b: bytes) -> bool:
    """True when two flatbuffers hold the same model (every field and buffer byte), whatever
    their byte layout."""
    fb = _schema()

    def canon(x):
        if isinstance(x, np.ndarray):
            return ("nd", x.dtype.str, x.tobytes())
        if isinstance(x, (list, tuple)):
            return [canon(v) for v in x]
        if isinstance(x, (bytes, bytearray)):
            return bytes(x)
        if hasattr(x, "__dict__"):
            return (type(x).__name__, {k: canon(v) for k, v in sorted(vars(x).items())})
        return x

    ma = fb.ModelT.InitFromPackedBuf(bytearray(a), 0)
    mb = fb.ModelT.InitFromPackedBuf(bytearray(b), 0)
    for m in (ma, mb):   # an empty data vector and an absent one are the same buffer
        for buf in m.buffers or []:
            if buf.data is not None and len(buf.data) == 0:
                buf.data = None
    return canon(ma) == canon(mb)


# --------------------------------------------------------------------------- generated headers


def header_hashes(headers_dir: str | Path = GENERATED_DIR) -> list[tuple[str, bytes]]:
    """(file name, SHA-256) of every generated header the firmware is built with, sorted by
    name; ``microalign_image.h`` (which holds these hashes) is left out."""
    d = Path(headers_dir)
    files = sorted(p for p in d.glob("*.h") if p.name != HEADER_FILENAME)
    if not files:
        raise ImageError(f"no generated headers in {d} (run: microalign headers)")
    if len(files) > MAX_HASHES:
        raise ImageError(f"{len(files)} generated headers in {d}; the image holds at most {MAX_HASHES}")
    out = []
    for p in files:
        name = p.name.encode("ascii")
        if len(name) >= HASH_NAME_BYTES:
            raise ImageError(f"header name {p.name!r} longer than {HASH_NAME_BYTES - 1} bytes")
        out.append((p.name, hashlib.sha256(p.read_bytes()).digest()))
    return out


def _c_bytes(b: bytes) -> str:
    rows = [", ".join(f"0x{x:02x}" for x in b[i:i + 16]) for i in range(0, len(b), 16)]
    return "{" + ",\n      ".join(rows) + "}"


def render_header(headers_dir: str | Path = GENERATED_DIR) -> str:
    """``microalign_image.h``: the image format's constants and the SHA-256 of every other
    generated header (what the firmware is built with, compared with the image at boot)."""
    hashes = header_hashes(headers_dir)
    entries = ",\n    ".join(f'{{"{n}",\n     {_c_bytes(h)}}}' for n, h in hashes)
    return f"""\
/* microalign_image.h: the weight image format and the headers this firmware is built with.
 * generated by {GENERATOR} from microalign/export/image.py -- do not edit.
 * Regenerate (after every other generated header): python -m {GENERATOR} header --out tflm_app/generated
 *
 * Layout of the image: see the top of convert/microalign/export/image.py. MA_IMAGE_HASHES
 * holds the SHA-256 of each file in tflm_app/generated/ except this one, sorted by name; the
 * image's hash table must equal it (ma_image_open). Defined where MA_IMAGE_DEFINE_TABLES is
 * defined before the include (one .c file).
 */
#ifndef MICROALIGN_IMAGE_H
#define MICROALIGN_IMAGE_H

#include <stdint.h>

#define MA_IMAGE_MAGIC              "{MAGIC[:7].decode()}"  /* + a NUL byte: 8 bytes */
#define MA_IMAGE_MAGIC_BYTES        {len(MAGIC)}
#define MA_IMAGE_VERSION            {IMAGE_VERSION}
#define MA_IMAGE_FIXED_HEADER_BYTES {FIXED_HEADER_BYTES}
#define MA_IMAGE_SECTION_ENTRY_BYTES {SECTION_ENTRY_BYTES}
#define MA_IMAGE_HASH_ENTRY_BYTES   {HASH_ENTRY_BYTES}
#define MA_IMAGE_HASH_NAME_BYTES    {HASH_NAME_BYTES}
#define MA_IMAGE_SECTION_ALIGN      {SECTION_ALIGN}
#define MA_IMAGE_BUFFER_ALIGN       {BUFFER_ALIGN}
#define MA_IMAGE_SECTION_MODEL      {SECTION_MODEL}
#define MA_IMAGE_SECTION_LAYOUT     {SECTION_LAYOUT}
#define MA_IMAGE_LAYOUT_RECORD_BYTES {LAYOUT_RECORD_BYTES}
#define MA_IMAGE_MAX_SECTIONS       {MAX_SECTIONS}
#define MA_IMAGE_MAX_HASHES         {MAX_HASHES}
#define MA_IMAGE_NUM_HASHES         {len(hashes)}

/* The input block (transcript + PCM) of test boards: export/image.py write_input_block. */
#define MA_INPUT_MAGIC              "{INPUT_MAGIC[:7].decode()}"  /* + a NUL byte: 8 bytes */
#define MA_INPUT_HEADER_BYTES       {INPUT_HEADER_BYTES}

/* One generated header: its file name and the SHA-256 of its bytes. */
typedef struct {{
    const char *name;
    uint8_t sha256[32];
}} ma_image_header_hash;

#ifdef MA_IMAGE_DEFINE_TABLES
static const ma_image_header_hash MA_IMAGE_HASHES[MA_IMAGE_NUM_HASHES] = {{
    {entries}
}};
#endif /* MA_IMAGE_DEFINE_TABLES */
#endif /* MICROALIGN_IMAGE_H */
"""


def write_header(out_dir: str | Path = GENERATED_DIR, headers_dir: str | Path = GENERATED_DIR) -> Path:
    """Write :data:`HEADER_FILENAME` into ``out_dir``, hashing the generated headers in
    ``headers_dir`` (default: ``tflm_app/generated``)."""
    from ..cheader import write_text

    return write_text(out_dir, HEADER_FILENAME, render_header(headers_dir))


# --------------------------------------------------------------------------- image


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


@dataclass
class Section:
    kind: int
    offset: int
    size: int


@dataclass
class Image:
    version: int
    total_size: int
    header_size: int
    model_sha256: bytes
    sections: list[Section]
    hashes: list[tuple[str, bytes]]
    model: bytes
    layout: list[BufferPlacement] = field(default_factory=list)


def write_image(model: bytes, headers_dir: str | Path = GENERATED_DIR, *, reorder: bool = True) -> bytes:
    """The weight image of a TFLite flatbuffer (reordered by first use unless ``reorder``
    is False), for the generated headers in ``headers_dir``."""
    model = bytes(model)
    if reorder:
        r = reorder_by_first_use(model)
        model_bytes, layout = r.data, r.layout_bytes()
    else:
        model_bytes, layout = model, b""
    hashes = header_hashes(headers_dir)
    payloads = [(SECTION_MODEL, model_bytes)] + ([(SECTION_LAYOUT, layout)] if layout else [])
    header_size = _align(FIXED_HEADER_BYTES + SECTION_ENTRY_BYTES * len(payloads)
                         + HASH_ENTRY_BYTES * len(hashes), SECTION_ALIGN)
    sections, pos = [], header_size
    for kind, data in payloads:
        sections.append(Section(kind, pos, len(data)))
        pos = _align(pos + len(data), SECTION_ALIGN)
    total = sections[-1].offset + sections[-1].size
    if total >= 1 << 32:
        raise ImageError(f"image of {total} bytes exceeds the 4 GiB the format addresses")
    out = bytearray(total)
    for s, (_, data) in zip(sections, payloads):
        out[s.offset:s.offset + s.size] = data
    payload_crc = zlib.crc32(bytes(out[header_size:]))
    hdr = bytearray(header_size)
    struct.pack_into("<8s6I", hdr, 0, MAGIC, IMAGE_VERSION, header_size, total, payload_crc,
                     len(sections), len(hashes))
    hdr[32:64] = hashlib.sha256(model_bytes).digest()
    p = FIXED_HEADER_BYTES
    for s in sections:
        struct.pack_into("<4I", hdr, p, s.kind, s.offset, s.size, 0)
        p += SECTION_ENTRY_BYTES
    for name, h in hashes:
        hdr[p:p + HASH_NAME_BYTES] = name.encode("ascii").ljust(HASH_NAME_BYTES, b"\0")
        hdr[p + HASH_NAME_BYTES:p + HASH_ENTRY_BYTES] = h
        p += HASH_ENTRY_BYTES
    struct.pack_into("<I", hdr, 64, zlib.crc32(bytes(hdr)))
    out[:header_size] = hdr
    return bytes(out)


def read_image(data: bytes, headers_dir: str | Path | None = GENERATED_DIR) -> Image:
    """Parse and check an image as the C reader does (same checks, same order); with
    ``headers_dir``, its hash table must equal the hashes of those headers."""
    data = bytes(data)
    if len(data) < FIXED_HEADER_BYTES:
        raise ImageError(f"image truncated: {len(data)} bytes, the fixed header alone is {FIXED_HEADER_BYTES}", "truncated")
    if data[:8] != MAGIC:
        raise ImageError(f"not a microalign weight image (magic {data[:8]!r}, expected {MAGIC!r})", "bad_magic")
    version, header_size, total, payload_crc, n_sec, n_hash = struct.unpack_from("<6I", data, 8)
    if version != IMAGE_VERSION:
        raise ImageError(f"image format version {version}, this reader reads version {IMAGE_VERSION}", "bad_version")
    if n_sec == 0 or n_sec > MAX_SECTIONS or n_hash > MAX_HASHES:
        raise ImageError(f"bad header: {n_sec} sections / {n_hash} hashes (at most {MAX_SECTIONS} / {MAX_HASHES})", "bad_header")
    need = FIXED_HEADER_BYTES + SECTION_ENTRY_BYTES * n_sec + HASH_ENTRY_BYTES * n_hash
    if header_size < need or header_size % SECTION_ALIGN or total < header_size:
        raise ImageError(f"bad header: header_size {header_size}, total_size {total}, tables need {need}", "bad_header")
    if len(data) < total:
        raise ImageError(f"image truncated: {len(data)} bytes of {total}", "truncated")
    if len(data) < header_size:
        raise ImageError(f"image truncated: {len(data)} bytes, header {header_size}", "truncated")
    hdr = bytearray(data[:header_size])
    (hcrc,) = struct.unpack_from("<I", hdr, 64)
    hdr[64:68] = b"\0\0\0\0"
    if zlib.crc32(bytes(hdr)) != hcrc:
        raise ImageError("image header corrupt (header CRC-32 mismatch)", "header_corrupt")
    if zlib.crc32(data[header_size:total]) != payload_crc:
        raise ImageError("image payload corrupt (CRC-32 mismatch)", "payload_corrupt")
    sections, layout = [], []
    for i in range(n_sec):
        kind, off, size, _ = struct.unpack_from("<4I", data, FIXED_HEADER_BYTES + SECTION_ENTRY_BYTES * i)
        if off < header_size or off % SECTION_ALIGN or off + size > total:
            raise ImageError(f"section {i} (kind {kind}) at {off}+{size} outside the payload [{header_size}, {total})", "bad_section")
        if kind == SECTION_LAYOUT:
            if size % LAYOUT_RECORD_BYTES or any(s.kind == SECTION_LAYOUT for s in sections):
                raise ImageError(f"layout section {i} of {size} bytes is malformed or repeated", "bad_section")
            layout = [BufferPlacement(*struct.unpack_from("<4I", data, off + j))
                      for j in range(0, size, LAYOUT_RECORD_BYTES)]
        sections.append(Section(kind, off, size))
    models = [s for s in sections if s.kind == SECTION_MODEL]
    if len(models) != 1:
        raise ImageError(f"image has {len(models)} model sections, expected 1", "no_model")
    m = models[0]
    for p in layout:
        if p.offset + p.size > m.size:
            raise ImageError(f"layout places buffer {p.buffer} at {p.offset}+{p.size}, past the model's {m.size} bytes", "bad_section")
    model = data[m.offset:m.offset + m.size]
    if hashlib.sha256(model).digest() != data[32:64]:
        raise ImageError("model section corrupt (SHA-256 mismatch)", "model_corrupt")
    hashes = []
    base = FIXED_HEADER_BYTES + SECTION_ENTRY_BYTES * n_sec
    for i in range(n_hash):
        e = data[base + HASH_ENTRY_BYTES * i: base + HASH_ENTRY_BYTES * (i + 1)]
        hashes.append((e[:HASH_NAME_BYTES].rstrip(b"\0").decode("ascii", "replace"), e[HASH_NAME_BYTES:]))
    if headers_dir is not None:
        want = dict(header_hashes(headers_dir))
        have = dict(hashes)
        for name in sorted(set(want) | set(have)):
            if want.get(name) != have.get(name):
                what = "missing from the image" if name not in have else (
                    "not in this build" if name not in want else "differs")
                raise ImageError(f"image built for other headers: {name} {what}", "headers_mismatch")
    return Image(version, total, header_size, data[32:64], sections, hashes, model, layout)


def write_input_block(text: str, pcm: np.ndarray, sample_rate: int = 16000) -> bytes:
    """The input block of a test board: the transcript and int16 PCM (layout above)."""
    pcm = np.asarray(pcm)
    if pcm.dtype != np.int16 or pcm.ndim != 1:
        raise ImageError(f"PCM must be 1-D int16, got {pcm.dtype} {pcm.shape}")
    t = text.encode("utf-8")
    audio_off = _align(INPUT_HEADER_BYTES + len(t), 4)
    head = INPUT_MAGIC + struct.pack("<6I", sample_rate, len(t), len(pcm), INPUT_HEADER_BYTES, audio_off, 0)
    return head + t + bytes(audio_off - INPUT_HEADER_BYTES - len(t)) + pcm.astype("<i2").tobytes()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=f"python -m {GENERATOR}", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write", help="write the weight image of a device flatbuffer")
    w.add_argument("model", type=Path)
    w.add_argument("-o", "--out", type=Path, required=True)
    w.add_argument("--headers", type=Path, default=GENERATED_DIR, help="generated headers the firmware uses")
    w.add_argument("--no-reorder", action="store_true", help="keep the flatbuffer's byte layout")
    i = sub.add_parser("info", help="check an image and print its sections and buffer order")
    i.add_argument("image", type=Path)
    i.add_argument("--headers", type=Path, default=GENERATED_DIR)
    h = sub.add_parser("header", help=f"write {HEADER_FILENAME}")
    h.add_argument("--out", type=Path, default=GENERATED_DIR)
    h.add_argument("--headers", type=Path, default=GENERATED_DIR, help="the generated headers to hash")
    args = ap.parse_args(argv)
    if args.cmd == "write":
        img = write_image(args.model.read_bytes(), args.headers, reorder=not args.no_reorder)
        args.out.write_bytes(img)
        print(f"wrote {args.out} ({len(img)} bytes)")
    elif args.cmd == "info":
        im = read_image(args.image.read_bytes(), args.headers)
        print(f"version {im.version}, {im.total_size} bytes, header {im.header_size} bytes, "
              f"model sha256 {im.model_sha256.hex()}")
        for s in im.sections:
            print(f"section kind {s.kind}: offset {s.offset}, {s.size} bytes")
        for n, hsh in im.hashes:
            print(f"header {n}: {hsh.hex()}")
        for p in im.layout:
            op = "-" if p.first_op == NOT_USED else p.first_op
            print(f"buffer {p.buffer}: first op {op}, model offset {p.offset}, {p.size} bytes")
    else:
        print(write_header(args.out, args.headers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
