"""The code that decides rows, as a hash: a change of rules re-extracts what it affects."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path

ROOT = "tasks"
# Found by path, not imported: hashing the code must not load the stages it describes.
ROOT_DIR = Path(__file__).resolve().parents[1]


@cache
def _source(module: str) -> tuple[Path, bytes] | None:
    """A module's file and bytes, or None for a name that is not a module of ours."""
    parts = module.split(".")
    if parts[0] != ROOT:
        return None
    base = ROOT_DIR.joinpath(*parts[1:])
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path, path.read_bytes()
    return None


@cache
def _imported(module: str) -> frozenset[str]:
    """The modules of ours a module imports: `from tasks.x import y` may name a module y."""
    found: set[str] = set()
    path, source = _source(module) or (None, b"")
    package = (
        module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]
    )
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == ROOT}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")  # fmt: skip
            if base.split(".")[0] != ROOT:
                continue
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return frozenset(found)


def modules_of(roots: Iterable[str]) -> dict[str, bytes]:
    """The sources of the given modules and of every module of ours they import, by name."""
    seen: dict[str, bytes] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or (found := _source(name)) is None:
            continue
        seen[name] = found[1]
        todo.extend(_imported(name))
        # A module's parent packages run their __init__ when it is imported.
        todo.extend(name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1))
    return seen


def code_hash(
    roots: Sequence[str], exclude: Sequence[str] = (), libraries: Sequence[str] = ()
) -> str:
    """Hash of the code under `roots` (without `exclude`'s packages) and the libraries' versions."""
    digest = hashlib.sha256()
    for name, source in sorted(modules_of(roots).items()):
        if any(name == e or name.startswith(f"{e}.") for e in exclude):
            continue
        digest.update(f"{name}\x00".encode())
        digest.update(hashlib.sha256(source).digest())
    for library in sorted(libraries):
        digest.update(f"{library}=={_version(library)}\x00".encode())
    return digest.hexdigest()[:16]


@cache
def _version(library: str) -> str:
    """An installed library's version, or "absent"."""
    try:
        return metadata.version(library)
    except metadata.PackageNotFoundError:
        return "absent"
