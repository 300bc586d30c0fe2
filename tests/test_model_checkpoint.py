"""Checkpoints and model files record their token table: save, load, header, .tflite metadata and sidecars."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from microalign.model import StudentAligner, StudentConfig, load_checkpoint, save_checkpoint, tokens_for_model
from microalign.model import checkpoint as C
from microalign.text import ENGLISH, TokenTable
from microalign.text import header as H

TOY = TokenTable(("a", "i", "k", "n", "\u00f1", "\u4e2d"), language="qaa", silence="<b>")
SMALL = dict(window=40, stem=12, d_model=16, n_heads=4, d_ff=20, n_layers=1, d_out=10)


def _model(n_tokens: int) -> StudentAligner:
    torch.manual_seed(0)
    return StudentAligner(StudentConfig(n_tokens=n_tokens, **SMALL)).eval()


def test_token_table_round_trips_save_load_header(tmp_path):
    m = _model(TOY.num_tokens)
    save_checkpoint(tmp_path / "toy.pt", m, {"note": "x"}, tokens=TOY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # a current checkpoint loads without a note
        back, meta = load_checkpoint(tmp_path / "toy.pt")
        assert tokens_for_model(tmp_path / "toy.pt") == TOY
    assert back.tokens == TOY and meta == {"note": "x"} and back.cfg.n_tokens == 7
    x = torch.randn(1, 40, back.cfg.n_mels)
    assert torch.equal(back(x), m(x))
    text = H.render(tokens_for_model(tmp_path / "toy.pt"))
    assert text == H.render(TOY) and '#define MA_TOKENS_LANGUAGE "qaa"' in text and "0x4E2D" in text
    # the loaded model carries its table into the next save (fine-tuning keeps the language)
    save_checkpoint(tmp_path / "again.pt", back)
    assert load_checkpoint(tmp_path / "again.pt")[0].tokens == TOY
    assert torch.load(tmp_path / "again.pt", weights_only=True)["format"] == C.FORMAT


def test_table_must_fit_the_output_layer(tmp_path):
    with pytest.raises(ValueError, match="7 tokens .* scores 28"):
        save_checkpoint(tmp_path / "bad.pt", _model(28), tokens=TOY)
    assert not (tmp_path / "bad.pt").exists()
    save_checkpoint(tmp_path / "en.pt", _model(28))                         # default: the English table
    assert load_checkpoint(tmp_path / "en.pt")[0].tokens == ENGLISH
    ck = torch.load(tmp_path / "en.pt", weights_only=True)
    ck["tokens"] = TOY.to_dict()                                           # a table that contradicts the weights
    torch.save(ck, tmp_path / "lie.pt")
    with pytest.raises(ValueError, match="lie.pt: token table has 7 tokens"):
        load_checkpoint(tmp_path / "lie.pt")
    ck["tokens"] = {"format": "microalign-tokens/1", "language": "en", "characters": ["b", "a"]}
    torch.save(ck, tmp_path / "unsorted.pt")
    with pytest.raises(ValueError, match="unsorted.pt: bad token table: .*ascending"):
        load_checkpoint(tmp_path / "unsorted.pt")


def test_legacy_checkpoint_gets_english_with_a_warning(tmp_path):
    m = _model(28)
    legacy = {"format": "microalign-student/1", "config": m.cfg.to_dict(),
              "state_dict": m.state_dict(), "meta": {}}
    torch.save(legacy, tmp_path / "old.pt")
    with pytest.warns(C.LegacyCheckpointWarning, match="old.pt: checkpoint records no token table"):
        back, _ = load_checkpoint(tmp_path / "old.pt")
    assert back.tokens == ENGLISH
    legacy["config"] = _model(7).cfg.to_dict()
    legacy["state_dict"] = _model(7).state_dict()
    torch.save(legacy, tmp_path / "old7.pt")
    with pytest.raises(ValueError, match="scores 7 tokens; the English default has 28"):
        load_checkpoint(tmp_path / "old7.pt")
    torch.save({"format": "something/9"}, tmp_path / "alien.pt")
    with pytest.raises(ValueError, match="found 'something/9'"):
        load_checkpoint(tmp_path / "alien.pt")


def test_shipped_checkpoint_records_english():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m, _ = load_checkpoint()
        assert tokens_for_model(None) == ENGLISH
    assert m.tokens == ENGLISH and m.cfg.n_tokens == 28


def test_tflite_table_from_metadata_then_sidecar(tmp_path):
    pytest.importorskip("tflite_micro")
    from microalign.export.tflm import load_tflm

    shipped = C.default_model_path().with_name("student_int8.tflite")
    data = shipped.read_bytes()
    plain = tmp_path / "m.tflite"
    plain.write_bytes(data)
    with pytest.warns(C.LegacyCheckpointWarning, match="records no token table"):
        assert tokens_for_model(plain) == ENGLISH
    side = C.write_tokens_sidecar(plain, TOY)
    assert side.name == "m.tokens.json" and tokens_for_model(plain) == TOY
    tagged = C.embed_tokens_metadata(data, ENGLISH)
    (tmp_path / "m.tflite").write_bytes(tagged)
    assert tokens_for_model(plain) == ENGLISH                              # metadata wins over the sidecar
    assert C.tflite_metadata(C.embed_tokens_metadata(tagged, TOY))[C.TOKENS_METADATA].decode().count("qaa") == 1
    # metadata changes nothing the interpreter computes
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, size=(1, 400, 40), dtype=np.int8)
    outs = []
    for blob in (data, tagged):
        interp = load_tflm(blob, 4 << 20)
        interp.set_input(x, 0)
        interp.invoke()
        outs.append(np.array(interp.get_output(0), copy=True))
    assert outs[0].dtype == np.int8 and outs[0].tobytes() == outs[1].tobytes()
    side.write_text("{not json")
    (tmp_path / "m.tflite").write_bytes(data)
    with pytest.raises(ValueError, match="m.tokens.json: token table is not valid JSON"):
        tokens_for_model(plain)
    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        C.embed_tokens_metadata(b"garbage!" * 4, ENGLISH)
    with pytest.raises(FileNotFoundError, match="model not found"):
        tokens_for_model(tmp_path / "none.tflite")


def test_every_shipped_model_file_knows_the_shipped_table():
    pytest.importorskip("tflite_micro")
    assets = C.default_model_path().parent
    models = sorted(assets.glob("*.tflite"))
    assert models, "no shipped .tflite"
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # neither a legacy note nor a guess
        want = tokens_for_model(None)
        for p in models:
            assert tokens_for_model(p) == want, p.name
