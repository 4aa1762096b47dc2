"""Dependencies point inward only (DESIGN.md §2): the pure cores import no adapters."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "follicle"
FORBIDDEN = (
    "follicle.records",
    "follicle.services",
    "follicle.web",
    "follicle.documents",
    "follicle.cli",
    "follicle.settings",
    "sqlalchemy",
    "fastapi",
    "starlette",
)


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("core", ["clinic", "trichoscopy"])
def test_pure_cores_import_no_adapters(core: str) -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in sorted((SRC / core).rglob("*.py"))
        for name in _imports(path)
        if _within(name, FORBIDDEN)
    ]
    assert offenders == []


def test_services_do_not_import_the_web_layer() -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in sorted((SRC / "services").rglob("*.py"))
        for name in _imports(path)
        if _within(name, ("follicle.web", "fastapi", "starlette"))
    ]
    assert offenders == []
