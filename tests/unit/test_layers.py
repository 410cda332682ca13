"""The package's layers: each imports only the layers below it, and everything imports anywhere.

``core`` <- ``data`` <- ``quality`` <- ``models`` <- ``publish`` <- ``report`` <- ``cli``: a module
may import its own layer and the ones to its left, never one to its right. In particular nothing
under ``sendlib.data``, ``sendlib.quality`` or ``sendlib.models`` imports the report runner
(``sendlib.report``, ``sendlib.notebook``). Imports are read from the source (function-level and
``TYPE_CHECKING`` imports included), so a lazy import cannot hide a violation. See
``docs/architecture.md``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "sendlib"

#: layer of each top-level part of the package, lowest first
LAYERS = ("core", "data", "quality", "models", "publish", "report", "cli")
#: modules outside the layer folders and the layer they belong to
LOOSE = {"sendlib": "core", "sendlib.notebook": "report"}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    """The layer of a ``sendlib`` module name (``sendlib.models.kpi`` -> ``models``)."""
    for name in sorted(LOOSE, key=len, reverse=True):
        if module == name or (name != "sendlib" and module.startswith(name + ".")):
            return LOOSE[name]
    part = module.split(".")[1]
    if part not in LAYERS:
        raise AssertionError(f"{module}: not in a layer; add its folder to LAYERS or the module to LOOSE")
    return part


def sendlib_imports(path: Path, root: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, module) for every import of a ``sendlib`` module in a source file; ``from a import b``
    gives ``a.b`` when ``b`` is a module, else ``a``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "sendlib"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "sendlib":
                continue
            folder = root.parent.joinpath(*module.split("."))
            for alias in node.names:
                is_module = (folder / alias.name).is_dir() or (folder / f"{alias.name}.py").is_file()
                found.append((node.lineno, f"{module}.{alias.name}" if is_module else module))
    return found


def violations(root: Path = PACKAGE) -> list[str]:
    """Every import in the package at ``root`` of a layer above the importing module's own."""
    order = {name: i for i, name in enumerate(LAYERS)}
    wrong = []
    for path in sorted(root.rglob("*.py")):
        mine = layer_of(module_name(path, root))
        for line, module in sendlib_imports(path, root):
            theirs = layer_of(module)
            if order[theirs] > order[mine]:
                wrong.append(f"{path.relative_to(root.parent).as_posix()}:{line}: {mine} imports {module} ({theirs})")
    return wrong


def test_every_module_belongs_to_a_layer():
    for path in PACKAGE.rglob("*.py"):
        layer_of(module_name(path))


def test_no_module_imports_a_layer_above_its_own():
    wrong = violations()
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "source, caught",
    [
        ("def f():\n    from sendlib.report import runcache\n", "models imports sendlib.report.runcache (report)"),
        ("import sendlib.notebook\n", "models imports sendlib.notebook (report)"),
        ("from ...publish import disclosure\n", "models imports sendlib.publish.disclosure (publish)"),
        ("from sendlib.core import config\nfrom sendlib.models import kpi\n", None),
    ],
)
def test_the_check_catches_a_model_importing_a_layer_above(tmp_path, source, caught):
    root = tmp_path / "sendlib"
    for folder in ("core", "models/sub", "publish", "report"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    for module in ("core/config.py", "models/kpi.py", "publish/disclosure.py", "report/runcache.py", "notebook.py"):
        (root / module).write_text("")
    (root / "models" / "sub" / "probe.py").write_text(source)
    found = violations(root)
    assert found == ([f"sendlib/models/sub/probe.py:{1 if 'def' not in source else 2}: {caught}"] if caught else [])


def test_every_module_imports_without_fcntl_or_fork():
    """As on Windows: no ``fcntl`` module and no ``os.fork``; every module must still import."""
    modules = sorted(module_name(p) for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")
    code = (
        "import importlib, os, sys\n"
        "sys.modules['fcntl'] = None\n"
        "if hasattr(os, 'fork'):\n    del os.fork\n"
        f"names = {modules!r}\n"
        "for name in names:\n    importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip()) == len(modules)


def test_no_fork_and_no_machine_paths_in_the_package():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in ("os.fork", "fcntl", "/work/", "/home/", "/Users/", "C:\\\\"):
            if needle in text:
                bad.append(f"{path.relative_to(PACKAGE.parent)}: {needle}")
    assert not bad


def test_every_package_folder_has_an_init():
    """Folders without ``__init__.py`` are namespace packages: a wheel built by setuptools leaves them out."""
    missing = sorted(
        {
            p.parent.relative_to(PACKAGE.parent).as_posix()
            for p in PACKAGE.rglob("*.py")
            if not (p.parent / "__init__.py").is_file()
        }
    )
    assert not missing
