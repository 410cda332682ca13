"""Keep committed notebooks clean: no outputs, a parameters cell, no definitions.

Notebook outputs can hold personal data and hide state, so notebooks are committed stripped
(``make notebooks-clean``) and a test fails when they are not. Usage::

    python -m sendlib.report.notebook_tools strip notebooks/*.ipynb   # strip in place
    python -m sendlib.report.notebook_tools check notebooks/*.ipynb   # exit 1 if any has outputs

The functions here read notebooks as plain JSON-like dicts (``nbformat`` nodes work too) and
never execute anything.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: The parameters the report injects into every notebook (docs/architecture.md).
COMMON_PARAMETERS: tuple[str, ...] = ("quarter", "config_path", "data_dir", "tables_dir", "validated")

#: Cell metadata keys written by execution (papermill, JupyterLab) that carry run state.
_RUN_METADATA_KEYS = ("execution", "papermill", "collapsed", "scrolled", "ExecuteTime")

_MAGIC = re.compile(r"^\s*[%!]")


def read_notebook(path: str | Path) -> dict[str, Any]:
    """Read a notebook file as a dict (UTF-8 JSON)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def cell_source(cell: Mapping[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a string or a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def code_cells(nb: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The notebook's code cells, in order."""
    return [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]


def has_outputs(nb: Mapping[str, Any]) -> bool:
    """True when any code cell has outputs or an execution count."""
    return any(c.get("outputs") or c.get("execution_count") is not None for c in code_cells(nb))


def strip_notebook(nb: dict[str, Any]) -> bool:
    """Remove outputs, execution counts and execution metadata in place.

    Tags and other authored metadata are kept. Returns True when anything changed.
    """
    changed = False
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {})
        for key in _RUN_METADATA_KEYS:
            if key in meta:
                del meta[key]
                changed = True
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            cell["outputs"] = []
            changed = True
        if cell.get("execution_count") is not None:
            cell["execution_count"] = None
            changed = True
    top = nb.get("metadata", {})
    if "papermill" in top:
        del top["papermill"]
        changed = True
    return changed


def _python_source(source: str) -> str:
    """Source with IPython magics and shell escapes commented out, so ``ast`` can parse it."""
    return "\n".join("# " + line if _MAGIC.match(line) else line for line in source.splitlines())


def parameters_cell(nb: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first code cell tagged ``parameters``, or None."""
    for cell in code_cells(nb):
        if "parameters" in (cell.get("metadata", {}).get("tags") or []):
            return cell
    return None


def assigned_names(source: str) -> list[str]:
    """Names assigned at top level in a cell (``x = 1`` or ``x: int = 1``), in order."""
    names: list[str] = []
    for node in ast.parse(_python_source(source)).body:
        if isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return names


def missing_common_parameters(nb: Mapping[str, Any]) -> list[str]:
    """The common report parameters the notebook's parameters cell does not assign.

    All of them when there is no parameters cell.
    """
    cell = parameters_cell(nb)
    if cell is None:
        return list(COMMON_PARAMETERS)
    have = set(assigned_names(cell_source(cell)))
    return [p for p in COMMON_PARAMETERS if p not in have]


def definitions(nb: Mapping[str, Any]) -> list[str]:
    """Functions and classes defined anywhere in the notebook's code cells (``def``/``class``).

    A cell that does not parse as Python is searched for ``def``/``class`` statements by text.
    """
    found: list[str] = []
    for i, cell in enumerate(code_cells(nb)):
        src = cell_source(cell)
        try:
            tree = ast.parse(_python_source(src))
        except SyntaxError:
            for m in re.finditer(r"^\s*(?:async\s+)?(def|class)\s+(\w+)", src, flags=re.M):
                found.append(f"cell {i}: {m.group(1)} {m.group(2)}")
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append(f"cell {i}: def {node.name}")
            elif isinstance(node, ast.ClassDef):
                found.append(f"cell {i}: class {node.name}")
    return found


def strip_files(paths: Iterable[str | Path]) -> list[Path]:
    """Strip each notebook in place (rewritten only if it changed); returns the changed files."""
    changed: list[Path] = []
    for p in map(Path, paths):
        nb = read_notebook(p)
        if strip_notebook(nb):
            _write(p, nb)
            changed.append(p)
    return changed


def _write(path: Path, nb: Mapping[str, Any]) -> None:
    # Jupyter's own layout (indent 1, keys sorted, trailing newline) keeps diffs small.
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """``strip`` notebooks in place, or ``check`` that none has outputs (exit 1 if any has)."""
    parser = argparse.ArgumentParser(
        prog="python -m sendlib.report.notebook_tools", description="Strip or check notebook outputs."
    )
    parser.add_argument("action", choices=("strip", "check"))
    parser.add_argument("notebooks", nargs="*", help="notebook files (.ipynb)")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.notebooks if Path(p).suffix == ".ipynb" and Path(p).is_file()]
    if args.action == "strip":
        for p in strip_files(paths):
            print(f"stripped {p}")
        return 0
    dirty = [p for p in paths if has_outputs(read_notebook(p))]
    for p in dirty:
        print(f"{p}: has outputs or execution counts (run `make notebooks-clean`)", file=sys.stderr)
    return 1 if dirty else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


def replace_machine_paths(text: str, replacements: Mapping[str, str]) -> str:
    """``text`` with each absolute path of ``replacements`` (longest first) put as its stand-in.

    Each path is replaced as written and as JSON writes it (backslashes doubled, for Windows
    paths in a notebook's JSON); ``/`` and ``\\`` after a replaced folder are left as they are.
    """
    out = text
    for path in sorted((p for p in replacements if p), key=len, reverse=True):
        stand_in = replacements[path]
        out = out.replace(path, stand_in)
        escaped = json.dumps(path)[1:-1]
        if escaped != path:
            out = out.replace(escaped, json.dumps(stand_in)[1:-1])
    return out


def relativise_notebook(path: str | Path, replacements: Mapping[str, str]) -> bool:
    """Rewrite an executed notebook so it shows no machine path (papermill's injected parameters,
    its metadata, printed paths, tracebacks): :func:`replace_machine_paths` on its JSON text.
    Returns True when the file changed."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    new = replace_machine_paths(text, replacements)
    if new != text:
        json.loads(new)  # still a notebook
        p.write_text(new, encoding="utf-8")
    return new != text
