"""The report cache's file format (sendlib.report.safe_store): every kind of value round-trips
exactly, nothing unknown is stored, and nothing that could run code is ever read."""

from __future__ import annotations

import ast
import io
import json
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sendlib.models.projection import PlacementProjection
from sendlib.quality.gate import Failure, TableResult, ValidationReport
from sendlib.report import safe_store
from sendlib.report.safe_store import StoreFormatError

PACKAGE = Path(__file__).resolve().parents[2] / "sendlib"


def roundtrip(value, tmp_path: Path, name: str = "v.zip"):
    path = safe_store.dump(value, tmp_path / name)
    return safe_store.load(path)


def assert_same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True, check_index_type=True, check_column_type=True)
    assert a.dtypes.astype(str).tolist() == b.dtypes.astype(str).tolist()


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(10**30),
        1.5,
        float("inf"),
        "text with ünïcode",
        [1, "a", None, [2.5]],
        (1, ("nested", 2)),
        {"a": 1, "b": [1, 2]},
        {1: "int key", ("t", 2): "tuple key", None: 0},
        {"$": "a key that looks like a tag"},
        {"x", "y"},
        frozenset({3}),
        np.int64(7),
        np.float32(0.25),
        np.bool_(True),
        pd.Timestamp("2026-09-30"),
        pd.Timestamp("2026-09-30 12:34:56.123456789"),
        pd.Timestamp("2026-07-01 09:30", tz="Europe/London"),
        Path("outputs") / "x.csv",
    ],
    # by type and position: a set's repr is not the same in every process (pytest-xdist collects twice)
    ids=lambda v: type(v).__name__,
)
def test_json_values_round_trip_with_their_types(tmp_path, value):
    back = roundtrip(value, tmp_path)
    assert back == value and type(back) is type(value)
    if isinstance(value, pd.Timestamp):
        assert back.unit == value.unit and str(back.tz) == str(value.tz)
    if isinstance(value, np.generic):
        assert back.dtype == value.dtype


def test_nan_and_nat_round_trip(tmp_path):
    back = roundtrip({"nan": float("nan"), "nat": pd.NaT, "np_nan": np.float64("nan")}, tmp_path)
    assert np.isnan(back["nan"]) and back["nat"] is pd.NaT and np.isnan(back["np_nan"])


def test_frames_keep_every_dtype_and_their_index(tmp_path):
    df = pd.DataFrame(
        {
            "text": pd.array(["a", None, "c"], dtype="string"),
            "default_str": ["x", "y", None],
            "nullable_int": pd.array([1, None, 3], dtype="Int64"),
            "nullable_bool": pd.array([True, None, False], dtype="boolean"),
            "cat": pd.Categorical(["b", "a", None], categories=["a", "b", "unused"]),
            "ordered": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"], ordered=True),
            "when": pd.to_datetime(["2025-01-01 00:00", None, "2026-09-30 10:00"]),
            "when_tz": pd.to_datetime(["2025-01-01", "2025-06-01", None]).tz_localize("Europe/London"),
            "float32": np.array([1.5, np.nan, 3.0], dtype=np.float32),
            "int8": np.array([1, -2, 3], dtype=np.int8),
        }
    )
    assert_same_frame(roundtrip(df, tmp_path), df)
    indexed = df.set_index(["text", "int8"])
    assert_same_frame(roundtrip(indexed, tmp_path), indexed)
    assert_same_frame(roundtrip(df.iloc[[2, 0]], tmp_path), df.iloc[[2, 0]])  # a non-range index
    odd = pd.DataFrame([[1, 2, 3]], columns=[0, ("a", 1), "x"])
    odd.columns.name = "labels"
    back = roundtrip(odd, tmp_path)
    assert list(back.columns) == [0, ("a", 1), "x"] and back.columns.name == "labels"
    assert back.to_numpy().tolist() == [[1, 2, 3]]
    empty = pd.DataFrame()
    assert roundtrip(empty, tmp_path).shape == (0, 0)


def test_series_and_arrays_round_trip(tmp_path):
    s = pd.Series([1.5, None, 3.0], index=pd.Index(["a", "b", "c"], name="k"), name="value")
    pd.testing.assert_series_equal(roundtrip(s, tmp_path), s, check_exact=True)
    for arr in (
        np.arange(24, dtype=np.float32).reshape(2, 3, 4),
        np.asfortranarray(np.arange(6).reshape(2, 3)),
        np.array([True, False]),
        np.array(["a", "bc"]),
        np.empty((0, 3)),
    ):
        back = roundtrip(arr, tmp_path)
        np.testing.assert_array_equal(back, arr)
        assert back.dtype == arr.dtype and back.shape == arr.shape


def test_the_shipped_tables_round_trip_exactly(tmp_path):
    """Every canonical table of data/raw, loaded as the report loads them."""
    from sendlib.core.config import load_config
    from sendlib.data.loaders import load_tables

    tables = load_tables(load_config())
    path = safe_store.dump(tables, tmp_path / "tables.zip")
    back = safe_store.load(path)
    assert list(back) == list(tables)
    for name, df in tables.items():
        assert_same_frame(back[name], df)
    two = safe_store.load(path, only=["capacity", "population", "not_a_table"])
    assert list(two) == ["capacity", "population"]
    assert_same_frame(two["capacity"], tables["capacity"])


def test_the_cached_sendlib_results_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    groups = pd.DataFrame({c: ["a", "b"] for c in ("setting_type", "phase", "primary_need", "locality", "age_group")})
    history = pd.DataFrame({"year": [2025, 2026], "count": pd.array([3, None], dtype="Int64")})
    proj = PlacementProjection([2027, 2028, 2029], groups, rng.random((5, 3, 2)).astype(np.float32), history, "base")
    back = roundtrip(proj, tmp_path)
    assert isinstance(back, PlacementProjection) and back.years == proj.years and back.label == "base"
    np.testing.assert_array_equal(back.draws, proj.draws)
    assert_same_frame(back.groups, proj.groups)
    assert_same_frame(back.history, proj.history)

    report = ValidationReport(
        [TableResult("ehcp_plans", 10, 5, 4, 1, pd.Timestamp("2026-09-30")), TableResult("population", 3, 2, 2, 0)],
        [Failure("ehcp_plans", "person_id", "unique", "keys unique", 2, (1, 2), "detail")],
        pd.Timestamp("2026-09-30"),
        "metadata.yaml",
        Path("docs") / "index.html",
        {"ehcp_plans": {"success": False, "results": [{"x": 1.5, "y": None}]}},
        {"context": 0.1},
        "abc",
    )
    back = roundtrip(report, tmp_path)
    assert back == report and type(back.failures[0].example_rows) is tuple


def test_an_unknown_type_is_refused_when_stored_not_later(tmp_path):
    @dataclass
    class NotAllowed:
        x: int = 1

    class Plain:
        pass

    for value, named in (
        (NotAllowed(), "ALLOWED_DATACLASSES"),
        ({"ok": [1, Plain()]}, "value['ok'][1]"),
        (np.array([{"a": 1}], dtype=object), "numpy array of Python objects"),
        (pd.Categorical(["a"]), "cannot be stored"),
        (b"bytes", "cannot be stored"),
        (pd.DataFrame([[1]], columns=pd.MultiIndex.from_tuples([("a", "b")])), "MultiIndex"),
    ):
        with pytest.raises(TypeError, match=named.replace("[", r"\[").replace("]", r"\]")):
            safe_store.dump(value, tmp_path / "x.zip")
        assert not list(tmp_path.iterdir()), "nothing is left behind by a refused value"


def _zip(path: Path, header: dict, members: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("value.json", json.dumps(header))
        for name, data in (members or {}).items():
            zf.writestr(name, data)
    return path


class Boom:
    """Unpickling this would run code; the store must never get that far."""

    ran = False

    def __reduce__(self):
        return (Boom._run, ())

    @staticmethod
    def _run():
        Boom.ran = True
        return "ran"


def test_a_pickle_or_a_tampered_file_is_refused_and_runs_nothing(tmp_path):
    planted = tmp_path / "projection-0123456789abcdef01234567.zip"
    planted.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(StoreFormatError, match="not a sendlib cache file"):
        safe_store.load(planted)
    assert not Boom.ran and not safe_store.is_store_file(planted)

    good = {"format": safe_store.FORMAT, "version": safe_store.VERSION}
    cases = {
        "unknown class": {**good, "value": {"$": "dataclass", "type": "os.system", "fields": {}}},
        "module path as class": {
            **good,
            "value": {"$": "dataclass", "type": "sendlib.models.projection.PlacementProjection", "fields": {}},
        },
        "unknown tag": {**good, "value": {"$": "pickle", "data": "gASV"}},
        "missing member": {**good, "value": {"$": "ndarray", "blob": "blobs/9.npy"}},
        "member outside blobs": {**good, "value": {"$": "frame", "blob": "../../etc/passwd"}},
        "another format": {"format": "other", "version": 1, "value": 1},
        "object dtype scalar": {**good, "value": {"$": "np", "dtype": "O", "value": 1}},
    }
    for label, header in cases.items():
        with pytest.raises(StoreFormatError):
            safe_store.load(_zip(tmp_path / f"{label}.zip", header))

    # a .npy member holding pickled objects is refused by the reader (allow_pickle=False)
    buf = io.BytesIO()
    np.save(buf, np.array([Boom()], dtype=object), allow_pickle=True)
    npy = _zip(
        tmp_path / "npy.zip",
        {**good, "value": {"$": "ndarray", "blob": "blobs/0.npy"}},
        {"blobs/0.npy": buf.getvalue()},
    )
    with pytest.raises(StoreFormatError, match="not a plain numpy array"):
        safe_store.load(npy)
    assert not Boom.ran


def test_stored_files_are_owner_only_and_replaced_atomically(tmp_path):
    import os
    import stat

    path = safe_store.dump({"a": 1}, tmp_path / "v.zip")
    safe_store.dump({"a": 2}, path)
    assert safe_store.load(path) == {"a": 2} and [p.name for p in tmp_path.iterdir()] == ["v.zip"]
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _pickle_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    banned = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in banned]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in banned:
            found.append(node.module or "")
        elif isinstance(node, ast.Attribute) and node.attr in ("read_pickle", "to_pickle"):
            found.append(node.attr)
        elif isinstance(node, ast.keyword) and node.arg == "allow_pickle":
            if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                found.append("allow_pickle not False")
    return found


def test_no_pickle_anywhere_in_sendlib(tmp_path):
    bad = {p.relative_to(PACKAGE.parent).as_posix(): u for p in PACKAGE.rglob("*.py") if (u := _pickle_uses(p))}
    assert not bad, f"pickle (or a pickle-based format) used in sendlib: {bad}"
    probe = tmp_path / "probe.py"
    probe.write_text("import pickle\nfrom joblib import load\ndf.to_pickle('x')\nnp.load(f, allow_pickle=True)\n")
    assert _pickle_uses(probe) == ["pickle", "joblib", "to_pickle", "allow_pickle not False"]
