"""Running the gate: validate tables against the committed suites and report failures by table,
column, rule and row number, never by value."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sendlib.core.config import Config
from sendlib.core.errors import ValidationFailed
from sendlib.core.gx import import_gx, project_config, rows_of
from sendlib.core.schema import TABLES
from sendlib.quality.rules import derive_frames, not_known_columns, resolve_extract_date
from sendlib.quality.settings import ROW, SCHEMA, SUMMARY_FRAMES, VOLUME, QualitySettings, load_settings, quality_path
from sendlib.quality.suites import _register, _suites_from_committed, build_suites


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
            [
                {
                    "table": t.table,
                    "rows": t.rows,
                    "rules": t.rules,
                    "passed": t.passed,
                    "failed": t.failed,
                    "latest_date": t.latest_date,
                }
                for t in self.tables
            ],
            columns=["table", "rows", "rules", "passed", "failed", "latest_date"],
        )

    def failures_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "table": f.table,
                    "column": f.column,
                    "rule": f.rule,
                    "description": f.description,
                    "n_rows": f.n_rows,
                    "example_rows": ", ".join(map(str, f.example_rows)),
                    "detail": f.detail,
                }
                for f in self.failures
            ],
            columns=["table", "column", "rule", "description", "n_rows", "example_rows", "detail"],
        )

    def summary(self) -> str:
        """A short plain-text summary: totals, then one line per failure."""
        n_rules = sum(t.rules for t in self.tables)
        n_failed = sum(t.failed for t in self.tables)
        head = (
            f"{len(self.tables)} tables, {n_rules} rules, {n_failed} failed "
            f"(extract date {self.extract_date:%Y-%m-%d} from {self.extract_date_source})"
        )
        return "\n".join([head] + [f"  - {f.message}" for f in self.failures])

    def headline(self) -> str:
        """One sentence for a notebook or log: passed, or how many rules failed in which tables."""
        n_rules = sum(t.rules for t in self.tables)
        rows = sum(t.rows for t in self.tables)
        if self.success:
            return (
                f"All {n_rules} data-quality rules passed on {len(self.tables)} tables ({rows:,} rows); "
                f"extract date {self.extract_date:%d %B %Y}."
            )
        bad = sorted({f.table for f in self.failures})
        return (
            f"{len(self.failures)} of {n_rules} data-quality rules failed, in {', '.join(bad)}; "
            f"extract date {self.extract_date:%d %B %Y}. Figures built on these tables are not reliable."
        )

    def raise_for_failures(self) -> None:
        """Raise :class:`~sendlib.core.errors.ValidationFailed` (exit 3) when any rule failed."""
        if not self.success:
            raise ValidationFailed("the data-quality gate failed:\n" + self.summary())

    def to_dict(self) -> dict:
        """JSON-ready summary (for a run manifest)."""
        return {
            "success": self.success,
            "extract_date": f"{self.extract_date:%Y-%m-%d}",
            "extract_date_source": self.extract_date_source,
            "tables": json.loads(self.to_frame().to_json(orient="records", date_format="iso")),
            "failures": [
                f.__dict__ | {"example_rows": list(f.example_rows), "message": f.message} for f in self.failures
            ],
            "data_docs": str(self.docs_index) if self.docs_index else None,
            "reused_from_cache": self.reused_key is not None,
            "cache_key": self.reused_key,
        }


def _identifying(table: str) -> set[str]:
    return set(TABLES[table].identifying_columns) if table in TABLES else set()


_VALUE_KEYS = (
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "unexpected_list",
    "unexpected_rows",
    "partial_unexpected_index_list",
    "unexpected_index_list",
    "unexpected_index_query",
    "details",
    "observed_value",
)


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
        if (
            "observed_value" in res
            and not isinstance(res["observed_value"], (int, float, bool))
            and res["observed_value"] is not None
        ):
            res["observed_value"] = None
    result["result"] = res
    return result


def _failure_from(table: str, r: dict, frame: pd.DataFrame | None) -> list[Failure]:
    cfg = r.get("expectation_config") or {}
    meta = cfg.get("meta") or {}
    rule = str(meta.get("rule") or cfg.get("type"))
    cols = list(meta.get("columns") or [cfg.get("kwargs", {}).get("column", "")])
    desc = str(cfg.get("description") or cfg.get("type"))
    res = r.get("result") or {}
    exc = r.get("exception_info") or {}
    detail = ""
    if exc.get("raised_exception"):
        detail = f"the rule could not run: {str(exc.get('exception_message'))[:200]}"
    rows = rows_of(res.get("partial_unexpected_index_list"))
    n = res.get("unexpected_count")
    if rule == "columns_present":
        missing = (res.get("details") or {}).get("mismatched", {}).get("missing") or []
        detail = detail or (f"missing {missing}" if missing else "")
    if (
        rule in ("code_list", "range")
        and frame is not None
        and rows
        and len(cols) == 1
        and cols[0] in frame.columns
        and not (set(cols) & _identifying(table))
    ):
        # GX copies no values (exclude_unexpected_values); show a few from the example rows of
        # this non-identifying column
        vals = frame.loc[frame[ROW].isin(rows), cols[0]].dropna().unique().tolist()
        if vals:
            detail = detail or "found " + ", ".join(sorted({repr(v) for v in vals})[:5])
    if table == SCHEMA and frame is not None:
        sub = frame[frame[ROW].isin(rows_of(res.get("partial_unexpected_index_list")))]
        out = [
            Failure(str(t), str(c), rule, desc, None, (), f"expected {e}, found {o}")
            for t, c, e, o in zip(sub["table"], sub["column"], sub["expected"], sub["observed"])
        ]
        return out or [Failure(SCHEMA, "", rule, desc, n, (), detail)]
    if table == VOLUME and frame is not None:
        # attribute each volume row to its own table and quarter (no person data in this frame)
        idx = rows_of(res.get("unexpected_index_list") or res.get("partial_unexpected_index_list"))
        sub = frame[frame[ROW].isin(idx)]
        out = []
        for tname, g in sub.groupby("table", sort=False):
            qs = ", ".join(
                f"{q} ({n_} rows vs reference median {m:g})" if pd.notna(m) else f"{q} ({n_} rows)"
                for q, n_, m in zip(g["quarter"], g["rows"], g["reference"])
            )
            out.append(
                Failure(str(tname), TABLES[str(tname)].event_date or "", rule, desc, len(g), (), f"quarters {qs}")
            )
        return out or [Failure(VOLUME, cols[0] if cols else "", rule, desc, n, tuple(rows[:5]), detail)]
    return [Failure(table, ", ".join(str(c) for c in cols), rule, desc, n, tuple(rows[:5]), detail)]


def load_all(config: Config, tables: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Load the tables to validate (raises ``DataError`` on the first that cannot be read)."""
    from sendlib.data.loaders import load_tables

    return load_tables(config, tables)


def validate_tables(
    config: Config,
    tables: Iterable[str] | Mapping[str, pd.DataFrame] | None = None,
    *,
    docs_dir: str | Path | None = None,
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
    gx = import_gx()
    timings["import"] = time.perf_counter() - t0
    docs_path = Path(docs_dir).resolve() if docs_dir else None
    t0 = time.perf_counter()
    context = gx.get_context(mode="ephemeral", project_config=project_config(docs_path, in_memory=True))
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
        table_results.append(
            TableResult(
                name, len(frames[name]), n_rules, n_rules - n_failed, n_failed, _latest_date(frames[name], name, s)
            )
        )
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
    cols = (
        [ev]
        if ev
        else [c for c in TABLES[name].columns_of_kind("date") if f"{name}.{c}" not in settings.dates.future_allowed]
    )
    vals = [df[c].max() for c in cols if c in df.columns]
    vals = [v for v in vals if pd.notna(v)]
    return max(vals) if vals else None


def assert_valid(
    config: Config, tables: Iterable[str] | Mapping[str, pd.DataFrame] | None = None, **kw: Any
) -> ValidationReport:
    """Validate and raise :class:`~sendlib.core.errors.ValidationFailed` (exit 3) with the summary
    when anything failed; returns the report when everything passed."""
    report = validate_tables(config, tables, **kw)
    report.raise_for_failures()
    return report


#: sendlib source files (besides the quality package's own) whose code decides a validation result
_RULE_SOURCES = ("core/schema.py", "data/loaders.py", "core/config.py")


def _rule_sources() -> tuple[str, ...]:
    """The quality package's modules and :data:`_RULE_SOURCES`, as paths inside ``sendlib``."""
    from sendlib.core.fingerprint import PACKAGE_ROOT

    own = sorted(p.relative_to(PACKAGE_ROOT).as_posix() for p in (PACKAGE_ROOT / "quality").glob("*.py"))
    return (*own, *_RULE_SOURCES)


def validation_key(config: Config, tables: Mapping[str, pd.DataFrame], settings: QualitySettings | None = None) -> str:
    """What decides a validation result, as one key: the tables' content, the extract date, the
    thresholds file, the committed suites, the config file, the rule code and package versions."""
    import hashlib
    from importlib import metadata

    from sendlib.core.fingerprint import code_fingerprint, tables_fingerprint

    s = settings or load_settings(quality_path(config))
    extract, _ = resolve_extract_date(config, s)
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(label.encode() + b"\0" + hashlib.sha256(data).digest())

    add("tables", tables_fingerprint(tables).encode())
    add("extract", str(extract.date()).encode())
    add("not_known", ",".join(sorted(not_known_columns(config))).encode())  # metadata.yaml, sen2 sources
    add("quality", quality_path(config).read_bytes())
    add("config", Path(config.path).read_bytes())
    exp = Path(config.expectations_dir)
    for f in sorted(p for p in exp.rglob("*") if p.is_file() and "uncommitted" not in p.parts):
        add(f"expectations/{f.relative_to(exp).as_posix()}", f.read_bytes())
    add("code", code_fingerprint(*_rule_sources()).encode())  # with the pandas and numpy versions
    try:
        add("great-expectations", metadata.version("great-expectations").encode())
    except metadata.PackageNotFoundError:
        add("great-expectations", b"-")
    return h.hexdigest()[:32]


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
