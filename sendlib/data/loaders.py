"""Read canonical tables from CSV, Parquet, Excel or SQL and coerce them to the schema.

Every problem that stops a table being read (a missing file or column, a date that does not
exist, money written as text, a file that is not UTF-8, an empty table) raises
:class:`~sendlib.core.errors.DataError` naming the table, file, column, rule and rows. Row numbers
are 1-based data rows (the header is not counted), so row 1 is the second line of a CSV.
Values of identifying columns are never put in messages.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sendlib.core.config import Config, TableSource, load_config
from sendlib.core.errors import DataError
from sendlib.core.schema import TABLES, Column, TableSchema

METADATA_FILE = "metadata.yaml"

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_QUARTER_RE = re.compile(r"^\d{4}-\d{2}Q[1-4]$")
_FY_RE = re.compile(r"^\d{4}-\d{2}$")
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class DataMetadata:
    """What the data folder says about itself (``metadata.yaml``, optional).

    ``extract_date`` is the day the case data was extracted: no event may be dated after it, and
    the latest complete quarter is the last one ending on or before it.
    """

    extract_date: pd.Timestamp | None
    description: str = ""
    raw: Mapping[str, object] | None = None


def read_metadata(data_dir: str | Path) -> DataMetadata:
    """Read ``metadata.yaml`` from a data folder; missing file gives an empty record."""
    path = Path(data_dir) / METADATA_FILE
    if not path.is_file():
        return DataMetadata(extract_date=None)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    extract = raw.get("extract_date")
    try:
        ts = pd.Timestamp(extract) if extract else None
    except (ValueError, TypeError) as exc:
        raise DataError("metadata", "extract_date is not a date", column="extract_date", file=str(path)) from exc
    return DataMetadata(extract_date=ts, description=str(raw.get("description", "")), raw=raw)


def load_table(name: str, config: Config | None = None, *, source: TableSource | None = None) -> pd.DataFrame:
    """Load one canonical table, coerced to its declared dtypes.

    Parameters
    ----------
    name : str
        A table in :data:`sendlib.core.schema.TABLES`.
    config : Config, optional
        Where the table comes from (default: the repository's default config).
    source : TableSource, optional
        Read from this source instead of the configured one.
    """
    if name not in TABLES:
        raise DataError(name, f"is not a canonical table (expected one of {sorted(TABLES)})")
    cfg = config or load_config()
    src = source or cfg.table_source(name)
    raw = read_raw(name, src, cfg)
    return coerce(raw, TABLES[name], file=_describe(src))


def load_tables(config: Config | None = None, names: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Load every canonical table (or ``names``), in schema order."""
    cfg = config or load_config()
    wanted = list(names) if names is not None else list(TABLES)
    return {name: load_table(name, cfg) for name in wanted}


def _describe(src: TableSource) -> str:
    if src.format == "sql":
        return f"sql query via ${src.url_env}"
    return str(src.path)


def read_raw(name: str, src: TableSource, config: Config) -> pd.DataFrame:
    """Read a table's raw cells (all as text where the format allows) from its source."""
    if src.format == "sql":
        return _read_sql(name, src, config)
    path = Path(src.path) if src.path is not None else None
    if path is None or not path.is_file():
        raise DataError(
            name, "file not found", file=str(path), detail="Check the config's paths.data_dir or tables section"
        )
    if src.format == "csv":
        return _read_csv(name, path)
    if src.format == "parquet":
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise DataError(name, f"cannot be read as Parquet ({type(exc).__name__}: {exc})", file=str(path)) from exc
        return _objects_to_text(df)
    if src.format == "excel":
        try:
            df = pd.read_excel(path, sheet_name=src.sheet if src.sheet is not None else 0, dtype=object)
        except ValueError as exc:
            raise DataError(name, f"cannot be read as Excel ({exc})", file=str(path)) from exc
        return _objects_to_text(df)
    raise DataError(name, f"unknown source format '{src.format}'")


def _read_csv(name: str, path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    if not data.strip():
        raise DataError(name, "file is empty (no header, no rows)", file=str(path), n_rows=0)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            name,
            "wrong encoding: the file is not UTF-8",
            file=str(path),
            detail=f"first undecodable byte 0x{data[exc.start]:02x} on line {line}; save the file as UTF-8",
        ) from exc
    import io

    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.ParserError as exc:
        raise DataError(
            name,
            f"is not a well-formed CSV ({exc})",
            file=str(path),
            detail="the file may be half-written or have an unquoted comma",
        ) from exc
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _read_sql(name: str, src: TableSource, config: Config) -> pd.DataFrame:
    import sqlalchemy

    url = config.database_url(name, src)
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            df = pd.read_sql_query(sqlalchemy.text(src.query or ""), conn)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise DataError(
            name,
            f"SQL query failed ({type(exc).__name__})",
            file=_describe(src),
            detail=str(exc.orig) if getattr(exc, "orig", None) else None,
        ) from exc
    finally:
        engine.dispose()
    return _objects_to_text(df)


def _objects_to_text(df: pd.DataFrame) -> pd.DataFrame:
    """Normalise cells from typed sources to text so one coercion path serves every format."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[str(col).strip()] = s.dt.strftime("%Y-%m-%d").where(s.notna(), None)
            continue
        vals = []
        for v in s.tolist():
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT or v is pd.NA:
                vals.append(None)
            elif isinstance(v, (pd.Timestamp, dt.datetime)):
                vals.append(v.strftime("%Y-%m-%d"))
            elif isinstance(v, dt.date):
                vals.append(v.isoformat())
            elif isinstance(v, (bool, np.bool_)):
                vals.append("true" if v else "false")
            elif isinstance(v, (float, np.floating)) and float(v).is_integer():
                vals.append(str(int(v)))
            else:
                vals.append(str(v))
        out[str(col).strip()] = pd.Series(vals, index=df.index, dtype=object)
    return out


# ----- coercion --------------------------------------------------------------------------------


def coerce(df: pd.DataFrame, schema: TableSchema, *, file: str | None = None) -> pd.DataFrame:
    """Coerce raw text cells to the schema's dtypes, or raise a DataError naming the problem.

    Columns are put in schema order; extra columns are kept after them (as text).
    """
    if len(df) == 0:
        raise DataError(schema.name, "table has no rows", file=file, n_rows=0)
    missing = [c for c in schema.column_names if c not in df.columns]
    if missing:
        col = missing[0]
        extras = [c for c in df.columns if c not in schema.column_names]
        close = difflib.get_close_matches(col, extras, n=1)
        hint = f"found '{close[0]}' instead: was it renamed?" if close else f"columns found: {list(df.columns)}"
        raise DataError(schema.name, f"missing required column(s) {missing}", column=col, file=file, detail=hint)
    dup_cols = [c for c in df.columns if list(df.columns).count(c) > 1]
    if dup_cols:
        raise DataError(schema.name, "column appears more than once", column=dup_cols[0], file=file)
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    for col in schema.columns:
        out[col.name] = _coerce_column(df[col.name].reset_index(drop=True), col, schema.name, file)
    for extra in [c for c in df.columns if c not in schema.column_names]:
        out[extra] = df[extra].reset_index(drop=True).astype("string")
    return out


def _bad(table: str, col: Column, file: str | None, mask: pd.Series, rule: str, detail: str | None = None) -> DataError:
    rows = (np.flatnonzero(mask.to_numpy()) + 1).tolist()
    return DataError(table, rule, column=col.name, file=file, n_rows=len(rows), example_rows=rows[:5], detail=detail)


def _coerce_column(s: pd.Series, col: Column, table: str, file: str | None) -> pd.Series:
    text = s.astype("string").str.strip()
    text = text.mask(text == "", pd.NA)
    missing = text.isna()
    if not col.nullable and missing.any():
        raise _bad(table, col, file, missing, "required value is empty")
    present = ~missing
    kind = col.kind
    if kind in ("str", "code"):
        return text
    if kind in ("int", "float"):
        cleaned = text
        money_like = present & cleaned.str.contains(r"[£$€,]|^\s*\(", regex=True, na=False)
        if money_like.any():
            raise _bad(
                table,
                col,
                file,
                money_like,
                "number written as text (currency symbol, thousands separator or brackets)",
                "write plain numbers such as 12500.50",
            )
        nums = pd.to_numeric(cleaned, errors="coerce")
        bad = present & nums.isna()
        if bad.any():
            raise _bad(table, col, file, bad, "not a number")
        if kind == "int":
            frac = present & (nums.fillna(0) % 1 != 0)
            if frac.any():
                raise _bad(table, col, file, frac, "not a whole number")
            return nums.astype("Int64")
        return nums.astype("float64")
    if kind == "date":
        bad_form = present & ~text.str.match(_DATE_RE.pattern, na=False)
        if bad_form.any():
            raise _bad(table, col, file, bad_form, "date not in ISO form YYYY-MM-DD")
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        bad = present & parsed.isna()
        if bad.any():
            raise _bad(table, col, file, bad, "date does not exist (e.g. 31 June or 29 February in a non-leap year)")
        return parsed.astype("datetime64[ns]")
    if kind == "bool":
        low = text.str.lower()
        is_true, is_false = low.isin(_TRUE), low.isin(_FALSE)
        bad = present & ~(is_true | is_false)
        if bad.any():
            raise _bad(table, col, file, bad, "not true/false")
        result = pd.Series(pd.NA, index=s.index, dtype="boolean")
        result[is_true.fillna(False).to_numpy()] = True
        result[is_false.fillna(False).to_numpy()] = False
        return result
    if kind == "month":
        bad = present & ~text.str.match(_MONTH_RE.pattern, na=False)
        if bad.any():
            raise _bad(table, col, file, bad, "not a month in form YYYY-MM")
        return text
    if kind in ("quarter", "fy"):
        return _canonical_periods(text, kind, lambda mask, rule: _bad(table, col, file, mask, rule))
    raise ValueError(f"unknown column kind {kind!r} in schema for {table}.{col.name}")


def _canonical_periods(text: pd.Series, kind: str, bad: Callable[[pd.Series, str], DataError]) -> pd.Series:
    """Parse quarter (``2025-26Q2``) or financial-year (``2025-26``) cells leniently to canonical text."""
    from sendlib.core.errors import UsageError
    from sendlib.core.quarters import Quarter, financial_year_label, parse_financial_year

    if kind == "quarter":
        parse, rule = (lambda v: str(Quarter.parse(v))), "not a financial-year quarter like 2025-26Q2"
    else:
        parse, rule = (lambda v: financial_year_label(parse_financial_year(v))), "not a financial year like 2025-26"
    canon: list[object] = []
    failed: list[bool] = []
    for v in text.tolist():
        if v is pd.NA or v is None:
            canon.append(pd.NA)
            failed.append(False)
            continue
        try:
            canon.append(parse(v))
            failed.append(False)
        except UsageError:
            canon.append(pd.NA)
            failed.append(True)
    mask = pd.Series(failed, index=text.index)
    if mask.any():
        raise bad(mask, rule)
    return pd.Series(canon, index=text.index, dtype="string")


def to_csv_frame(df: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Format a canonical frame as text exactly as the CSV files hold it (dates ISO, bools
    ``true``/``false``, numbers without trailing ``.0`` for ints). Used by the generator and tests."""
    out = pd.DataFrame(index=df.index)
    for col in schema.columns:
        s = df[col.name]
        if col.kind == "date":
            s = pd.to_datetime(s)
            out[col.name] = s.dt.strftime("%Y-%m-%d").where(s.notna(), "")
        elif col.kind == "bool":
            out[col.name] = s.map(lambda v: "" if pd.isna(v) else ("true" if bool(v) else "false"))
        elif col.kind == "int":
            out[col.name] = s.map(lambda v: "" if pd.isna(v) else str(int(v)))
        elif col.kind == "float":
            out[col.name] = s.map(lambda v: "" if pd.isna(v) else _fmt_float(float(v)))
        else:
            out[col.name] = s.map(lambda v: "" if pd.isna(v) else str(v))
    return out


def _fmt_float(v: float) -> str:
    return str(int(v)) if v.is_integer() else repr(round(v, 2))


def write_table(df: pd.DataFrame, name: str, out_dir: str | Path) -> Path:
    """Write a canonical table as ``<out_dir>/<name>.csv`` deterministically (UTF-8, LF)."""
    path = Path(out_dir) / f"{name}.csv"
    frame = to_csv_frame(df, TABLES[name])
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


# ----- periods in the data ---------------------------------------------------------------------


def extract_date(config: Config, tables: Mapping[str, pd.DataFrame] | None = None) -> pd.Timestamp:
    """The data's extract date: ``metadata.yaml`` in the data folder, else the latest event date
    in the case tables (requests, plans, placements, reviews, health waits, exclusions)."""
    meta = read_metadata(config.data_dir)
    if meta.extract_date is not None:
        return meta.extract_date.normalize()
    tabs = tables or load_tables(config, [n for n, t in TABLES.items() if t.event_date])
    latest = [tabs[n][TABLES[n].event_date].max() for n in tabs if TABLES[n].event_date and n in tabs]
    latest = [d for d in latest if pd.notna(d)]
    if not latest:
        raise DataError("metadata", "no extract date in metadata.yaml and no dated rows to infer one")
    return max(latest).normalize()


def latest_complete_quarter(config: Config, tables: Mapping[str, pd.DataFrame] | None = None):
    """The latest quarter that ended on or before the data's extract date (``--quarter latest``)."""
    from sendlib.core.quarters import Quarter

    return Quarter.latest_complete(extract_date(config, tables))


def resolve_quarter(text: str, config: Config, tables: Mapping[str, pd.DataFrame] | None = None):
    """Parse a ``--quarter`` value; ``latest`` means :func:`latest_complete_quarter`.

    A quarter that ends after the extract date is refused: its figures would be incomplete.
    """
    from sendlib.core.errors import UsageError
    from sendlib.core.quarters import Quarter

    if str(text).strip().lower() == "latest":
        return latest_complete_quarter(config, tables)
    q = Quarter.parse(text)
    extract = extract_date(config, tables)
    if q.end > extract:
        raise UsageError(
            f"quarter {q} ends on {q.end:%Y-%m-%d}, after the data's extract date {extract:%Y-%m-%d}: "
            f"its figures would be incomplete (latest complete quarter: {Quarter.latest_complete(extract)})"
        )
    return q


def quarters_in_data(config: Config, tables: Mapping[str, pd.DataFrame] | None = None) -> list:
    """Every complete quarter from the first request in the data to the latest complete quarter."""
    from sendlib.core.quarters import Quarter, quarter_range

    tabs = tables or load_tables(config, ["ehcp_requests"])
    first = tabs["ehcp_requests"]["request_date"].min()
    return list(quarter_range(Quarter.containing(first), latest_complete_quarter(config, tables)))
