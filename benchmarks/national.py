"""A deterministic national-size dataset for the scale benchmarks: k copies of the synthetic county.

:func:`tile_tables` builds it from the canonical tables (normally the shipped county in
``data/raw``) without randomness: copy 0 is the county unchanged and copy ``i >= 1`` is the same
county with ``#i`` appended to every identifier, so every id is unique across copies and every
reference between tables still resolves inside its own copy. England has about 640,000 EHC
plans in force and about 160,000 requests a year across 153 authorities; the shipped county has
8,384 plans in force in January 2026 and about 2,000 requests a year, so :func:`national_k`
gives k = 76 (see the printed counts in ``bench_kpi.py``).

Which columns are identifiers (read from :mod:`sendlib.core.schema`, not listed here):

* every ``str`` column that is identifying (``person_id``, ``request_id``, ``placement_id``,
  ``referral_id``, ``event_id``) or part of a table's key (``capacity.setting_id``,
  ``pap_actions.ref``);
* every ``str`` column that the schema's descriptions tie to one of those as ``table.column``
  (``placements.provider_id`` <-> ``capacity.setting_id``), so the tie survives tiling. That is
  the only declaration of a reference the schema makes beyond shared column names; ``person_id``
  and ``request_id`` link tables by name and get the same suffix everywhere.

Other columns keep their values and dtype (pyarrow-backed ``string``, ``datetime64[ns]``,
``Int64``, ``boolean``, ``float64`` as :func:`sendlib.data.loaders.load_tables` produces them).

What happens to each kind of table:

* tables with an identifier column (``ehcp_requests``, ``ehcp_plans``, ``placements``,
  ``annual_reviews``, ``health_waits``, ``exclusions``, ``transitions``, ``capacity``,
  ``pap_actions``) are tiled k times: a national dataset holds every authority's cases, specialist
  settings and action-plan ratings. (``capacity`` and ``pap_actions`` are tiny; tiling them keeps
  "k authorities" consistent: sufficiency sees k times the places, K11 counts k times the actions.)
* aggregate tables with no identifier (``population``, ``school_population``, ``hnb_budget``,
  ``dsg_income``) keep one row per key and have their non-key numbers (residents, pupils, pounds)
  multiplied by k: England's population and high needs budget are the sum over authorities, and
  a rate such as K4 per 10,000 or K8 per 100 pupils then stays the county's.

So every KPI count and pound on k copies is k times the county's and every percentage, rate,
ratio, median and average is the county's (:func:`check_scaled_kpis` asserts exactly that). The
tiled data is more regular than real national data (each copy has the same dates), which makes
no difference to vectorised pandas code but would flatter a cache keyed on dates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sendlib.core.schema import TABLES, TableSchema

Tables = Mapping[str, pd.DataFrame]

#: England (DfE SEN2, January 2025): EHC plans in force and initial requests in calendar 2024.
NATIONAL_PLANS = 640_000
NATIONAL_REQUESTS_PER_YEAR = 160_000
#: Separator between an id and its copy number (never in a county id).
SEP = "#"

_REF = re.compile(r"\b([a-z_]+)\.([a-z_]+)\b")


def _str_id_columns(schema: TableSchema) -> set[str]:
    return {c.name for c in schema.columns if c.kind == "str" and (c.identifying or c.name in schema.key)}


def id_columns() -> dict[str, list[str]]:
    """Identifier columns per table, from the schema (see the module docstring)."""
    ids = {name: _str_id_columns(t) for name, t in TABLES.items()}
    # references the schema declares in prose as ``table.column``: tie both ends
    for name, t in TABLES.items():
        for col in t.columns:
            for other, ocol in _REF.findall(col.description):
                if other in TABLES and ocol in TABLES[other].column_names:
                    here, there = TABLES[other].column(ocol), col
                    if here.kind == "str" and there.kind == "str" and (ocol in ids[other] or col.name in ids[name]):
                        ids[other].add(ocol)
                        ids[name].add(col.name)
    return {name: [c for c in TABLES[name].column_names if c in cols] for name, cols in ids.items() if cols}


def scaled_columns() -> dict[str, list[str]]:
    """Additive numbers of the aggregate tables (no identifier): multiplied by k when tiling."""
    ids = id_columns()
    return {
        name: [c.name for c in t.columns if c.kind in ("int", "float") and c.name not in t.key]
        for name, t in TABLES.items()
        if name not in ids
    }


def _arrow(s: pd.Series) -> pa.Array:
    """A pyarrow-backed column as one contiguous arrow array (no copy of the strings)."""
    arr = pa.array(s.array)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _suffixed(s: pd.Series, k: int) -> pd.Series:
    """``s`` repeated k times, copy i >= 1 with ``#i`` appended (missing stays missing)."""
    n = len(s)
    arr = _arrow(s) if s.dtype == "string" else pa.array(s.astype(object), pa.large_string(), from_pandas=True)
    typ = arr.type
    tiled = pa.concat_arrays([arr] * k)
    copies = pa.array([""] + [f"{SEP}{i}" for i in range(1, k)], type=typ)
    suffix = copies.take(pa.array(np.repeat(np.arange(k, dtype=np.int32), n)))
    joined = pc.binary_join_element_wise(tiled, suffix, pa.scalar("", type=typ))
    return pd.Series(
        pd.arrays.ArrowStringArray(joined) if s.dtype == "string" else joined.to_pandas(), dtype=s.dtype, name=s.name
    )


def _tiled(s: pd.Series, k: int) -> pd.Series:
    """``s`` repeated k times, same dtype, one contiguous chunk (as a loader makes it)."""
    if s.dtype == "string" and s.dtype.storage == "pyarrow":
        return pd.Series(pd.arrays.ArrowStringArray(pa.concat_arrays([_arrow(s)] * k)), dtype=s.dtype, name=s.name)
    return pd.Series(s.array.take(np.tile(np.arange(len(s)), k)), dtype=s.dtype, name=s.name)


def tile_table(name: str, df: pd.DataFrame, k: int) -> pd.DataFrame:
    """One canonical table for k copies of the county (see the module docstring)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    ids = id_columns().get(name)
    if ids:
        cols = {c: (_suffixed(df[c], k) if c in ids else _tiled(df[c], k)) for c in df.columns}
        return pd.DataFrame(cols, index=pd.RangeIndex(len(df) * k))
    out = df.copy()
    for c in scaled_columns().get(name, []):
        if c in out.columns:
            out[c] = (out[c] * k).astype(df[c].dtype)
    return out


def tile_tables(tables: Tables, k: int) -> dict[str, pd.DataFrame]:
    """Every table of ``tables`` for k copies of the county; other entries (e.g.
    ``national_comparators``) are passed through unchanged."""
    return {name: (tile_table(name, df, k) if name in TABLES else df) for name, df in tables.items()}


def plans_in_force(tables: Tables, day: pd.Timestamp) -> int:
    """Distinct people with an EHC plan in force on ``day``."""
    p = tables["ehcp_plans"]
    live = (p["plan_start_date"] <= day) & (p["plan_end_date"].isna() | (p["plan_end_date"] >= day))
    return int(p.loc[live, "person_id"].nunique())


def requests_in_year(tables: Tables, end: pd.Timestamp) -> int:
    """Requests received in the 12 months ending on ``end``."""
    d = tables["ehcp_requests"]["request_date"]
    return int(((d > end - pd.DateOffset(years=1)) & (d <= end)).sum())


def national_k(tables: Tables, day: pd.Timestamp) -> int:
    """Copies of the county that make about England's 640,000 plans in force on ``day``."""
    return max(1, round(NATIONAL_PLANS / max(plans_in_force(tables, day), 1)))


def sizes(tables: Tables) -> dict[str, int]:
    """Rows per canonical table."""
    return {name: len(df) for name, df in tables.items() if name in TABLES}


# ----- the sanity check: counts k times, percentages equal --------------------------------------


def _scales(kpi: str, unit: str) -> bool:
    """Whether a KPI's value is a count or total (k times on k copies) rather than a share."""
    return unit == "count" or kpi == "K10_variance_gbp"


def check_scaled_kpis(base: pd.DataFrame, tiled: pd.DataFrame, k: int, rtol: float = 1e-9) -> None:
    """Assert that ``tiled`` (:func:`sendlib.models.kpi.compute_kpis` on k copies) is ``base`` with
    every numerator, denominator, count and pound total times k and every other value equal.

    Raises ``AssertionError`` naming the first KPI and column that differ.
    """
    if list(base["kpi"]) != list(tiled["kpi"]):
        raise AssertionError("the KPI rows differ between the county and its copies")
    scaled = np.array([_scales(kp, u) for kp, u in zip(base["kpi"], base["unit"])])
    checks = {
        "numerator": np.full(len(base), True),
        "denominator": np.full(len(base), True),
        "previous_numerator": np.full(len(base), True),
        "previous_denominator": np.full(len(base), True),
        "value": scaled,
        "previous_value": scaled,
        "change": scaled,
    }
    for col, mult in checks.items():
        want = base[col].to_numpy(float) * np.where(mult, k, 1)
        got = tiled[col].to_numpy(float)
        ok = np.isclose(got, want, rtol=rtol, atol=1e-6, equal_nan=True)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise AssertionError(f"{base['kpi'].iat[i]}.{col}: {got[i]!r} on {k} copies, expected {want[i]!r}")
    for col in ["unit", "period", "national_value", "better"]:
        a, b = base[col].astype(object), tiled[col].astype(object)
        same = (a == b) | (a.isna() & b.isna())
        if not same.all():
            i = int(np.flatnonzero(~same.to_numpy())[0])
            raise AssertionError(f"{base['kpi'].iat[i]}.{col} differs on {k} copies")
    keep = ~scaled
    a, b = base.loc[keep, "rag"].astype(object), tiled.loc[keep, "rag"].astype(object)
    if not ((a == b) | (a.isna() & b.isna())).all():
        raise AssertionError(f"a RAG rating differs on {k} copies")
