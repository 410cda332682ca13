"""Provenance for the manifest: hashes of inputs and outputs, git commit, package versions,
and a summary of the validation result with no data values in it.

The manifest never records an absolute path: :func:`config_relative` writes every path relative
to the configuration file's folder with ``/`` separators, so manifests compare across machines
and operating systems and say nothing of the machine that wrote them.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sendlib.core.config import PROJECT_ROOT, Config

#: Packages whose versions go into the manifest (the analysis and report stack).
STACK_PACKAGES: tuple[str, ...] = (
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "great-expectations",
    "matplotlib",
    "seaborn",
    "pyarrow",
    "openpyxl",
    "pyyaml",
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "ipykernel",
    "jupyter-client",
    "jinja2",
    "tqdm",
)


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_folder(folder: str | Path | None) -> dict[str, str]:
    """``{relative path: sha256}`` for every file under ``folder`` (sorted; empty if missing)."""
    if folder is None or not Path(folder).is_dir():
        return {}
    root = Path(folder)
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def config_relative(path: str | Path, config: Config) -> str:
    """``path`` relative to the folder of ``config``'s file, with ``/`` separators
    (``../data/raw``; ``default.yaml`` for the config itself).

    A path that has no relative form (another drive on Windows) is recorded as
    ``<elsewhere>/<its name>``: never absolute.
    """
    p = Path(path)
    base = Path(config.path).parent
    try:
        rel = os.path.relpath(p, base)
    except ValueError:  # Windows: another drive
        return f"<elsewhere>/{p.name}"
    return Path(rel).as_posix()


def relative_input_hashes(hashes: Mapping[str, Mapping[str, str]], config: Config) -> dict[str, dict[str, str]]:
    """:func:`input_files` as the manifest records it: the ``other`` files (configured tables
    outside the data folder, keyed by their path) keyed relative to the config's folder."""
    out = {group: dict(files) for group, files in hashes.items()}
    if "other" in out:
        out["other"] = {config_relative(name, config): h for name, h in out["other"].items()}
    return out


def git_commit(repo: str | Path = PROJECT_ROOT) -> str | None:
    """The repository's HEAD commit, or None (no git, not a repository, no commits)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--verify", "HEAD"],
            cwd=str(repo),
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", sha) else None


def package_versions(names: Iterable[str] = STACK_PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (None when not installed), plus Python's."""
    from importlib import metadata

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def input_files(config: Config) -> dict[str, dict[str, str]]:
    """Hashes of every input file: ``data`` (the data folder), ``reference``, ``scenarios``
    and any configured table file outside the data folder (``other``)."""
    data = hash_folder(config.data_dir)
    other = {}
    for _name, src in sorted(config.tables.items()):
        if src.path is not None and Path(src.path).is_file():
            p = Path(src.path)
            try:
                p.relative_to(config.data_dir)
            except ValueError:
                other[str(p)] = sha256_file(p)
    return {
        "data": data,
        "reference": hash_folder(config.reference_dir),
        "scenarios": hash_folder(config.scenarios_dir),
        "other": other,
    }


def changed_inputs(before: Mapping[str, Mapping[str, str]], after: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Input files (``group/path``) added, removed or changed between two :func:`input_files`."""
    out = []
    for group in sorted(set(before) | set(after)):
        b, a = before.get(group, {}), after.get(group, {})
        out += [f"{group}/{name}" for name in sorted(set(b) | set(a)) if b.get(name) != a.get(name)]
    return out


def summarise_validation(result: Any) -> dict[str, Any]:
    """A JSON-able summary of a validation result for the manifest, with no data values.

    A :class:`sendlib.quality.gate.ValidationReport` gives its own summary (``to_dict``: per-table
    rows, rules, passed, failed, and the failures named by table, column and rule); any other
    gate result gives at least its ``success``.
    """
    if result is None:
        return {"success": True, "detail": "gate passed (no result object)"}
    if isinstance(result, Mapping):
        return {k: v for k, v in result.items() if isinstance(v, (str, int, float, bool, type(None)))}
    to_dict = getattr(result, "to_dict", None)
    if callable(to_dict):
        try:
            summary = dict(to_dict())
        except Exception as exc:  # a summary must never break the run
            return {"success": bool(getattr(result, "success", True)), "summary_error": type(exc).__name__}
        tables = summary.get("tables") or []
        summary["n_rules"] = int(sum(t.get("rules", 0) for t in tables))
        summary["n_failed"] = int(sum(t.get("failed", 0) for t in tables))
        return summary
    return {"success": bool(getattr(result, "success", True))}
