"""The data-quality gate: Great Expectations suites built from :mod:`sendlib.schema` plus hand rules.

Nothing downstream may run on data that fails here. The gate has two layers:

1. :mod:`sendlib.data` loaders refuse files that cannot be parsed at all (missing file or column,
   impossible date, money written as text, wrong encoding, empty table) with a ``DataError``.
2. Great Expectations (GX 1.x) validates the coerced tables against one suite per table,
   declared here (:func:`declare_rules`) and committed as a GX file project in ``expectations/``
   (:func:`build_project`; ``python -m sendlib.quality build``). :func:`validate_tables` runs the
   committed suites in one in-memory GX context and returns a :class:`ValidationReport`.

Rules that need values known only at run time (the extract date, the configured localities,
other tables, the volume band) are computed in pandas into boolean ``chk__*`` columns of the
validated frame (or of the ``volume`` frame: one row per table x quarter) and checked with
``ExpectColumnValuesToBeInSet([True])``, so the committed suites never depend on the data.

Privacy: every frame carries a synthetic ``_row`` column (1-based data row, header excluded) and
GX reports unexpected rows by it; values of identifying columns (``Column.identifying``) are
scrubbed from every result before it is stored or rendered into Data Docs.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd


from sendlib.config import PROJECT_ROOT, Config, read_yaml_mapping
from sendlib.errors import ConfigError, ValidationFailed
from sendlib.schema import TABLES, TableSchema

#: thresholds file read next to the run's config (``<config dir>/quality.yaml``)
QUALITY_FILE = "quality.yaml"
DEFAULT_QUALITY_PATH = PROJECT_ROOT / "config" / QUALITY_FILE
#: the synthetic row-number column GX reports unexpected rows by (1-based data rows)
ROW = "_row"
#: prefix of computed rule columns
CHECK = "chk__"
#: the derived frame for volume and continuity (one row per table x complete quarter)
VOLUME = "volume"
#: the derived frame for column types (one row per table x schema column)
SCHEMA = "schema"
#: derived frames whose rows describe a table (failures are attributed to that table)
SUMMARY_FRAMES = (SCHEMA, VOLUME)
DATASOURCE = "sendlib"
CHECKPOINT = "sendlib_gate"
#: GX result format: counts plus up to 5 example rows identified by ``_row``
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    "unexpected_index_column_names": [ROW],
    "partial_unexpected_count": 5,
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
    # GX then reports unexpected rows by _row only and copies no cell values into results
    "exclude_unexpected_values": True,
}
#: dtype family the loader gives each schema kind, and its test
KIND_TYPES: dict[str, tuple[str, Any]] = {
    "str": ("string", pd.api.types.is_string_dtype),
    "code": ("string", pd.api.types.is_string_dtype),
    "month": ("string", pd.api.types.is_string_dtype),
    "quarter": ("string", pd.api.types.is_string_dtype),
    "fy": ("string", pd.api.types.is_string_dtype),
    "int": ("integer", pd.api.types.is_integer_dtype),
    "float": ("float", pd.api.types.is_float_dtype),
    "date": ("datetime64", pd.api.types.is_datetime64_any_dtype),
    "bool": ("boolean", pd.api.types.is_bool_dtype),
}
#: later >= earlier pairs, per table (the rule's first column is the later date)
DATE_ORDER: dict[str, list[tuple[str, str]]] = {
    "ehcp_requests": [
        ("decision_date", "request_date"),
        ("plan_issued_date", "request_date"),
        ("outcome_date", "request_date"),
    ],
    "ehcp_plans": [("plan_end_date", "plan_start_date")],
    "placements": [("end_date", "start_date")],
    "health_waits": [("first_contact_date", "referral_date")],
    "capacity": [("close_date", "open_date")],
}
#: tables whose ``locality`` column must be one of the config's authority.localities
LOCALITY_TABLES = ("ehcp_requests", "ehcp_plans", "capacity")


# ----- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds from ``config/quality.yaml`` (see that file for sources)."""

    min_ratio_of_trailing_median: float = 0.5
    trailing_quarters: int = 4
    min_history_quarters: int = 4
    extract_date_fallback: pd.Timestamp | None = None
    future_allowed: frozenset[str] = frozenset()
    money_ceilings: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    plan_life_tolerance_days: int = 0
    path: Path | None = None
    check_last_quarters: int = 12
    seasonal_tables: frozenset[str] = frozenset()
    seasonal_years: int = 3
    lag_quarters: Mapping[str, int] = field(default_factory=dict)


def quality_path(config: Config | None) -> Path:
    """The thresholds file for a run: ``quality.yaml`` beside the config, else the repository's."""
    if config is not None:
        beside = config.path.parent / QUALITY_FILE
        if beside.is_file():
            return beside
    return DEFAULT_QUALITY_PATH


def load_settings(path: "str | Path | None" = None) -> QualitySettings:
    """Read and check the quality thresholds; errors name the key (``ConfigError``, exit 2)."""
    p = Path(path) if path else DEFAULT_QUALITY_PATH
    raw = read_yaml_mapping(p, "quality thresholds file", ConfigError)
    unknown = set(raw) - {"volume", "dates", "money_ceilings_gbp", "placements"}
    if unknown:
        raise ConfigError(f"quality file {p}: unknown section(s) {sorted(unknown)}")
    vol = raw.get("volume") or {}
    dates = raw.get("dates") or {}
    try:
        ratio = float(vol.get("min_ratio_of_trailing_median", 0.5))
        trailing = int(vol.get("trailing_quarters", 4))
        history = int(vol.get("min_history_quarters", 4))
        tol = int((raw.get("placements") or {}).get("plan_life_tolerance_days", 0))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"quality file {p}: volume / placements values must be numbers ({exc})") from exc
    if not 0 <= ratio <= 1 or trailing < 1 or history < 1 or tol < 0:
        raise ConfigError(f"quality file {p}: volume.min_ratio_of_trailing_median must be 0-1, "
                          "trailing_quarters and min_history_quarters >= 1, plan_life_tolerance_days >= 0")
    fallback = dates.get("extract_date_fallback")
    try:
        fallback_ts = pd.Timestamp(fallback).normalize() if fallback else None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"quality file {p}: dates.extract_date_fallback is not a date") from exc
    allowed = frozenset(str(x) for x in dates.get("future_allowed") or [])
    ceilings: dict[str, tuple[float | None, float | None]] = {}
    for key, spec in (raw.get("money_ceilings_gbp") or {}).items():
        table, _, column = str(key).partition(".")
        if table not in TABLES or column not in TABLES[table].column_names:
            raise ConfigError(f"quality file {p}: money_ceilings_gbp.{key} is not a table.column")
        if not isinstance(spec, dict) or "max" not in spec:
            raise ConfigError(f"quality file {p}: money_ceilings_gbp.{key} needs max (and optional min)")
        ceilings[key] = (float(spec["min"]) if spec.get("min") is not None else None, float(spec["max"]))
    for key in allowed:
        table, _, column = key.partition(".")
        if table not in TABLES or column not in TABLES[table].column_names:
            raise ConfigError(f"quality file {p}: dates.future_allowed entry '{key}' is not a table.column")
    try:
        last_n = int(vol.get("check_last_quarters", 12))
        seasonal_years = int(vol.get("seasonal_years", 3))
        lags = {str(k): int(v) for k, v in (vol.get("lag_quarters") or {}).items()}
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"quality file {p}: volume.check_last_quarters, seasonal_years and lag_quarters "
                          f"must be whole numbers ({exc})") from exc
    seasonal = frozenset(str(x) for x in vol.get("seasonal_tables") or [])
    for key in set(lags) | seasonal:
        if key not in TABLES or not TABLES[key].event_date:
            raise ConfigError(f"quality file {p}: volume: '{key}' is not a table with an event date")
    return QualitySettings(ratio, trailing, history, fallback_ts, allowed, ceilings, tol, p,
                           last_n, seasonal, seasonal_years, lags)


# ----- rule declarations ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One expectation in a table's suite.

    ``columns`` are the real columns the rule is about (reported in failures); ``expectation`` and
    ``kwargs`` build the GX expectation; ``check`` is the computed boolean column it reads, if any.
    """

    table: str
    rule: str
    columns: tuple[str, ...]
    description: str
    expectation: str
    kwargs: Mapping[str, Any]
    check: str | None = None

    def to_gx(self) -> Any:
        """The GX expectation object (imports Great Expectations)."""
        gx = _gx()
        cls = getattr(gx.expectations, self.expectation)
        meta = {"rule": self.rule, "columns": list(self.columns), "table": self.table}
        return cls(**dict(self.kwargs), meta=meta, description=self.description)


def _check(table: str, name: str) -> str:
    return f"{CHECK}{name}"


def declare_rules(settings: QualitySettings | None = None) -> dict[str, list[Rule]]:
    """Every table's rules (and the ``volume`` frame's), in suite order.

    Schema rules: columns present; type per kind; not-null for non-nullable; code lists;
    min/max. Hand rules: key unique; date order; no date after the extract date; locality
    known; referential integrity; plan holder aged 0-25; money ceilings; request consistency.
    """
    s = settings or load_settings()
    out: dict[str, list[Rule]] = {}
    for name, schema in TABLES.items():
        rules: list[Rule] = []
        add = rules.append
        add(Rule(name, "columns_present", tuple(schema.column_names),
                 f"{name} has every canonical column", "ExpectTableColumnsToMatchSet",
                 {"column_set": list(schema.column_names), "exact_match": False}))
        for col in schema.columns:
            if not col.nullable:
                add(Rule(name, "not_null", (col.name,), f"{col.name} is never empty",
                         "ExpectColumnValuesToNotBeNull", {"column": col.name}))
            if col.codes is not None:
                add(Rule(name, "code_list", (col.name,), f"{col.name} is a known code",
                         "ExpectColumnValuesToBeInSet", {"column": col.name, "value_set": sorted(col.codes)}))
            lo, hi = col.min_value, col.max_value
            ceiling = s.money_ceilings.get(f"{name}.{col.name}")
            if ceiling is not None:
                lo = ceiling[0] if ceiling[0] is not None else lo
                hi = ceiling[1]
            if lo is not None or hi is not None:
                kw: dict[str, Any] = {"column": col.name}
                if lo is not None:
                    kw["min_value"] = lo
                if hi is not None:
                    kw["max_value"] = hi
                add(Rule(name, "range", (col.name,), f"{col.name} between {lo} and {hi}",
                         "ExpectColumnValuesToBeBetween", kw))
        if len(schema.key) == 1:
            add(Rule(name, "key_unique", schema.key, f"{schema.key[0]} is unique",
                     "ExpectColumnValuesToBeUnique", {"column": schema.key[0]}))
        else:
            add(Rule(name, "key_unique", schema.key, f"({', '.join(schema.key)}) is unique",
                     "ExpectCompoundColumnsToBeUnique", {"column_list": list(schema.key)}))
        for later, earlier in DATE_ORDER.get(name, []):
            add(Rule(name, "date_order", (later, earlier), f"{later} on or after {earlier}",
                     "ExpectColumnPairValuesAToBeGreaterThanB",
                     {"column_A": later, "column_B": earlier, "or_equal": True,
                      "ignore_row_if": "either_value_is_missing"}))
        for col in _future_checked_columns(schema, s):
            chk = _check(name, f"not_after_extract__{col}")
            add(Rule(name, "not_after_extract", (col,), f"{col} not after the data's extract date",
                     "ExpectColumnValuesToBeInSet", {"column": chk, "value_set": [True]}, chk))
        if name in LOCALITY_TABLES:
            chk = _check(name, "locality_known")
            add(Rule(name, "locality_known", ("locality",), "locality is one of the config's authority.localities",
                     "ExpectColumnValuesToBeInSet", {"column": chk, "value_set": [True]}, chk))
        for rule, cols, desc in _CROSS_RULES.get(name, []):
            chk = _check(name, rule)
            add(Rule(name, rule, cols, desc, "ExpectColumnValuesToBeInSet",
                     {"column": chk, "value_set": [True]}, chk))
        out[name] = rules
    out[SCHEMA] = [
        Rule(SCHEMA, "type", ("column",), "every column holds the dtype its schema kind gives "
             "(str/code/month/quarter/fy: string; int: integer; float: float; date: datetime64; bool: boolean)",
             "ExpectColumnValuesToBeInSet", {"column": f"{CHECK}type_matches", "value_set": [True]},
             f"{CHECK}type_matches"),
    ]
    out[VOLUME] = [
        Rule(VOLUME, "quarter_present", ("event_date",), "no quarter without rows inside a table's history",
             "ExpectColumnValuesToBeInSet", {"column": f"{CHECK}quarter_present", "value_set": [True]},
             f"{CHECK}quarter_present"),
        Rule(VOLUME, "volume_in_band", ("event_date",),
             f"rows per quarter >= {s.min_ratio_of_trailing_median:g} x the median of the previous "
             f"{s.trailing_quarters} quarters (same quarter of previous years for seasonal tables)",
             "ExpectColumnValuesToBeInSet",
             {"column": f"{CHECK}volume_in_band", "value_set": [True]}, f"{CHECK}volume_in_band"),
    ]
    return out


#: cross-table and consistency rules computed in :func:`derive_frames`: rule, columns, description
_CROSS_RULES: dict[str, list[tuple[str, tuple[str, ...], str]]] = {
    "ehcp_requests": [
        ("plan_issued_has_plan", ("request_id", "outcome"),
         "every request with outcome plan_issued has a plan in ehcp_plans with that request_id"),
        ("plan_issued_date_matches_outcome", ("plan_issued_date", "outcome"),
         "plan_issued_date is set exactly when outcome is plan_issued"),
    ],
    "ehcp_plans": [
        ("request_exists", ("request_id",), "every plan with a request_id has that request in ehcp_requests"),
        ("aged_0_25_at_start", ("birth_month", "plan_start_date"), "plan holder aged 0-25 when the plan starts"),
    ],
    "placements": [
        ("person_has_plan", ("person_id",), "every placement's person has a plan in ehcp_plans"),
        ("inside_plan_life", ("start_date", "end_date"),
         "the placement lies inside one of the person's plan spells (start to end)"),
    ],
}


def _future_checked_columns(schema: TableSchema, s: QualitySettings) -> list[str]:
    if schema.name in ("population",):
        return []
    return [c for c in schema.columns_of_kind("date") if f"{schema.name}.{c}" not in s.future_allowed]


# ----- derived frames ------------------------------------------------------------------------


def with_row_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``_row``: the 1-based data row in the source file (header excluded)."""
    out = df.reset_index(drop=True).copy()
    out[ROW] = np.arange(1, len(out) + 1, dtype="int64")
    return out


def resolve_extract_date(config: Config, settings: QualitySettings) -> tuple[pd.Timestamp, str]:
    """The extract date and where it came from: ``metadata.yaml``, else quality.yaml's fallback,
    else today."""
    from sendlib.data import read_metadata

    meta = read_metadata(config.data_dir)
    if meta.extract_date is not None:
        return meta.extract_date.normalize(), "metadata.yaml"
    if settings.extract_date_fallback is not None:
        return settings.extract_date_fallback, "quality.yaml dates.extract_date_fallback"
    return pd.Timestamp.today().normalize(), "today (no metadata.yaml extract_date)"


def _not_after(s: pd.Series, extract: pd.Timestamp) -> pd.Series:
    return (s.isna() | (s <= extract)).astype(bool)


def derive_frames(
    tables: Mapping[str, pd.DataFrame],
    config: Config,
    extract: pd.Timestamp,
    settings: QualitySettings,
) -> dict[str, pd.DataFrame]:
    """The frames GX validates: each table with ``_row`` and its computed ``chk__*`` columns,
    plus the ``volume`` frame. Cross-table rules pass when the other table was not loaded."""
    rules = declare_rules(settings)
    out: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        f = with_row_numbers(df)
        schema = TABLES[name]
        for col in _future_checked_columns(schema, settings):
            f[_check(name, f"not_after_extract__{col}")] = _not_after(f[col], extract)
        if name in LOCALITY_TABLES:
            known = set(config.localities)
            f[_check(name, "locality_known")] = (f["locality"].isna() | f["locality"].isin(known)).astype(bool) \
                if known else True
        out[name] = f
    _cross_checks(out, settings)
    for name, f in out.items():
        for r in rules[name]:
            if r.check and r.check not in f.columns:  # should not happen: keep suites and frames in step
                f[r.check] = True
    out[SCHEMA] = schema_frame(tables)
    out[VOLUME] = volume_frame(tables, extract, settings)
    return out


def schema_frame(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per table x schema column present: ``kind``, ``expected`` and ``observed`` dtype,
    ``chk__type_matches``. (A missing column is reported by the table's columns_present rule.)"""
    records = []
    for name, df in tables.items():
        for col in TABLES[name].columns:
            if col.name not in df.columns:
                continue
            expected, test = KIND_TYPES[col.kind]
            s = df[col.name]
            ok = bool(test(s.dtype)) or (s.isna().all() and col.nullable)
            records.append({"table": name, "column": col.name, "kind": col.kind, "expected": expected,
                            "observed": str(s.dtype), f"{CHECK}type_matches": ok})
    frame = pd.DataFrame.from_records(
        records, columns=["table", "column", "kind", "expected", "observed", f"{CHECK}type_matches"])
    frame[f"{CHECK}type_matches"] = frame[f"{CHECK}type_matches"].astype(bool)
    return with_row_numbers(frame)


def _cross_checks(frames: dict[str, pd.DataFrame], s: QualitySettings) -> None:
    req, plans, plc = frames.get("ehcp_requests"), frames.get("ehcp_plans"), frames.get("placements")
    if req is not None:
        issued = req["outcome"].eq("plan_issued").fillna(False).astype(bool)
        if plans is not None:
            plan_reqs = set(plans["request_id"].dropna())
            req[_check("ehcp_requests", "plan_issued_has_plan")] = (~issued | req["request_id"].isin(plan_reqs)).astype(bool)
        else:
            req[_check("ehcp_requests", "plan_issued_has_plan")] = True
        has_date = req["plan_issued_date"].notna()
        req[_check("ehcp_requests", "plan_issued_date_matches_outcome")] = (issued == has_date).astype(bool)
    if plans is not None:
        if req is not None:
            known = set(req["request_id"].dropna())
            ok = plans["request_id"].isna() | plans["request_id"].isin(known)
        else:
            ok = pd.Series(True, index=plans.index)
        plans[_check("ehcp_plans", "request_exists")] = ok.astype(bool)
        birth = pd.to_datetime(plans["birth_month"].astype("string") + "-01", format="%Y-%m-%d", errors="coerce")
        start = plans["plan_start_date"]
        age = (start.dt.year - birth.dt.year) - ((start.dt.month < birth.dt.month)).astype(int)
        plans[_check("ehcp_plans", "aged_0_25_at_start")] = (birth.isna() | start.isna() | age.between(0, 25)).astype(bool)
    if plc is not None:
        if plans is not None:
            plc[_check("placements", "person_has_plan")] = plc["person_id"].isin(set(plans["person_id"].dropna())).astype(bool)
            plc[_check("placements", "inside_plan_life")] = _inside_plan_life(plc, plans, s.plan_life_tolerance_days)
        else:
            plc[_check("placements", "person_has_plan")] = True
            plc[_check("placements", "inside_plan_life")] = True


def _inside_plan_life(plc: pd.DataFrame, plans: pd.DataFrame, tolerance_days: int) -> pd.Series:
    """True where the placement [start, end] lies within one of its person's plan spells
    (an open plan has no end; an open placement needs an open plan). Placements of people
    with no plan are left to ``person_has_plan``."""
    tol = pd.Timedelta(days=tolerance_days)
    far = pd.Timestamp("2200-01-01")
    left = plc[[ROW, "person_id", "start_date", "end_date"]].copy()
    right = plans[["person_id", "plan_start_date", "plan_end_date"]].dropna(subset=["person_id"])
    m = left.merge(right, on="person_id", how="inner")
    p_end = m["end_date"].fillna(far)
    plan_end = m["plan_end_date"].fillna(far)
    inside = (m["start_date"] >= m["plan_start_date"] - tol) & (p_end <= plan_end + tol)
    ok_rows = set(m.loc[inside.to_numpy(), ROW])
    has_plan = plc["person_id"].isin(set(right["person_id"]))
    return (~has_plan | plc[ROW].isin(ok_rows)).astype(bool)


def volume_frame(tables: Mapping[str, pd.DataFrame], extract: pd.Timestamp, s: QualitySettings) -> pd.DataFrame:
    """Rows per complete quarter for every table with a schema ``event_date``.

    One row per table x quarter from the table's first quarter to the latest quarter complete at
    ``extract`` (less the table's ``lag_quarters``): ``rows``; ``reference`` = the median of the
    previous ``trailing_quarters`` quarters (for ``seasonal_tables``: of the same quarter in up to
    ``seasonal_years`` previous years), set once ``min_history_quarters`` earlier quarters exist
    and only for the latest ``check_last_quarters``; ``chk__quarter_present`` (rows > 0) and
    ``chk__volume_in_band`` (rows >= ``min_ratio_of_trailing_median`` x reference).
    """
    from sendlib.quarters import Quarter, quarter_range

    records = []
    for name, df in tables.items():
        ev = TABLES[name].event_date
        if not ev or ev not in df.columns:
            continue
        last = Quarter.latest_complete(extract) - s.lag_quarters.get(name, 0)
        dates = df[ev].dropna()
        dates = dates[dates <= last.end]
        if dates.empty:
            continue
        quarters = list(quarter_range(Quarter.containing(dates.min()), last))
        fy = np.where(dates.dt.month >= 4, dates.dt.year, dates.dt.year - 1)
        qn = ((dates.dt.month - 4) % 12) // 3 + 1
        counts = pd.Series(1, index=dates.index).groupby([fy, qn.to_numpy()]).sum()
        counts_d = {(int(a), int(b)): int(v) for (a, b), v in counts.items()}
        seasonal = name in s.seasonal_tables
        history: list[int] = []
        for i, q in enumerate(quarters):
            n = counts_d.get((q.fy_start, q.q), 0)
            checked = i >= len(quarters) - s.check_last_quarters and len(history) >= s.min_history_quarters
            if seasonal:
                same = history[-4::-4][: s.seasonal_years]
                ref = float(np.median(same)) if checked and same else np.nan
            else:
                ref = float(np.median(history[-s.trailing_quarters:])) if checked else np.nan
            in_band = bool(np.isnan(ref) or n >= s.min_ratio_of_trailing_median * ref)
            records.append({"table": name, "quarter": str(q), "rows": n, "reference": ref,
                            f"{CHECK}quarter_present": n > 0, f"{CHECK}volume_in_band": in_band})
            history.append(n)
    cols = ["table", "quarter", "rows", "reference", f"{CHECK}quarter_present", f"{CHECK}volume_in_band"]
    frame = pd.DataFrame.from_records(records, columns=cols)
    frame[f"{CHECK}quarter_present"] = frame[f"{CHECK}quarter_present"].astype(bool)
    frame[f"{CHECK}volume_in_band"] = frame[f"{CHECK}volume_in_band"].astype(bool)
    return with_row_numbers(frame)


# ----- GX plumbing -----------------------------------------------------------------------------


def _gx() -> Any:
    """Import Great Expectations quietly (no analytics) and faster.

    Before the first import, :func:`sendlib.skip_slow_optional_imports` keeps jsonschema's
    optional IRI-format helper out (~2 s of CPU that neither GX nor sendlib needs).
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if "great_expectations" not in sys.modules:
        from sendlib import skip_slow_optional_imports

        skip_slow_optional_imports()
    import great_expectations as gx

    return gx


def suite_name(table: str) -> str:
    return f"{table}_suite"


def build_suites(settings: QualitySettings | None = None) -> dict[str, Any]:
    """GX ``ExpectationSuite`` per validated frame, from :func:`declare_rules`."""
    gx = _gx()
    suites = {}
    for table, rules in declare_rules(settings).items():
        desc = TABLES[table].description if table in TABLES else {
            VOLUME: "Rows per quarter per table: volume and continuity.",
            SCHEMA: "Column dtypes per table against the schema kinds.",
        }[table]
        suites[table] = gx.ExpectationSuite(name=suite_name(table), expectations=[r.to_gx() for r in rules],
                                            meta={"table": table, "notes": desc})
    return suites


def _project_config(docs_dir: Path | None, in_memory: bool) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        sites["local_site"] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            # validation pages only: each lists its suite's expectations, so suite pages would
            # repeat them (and double the build time)
            "site_section_builders": {"expectations": "0", "profiling": "0"},
        }
    kwargs: dict[str, Any] = {
        "analytics_enabled": False,
        "progress_bars": ProgressBarsConfig(globally=False, metric_calculations=False),
        "data_docs_sites": sites,
    }
    if in_memory:
        kwargs["store_backend_defaults"] = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    return DataContextConfig(**kwargs)


def _register(context: Any, suites: Mapping[str, Any]) -> dict[str, Any]:
    """Datasource, one dataframe asset + whole-frame batch definition, suite and validation
    definition per frame, and one checkpoint per frame (each runs with its own dataframe)."""
    gx = _gx()
    ds = context.data_sources.add_or_update_pandas(name=DATASOURCE)
    vds = {}
    for table, suite in suites.items():
        asset = ds.add_dataframe_asset(name=table)
        bd = asset.add_batch_definition_whole_dataframe(name=f"{table}_whole")
        suite = context.suites.add(suite)
        vd = context.validation_definitions.add(gx.ValidationDefinition(name=f"{table}_validation", data=bd, suite=suite))
        vds[table] = vd
    checkpoints = {}
    for table, vd in vds.items():
        checkpoints[table] = context.checkpoints.add(
            gx.Checkpoint(name=f"{CHECKPOINT}__{table}", validation_definitions=[vd], actions=[],
                          result_format=RESULT_FORMAT))
    return checkpoints


# ----- committed project ----------------------------------------------------------------------


def build_project(expectations_dir: "str | Path | None" = None, settings: QualitySettings | None = None) -> Path:
    """(Re)generate the committed GX file project in ``expectations_dir`` (default ``expectations/``).

    Writes ``great_expectations.yml``, one suite per table in ``expectations/``, one validation
    definition and one checkpoint per table. Ids are made deterministic (uuid5 of where each first
    appears) so regenerating unchanged declarations gives identical files.
    """
    gx = _gx()
    target = Path(expectations_dir) if expectations_dir else PROJECT_ROOT / "expectations"
    suites = build_suites(settings)
    with tempfile.TemporaryDirectory() as tmp:
        context = gx.get_context(mode="file", project_root_dir=tmp)
        root = Path(tmp) / "gx"
        context.variables.progress_bars = _project_config(None, in_memory=False).progress_bars
        context.variables.analytics_enabled = False
        context.variables.save()
        _register(context, suites)
        for sub in ("expectations", "validation_definitions", "checkpoints"):
            if (target / sub).exists():
                shutil.rmtree(target / sub)
        target.mkdir(parents=True, exist_ok=True)
        files = sorted(p for p in root.rglob("*") if p.is_file() and "uncommitted" not in p.parts)
        texts = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in files}
        for rel, text in _deterministic_ids(texts).items():
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
    gi = target / ".gitignore"
    if not gi.exists():
        gi.write_text("uncommitted/\n")
    return target


def _config_dict(cfg: Any) -> dict:
    d = cfg.to_json_dict()
    keep = ["config_version", "analytics_enabled", "progress_bars", "stores", "expectations_store_name",
            "validation_results_store_name", "checkpoint_store_name", "data_docs_sites", "fluent_datasources",
            "plugins_directory", "config_variables_file_path"]
    out = {k: d[k] for k in keep if k in d and d[k] is not None}
    out.pop("plugins_directory", None)
    return out


def _deterministic_ids(texts: Mapping[str, str]) -> dict[str, str]:
    import re

    pattern = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    mapping: dict[str, str] = {}
    ns = uuid.UUID("6f1d8a52-3c1e-4a53-9a55-5e4d0c2b7a10")
    for rel in sorted(texts):
        for i, m in enumerate(pattern.finditer(texts[rel])):
            if m.group(0) not in mapping:
                mapping[m.group(0)] = str(uuid.uuid5(ns, f"{rel}#{len(mapping)}"))
    out = {}
    for rel, text in texts.items():
        new = pattern.sub(lambda m: mapping[m.group(0)], text)
        out[_rename_with_ids(rel, mapping)] = new
    return out


def _rename_with_ids(rel: str, mapping: Mapping[str, str]) -> str:
    for old, new in mapping.items():
        if old in rel:
            rel = rel.replace(old, new)
    return rel


def committed_suites(expectations_dir: "str | Path") -> dict[str, dict]:
    """The committed suite JSON per table (``<dir>/expectations/<table>_suite.json``)."""
    folder = Path(expectations_dir) / "expectations"
    if not folder.is_dir():
        raise ConfigError(f"no Great Expectations suites in {folder}: run `python -m sendlib.quality build`")
    out = {}
    for p in sorted(folder.glob("*.json")):
        data = json.loads(p.read_text(encoding="utf-8"))
        table = (data.get("meta") or {}).get("table") or p.stem.removesuffix("_suite")
        out[table] = data
    return out


def normalise_suite(data: Mapping[str, Any]) -> dict:
    """A suite's JSON without ids and version stamps (for comparing with a regeneration)."""
    d = copy.deepcopy(dict(data))
    d.pop("id", None)
    d.get("meta", {}).pop("great_expectations_version", None)
    for e in d.get("expectations", []):
        e.pop("id", None)
    return d


@lru_cache(maxsize=4)
def _load_suite_json(expectations_dir: str, mtimes: tuple) -> dict[str, dict]:
    return committed_suites(expectations_dir)


def _suites_from_committed(expectations_dir: Path, tables: Iterable[str]) -> dict[str, Any]:
    gx = _gx()
    folder = expectations_dir / "expectations"
    mtimes = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.json"))) if folder.is_dir() else ()
    data = _load_suite_json(str(expectations_dir), mtimes)
    suites = {}
    for table in tables:
        if table not in data:
            raise ConfigError(f"no committed suite for table '{table}' in {folder}: run `python -m sendlib.quality build`")
        d = normalise_suite(data[table])
        n = len(d.get("expectations", []))
        suite = gx.ExpectationSuite(**d)
        if len(suite.expectations) != n:
            raise ConfigError(f"committed suite {folder / (suite_name(table) + '.json')} has an invalid expectation")
        suites[table] = suite
    return suites


# ----- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One failed rule: never carries values of identifying columns."""

    table: str
    column: str
    rule: str
    description: str
    n_rows: int | None
    example_rows: tuple[int, ...] = ()
    detail: str = ""

    @property
    def message(self) -> str:
        text = f"table '{self.table}', column '{self.column}': {self.rule} ({self.description})"
        if self.n_rows is not None:
            text += f": {self.n_rows} row{'s' if self.n_rows != 1 else ''}"
            if self.example_rows:
                text += ", e.g. row " + ", ".join(str(r) for r in self.example_rows)
        if self.detail:
            text += f"; {self.detail}"
        return text


@dataclass
class TableResult:
    table: str
    rows: int
    rules: int
    passed: int
    failed: int
    latest_date: pd.Timestamp | None = None


@dataclass
class ValidationReport:
    """What the gate found: per-table counts, the failures, the extract date, and where the
    Data Docs were written (``None`` when not built)."""

    tables: list[TableResult]
    failures: list[Failure]
    extract_date: pd.Timestamp
    extract_date_source: str
    docs_index: Path | None = None
    results: dict[str, dict] = field(default_factory=dict, repr=False)
    #: seconds spent per step (context, each frame, data docs)
    timings: dict[str, float] = field(default_factory=dict, repr=False)
    #: the cache key when this result was reused from an earlier identical validation
    reused_key: str | None = None

    @property
    def success(self) -> bool:
        return not self.failures

    def to_frame(self) -> pd.DataFrame:
        """One row per table: rows, rules, passed, failed, latest event date."""
        return pd.DataFrame(
            [{"table": t.table, "rows": t.rows, "rules": t.rules, "passed": t.passed, "failed": t.failed,
              "latest_date": t.latest_date} for t in self.tables],
            columns=["table", "rows", "rules", "passed", "failed", "latest_date"],
        )

    def failures_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"table": f.table, "column": f.column, "rule": f.rule, "description": f.description,
              "n_rows": f.n_rows, "example_rows": ", ".join(map(str, f.example_rows)), "detail": f.detail}
             for f in self.failures],
            columns=["table", "column", "rule", "description", "n_rows", "example_rows", "detail"],
        )

    def summary(self) -> str:
        """A short plain-text summary: totals, then one line per failure."""
        n_rules = sum(t.rules for t in self.tables)
        n_failed = sum(t.failed for t in self.tables)
        head = (f"{len(self.tables)} tables, {n_rules} rules, {n_failed} failed "
                f"(extract date {self.extract_date:%Y-%m-%d} from {self.extract_date_source})")
        return "\n".join([head] + [f"  - {f.message}" for f in self.failures])

    def headline(self) -> str:
        """One sentence for a notebook or log: passed, or how many rules failed in which tables."""
        n_rules = sum(t.rules for t in self.tables)
        rows = sum(t.rows for t in self.tables)
        if self.success:
            return (f"All {n_rules} data-quality rules passed on {len(self.tables)} tables ({rows:,} rows); "
                    f"extract date {self.extract_date:%d %B %Y}.")
        bad = sorted({f.table for f in self.failures})
        return (f"{len(self.failures)} of {n_rules} data-quality rules failed, in {', '.join(bad)}; "
                f"extract date {self.extract_date:%d %B %Y}. Figures built on these tables are not reliable.")

    def raise_for_failures(self) -> None:
        """Raise :class:`~sendlib.errors.ValidationFailed` (exit 3) when any rule failed."""
        if not self.success:
            raise ValidationFailed("the data-quality gate failed:\n" + self.summary())

    def to_dict(self) -> dict:
        """JSON-ready summary (for a run manifest)."""
        return {
            "success": self.success,
            "extract_date": f"{self.extract_date:%Y-%m-%d}",
            "extract_date_source": self.extract_date_source,
            "tables": json.loads(self.to_frame().to_json(orient="records", date_format="iso")),
            "failures": [f.__dict__ | {"example_rows": list(f.example_rows), "message": f.message} for f in self.failures],
            "data_docs": str(self.docs_index) if self.docs_index else None,
            "reused_from_cache": self.reused_key is not None,
            "cache_key": self.reused_key,
        }


def _identifying(table: str) -> set[str]:
    return set(TABLES[table].identifying_columns) if table in TABLES else set()


_VALUE_KEYS = ("partial_unexpected_list", "partial_unexpected_counts", "unexpected_list",
               "unexpected_rows", "partial_unexpected_index_list", "unexpected_index_list",
               "unexpected_index_query", "details", "observed_value")


def scrub_result(result: dict, table: str) -> dict:
    """Remove values of identifying columns from one expectation result (in place, returned).

    Unexpected-row indices keep only ``_row``; value lists are dropped when the rule touches an
    identifying column (its ``column``, ``column_list``, ``column_A``/``column_B``)."""
    cfg = result.get("expectation_config") or {}
    kw = cfg.get("kwargs") or {}
    cols = {kw.get("column"), kw.get("column_A"), kw.get("column_B"), *(kw.get("column_list") or [])}
    meta_cols = set(((cfg.get("meta") or {}).get("columns")) or [])
    sensitive = bool((cols | meta_cols) & _identifying(table))
    res = result.get("result") or {}
    for key in ("partial_unexpected_index_list", "unexpected_index_list"):
        if isinstance(res.get(key), list):
            res[key] = [{ROW: r.get(ROW)} if isinstance(r, dict) else r for r in res[key]]
    res.pop("unexpected_index_query", None)
    res.pop("unexpected_rows", None)
    if sensitive:
        for key in ("partial_unexpected_list", "partial_unexpected_counts", "unexpected_list", "details"):
            if key in res:
                res[key] = []
        if "observed_value" in res and not isinstance(res["observed_value"], (int, float, bool)) and res["observed_value"] is not None:
            res["observed_value"] = None
    result["result"] = res
    return result


def _rows_of(index_list: Any) -> list[int]:
    """Row numbers from a GX unexpected-index list: ``[{"_row": 3}, ...]`` or, with
    ``exclude_unexpected_values``, ``[{"_row": [3, 7, ...]}]``."""
    rows: list[int] = []
    for x in index_list or []:
        if isinstance(x, dict) and ROW in x:
            v = x[ROW]
            rows.extend(int(r) for r in (v if isinstance(v, (list, tuple)) else [v]))
    return rows


def _failure_from(table: str, r: dict, frame: pd.DataFrame | None) -> list[Failure]:
    cfg = r.get("expectation_config") or {}
    meta = cfg.get("meta") or {}
    rule = str(meta.get("rule") or cfg.get("type"))
    cols = list(meta.get("columns") or [cfg.get("kwargs", {}).get("column", "")])
    desc = str(cfg.get("description") or cfg.get("type"))
    res = r.get("result") or {}
    exc = (r.get("exception_info") or {})
    detail = ""
    if exc.get("raised_exception"):
        detail = f"the rule could not run: {str(exc.get('exception_message'))[:200]}"
    rows = _rows_of(res.get("partial_unexpected_index_list"))
    n = res.get("unexpected_count")
    if rule == "columns_present":
        missing = (res.get("details") or {}).get("mismatched", {}).get("missing") or []
        detail = detail or (f"missing {missing}" if missing else "")
    if (rule in ("code_list", "range") and frame is not None and rows and len(cols) == 1
            and cols[0] in frame.columns and not (set(cols) & _identifying(table))):
        # GX copies no values (exclude_unexpected_values); show a few from the example rows of
        # this non-identifying column
        vals = frame.loc[frame[ROW].isin(rows), cols[0]].dropna().unique().tolist()
        if vals:
            detail = detail or "found " + ", ".join(sorted({repr(v) for v in vals})[:5])
    if table == SCHEMA and frame is not None:
        sub = frame[frame[ROW].isin(_rows_of(res.get("partial_unexpected_index_list")))]
        out = [Failure(str(t), str(c), rule, desc, None, (), f"expected {e}, found {o}")
               for t, c, e, o in zip(sub["table"], sub["column"], sub["expected"], sub["observed"])]
        return out or [Failure(SCHEMA, "", rule, desc, n, (), detail)]
    if table == VOLUME and frame is not None:
        # attribute each volume row to its own table and quarter (no person data in this frame)
        idx = _rows_of(res.get("unexpected_index_list") or res.get("partial_unexpected_index_list"))
        sub = frame[frame[ROW].isin(idx)]
        out = []
        for tname, g in sub.groupby("table", sort=False):
            qs = ", ".join(f"{q} ({n_} rows vs reference median {m:g})" if pd.notna(m) else f"{q} ({n_} rows)"
                           for q, n_, m in zip(g["quarter"], g["rows"], g["reference"]))
            out.append(Failure(str(tname), TABLES[str(tname)].event_date or "", rule, desc, len(g), (), f"quarters {qs}"))
        return out or [Failure(VOLUME, cols[0] if cols else "", rule, desc, n, tuple(rows[:5]), detail)]
    return [Failure(table, ", ".join(str(c) for c in cols), rule, desc, n, tuple(rows[:5]), detail)]


# ----- running --------------------------------------------------------------------------------


def load_all(config: Config, tables: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Load the tables to validate (raises ``DataError`` on the first that cannot be read)."""
    from sendlib.data import load_tables

    return load_tables(config, tables)


def validate_tables(
    config: Config,
    tables: "Iterable[str] | Mapping[str, pd.DataFrame] | None" = None,
    *,
    docs_dir: "str | Path | None" = None,
    settings: QualitySettings | None = None,
    suites: str = "committed",
) -> ValidationReport:
    """Validate the canonical tables with Great Expectations.

    Parameters
    ----------
    config : Config
        The run's config (data folder, localities, expectations_dir).
    tables : names or {name: frame}, optional
        Which tables (default all); frames already loaded are used as they are.
    docs_dir : path, optional
        Build the Data Docs site here (scrubbed of identifying values); default: none built.
    settings : QualitySettings, optional
        Thresholds (default: ``quality.yaml`` beside the config, else the repository's).
    suites : "committed" or "declared"
        Run the committed suites in ``config.expectations_dir`` (default) or build them from the
        declarations in memory.

    Raises
    ------
    DataError
        When a table cannot be read at all (exit 3); nothing is written then.
    """
    s = settings or load_settings(quality_path(config))
    if isinstance(tables, Mapping):
        frames = dict(tables)
    else:
        frames = load_all(config, tables)
    extract, source = resolve_extract_date(config, s)
    derived = derive_frames(frames, config, extract, s)
    names = list(derived)
    if suites == "committed":
        gx_suites = _suites_from_committed(Path(config.expectations_dir), names)
    else:
        built = build_suites(s)
        gx_suites = {n: built[n] for n in names}

    import time

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    gx = _gx()
    timings["import"] = time.perf_counter() - t0
    docs_path = Path(docs_dir).resolve() if docs_dir else None
    t0 = time.perf_counter()
    context = gx.get_context(mode="ephemeral", project_config=_project_config(docs_path, in_memory=True))
    checkpoints = _register(context, gx_suites)
    results: dict[str, dict] = {}
    timings["context"] = time.perf_counter() - t0
    for name, cp in checkpoints.items():
        t0 = time.perf_counter()
        cp_result = cp.run(batch_parameters={"dataframe": derived[name]})
        for vr in cp_result.run_results.values():
            # GX stored this result (exclude_unexpected_values: no cell values); the copy kept
            # here is scrubbed again as a second line of defence
            d = vr.to_json_dict()
            d["results"] = [scrub_result(r, name) for r in d.get("results", [])]
            results[name] = d
        timings[name] = time.perf_counter() - t0
    failures: list[Failure] = []
    table_results: list[TableResult] = []
    summary_fail: dict[str, int] = {}
    for name in names:
        d = results[name]
        bad = [r for r in d["results"] if not r.get("success")]
        for r in bad:
            fs = _failure_from(name, r, derived[name])
            failures.extend(fs)
            if name in SUMMARY_FRAMES:
                for t in {f.table for f in fs}:
                    summary_fail[t] = summary_fail.get(t, 0) + 1
    vol_rules = len(results[VOLUME]["results"]) if VOLUME in results else 0
    schema_rules = len(results[SCHEMA]["results"]) if SCHEMA in results else 0
    for name in names:
        if name in SUMMARY_FRAMES:
            continue
        d = results[name]
        n_failed = sum(1 for r in d["results"] if not r.get("success")) + summary_fail.get(name, 0)
        n_rules = len(d["results"]) + schema_rules + (vol_rules if TABLES[name].event_date else 0)
        table_results.append(TableResult(name, len(frames[name]), n_rules, n_rules - n_failed, n_failed,
                                         _latest_date(frames[name], name, s)))
    index = None
    if docs_path is not None:
        t0 = time.perf_counter()
        docs_path.mkdir(parents=True, exist_ok=True)
        context.build_data_docs()
        index = docs_path / "index.html"
        timings["data_docs"] = time.perf_counter() - t0
    return ValidationReport(table_results, failures, extract, source, index, results, timings)


def _latest_date(df: pd.DataFrame, name: str, settings: QualitySettings) -> pd.Timestamp | None:
    """Freshness: the latest value of the table's event date, else of its date columns that may
    not lie in the future (planned dates such as capacity open dates say nothing of freshness)."""
    ev = TABLES[name].event_date
    cols = [ev] if ev else [c for c in TABLES[name].columns_of_kind("date") if f"{name}.{c}" not in settings.future_allowed]
    vals = [df[c].max() for c in cols if c in df.columns]
    vals = [v for v in vals if pd.notna(v)]
    return max(vals) if vals else None


def assert_valid(config: Config, tables: "Iterable[str] | Mapping[str, pd.DataFrame] | None" = None, **kw: Any) -> ValidationReport:
    """Validate and raise :class:`~sendlib.errors.ValidationFailed` (exit 3) with the summary
    when anything failed; returns the report when everything passed."""
    report = validate_tables(config, tables, **kw)
    report.raise_for_failures()
    return report


# ----- reusing a validation of identical inputs ----------------------------------------------

#: sendlib source files whose code decides a validation result (rules, coercion, schema)
_RULE_SOURCES = ("quality.py", "schema.py", "data.py", "config.py")


def validation_key(config: Config, tables: Mapping[str, pd.DataFrame], settings: QualitySettings | None = None) -> str:
    """What decides a validation result, as one key: the tables' content, the extract date, the
    thresholds file, the committed suites, the config file, the rule code and package versions."""
    import hashlib
    from importlib import metadata

    from sendlib import runcache

    s = settings or load_settings(quality_path(config))
    extract, _ = resolve_extract_date(config, s)
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(label.encode() + b"\0" + hashlib.sha256(data).digest())

    add("tables", runcache.tables_fingerprint(tables).encode())
    add("extract", str(extract.date()).encode())
    add("quality", quality_path(config).read_bytes())
    add("config", Path(config.path).read_bytes())
    exp = Path(config.expectations_dir)
    for f in sorted(p for p in exp.rglob("*") if p.is_file() and "uncommitted" not in p.parts):
        add(f"expectations/{f.relative_to(exp).as_posix()}", f.read_bytes())
    add("code", runcache.code_fingerprint(*_RULE_SOURCES).encode())  # with the pandas and numpy versions
    try:
        add("great-expectations", metadata.version("great-expectations").encode())
    except metadata.PackageNotFoundError:
        add("great-expectations", b"-")
    return h.hexdigest()[:32]


def assert_valid_reusing(config: Config, tables: Mapping[str, pd.DataFrame], cache_dir: "str | Path",
                         reuse: bool = True) -> ValidationReport:
    """:func:`assert_valid`, reusing the stored result of an earlier validation with the same
    :func:`validation_key` (same table contents, rules, code and versions), so a re-run of an
    unchanged pack skips Great Expectations. Only passing results are stored (a failure raises
    before anything is stored); ``reuse=False`` validates and stores. The returned report says
    when it was reused (``reused_key``)."""
    from sendlib import runcache

    report, reused = runcache.reused(cache_dir, "validation", {"key": validation_key(config, tables)},
                                     lambda: assert_valid(config, tables), take=reuse)
    if reused is not None:
        if not report.success:  # never stored, but a gate must not trust a file blindly
            return assert_valid(config, tables)
        report.reused_key = reused
    return report


def freshness(report: ValidationReport, quarter_end: pd.Timestamp) -> pd.DataFrame:
    """Latest date per table against the quarter end: ``days_after_quarter_end`` (negative =
    the data stops before the quarter ends)."""
    f = report.to_frame()[["table", "rows", "latest_date"]].copy()
    end = pd.Timestamp(quarter_end)
    f["latest_date"] = pd.to_datetime(f["latest_date"])
    f["days_after_quarter_end"] = (f["latest_date"] - end).dt.days.astype("Int64")
    f["covers_quarter"] = (f["latest_date"] >= end).where(f["latest_date"].notna())
    f["latest_date"] = f["latest_date"].dt.strftime("%Y-%m-%d")
    f.insert(3, "quarter_end", f"{end:%Y-%m-%d}")
    return f


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sendlib.quality build [DIR]``: regenerate the committed GX project."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "build":
        print("usage: python -m sendlib.quality build [EXPECTATIONS_DIR]", file=sys.stderr)
        return 2
    target = build_project(args[1] if len(args) > 1 else None)
    print(f"wrote Great Expectations project to {target}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
