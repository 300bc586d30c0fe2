"""Checkpoint files: ``{"format": "microalign-student/1", "config", "state_dict", "meta"}`` saved with torch.save."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch

from .student import StudentAligner, StudentConfig

FORMAT = "microalign-student/1"


def default_model_path() -> Path:
    """The trained student shipped with the package."""
    return Path(str(resources.files("microalign") / "assets" / "student.pt"))


def save_checkpoint(path: str | Path, model: StudentAligner, meta: dict | None = None) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"format": FORMAT, "config": model.cfg.to_dict(),
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "meta": meta or {}}, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path | None = None) -> tuple[StudentAligner, dict]:
    """Load a student in eval mode; ``path=None`` loads the shipped model. Returns (model, meta)."""
    path = Path(path) if path is not None else default_model_path()
    if not path.is_file():
        raise FileNotFoundError(f"model checkpoint not found: {path}")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for a corrupt file
        raise ValueError(f"{path}: not a readable model checkpoint ({type(e).__name__})") from None
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} checkpoint")
    model = StudentAligner(StudentConfig(**ck["config"]))
    model.load_state_dict(ck["state_dict"])
    return model.eval(), dict(ck.get("meta", {}))
