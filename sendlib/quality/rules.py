"""The gate's rules: declared per table from the schema plus hand rules, and the pandas
``chk__*`` columns and derived frames (schema, volume) that rules needing run-time values check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sendlib.core.config import Config
from sendlib.core.gx import import_gx
from sendlib.core.schema import TABLES, TRANSFER_DEADLINE, TableSchema
from sendlib.quality.settings import (
    CHECK,
    DATE_ORDER,
    KIND_TYPES,
    LOCALITY_TABLES,
    ROW,
    SCHEMA,
    VOLUME,
    QualitySettings,
    load_settings,
)


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
        gx = import_gx()
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
        add(
            Rule(
                name,
                "columns_present",
                tuple(schema.column_names),
                f"{name} has every canonical column",
                "ExpectTableColumnsToMatchSet",
                {"column_set": list(schema.column_names), "exact_match": False},
            )
        )
        for col in schema.columns:
            if not col.nullable:
                add(
                    Rule(
                        name,
                        "not_null",
                        (col.name,),
                        f"{col.name} is never empty",
                        "ExpectColumnValuesToNotBeNull",
                        {"column": col.name},
                    )
                )
            elif col.not_in_sen2:
                chk = _check(name, f"known__{col.name}")
                add(
                    Rule(
                        name,
                        "not_null",
                        (col.name,),
                        f"{col.name} is never empty, unless the data declare it not known "
                        "(a SEN2 return does not hold it: metadata.yaml not_known, or a sen2_xml source)",
                        "ExpectColumnValuesToBeInSet",
                        {"column": chk, "value_set": [True]},
                        chk,
                    )
                )
            if col.codes is not None:
                add(
                    Rule(
                        name,
                        "code_list",
                        (col.name,),
                        f"{col.name} is a known code",
                        "ExpectColumnValuesToBeInSet",
                        {"column": col.name, "value_set": sorted(col.codes)},
                    )
                )
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
                add(
                    Rule(
                        name,
                        "range",
                        (col.name,),
                        f"{col.name} between {lo} and {hi}",
                        "ExpectColumnValuesToBeBetween",
                        kw,
                    )
                )
        if len(schema.key) == 1:
            add(
                Rule(
                    name,
                    "key_unique",
                    schema.key,
                    f"{schema.key[0]} is unique",
                    "ExpectColumnValuesToBeUnique",
                    {"column": schema.key[0]},
                )
            )
        else:
            add(
                Rule(
                    name,
                    "key_unique",
                    schema.key,
                    f"({', '.join(schema.key)}) is unique",
                    "ExpectCompoundColumnsToBeUnique",
                    {"column_list": list(schema.key)},
                )
            )
        for later, earlier in DATE_ORDER.get(name, []):
            add(
                Rule(
                    name,
                    "date_order",
                    (later, earlier),
                    f"{later} on or after {earlier}",
                    "ExpectColumnPairValuesAToBeGreaterThanB",
                    {
                        "column_A": later,
                        "column_B": earlier,
                        "or_equal": True,
                        "ignore_row_if": "either_value_is_missing",
                    },
                )
            )
        for col in _future_checked_columns(schema, s):
            chk = _check(name, f"not_after_extract__{col}")
            add(
                Rule(
                    name,
                    "not_after_extract",
                    (col,),
                    f"{col} not after the data's extract date",
                    "ExpectColumnValuesToBeInSet",
                    {"column": chk, "value_set": [True]},
                    chk,
                )
            )
        if name in LOCALITY_TABLES:
            chk = _check(name, "locality_known")
            add(
                Rule(
                    name,
                    "locality_known",
                    ("locality",),
                    "locality is one of the config's authority.localities",
                    "ExpectColumnValuesToBeInSet",
                    {"column": chk, "value_set": [True]},
                    chk,
                )
            )
        for rule, cols, desc in _CROSS_RULES.get(name, []):
            chk = _check(name, rule)
            add(Rule(name, rule, cols, desc, "ExpectColumnValuesToBeInSet", {"column": chk, "value_set": [True]}, chk))
        out[name] = rules
    out[SCHEMA] = [
        Rule(
            SCHEMA,
            "type",
            ("column",),
            "every column holds the dtype its schema kind gives "
            "(str/code/month/quarter/fy: string; int: integer; float: float; date: datetime64; bool: boolean)",
            "ExpectColumnValuesToBeInSet",
            {"column": f"{CHECK}type_matches", "value_set": [True]},
            f"{CHECK}type_matches",
        ),
    ]
    out[VOLUME] = [
        Rule(
            VOLUME,
            "quarter_present",
            ("event_date",),
            "no quarter without rows inside a table's history",
            "ExpectColumnValuesToBeInSet",
            {"column": f"{CHECK}quarter_present", "value_set": [True]},
            f"{CHECK}quarter_present",
        ),
        Rule(
            VOLUME,
            "volume_in_band",
            ("event_date",),
            f"rows per quarter >= {s.volume.min_ratio_of_trailing_median:g} x the median of the previous "
            f"{s.volume.trailing_quarters} quarters (same quarter of previous years for seasonal tables)",
            "ExpectColumnValuesToBeInSet",
            {"column": f"{CHECK}volume_in_band", "value_set": [True]},
            f"{CHECK}volume_in_band",
        ),
    ]
    return out


#: cross-table and consistency rules computed in :func:`derive_frames`: rule, columns, description
_CROSS_RULES: dict[str, list[tuple[str, tuple[str, ...], str]]] = {
    "ehcp_requests": [
        (
            "plan_issued_has_plan",
            ("request_id", "outcome"),
            "every request with outcome plan_issued has a plan in ehcp_plans with that request_id",
        ),
        (
            "plan_issued_date_matches_outcome",
            ("plan_issued_date", "outcome"),
            "plan_issued_date is set exactly when outcome is plan_issued",
        ),
    ],
    "ehcp_plans": [
        ("request_exists", ("request_id",), "every plan with a request_id has that request in ehcp_requests"),
        ("aged_0_25_at_start", ("birth_month", "plan_start_date"), "plan holder aged 0-25 when the plan starts"),
    ],
    "tribunal_appeals": [
        (
            "person_known",
            ("person_id",),
            "every appeal's person has a request in ehcp_requests or a plan in ehcp_plans",
        ),
        (
            "outcome_date_matches_outcome",
            ("outcome", "outcome_date"),
            "outcome_date is set exactly when outcome is (both empty while the appeal is pending)",
        ),
    ],
    "phase_transfers": [
        ("person_has_plan", ("person_id",), "every phase transfer's person has a plan in ehcp_plans"),
        (
            "due_date_statutory",
            ("due_date", "transfer_point", "transfer_date"),
            "due_date is the reg. 18 deadline in the calendar year of the transfer "
            "(31 March for into_post16, else 15 February: schema TRANSFER_DEADLINE)",
        ),
    ],
    "placements": [
        ("person_has_plan", ("person_id",), "every placement's person has a plan in ehcp_plans"),
        (
            "inside_plan_life",
            ("start_date", "end_date"),
            "the placement lies inside one of the person's plan spells (start to end)",
        ),
    ],
}


def _future_checked_columns(schema: TableSchema, s: QualitySettings) -> list[str]:
    if schema.name in ("population",):
        return []
    return [c for c in schema.columns_of_kind("date") if f"{schema.name}.{c}" not in s.dates.future_allowed]


def with_row_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``_row``: the 1-based data row in the source file (header excluded)."""
    out = df.reset_index(drop=True).copy()
    out[ROW] = np.arange(1, len(out) + 1, dtype="int64")
    return out


def resolve_extract_date(config: Config, settings: QualitySettings) -> tuple[pd.Timestamp, str]:
    """The extract date and where it came from: ``metadata.yaml``, else quality.yaml's fallback,
    else today."""
    from sendlib.data.loaders import read_metadata

    meta = read_metadata(config.data_dir)
    if meta.extract_date is not None:
        return meta.extract_date.normalize(), "metadata.yaml"
    if settings.extract_date_fallback is not None:
        return settings.extract_date_fallback, "quality.yaml dates.extract_date_fallback"
    return pd.Timestamp.today().normalize(), "today (no metadata.yaml extract_date)"


def not_known_columns(config: Config) -> set[str]:
    """``table.column`` names the data declare not known, so the gate lets them be empty: every
    :attr:`~sendlib.core.schema.Column.not_in_sen2` column of a table read from a SEN2 return
    (``format: sen2_xml``), and those the data folder's ``metadata.yaml`` lists under
    ``not_known`` (written by ``sendlib sen2 import``). Only ``not_in_sen2`` columns can be
    declared so; other names are ignored."""
    from sendlib.data.loaders import read_metadata

    allowed = {f"{t.name}.{c}" for t in TABLES.values() for c in t.not_in_sen2_columns}
    raw = read_metadata(config.data_dir).raw or {}
    declared = raw.get("not_known") or []
    out = {str(x) for x in declared} if isinstance(declared, list) else set()
    for t in TABLES.values():
        if t.not_in_sen2_columns and config.table_source(t.name).format == "sen2_xml":
            out |= {f"{t.name}.{c}" for c in t.not_in_sen2_columns}
    return out & allowed


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
    unknown = not_known_columns(config)
    out: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        f = with_row_numbers(df)
        schema = TABLES[name]
        for col in schema.not_in_sen2_columns:
            f[_check(name, f"known__{col}")] = (f[col].notna() | (f"{name}.{col}" in unknown)).astype(bool)
        for col in _future_checked_columns(schema, settings):
            f[_check(name, f"not_after_extract__{col}")] = _not_after(f[col], extract)
        if name in LOCALITY_TABLES:
            known = set(config.localities)
            f[_check(name, "locality_known")] = (
                (f["locality"].isna() | f["locality"].isin(known)).astype(bool) if known else True
            )
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
            records.append(
                {
                    "table": name,
                    "column": col.name,
                    "kind": col.kind,
                    "expected": expected,
                    "observed": str(s.dtype),
                    f"{CHECK}type_matches": ok,
                }
            )
    frame = pd.DataFrame.from_records(
        records, columns=["table", "column", "kind", "expected", "observed", f"{CHECK}type_matches"]
    )
    frame[f"{CHECK}type_matches"] = frame[f"{CHECK}type_matches"].astype(bool)
    return with_row_numbers(frame)


def _cross_checks(frames: dict[str, pd.DataFrame], s: QualitySettings) -> None:
    req, plans, plc = frames.get("ehcp_requests"), frames.get("ehcp_plans"), frames.get("placements")
    if req is not None:
        issued = req["outcome"].eq("plan_issued").fillna(False).astype(bool)
        if plans is not None:
            plan_reqs = set(plans["request_id"].dropna())
            req[_check("ehcp_requests", "plan_issued_has_plan")] = (~issued | req["request_id"].isin(plan_reqs)).astype(
                bool
            )
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
        age = (start.dt.year - birth.dt.year) - (start.dt.month < birth.dt.month).astype(int)
        plans[_check("ehcp_plans", "aged_0_25_at_start")] = (birth.isna() | start.isna() | age.between(0, 25)).astype(
            bool
        )
    if plc is not None:
        if plans is not None:
            plc[_check("placements", "person_has_plan")] = (
                plc["person_id"].isin(set(plans["person_id"].dropna())).astype(bool)
            )
            plc[_check("placements", "inside_plan_life")] = _inside_plan_life(
                plc, plans, s.placements.plan_life_tolerance_days
            )
        else:
            plc[_check("placements", "person_has_plan")] = True
            plc[_check("placements", "inside_plan_life")] = True
    _statutory_checks(frames)


def _statutory_checks(frames: dict[str, pd.DataFrame]) -> None:
    """Rules of the tribunal appeals and phase transfers tables (persons known, outcome pairs,
    reg. 18 deadlines)."""
    req, plans = frames.get("ehcp_requests"), frames.get("ehcp_plans")
    app, pt = frames.get("tribunal_appeals"), frames.get("phase_transfers")
    plan_people = set(plans["person_id"].dropna()) if plans is not None else None
    if app is not None:
        if req is None and plans is None:
            app[_check("tribunal_appeals", "person_known")] = True
        else:
            known = set(plan_people or ()) | (set(req["person_id"].dropna()) if req is not None else set())
            app[_check("tribunal_appeals", "person_known")] = app["person_id"].isin(known).astype(bool)
        app[_check("tribunal_appeals", "outcome_date_matches_outcome")] = (
            app["outcome"].isna() == app["outcome_date"].isna()
        ).astype(bool)
    if pt is not None:
        if plan_people is None:
            pt[_check("phase_transfers", "person_has_plan")] = True
        else:
            pt[_check("phase_transfers", "person_has_plan")] = pt["person_id"].isin(plan_people).astype(bool)
        year = pt["transfer_date"].dt.year
        md = [TRANSFER_DEADLINE.get(k, (2, 15)) for k in pt["transfer_point"].fillna("").astype(str)]
        month = [m for m, _ in md]
        day = [d for _, d in md]
        deadline = pd.to_datetime(
            pd.DataFrame({"year": year.fillna(2000), "month": month, "day": day}), errors="coerce"
        )
        ok = pt["transfer_date"].isna() | pt["due_date"].isna() | pt["transfer_point"].isna()
        ok |= pt["due_date"].eq(deadline).fillna(False)
        pt[_check("phase_transfers", "due_date_statutory")] = ok.astype(bool)


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
    from sendlib.core.quarters import Quarter, quarter_range

    records = []
    for name, df in tables.items():
        ev = TABLES[name].event_date
        if not ev or ev not in df.columns:
            continue
        last = Quarter.latest_complete(extract) - s.volume.lag_quarters.get(name, 0)
        dates = df[ev].dropna()
        dates = dates[dates <= last.end]
        if dates.empty:
            continue
        quarters = list(quarter_range(Quarter.containing(dates.min()), last))
        fy = np.where(dates.dt.month >= 4, dates.dt.year, dates.dt.year - 1)
        qn = ((dates.dt.month - 4) % 12) // 3 + 1
        counts = pd.Series(1, index=dates.index).groupby([fy, qn.to_numpy()]).sum()
        counts_d = {(int(a), int(b)): int(v) for (a, b), v in counts.items()}
        seasonal = name in s.volume.seasonal_tables
        history: list[int] = []
        for i, q in enumerate(quarters):
            n = counts_d.get((q.fy_start, q.q), 0)
            checked = (
                i >= len(quarters) - s.volume.check_last_quarters and len(history) >= s.volume.min_history_quarters
            )
            if seasonal:
                same = history[-4::-4][: s.volume.seasonal_years]
                ref = float(np.median(same)) if checked and same else np.nan
            else:
                ref = float(np.median(history[-s.volume.trailing_quarters :])) if checked else np.nan
            in_band = bool(np.isnan(ref) or n >= s.volume.min_ratio_of_trailing_median * ref)
            records.append(
                {
                    "table": name,
                    "quarter": str(q),
                    "rows": n,
                    "reference": ref,
                    f"{CHECK}quarter_present": n > 0,
                    f"{CHECK}volume_in_band": in_band,
                }
            )
            history.append(n)
    cols = ["table", "quarter", "rows", "reference", f"{CHECK}quarter_present", f"{CHECK}volume_in_band"]
    frame = pd.DataFrame.from_records(records, columns=cols)
    frame[f"{CHECK}quarter_present"] = frame[f"{CHECK}quarter_present"].astype(bool)
    frame[f"{CHECK}volume_in_band"] = frame[f"{CHECK}volume_in_band"].astype(bool)
    return with_row_numbers(frame)
