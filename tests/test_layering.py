"""Imports run one way: pages -> ui -> core, and downward inside core (shared/DESIGN.md, issue 22).

Every module of core/, ui/ and pages/ has a layer below; a module may import its own package (its "home") or a
lower layer, never an equal or higher one. The test parses every import statement, in functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

# home -> layer: higher layers may import lower ones. A new module or package gets a line here.
LAYERS = {
    "core.errors": 0, "core.paths": 1, "core.fileio": 1, "core.config": 2, "core.runs": 3, "core.devices": 3,
    "core.data": 4, "core.models": 4,
    "core.evaluation": 5,
    "core.training": 6, "core.review": 6,
    "core.scoring": 7, "core.search": 7, "core.jobs": 7,
    "core.explain": 8, "core.evaluate": 8, "core.review_recipe": 8,
    "core.rewrite": 9, "core.demo": 9, "core.audit": 9, "core.export": 9, "core.serve": 9, "core.bundle_score": 0,
    "core.recalibrate": 10,
    "core.cli": 11, "core.__main__": 12, "core": 12,
    "ui": 13, "pages": 14,
}


def home(module: str) -> str | None:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in LAYERS:
            return ".".join(parts[:end])
    return None


def modules() -> list[tuple[Path, str]]:
    found = []
    for path in sorted([*ROOT.glob("core/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py")]):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append((path, ".".join(parts)))
    return found


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every absolute import of our packages; `from a import b` counts as `a.b` (so that
    `from core import runs` is an import of `core.runs`, not of the package `core`)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in out if name.split(".")[0] in ("core", "ui", "pages")]


def test_every_module_has_a_layer():
    assert [module for _, module in modules() if home(module) is None] == []


def test_imports_run_downward():
    wrong = []
    for path, module in modules():
        source = home(module)
        for line, name in imported(ast.parse(path.read_text(encoding="utf-8"))):
            target = home(name)
            if target is None or target == source:
                continue
            if LAYERS[target] >= LAYERS[source]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {module} (layer {LAYERS[source]}) imports {name} "
                             f"(layer {LAYERS[target]})")
    assert wrong == [], "imports against the layers:\n" + "\n".join(sorted(set(wrong)))


def test_the_checker_sees_a_wrong_import():
    tree = ast.parse("def f():\n    from core.scoring.scorer import Scorer\n")
    assert imported(tree) == [(2, "core.scoring.scorer.Scorer")]
    assert LAYERS[home("core.scoring.scorer")] > LAYERS[home("core.evaluation.metrics")]
