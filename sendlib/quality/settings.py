"""Quality thresholds (``config/quality.yaml``) and the constants every part of the gate shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import AfterValidator, BeforeValidator, Field, PrivateAttr, model_validator

from sendlib.core.config import PROJECT_ROOT, Config
from sendlib.core.errors import ConfigError
from sendlib.core.gx import ROW
from sendlib.core.schema import TABLES
from sendlib.core.settings import SettingsModel, load_settings_file

#: thresholds file read next to the run's config (``<config dir>/quality.yaml``)
QUALITY_FILE = "quality.yaml"


DEFAULT_QUALITY_PATH = PROJECT_ROOT / "config" / QUALITY_FILE


#: the synthetic row-number column GX reports unexpected rows by (1-based data rows)


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
    "tribunal_appeals": [("registered_date", "decision_date"), ("outcome_date", "registered_date")],
    "phase_transfers": [("transfer_date", "due_date")],
}


#: tables whose ``locality`` column must be one of the config's authority.localities
LOCALITY_TABLES = ("ehcp_requests", "ehcp_plans", "capacity")


class _Section(SettingsModel):
    """A section of ``quality.yaml``; an empty section (``volume:`` with nothing under it) is all defaults."""

    @model_validator(mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        return {} if value is None else value


def _table_column(key: str) -> str:
    table, _, column = key.partition(".")
    if table not in TABLES or column not in TABLES[table].column_names:
        raise ValueError(f"'{key}' is not a table.column of the schema")
    return key


def _event_table(key: str) -> str:
    if key not in TABLES or not TABLES[key].event_date:
        raise ValueError(f"'{key}' is not a table with an event date")
    return key


def _null_is_no_items(value: Any) -> Any:
    return [] if value is None else value


def _null_is_no_entries(value: Any) -> Any:
    return {} if value is None else value


#: ``<table>.<column>`` of a schema column
TableColumn = Annotated[str, AfterValidator(_table_column)]
#: a table whose schema has an event date (volume is counted by it)
EventTable = Annotated[str, AfterValidator(_event_table)]


class VolumeSettings(_Section):
    """``volume:``: the row-count band per quarter and which quarters it checks."""

    min_ratio_of_trailing_median: float = Field(0.5, ge=0, le=1)
    trailing_quarters: int = Field(4, ge=1)
    min_history_quarters: int = Field(4, ge=1)
    check_last_quarters: int = 12
    seasonal_tables: Annotated[frozenset[EventTable], BeforeValidator(_null_is_no_items)] = frozenset()
    seasonal_years: int = 3
    lag_quarters: Annotated[dict[EventTable, int], BeforeValidator(_null_is_no_entries)] = Field(default_factory=dict)
    source: str = ""


class DatesSettings(_Section):
    """``dates:``: the extract date when the data folder gives none, and columns that may be in the future."""

    #: None: today's date
    extract_date_fallback: dt.date | None = None
    future_allowed: Annotated[frozenset[TableColumn], BeforeValidator(_null_is_no_items)] = frozenset()
    source: str = ""


class MoneyCeiling(SettingsModel):
    """``money_ceilings_gbp.<table>.<column>:``: plausible range of a money column, pounds."""

    min: float | None = None
    max: float
    source: str = ""


class PlacementSettings(_Section):
    """``placements:``: how far a placement may run outside its plan's life."""

    plan_life_tolerance_days: int = Field(0, ge=0)
    source: str = ""


class QualitySettings(SettingsModel):
    """Thresholds from ``config/quality.yaml`` (see that file for sources), by section
    (``s.volume.trailing_quarters``); ``money_ceilings`` and ``extract_date_fallback`` give two
    entries in the form the rules use."""

    volume: VolumeSettings = Field(default_factory=VolumeSettings)
    dates: DatesSettings = Field(default_factory=DatesSettings)
    money_ceilings_gbp: Annotated[dict[TableColumn, MoneyCeiling], BeforeValidator(_null_is_no_entries)] = Field(
        default_factory=dict
    )
    placements: PlacementSettings = Field(default_factory=PlacementSettings)
    #: the file read (None: built in code)
    _path: Path | None = PrivateAttr(None)

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def extract_date_fallback(self) -> pd.Timestamp | None:
        d = self.dates.extract_date_fallback
        return None if d is None else pd.Timestamp(d)

    @property
    def money_ceilings(self) -> Mapping[str, tuple[float | None, float]]:
        """``table.column -> (min or None, max)``."""
        return {key: (c.min, c.max) for key, c in self.money_ceilings_gbp.items()}


def quality_path(config: Config | None) -> Path:
    """The thresholds file for a run: ``quality.yaml`` beside the config, else the repository's."""
    if config is not None:
        beside = config.path.parent / QUALITY_FILE
        if beside.is_file():
            return beside
    return DEFAULT_QUALITY_PATH


def load_settings(path: str | Path | None = None) -> QualitySettings:
    """Read and check the quality thresholds; an error names the file, the key and the rule
    (``ConfigError``, exit 2)."""
    p = Path(path) if path else DEFAULT_QUALITY_PATH
    settings = load_settings_file(QualitySettings, p, "quality thresholds file", ConfigError)
    settings._path = p
    return settings
