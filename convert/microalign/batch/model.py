"""A model that reaches every worker: loaded once per worker, from the shipped assets, a local path,
or bytes shipped with the job (how a ``--model`` file reaches the nodes of a cluster)."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelSetup:
    """Builds a :mod:`microalign.runtime` backend in a worker (picklable: an executor's ``setup``).

    ``model``: a path on the worker's disk (None: the shipped model), or ``model_files``: the
    model's bytes (and its token-table sidecar's) by file name, written to a private temporary
    folder on the worker. The torch backend runs one thread per worker, so its arithmetic (and
    so every output) is the same whatever the number of workers.
    """

    backend: str
    model: str | None = None
    model_files: tuple[tuple[str, bytes], ...] = ()

    def shipped(self) -> "ModelSetup":
        """The same setup carrying the model file's bytes (and its ``.tokens.json`` sidecar if any)."""
        if self.model is None or self.model_files:
            return self
        from ..model.checkpoint import sidecar_path

        p = Path(self.model)
        if not p.is_file():
            raise FileNotFoundError(f"model file not found: {p}")
        files = [(p.name, p.read_bytes())]
        side = sidecar_path(p)
        if side.is_file():
            files.append((side.name, side.read_bytes()))
        return ModelSetup(self.backend, None, tuple(files))

    def __call__(self):
        from ..runtime import load_backend

        model = self.model
        if self.model_files:
            d = tempfile.mkdtemp(prefix="microalign-model-")
            for name, data in self.model_files:
                Path(d, name).write_bytes(data)
            model = str(Path(d, self.model_files[0][0]))
        kw = {"threads": 1} if self.backend == "torch" else {}
        return load_backend(self.backend, model, **kw)


def model_setup(backend: str, model: str | Path | None, executor) -> ModelSetup:
    """The setup for ``executor``: a path for local workers, the file's bytes for Ray actors."""
    from .executor import LocalExecutor

    s = ModelSetup(backend, None if model is None else str(model))
    return s if isinstance(executor, LocalExecutor) else s.shipped()


def check_model(backend: str, model: str | Path | None) -> None:
    """Fail here, before any worker starts, when the backend is not installed or the model file is
    missing (a worker's start-up error would be far less clear)."""
    from ..runtime.registry import BackendUnavailableError, MissingModelError, backend_spec

    spec = backend_spec(backend)
    reason = spec.unavailable()
    if reason:
        raise BackendUnavailableError(reason)
    if model is None and not spec.shipped:
        raise MissingModelError(f"backend {backend!r} has no shipped model ({spec.asset}); pass --model")
    if model is not None and not Path(model).is_file():
        raise FileNotFoundError(f"model file not found: {model}")
