"""The device weight image (export/image.py): layout, first-use reordering that keeps the
model identical, and a reader that rejects corrupt, truncated and mismatched images."""
from __future__ import annotations

import hashlib
import struct
import zlib

import numpy as np
import pytest

from microalign.export import image as I

MODEL = I.Path(I.__file__).resolve().parents[1] / "assets" / "student_int8.tflite"


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return MODEL.read_bytes()


@pytest.fixture(scope="module")
def reordered(model_bytes) -> I.Reordered:
    return I.reorder_by_first_use(model_bytes)


@pytest.fixture
def headers(tmp_path):
    d = tmp_path / "gen"
    d.mkdir()
    (d / "microalign_tokens.h").write_text("/* tokens */\n")
    (d / "microalign_frontend_config.h").write_text("/* frontend */\n")
    (d / I.HEADER_FILENAME).write_text("/* ignored: holds the hashes */\n")
    return d


def test_reorder_keeps_the_model(model_bytes, reordered):
    assert I.same_model(model_bytes, reordered.data)
    assert reordered.data[4:8] == b"TFL3"


def test_same_model_sees_a_changed_weight(model_bytes, reordered):
    p = reordered.placements[3]
    bad = bytearray(reordered.data)
    bad[p.offset] ^= 1
    assert not I.same_model(model_bytes, bytes(bad))


def test_buffers_in_first_use_order_after_metadata(model_bytes, reordered):
    fb = I._schema()
    m = fb.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    pl = reordered.placements
    # every non-empty buffer placed once, 16-byte aligned, contiguous and in increasing offsets
    nonempty = {i for i, b in enumerate(m.buffers) if b.data is not None and len(b.data)}
    assert sorted(p.buffer for p in pl) == sorted(nonempty)
    assert all(p.offset % 16 == 0 for p in pl)
    assert [p.offset for p in pl] == sorted(p.offset for p in pl)
    for a, b in zip(pl, pl[1:]):
        assert a.offset + a.size <= b.offset < a.offset + a.size + 16 + 4   # padding + length prefix only
    assert pl[-1].offset + pl[-1].size + 16 > len(reordered.data)          # data ends the flatbuffer
    # first operators are non-decreasing (unused buffers last), and each is really the first reader
    ops = [p.first_op for p in pl]
    assert ops == sorted(ops) and ops[0] == 0
    sg = m.subgraphs[0]
    for p in pl:
        readers = [k for k, op in enumerate(sg.operators) if any(
            t >= 0 and sg.tensors[t].buffer == p.buffer for t in op.inputs)]
        assert (readers[0] if readers else I.NOT_USED) == p.first_op
    for p in pl:   # the bytes at each placement are that buffer's data
        assert reordered.data[p.offset:p.offset + p.size] == bytes(np.asarray(m.buffers[p.buffer].data, np.uint8))


def _tflm_outputs(model: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    outs = []
    for x in inputs:
        interp.set_input(x, 0)
        interp.invoke()
        outs.append(interp.get_output(0).copy())
    return outs


def test_reordered_model_runs_identically_in_tflm(model_bytes, reordered):
    pytest.importorskip("tflite_micro")
    from tflite_micro.python.tflite_micro import runtime

    shape = runtime.Interpreter.from_bytes(model_bytes, arena_size=1 << 20).get_input_details(0)["shape"]
    rng = np.random.default_rng(7)
    xs = [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(2)]
    a, b = _tflm_outputs(model_bytes, xs), _tflm_outputs(reordered.data, xs)
    for u, v in zip(a, b):
        assert u.dtype == np.int8 and u.shape == v.shape
        assert np.array_equal(u, v)
    assert not np.array_equal(a[0], a[1])   # the inputs matter: the comparison is not vacuous


def test_reordered_model_runs_identically_in_litert(model_bytes, reordered):
    litert = pytest.importorskip("ai_edge_litert.interpreter")

    def run(m, x):
        it = litert.Interpreter(model_content=m)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        return it.get_tensor(it.get_output_details()[0]["index"]).copy()

    it = litert.Interpreter(model_content=model_bytes)
    shape = it.get_input_details()[0]["shape"]
    x = np.random.default_rng(3).integers(-128, 128, size=shape, dtype=np.int8)
    assert np.array_equal(run(model_bytes, x), run(reordered.data, x))


def test_reorder_rejects_garbage():
    with pytest.raises(I.ImageError, match="not a TFLite flatbuffer"):
        I.reorder_by_first_use(b"\0" * 64)
    with pytest.raises(I.ImageError, match="not a TFLite flatbuffer"):
        I.reorder_by_first_use(b"abc")


def test_image_layout_matches_the_documented_format(model_bytes, reordered, headers):
    img = I.write_image(model_bytes, headers)
    assert img[:8] == b"MALIGNQ\0"
    version, hsize, total, pcrc, nsec, nhash = struct.unpack_from("<6I", img, 8)
    assert (version, total, nsec, nhash) == (I.IMAGE_VERSION, len(img), 2, 2)
    assert hsize % 64 == 0 and hsize >= 80 + 2 * 16 + 2 * 64
    assert pcrc == zlib.crc32(img[hsize:])
    kind, off, size, _ = struct.unpack_from("<4I", img, 80)
    assert (kind, off, size) == (I.SECTION_MODEL, hsize, len(reordered.data))
    assert img[off:off + size] == reordered.data
    assert img[32:64] == hashlib.sha256(reordered.data).digest()
    kind, off2, size2, _ = struct.unpack_from("<4I", img, 96)
    assert kind == I.SECTION_LAYOUT and off2 % 64 == 0 and img[off2:off2 + size2] == reordered.layout_bytes()
    names = [img[112 + 64 * i:112 + 64 * i + 32].rstrip(b"\0") for i in range(2)]
    assert names == [b"microalign_frontend_config.h", b"microalign_tokens.h"]   # sorted, image header left out
    assert img[112 + 64 + 32:112 + 128] == hashlib.sha256(b"/* tokens */\n").digest()
    hdr = bytearray(img[:hsize])
    crc = struct.unpack_from("<I", hdr, 64)[0]
    hdr[64:68] = bytes(4)
    assert crc == zlib.crc32(bytes(hdr))


def test_round_trip(model_bytes, reordered, headers):
    im = I.read_image(I.write_image(model_bytes, headers), headers)
    assert im.model == reordered.data
    assert [(p.buffer, p.first_op, p.offset, p.size) for p in im.layout] == [
        (p.buffer, p.first_op, p.offset, p.size) for p in reordered.placements]
    assert dict(im.hashes)["microalign_tokens.h"] == hashlib.sha256(b"/* tokens */\n").digest()
    raw = I.read_image(I.write_image(model_bytes, headers, reorder=False), headers)
    assert raw.model == model_bytes and raw.layout == []


@pytest.mark.parametrize("where", ["payload", "model_sha", "header_field", "section_table"])
def test_reader_rejects_corruption(model_bytes, headers, where):
    img = bytearray(I.write_image(model_bytes, headers))
    pos = {"payload": 5000, "model_sha": 40, "header_field": 12, "section_table": 84}[where]
    img[pos] ^= 0x10
    with pytest.raises(I.ImageError, match="corrupt|bad header|outside|truncated"):
        I.read_image(bytes(img), headers)


def test_reader_rejects_truncation_and_version(model_bytes, headers):
    img = I.write_image(model_bytes, headers)
    for n in (0, 10, 79, 200, len(img) - 1):
        with pytest.raises(I.ImageError, match="truncated"):
            I.read_image(img[:n], headers)
    bad = bytearray(img)
    struct.pack_into("<I", bad, 8, 2)
    with pytest.raises(I.ImageError, match="version 2"):
        I.read_image(bytes(bad), headers)
    with pytest.raises(I.ImageError, match="magic"):
        I.read_image(b"X" + img[1:], headers)


def test_reader_rejects_other_headers(model_bytes, headers):
    img = I.write_image(model_bytes, headers)
    (headers / "microalign_tokens.h").write_text("/* tokens, another table */\n")
    with pytest.raises(I.ImageError, match="microalign_tokens.h differs"):
        I.read_image(img, headers)
    (headers / "microalign_tokens.h").write_text("/* tokens */\n")
    (headers / "microalign_aligner_config.h").write_text("/* new */\n")
    with pytest.raises(I.ImageError, match="microalign_aligner_config.h missing from the image"):
        I.read_image(img, headers)
    assert I.read_image(img, None).total_size == len(img)   # without a header set: no comparison


def test_generated_image_header(headers):
    text = I.render_header(headers)
    assert f"#define MA_IMAGE_VERSION            {I.IMAGE_VERSION}\n" in text
    assert "#define MA_IMAGE_NUM_HASHES         2\n" in text
    h = hashlib.sha256(b"/* frontend */\n").digest()
    assert ", ".join(f"0x{x:02x}" for x in h[:16]) in text and ", ".join(f"0x{x:02x}" for x in h[16:]) in text
    assert text.isascii() and "do not edit" in text


def test_committed_image_header_is_current(repo, tmp_path):
    committed = repo / "tflm_app" / "generated" / I.HEADER_FILENAME
    assert committed.is_file(), f"{committed} missing: python -m microalign.export.image header"
    assert I.render_header(committed.parent) == committed.read_text(), (
        f"{committed} is stale (another generated header changed): "
        "python -m microalign.export.image header --out tflm_app/generated")


def test_cli(model_bytes, headers, tmp_path, capsys):
    m = tmp_path / "m.tflite"
    m.write_bytes(model_bytes)
    out = tmp_path / "q.bin"
    assert I.main(["write", str(m), "-o", str(out), "--headers", str(headers)]) == 0
    assert I.main(["info", str(out), "--headers", str(headers)]) == 0
    text = capsys.readouterr().out
    assert f"({out.stat().st_size} bytes)" in text and "section kind 1: offset 256" in text
    assert "buffer 2: first op 0" in text


def test_reorder_aligns_the_device_model():
    """The shipped device flatbuffer (FA_ATTENTION custom ops): same model, every buffer 16-byte
    aligned after reordering (flatbuffers' CreateNumpyVector aligns uint8 data to 1 byte only)."""
    dev = MODEL.with_name("student_device.tflite")
    if not dev.is_file():
        pytest.skip(f"{dev} not shipped")
    data = dev.read_bytes()
    r = I.reorder_by_first_use(data)
    assert I.same_model(data, r.data)
    assert all(p.offset % 16 == 0 for p in r.placements)
    fb = I._schema()
    m = fb.Model.GetRootAs(r.data, 0)
    for i in range(m.BuffersLength()):
        b = m.Buffers(i)
        if b.DataLength():
            assert b._tab.Vector(b._tab.Offset(4)) % 16 == 0, f"buffer {i}"
    codes = fb.ModelT.InitFromPackedBuf(bytearray(r.data), 0).operatorCodes
    assert any(oc.customCode == b"FA_ATTENTION" for oc in codes)
