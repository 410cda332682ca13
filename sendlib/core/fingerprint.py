"""Stable fingerprints of data, code and settings: what decides whether a stored result may be reused.

Used by the quality gate (:func:`sendlib.quality.gate.validation_key`) and by the report runner's
reuse of results between runs (:mod:`sendlib.report.runcache`). Pure functions, no I/O beyond
reading ``sendlib``'s own source files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

#: the ``sendlib`` package folder: module paths given to :func:`code_fingerprint` are relative to it
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def tables_fingerprint(tables: Mapping[str, pd.DataFrame]) -> str:
    """SHA-256 of the tables' names, columns, dtypes and every value (row order included)."""
    h = hashlib.sha256()
    for name in sorted(tables):
        df = tables[name]
        h.update(name.encode())
        h.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
        h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    return h.hexdigest()


def code_fingerprint(*modules: str) -> str:
    """SHA-256 of the source files of these ``sendlib`` modules (paths relative to the package,
    e.g. ``"models/forecast/person.py"``) plus the numpy and pandas versions: what must not change
    for a stored result to be reused."""
    from importlib import metadata

    h = hashlib.sha256()
    for name in modules:
        h.update(name.encode() + b"\0" + (PACKAGE_ROOT / name).read_bytes())
    for pkg in ("numpy", "pandas"):
        h.update(metadata.version(pkg).encode())
    return h.hexdigest()


def cache_key(parts: Mapping[str, Any]) -> str:
    """A stable short key for a mapping of JSON-able parts (paths and timestamps as text)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
