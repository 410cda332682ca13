"""A file format for cached results that cannot run code when it is read: no pickle.

The report's caches (:mod:`sendlib.report.runcache`) keep DataFrames, arrays, the quality gate's
result and the projection between the notebooks of a run and between runs. Reading a pickle runs
whatever code the file names, so a cache folder someone else can write to would let them run code
as the next user of the report. This module stores the same values in formats that are data only:

* one zip file per stored value (written to a temporary file, then renamed into place);
* ``value.json`` in it: the value as JSON, with tagged objects (``{"$": "frame", ...}``) for what
  JSON lacks: tuples, sets, dicts with keys that are not text, non-finite floats, numpy scalars,
  :class:`pandas.Timestamp`, ``NaT`` and paths;
* each :class:`pandas.DataFrame` or :class:`pandas.Series` as a Parquet member (pyarrow; dtypes
  round-trip: nullable integers and booleans, strings, categoricals, datetimes, the index);
* each :class:`numpy.ndarray` as a ``.npy`` member, written and read with ``allow_pickle=False``
  (object arrays are refused);
* dataclasses only from :data:`ALLOWED_DATACLASSES`, an allow-list in this module: a file names a
  class by its key in that list, never by a module path, so reading never imports a module a
  file names. Anything else is refused with a :class:`TypeError` when it is stored, so a new
  kind of cached value fails loudly in tests instead of falling back to something unsafe.

Reading refuses (:class:`StoreFormatError`) a file that is not such a zip (a pickle, say), a
tag or class name it does not know, and a member that is missing or not Parquet / NumPy data.
Pyarrow reads Parquet without unpickling (its pickle-based extension type is disabled since
pyarrow 14.0.1, CVE-2023-47248); the ``.npy`` reader runs with ``allow_pickle=False``.

Public functions: :func:`dump`, :func:`load` (optionally only some keys of a stored dict),
:func:`is_store_file`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath
from typing import IO, Any

import numpy as np
import pandas as pd

#: what ``value.json`` says it is; a file without it is refused
FORMAT = "sendlib-safe-store"
VERSION = 1
VALUE_MEMBER = "value.json"
_BLOB = re.compile(r"blobs/[0-9]+\.(parquet|npy)")

#: The only dataclasses a stored file may hold: key written in the file -> (module, class name)
#: in sendlib. Add a class here (and a round-trip test) to cache a new kind of result.
ALLOWED_DATACLASSES: dict[str, tuple[str, str]] = {
    "PlacementProjection": ("sendlib.models.projection", "PlacementProjection"),
    "ValidationReport": ("sendlib.quality.gate", "ValidationReport"),
    "TableResult": ("sendlib.quality.gate", "TableResult"),
    "Failure": ("sendlib.quality.gate", "Failure"),
}

#: numpy scalar kinds kept as numpy scalars (bool, signed / unsigned integer, float)
_SCALAR_KINDS = "biuf"


class StoreFormatError(ValueError):
    """A stored file is not in this format, or names something the format does not allow."""


def _index_column(level: int) -> str:
    return f"__index_level_{level}__"


def _allowed_class(key: str) -> type:
    if key not in ALLOWED_DATACLASSES:
        raise StoreFormatError(f"stored value names class {key!r}, which is not in the allow-list")
    module, name = ALLOWED_DATACLASSES[key]
    return getattr(importlib.import_module(module), name)


def _key_of_class(cls: type) -> str | None:
    for key, (module, name) in ALLOWED_DATACLASSES.items():
        if cls.__module__ == module and cls.__qualname__ == name and _allowed_class(key) is cls:
            return key
    return None


# ----- writing ---------------------------------------------------------------------------------


class _Writer:
    """Encodes one value into JSON plus Parquet / NumPy members of an open zip file."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.n = 0

    def _member(self, suffix: str, write: Callable[[IO[bytes]], None]) -> str:
        name = f"blobs/{self.n}{suffix}"
        self.n += 1
        with self.zf.open(name, "w", force_zip64=True) as fh:
            write(fh)
        return name

    def _parquet(self, frame: pd.DataFrame) -> str:
        buf = io.BytesIO()
        frame.to_parquet(buf, engine="pyarrow", index=False)
        return self._member(".parquet", lambda fh: fh.write(buf.getbuffer()))

    def frame(self, df: pd.DataFrame, where: str) -> dict[str, Any]:
        if isinstance(df.columns, pd.MultiIndex):
            raise TypeError(f"{where}: a DataFrame with MultiIndex columns cannot be stored")
        labels = list(df.columns)
        out: dict[str, Any] = {"$": "frame"}
        body = df
        if not all(isinstance(c, str) for c in labels) or len(set(labels)) != len(labels):
            # Parquet needs unique text column names: store positions, keep the labels in JSON
            out["columns"] = [self.encode(c, f"{where}.columns") for c in labels]
            body = body.set_axis([f"c{i}" for i in range(len(labels))], axis=1)
        if df.columns.name is not None:
            out["columns_name"] = self.encode(df.columns.name, f"{where}.columns.name")
        index = df.index
        if type(index) is pd.RangeIndex:
            out["range"] = [index.start, index.stop, index.step]
            out["index_names"] = [self.encode(index.name, f"{where}.index.name")]
        else:
            # the index as ordinary columns: Parquet's own index metadata loses some dtypes
            # (a "string" index comes back as "str")
            cols = [_index_column(i) for i in range(index.nlevels)]
            if set(cols) & set(body.columns):
                raise TypeError(f"{where}: a column is named like a stored index level ({cols})")
            levels = {c: index.get_level_values(i) for i, c in enumerate(cols)}
            body = pd.concat([pd.DataFrame(levels).reset_index(drop=True), body.reset_index(drop=True)], axis=1)
            out["index_names"] = [self.encode(n, f"{where}.index.names") for n in index.names]
        out["blob"] = self._parquet(body)
        return out

    def array(self, arr: np.ndarray, where: str) -> dict[str, Any]:
        if arr.dtype.hasobject:
            raise TypeError(f"{where}: a numpy array of Python objects (dtype {arr.dtype}) cannot be stored")
        blob = self._member(".npy", lambda fh: np.lib.format.write_array(fh, arr, allow_pickle=False))
        return {"$": "ndarray", "blob": blob}

    def encode(self, v: Any, where: str = "value") -> Any:
        """The JSON form of ``v``; frames and arrays become members. Raises TypeError for a type
        the format does not know (named with where it was found)."""
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int) and type(v) is int:
            return v
        if isinstance(v, float) and type(v) is float:
            return v if math.isfinite(v) else {"$": "float", "value": repr(v)}
        if isinstance(v, np.generic):
            if v.dtype.kind not in _SCALAR_KINDS:
                raise TypeError(f"{where}: numpy scalar of dtype {v.dtype} cannot be stored")
            return {"$": "np", "dtype": v.dtype.str, "value": self.encode(v.item(), where)}
        if v is pd.NaT:
            return {"$": "nat"}
        if isinstance(v, pd.Timestamp):
            return {"$": "timestamp", "value": v.isoformat(), "unit": v.unit, "tz": str(v.tz) if v.tz else None}
        if isinstance(v, PurePath):
            return {"$": "path", "value": str(v)}
        if type(v) is list:
            return [self.encode(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if type(v) in (tuple, set, frozenset):
            kind = type(v).__name__
            return {"$": kind, "items": [self.encode(x, f"{where}[{i}]") for i, x in enumerate(v)]}
        if type(v) is dict:
            if all(type(k) is str for k in v) and "$" not in v:
                return {k: self.encode(x, f"{where}[{k!r}]") for k, x in v.items()}
            return {
                "$": "dict",
                "items": [[self.encode(k, f"{where} key"), self.encode(x, f"{where}[{k!r}]")] for k, x in v.items()],
            }
        if type(v) is pd.DataFrame:
            return self.frame(v, where)
        if type(v) is pd.Series:
            out = self.frame(v.to_frame(name="values"), where)
            return {**out, "$": "series", "name": self.encode(v.name, f"{where}.name")}
        if type(v) is np.ndarray:
            return self.array(v, where)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            key = _key_of_class(type(v))
            if key is None:
                raise TypeError(
                    f"{where}: {type(v).__module__}.{type(v).__qualname__} is not in "
                    "sendlib.report.safe_store.ALLOWED_DATACLASSES; add it there to cache it"
                )
            fields = {f.name: self.encode(getattr(v, f.name), f"{where}.{f.name}") for f in dataclasses.fields(v)}
            return {"$": "dataclass", "type": key, "fields": fields}
        raise TypeError(
            f"{where}: values of type {type(v).__module__}.{type(v).__qualname__} cannot be stored in the "
            "report cache (sendlib.report.safe_store: JSON values, DataFrames, Series, numpy arrays and the "
            "allow-listed dataclasses)"
        )


def dump(value: Any, path: str | Path) -> Path:
    """Store ``value`` at ``path`` (replaced atomically; created owner-only on POSIX).

    Raises TypeError, before anything is replaced, when ``value`` holds a type the format does
    not know (see the module docstring).
    """
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
            tree = _Writer(zf).encode(value)
            header = {"format": FORMAT, "version": VERSION, "value": tree}
            zf.writestr(VALUE_MEMBER, json.dumps(header, allow_nan=False, separators=(",", ":")))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


# ----- reading ---------------------------------------------------------------------------------


class _Reader:
    """Decodes ``value.json`` of an open zip file, reading members as they are needed."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.names = set(zf.namelist())

    def _member(self, name: Any, suffix: str) -> IO[bytes]:
        if not isinstance(name, str) or not _BLOB.fullmatch(name) or not name.endswith(suffix):
            raise StoreFormatError(f"stored value refers to member {name!r}, not a {suffix} member")
        if name not in self.names:
            raise StoreFormatError(f"stored value refers to member {name!r}, which the file lacks")
        return self.zf.open(name)

    def _frame(self, v: dict[str, Any]) -> pd.DataFrame:
        with self._member(v.get("blob"), ".parquet") as fh:
            data = fh.read()
        try:
            df = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
        except Exception as exc:
            raise StoreFormatError(f"member {v.get('blob')!r} is not readable Parquet: {exc}") from exc
        names = [self.decode(n) for n in v.get("index_names", [None])]
        if "range" in v:
            start, stop, step = (int(x) for x in v["range"])
            if len(range(start, stop, step)) != len(df):
                raise StoreFormatError(f"member {v.get('blob')!r}: its index does not match its rows")
            df.index = pd.RangeIndex(start, stop, step, name=names[0] if names else None)
        else:
            cols = [_index_column(i) for i in range(len(names))]
            if not set(cols) <= set(df.columns):
                raise StoreFormatError(f"member {v.get('blob')!r} lacks its index columns")
            df = df.set_index(cols)
            df.index.names = names
        if "columns" in v:
            labels = [self.decode(c) for c in v["columns"]]
            if len(labels) != df.shape[1]:
                raise StoreFormatError(f"member {v.get('blob')!r}: column labels do not match its columns")
            df = df.set_axis(labels, axis=1)
        if "columns_name" in v:
            df.columns.name = self.decode(v["columns_name"])
        return df

    def decode(self, v: Any) -> Any:
        if v is None or isinstance(v, (bool, str, int, float)):
            return v
        if isinstance(v, list):
            return [self.decode(x) for x in v]
        if not isinstance(v, dict):
            raise StoreFormatError(f"unexpected JSON value of type {type(v).__name__}")
        tag = v.get("$")
        if tag is None:
            return {k: self.decode(x) for k, x in v.items()}
        if tag == "dict":
            return {self.decode(k): self.decode(x) for k, x in v["items"]}
        if tag in ("tuple", "set", "frozenset"):
            return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](self.decode(x) for x in v["items"])
        if tag == "float":
            if v.get("value") not in ("nan", "inf", "-inf"):
                raise StoreFormatError(f"not a non-finite float: {v.get('value')!r}")
            return float(v["value"])
        if tag == "np":
            dtype = np.dtype(str(v.get("dtype")))
            if dtype.kind not in _SCALAR_KINDS:
                raise StoreFormatError(f"numpy scalar of dtype {dtype} is not allowed")
            return dtype.type(self.decode(v["value"]))
        if tag == "nat":
            return pd.NaT
        if tag == "timestamp":
            ts = pd.Timestamp(str(v["value"]))
            if v.get("tz"):
                ts = ts.tz_convert(str(v["tz"]))
            return ts.as_unit(str(v["unit"])) if v.get("unit") else ts
        if tag == "path":
            return Path(str(v["value"]))
        if tag == "frame":
            return self._frame(v)
        if tag == "series":
            df = self._frame(v)
            if list(df.columns) != ["values"]:
                raise StoreFormatError(f"member {v.get('blob')!r} is not a stored Series")
            return df["values"].rename(self.decode(v.get("name")))
        if tag == "ndarray":
            try:  # read in chunks straight from the member: no copy of the whole file in memory
                with self._member(v.get("blob"), ".npy") as fh:
                    return np.lib.format.read_array(fh, allow_pickle=False)
            except ValueError as exc:
                raise StoreFormatError(f"member {v.get('blob')!r} is not a plain numpy array: {exc}") from exc
        if tag == "dataclass":
            cls = _allowed_class(str(v.get("type")))
            fields = {f.name: f for f in dataclasses.fields(cls)}
            values = {k: self.decode(x) for k, x in dict(v.get("fields", {})).items()}
            unknown = sorted(set(values) - set(fields))
            if unknown:
                raise StoreFormatError(f"stored {v['type']} has fields the class lacks: {unknown}")
            obj = cls(**{k: x for k, x in values.items() if fields[k].init})
            for k, x in values.items():
                if not fields[k].init:
                    object.__setattr__(obj, k, x)
            return obj
        raise StoreFormatError(f"unknown tag {tag!r} in stored value")


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise StoreFormatError(f"{path.name} is not a sendlib cache file (zip of JSON, Parquet and .npy)") from exc


def _tree(zf: zipfile.ZipFile, path: Path) -> Any:
    try:
        header = json.loads(zf.read(VALUE_MEMBER))
    except KeyError as exc:
        raise StoreFormatError(f"{path.name} has no {VALUE_MEMBER}") from exc
    except ValueError as exc:
        raise StoreFormatError(f"{path.name}: {VALUE_MEMBER} is not JSON") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise StoreFormatError(f"{path.name} is not a {FORMAT} version {VERSION} file")
    return header.get("value")


def load(path: str | Path, only: Iterable[str] | None = None) -> Any:
    """The value stored at ``path`` by :func:`dump`.

    With ``only``, the stored value must be a dict with text keys: just those of its entries are
    read (missing ones are left out), so a caller needing two tables reads two members.
    Raises :class:`StoreFormatError` for a file that is not in this format (for example a pickle)
    or that names a type or class the format does not allow; OSError when it cannot be read.
    """
    p = Path(path)
    with _open(p) as zf:
        tree = _tree(zf, p)
        reader = _Reader(zf)
        if only is None:
            return reader.decode(tree)
        if not isinstance(tree, dict) or "$" in tree:
            raise StoreFormatError(f"{p.name} does not hold a dict with text keys")
        return {k: reader.decode(tree[k]) for k in only if k in tree}


def is_store_file(path: str | Path) -> bool:
    """Whether ``path`` is a file written by :func:`dump` (its header only is read)."""
    p = Path(path)
    try:
        with _open(p) as zf:
            _tree(zf, p)
    except (OSError, StoreFormatError):
        return False
    return True
