"""Qwen3-ForcedAligner-0.6B as a teacher, through the ``qwen-asr`` package.

The model (an audio encoder plus a small Qwen3 decoder whose output layer
classifies each ``<timestamp>`` slot into one of N time steps of 80 ms) is
run as ``qwen_asr.Qwen3ForcedAligner``: the transcript becomes
``<|audio_start|><|audio_pad|>...<|audio_end|>word<timestamp><timestamp>word...``
and one forward pass gives a start and an end slot per word. ``qwen-asr``
splits an English transcript on spaces and keeps letters, digits and
apostrophes, so our normalised words map one to one onto its items.

Weights are not downloaded: give the folder of a local copy of
``Qwen/Qwen3-ForcedAligner-0.6B`` (``config.json``, ``model.safetensors``,
tokenizer and ``preprocessor_config.json``) or set ``MICROALIGN_QWEN_ALIGNER``.
Install with ``pip install 'microalign[teacher]'``. Audio is limited to
5 minutes per utterance (the model's limit); it runs on CPU at roughly
real time, much faster on a GPU (``device="cuda"``).

:func:`save_tiny_random_aligner` writes a randomly initialised model of the
same architecture (a few hundred kB) for testing the plumbing without the
real weights.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .base import SAMPLE_RATE, Teacher, TeacherAlignment, TeacherError, check_input, finish_segments

ENV_VAR = "MICROALIGN_QWEN_ALIGNER"
MAX_SECONDS = 300.0
_REQUIRED_FILES = ("config.json", "preprocessor_config.json", "tokenizer_config.json")


def _import_qwen():
    """qwen_asr's aligner class; transformers is kept off TensorFlow (slow to import, not needed)."""
    os.environ.setdefault("USE_TF", "0")
    os.environ.setdefault("TRANSFORMERS_NO_TF", "1")
    try:
        from qwen_asr import Qwen3ForcedAligner
    except ImportError as e:
        raise TeacherError("the Qwen teacher needs the 'qwen-asr' package: pip install 'microalign[teacher]'"
                           f" ({e})") from e
    return Qwen3ForcedAligner


class QwenTeacher(Teacher):
    """Word timings from Qwen3-ForcedAligner-0.6B (``qwen-asr``), from weights on disk.

    Parameters:
        model_dir: folder with the model; default ``$MICROALIGN_QWEN_ALIGNER``.
        language: the transcript's language as ``qwen-asr`` names it.
        device: a torch device ("cpu", "cuda", "cuda:1").
        dtype: "float32" (CPU default), "bfloat16" or "float16".

    The model is loaded on first use. Raises :class:`TeacherError` if no
    folder is given, it lacks the model files, or ``qwen-asr`` is missing.
    """

    name = "qwen3-forced-aligner"

    def __init__(self, model_dir: str | Path | None = None, *, language: str = "English", device: str = "cpu",
                 dtype: str = "float32"):
        model_dir = model_dir or os.environ.get(ENV_VAR)
        if not model_dir:
            raise TeacherError("no Qwen3-ForcedAligner folder: pass model_dir or set "
                               f"{ENV_VAR} to a local copy of Qwen/Qwen3-ForcedAligner-0.6B")
        self.model_dir = Path(model_dir).expanduser().resolve()
        if not self.model_dir.is_dir():
            raise TeacherError(f"Qwen3-ForcedAligner folder not found: {self.model_dir}")
        missing = [f for f in _REQUIRED_FILES if not (self.model_dir / f).is_file()]
        if not any(self.model_dir.glob("*.safetensors")) and not any(self.model_dir.glob("*.bin")):
            missing.append("model weights (*.safetensors)")
        if missing:
            raise TeacherError(f"{self.model_dir} is not a Qwen3-ForcedAligner folder: missing {', '.join(missing)}")
        if dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError(f"dtype must be float32, bfloat16 or float16, not {dtype!r}")
        self.language = language
        self.device = device
        self.dtype = dtype
        self._aligner = None

    def __getstate__(self) -> dict:
        d = self.__dict__.copy()
        d["_aligner"] = None
        return d

    def _load(self):
        if self._aligner is not None:
            return self._aligner
        Qwen3ForcedAligner = _import_qwen()
        import torch

        try:
            self._aligner = Qwen3ForcedAligner.from_pretrained(
                str(self.model_dir), dtype=getattr(torch, self.dtype), device_map=self.device)
        except (OSError, ValueError, TypeError, KeyError, RuntimeError) as e:
            raise TeacherError(f"cannot load Qwen3-ForcedAligner from {self.model_dir}: {e}") from e
        self._aligner.model.eval()
        return self._aligner

    def align_detailed(self, pcm_int16_16k: np.ndarray, words: Sequence[str]) -> TeacherAlignment:
        words = check_input(pcm_int16_16k, words)
        duration = len(pcm_int16_16k) / SAMPLE_RATE
        if duration > MAX_SECONDS:
            raise TeacherError(f"audio is {duration:.0f} s; Qwen3-ForcedAligner takes at most {MAX_SECONDS:.0f} s")
        aligner = self._load()
        audio = pcm_int16_16k.astype(np.float32) / 32768.0
        try:
            result = aligner.align(audio=(audio, SAMPLE_RATE), text=" ".join(words), language=self.language)[0]
        except (RuntimeError, ValueError, IndexError) as e:
            raise TeacherError(f"Qwen3-ForcedAligner failed: {e}") from e
        items = list(result)
        got = [it.text.lower() for it in items]
        if got != [w.lower() for w in words]:
            raise TeacherError(f"Qwen3-ForcedAligner split the transcript into {got} instead of the {len(words)}"
                               " words given")
        spans = [(float(it.start_time), float(it.end_time)) for it in items]
        return TeacherAlignment(finish_segments(words, spans, duration))


def save_tiny_random_aligner(folder: str | Path, *, seed: int = 0, classify_num: int = 64) -> Path:
    """Write a randomly initialised Qwen3-ForcedAligner of the real architecture, tiny sizes, to ``folder``.

    One encoder and one decoder layer, hidden sizes 16/32, a byte-level
    tokenizer (256 byte tokens and the special tokens, no merges). For
    testing the loading and calling code: its timings are meaningless.
    Needs ``qwen-asr``.
    """
    _import_qwen()
    import torch
    from qwen_asr.core.transformers_backend import Qwen3ASRConfig, Qwen3ASRForConditionalGeneration, Qwen3ASRProcessor
    from transformers import Qwen2Tokenizer, WhisperFeatureExtractor
    from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {ch: i for i, ch in enumerate(bytes_to_unicode().values())}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    special = ["<|im_start|>", "<|audio_start|>", "<|audio_end|>", "<|audio_pad|>", "<timestamp>"]
    tok = Qwen2Tokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), unk_token=None, bos_token=None,
                         eos_token="<|im_end|>", pad_token="<|endoftext|>", additional_special_tokens=special,
                         extra_special_tokens={"audio_token": "<|audio_pad|>", "audio_bos_token": "<|audio_start|>",
                                               "audio_eos_token": "<|audio_end|>"})
    fe = WhisperFeatureExtractor(feature_size=128, sampling_rate=SAMPLE_RATE, hop_length=160, chunk_length=30,
                                 n_fft=400)
    ids = dict(zip(special, tok.convert_tokens_to_ids(special)))
    cfg = Qwen3ASRConfig(
        thinker_config=dict(
            model_type="qwen3_forced_aligner", classify_num=classify_num,
            audio_config=dict(num_mel_bins=128, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=32,
                              d_model=16, output_dim=32, n_window=50, n_window_infer=800, downsample_hidden_size=8,
                              max_source_positions=1500),
            text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=8192,
                             rope_scaling={"rope_type": "default", "mrope_section": [4, 2, 2], "interleaved": True}),
            audio_token_id=ids["<|audio_pad|>"], audio_start_token_id=ids["<|audio_start|>"],
        ),
        timestamp_token_id=ids["<timestamp>"], timestamp_segment_time=80, support_languages=["English"],
    )
    torch.manual_seed(seed)
    model = Qwen3ASRForConditionalGeneration(cfg)
    model.save_pretrained(str(folder))
    Qwen3ASRProcessor(feature_extractor=fe, tokenizer=tok).save_pretrained(str(folder))
    # transformers writes the thinker's class model_type; the real checkpoint names the aligner variant,
    # which is what gives the timestamp classification head (classify_num outputs)
    cfg_path = folder / "config.json"
    d = json.loads(cfg_path.read_text(encoding="utf-8"))
    d["thinker_config"]["model_type"] = "qwen3_forced_aligner"
    cfg_path.write_text(json.dumps(d, indent=2), encoding="utf-8")
    return folder
