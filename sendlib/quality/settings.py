"""Quality thresholds (``config/quality.yaml``) and the constants every part of the gate shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd


from sendlib.core.config import PROJECT_ROOT, Config
from sendlib.core.settings import read_yaml_mapping
from sendlib.core.errors import ConfigError
from sendlib.data.schema import TABLES




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
