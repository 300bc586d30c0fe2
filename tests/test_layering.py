"""The package's layering, checked on the source: the runtime and the conversion sit below the aligner,
and the backend names are listed in one place (``microalign/runtime/registry.py``)."""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "convert" / "microalign"
BACKEND_NAMES = {"torch", "onnx", "tflite-float", "tflite", "tflm"}


def _imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (at any depth of the file, lazy imports too)."""
    package = list(path.relative_to(PKG.parent).parts[:-1])          # microalign/runtime/x.py -> [microalign, runtime]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def test_imports_resolve_relative_names():
    """The checker itself: relative imports come out absolute (else the next test could not fail)."""
    names = _imports(PKG / "align.py")
    assert "microalign.runtime" in names and "microalign.audio" in names


def test_runtime_and_export_do_not_import_the_aligner():
    offenders = {}
    for folder in ("runtime", "export"):
        for path in sorted((PKG / folder).rglob("*.py")):
            bad = sorted(n for n in _imports(path) if n == "microalign.align" or n.startswith("microalign.align."))
            if bad:
                offenders[str(path.relative_to(PKG))] = bad
    assert not offenders, f"modules below the aligner import it: {offenders}"


def test_backend_names_are_listed_once():
    """No tuple, list, set or dict of three or more backend names outside the registry (package and eval/)."""
    found = []
    for path in sorted(PKG.rglob("*.py")) + sorted((PKG.parents[1] / "eval").glob("*.py")):
        if path == PKG / "runtime" / "registry.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            elts = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
            if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)) and elts:
                names = {e.value for e in elts if isinstance(e, ast.Constant) and e.value in BACKEND_NAMES}
                if len(names) >= 3:
                    found.append(f"{path.relative_to(PKG.parents[1])}:{node.lineno}")
    assert not found, f"backend names listed outside runtime/registry.py: {found}"
    registry = (PKG / "runtime" / "registry.py").read_text(encoding="utf-8")
    assert all(f'BackendSpec("{n}"' in registry for n in BACKEND_NAMES)


def test_commands_are_registered_explicitly():
    src = (PKG / "cli" / "__init__.py").read_text(encoding="utf-8")
    assert "except ImportError" not in src
    from microalign.cli import main

    assert set(main.commands) == {"align", "eval", "train", "prune", "data", "convert", "headers", "normalize"}
    assert set(main.commands["data"].commands) == {"synth", "label", "consensus"}
    for path in (PKG / "cli").glob("*_cmd.py"):      # no registration by import side effect
        assert "from . import main" not in path.read_text(encoding="utf-8"), path.name
