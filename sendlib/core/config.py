"""One YAML configuration per run.

The default lives in ``config/default.yaml`` in the repository; another is passed with
``--config``. Relative paths in the file resolve from the file's own folder, never from the
current directory. Secrets (database URLs) come from environment variables named in the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sendlib.core.errors import ConfigError
from sendlib.core.settings import SettingsModel, load_settings_file

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "default.yaml"

#: how many folders above the config's folder a path may climb and still be shown relative to it
#: (``../data/raw`` from ``config/``); further out, :meth:`Config.relative` shows the name alone
MAX_LEVELS_UP = 2


def display_path(path: str | Path, base_dir: str | Path | None) -> str:
    """``path`` as an output shows it: relative to ``base_dir`` (the configuration file's folder),
    with forward slashes on every system; never an absolute machine path.

    A path more than :data:`MAX_LEVELS_UP` folders above ``base_dir`` (a temporary folder), on
    another drive, or with no ``base_dir`` is shown by its name alone. Text that is not a file
    path (``"<memory>"``) is returned as it is.
    """
    text = str(path)
    if not text or text.startswith("<"):
        return text
    target = Path(text).expanduser()
    if base_dir is None:
        return target.name
    base = Path(base_dir).expanduser().resolve()
    target = target if target.is_absolute() else base / target
    try:
        rel = Path(os.path.relpath(target.resolve(), base))
    except ValueError:  # Windows: another drive has no relative path
        return target.name
    if rel.parts[: MAX_LEVELS_UP + 1].count("..") > MAX_LEVELS_UP:
        return target.name
    return rel.as_posix()


#: file extension of each file-based table format, for the default ``<table>.<ext>`` name
TABLE_EXTENSIONS = {"csv": "csv", "parquet": "parquet", "excel": "xlsx", "sen2_xml": "xml"}

#: ``tables.sen2: {format: sen2_xml, path: ...}``: a DfE SEN2 XML return, read in memory
SEN2_SOURCE = "sen2"
#: the canonical tables a SEN2 return provides (unless the config gives one its own source)
SEN2_RETURN_TABLES = ("ehcp_requests", "ehcp_plans", "placements", "annual_reviews")
#: tables every run needs: the quarter is resolved from them, so they can never be absent
CORE_TABLES = ("ehcp_requests", "ehcp_plans")


class KpiTarget(SettingsModel):
    """A board target for one KPI variant: RAG is green on the right side of ``target``,
    amber within ``tolerance`` of it on the wrong side, red beyond."""

    target: float
    better: Literal["up", "down"]
    tolerance: float = Field(0.0, ge=0)
    source: str = ""


class AuthoritySettings(SettingsModel):
    """``authority:``: who the pack is for, and which authority it is benchmarked against.

    Two codes with two meanings (DfE three-digit ``old_la_code``s):

    - ``dfe_code``: the authority's **own** code. A council's config sets it; it is written where
      the authority's own figures are labelled (SEN2 return, forecast output) and is benchmarked.
      None (absent) for the shipped synthetic county, which is no real authority.
    - ``comparator_code``: a **different, real** authority whose published figures the
      benchmarking section shows as a comparator (the synthetic county's is Oxfordshire, 931).
      Absent: the authority's own code is benchmarked.

    An older config with only ``dfe_code`` reads as before: that code is the authority's own and
    is benchmarked. At least one of the two is required (the benchmarking section needs one).
    """

    name: str
    dfe_code: str | None = None
    comparator_code: str | None = None
    region: str = ""
    #: locality code -> label, as used in the case data's ``locality`` columns
    localities: dict[str, str] = Field(default_factory=dict)

    @field_validator("dfe_code", "comparator_code", mode="before")
    @classmethod
    def _code_as_text(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return str(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _one_code_needed(self) -> AuthoritySettings:
        if self.dfe_code is None and self.comparator_code is None:
            raise ValueError(
                "set dfe_code (the authority's own DfE code) or, for data that are no real authority's, "
                "comparator_code (a real authority to benchmark against)"
            )
        return self


class PathSettings(SettingsModel):
    """``paths:``: folders, relative to the config file's own folder."""

    data_dir: str = "../data/raw"
    reference_dir: str = "../data/reference"
    output_dir: str = "../outputs"
    expectations_dir: str = "../expectations"
    notebooks_dir: str = "../notebooks"
    scenarios_dir: str = "scenarios"
    #: the report's reuse store (results of identical inputs, person-level: kept private, never
    #: under output_dir); None = the user's cache folder (platformdirs.user_cache_dir("sendlib"))
    cache_dir: str | None = None


class TableSourceSettings(SettingsModel):
    """``tables.<name>:``: where one canonical table is read from (default ``<data_dir>/<name>.csv``)."""

    format: Literal["csv", "parquet", "excel", "sql", "sen2_xml"] = "csv"
    path: str | None = None
    sheet: str | int | None = None
    url_env: str | None = None
    query: str | None = None

    @model_validator(mode="after")
    def _sql_needs_url_and_query(self) -> TableSourceSettings:
        if self.format == "sql" and (not self.url_env or not self.query):
            raise ValueError("a sql source needs url_env (an environment variable) and query")
        return self


class SuppressionSettings(SettingsModel):
    """``suppression:``: small-number rules applied to every published table."""

    threshold: int = Field(5, ge=1)
    min_denominator: int = Field(10, ge=0)


class ReportSettings(SettingsModel):
    """``report:``: how ``sendlib report`` runs, and the scenario files its sections use."""

    #: notebooks run at once; None = the number of cores
    jobs: int | None = Field(None, ge=1)
    #: reuse results of identical inputs kept in the cache folder (``paths.cache_dir``): gate
    #: result, tables, projection
    reuse: bool = True
    #: financial years after the base year that the forecast, sufficiency and finance sections cover
    horizon_years: int = Field(5, ge=1, le=30)
    #: DSG scenario file, relative to the config's folder
    scenarios: str = "scenarios/dsg.yaml"
    sufficiency_scenario: str = "scenarios/sufficiency.yaml"
    forecast_scenario: str = "scenarios/forecast.yaml"
    #: longest a single notebook cell may run, seconds; None = no limit
    cell_timeout_seconds: float | None = Field(None, gt=0)
    #: a small count found in a published table fails the run, or only warns
    small_count_check: Literal["fail", "warn"] = "fail"
    #: write ``pack.pdf`` (the whole pack printed by Chromium) when a Chromium-family browser is found
    pdf: bool = True
    #: the browser that prints ``pack.pdf`` (a path or a command name); None = chromium, chrome or
    #: msedge on PATH, then their usual install folders (sendlib.report.pdf.find_chromium)
    chromium: str | None = None
    #: longest printing ``pack.pdf`` may take, seconds (then the report carries on without it)
    pdf_timeout_seconds: float = Field(120, gt=0)


class Sen2Settings(SettingsModel):
    """``sen2:``: importing a DfE SEN2 XML return (``sendlib sen2 import``)."""

    #: environment variable holding the key of the pseudonymous person ids (never the key itself)
    pseudonym_key_env: str = "SENDLIB_PSEUDONYM_KEY"
    #: locality code written for every request and plan (SEN2 holds only the postcode, never
    #: read); list it in ``authority.localities`` so the gate's locality rule accepts it
    unknown_locality: str = "unknown"


class ConfigFile(SettingsModel):
    """The run's configuration file as written (paths not yet resolved)."""

    authority: AuthoritySettings
    paths: PathSettings = Field(default_factory=PathSettings)
    tables: dict[str, TableSourceSettings] = Field(default_factory=dict)
    kpi_targets: dict[str, KpiTarget] = Field(default_factory=dict)
    suppression: SuppressionSettings = Field(default_factory=SuppressionSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    sen2: Sen2Settings = Field(default_factory=Sen2Settings)
    #: a table whose file is not there: ``error`` (default) stops the run; ``skip`` leaves it out
    #: (``sendlib validate`` lists it, ``sendlib report`` runs the sections that do not need it and
    #: says which could not run). ``ehcp_requests`` and ``ehcp_plans`` are always needed.
    missing_tables: Literal["error", "skip"] = "error"

    @field_validator("tables", "kpi_targets", "report", "suppression", "paths", "sen2", mode="before")
    @classmethod
    def _empty_section_is_default(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("tables")
    @classmethod
    def _canonical_tables_only(cls, value: dict[str, TableSourceSettings]) -> dict[str, TableSourceSettings]:
        from sendlib.core.schema import TABLES

        unknown = sorted(set(value) - set(TABLES) - {SEN2_SOURCE})
        if unknown:
            raise ValueError(
                f"{unknown} not canonical table(s); expected some of {sorted(TABLES)} or {SEN2_SOURCE} (a SEN2 return)"
            )
        for name, spec in value.items():
            if (name == SEN2_SOURCE) != (spec.format == "sen2_xml"):
                raise ValueError(
                    f"tables.{name}: format sen2_xml is the form of the '{SEN2_SOURCE}' entry only "
                    f"({SEN2_SOURCE}: {{format: sen2_xml, path: return.xml}}), which provides {', '.join(SEN2_RETURN_TABLES)}"
                )
            if spec.format == "sen2_xml" and not spec.path:
                raise ValueError(f"tables.{name}: a sen2_xml source needs path (the return's XML file)")
        return value


@dataclass(frozen=True)
class TableSource:
    """Where one canonical table is read from."""

    format: str = "csv"
    path: Path | None = None
    sheet: str | int | None = None
    url_env: str | None = None
    query: str | None = None


@dataclass(frozen=True)
class Config:
    """A loaded, validated configuration with absolute paths."""

    path: Path
    authority_name: str
    #: the authority's own DfE code (``authority.dfe_code``); None when it has none (synthetic county)
    dfe_code: str | None
    region: str
    localities: Mapping[str, str]
    data_dir: Path
    reference_dir: Path
    output_dir: Path
    expectations_dir: Path
    notebooks_dir: Path
    scenarios_dir: Path
    tables: Mapping[str, TableSource]
    kpi_targets: Mapping[str, KpiTarget]
    suppression_threshold: int = 5
    min_denominator: int = 10
    report: ReportSettings = field(default_factory=ReportSettings)
    sen2: Sen2Settings = field(default_factory=Sen2Settings)
    #: ``authority.comparator_code``: a different, real authority benchmarked instead of this one
    comparator_code: str | None = None
    #: ``paths.cache_dir`` resolved; None = the user's cache folder (sendlib.report.runcache)
    cache_dir: Path | None = None
    missing_tables: str = "error"

    @property
    def benchmark_code(self) -> str:
        """The DfE code the benchmarking section and ``sendlib benchmark`` compare: the comparator's
        when one is configured, else the authority's own."""
        code = self.comparator_code or self.dfe_code
        if code is None:  # the settings model refuses a config with neither
            raise ConfigError(f"{self.path}: authority: set dfe_code or comparator_code")
        return code

    @property
    def benchmarks_comparator(self) -> bool:
        """True when the benchmarked authority is not this one (a comparator, named as such)."""
        return self.comparator_code is not None and self.comparator_code != self.dfe_code

    def table_source(self, table: str) -> TableSource:
        """Source of ``table``: configured, else the SEN2 return (``tables.sen2``) for the tables
        it provides (:data:`SEN2_RETURN_TABLES`), else ``<data_dir>/<table>.csv``."""
        src = self.tables.get(table)
        if src is None and table in SEN2_RETURN_TABLES and SEN2_SOURCE in self.tables:
            return self.tables[SEN2_SOURCE]
        if src is None:
            return TableSource(format="csv", path=self.data_dir / f"{table}.csv")
        return src

    def with_data_dir(self, data_dir: str | Path | None) -> Config:
        """A copy reading every file-based table from ``data_dir`` (for --data-dir)."""
        if data_dir is None:
            return self
        new_dir = Path(data_dir).expanduser().resolve()
        tables = {
            name: (
                TableSource(src.format, new_dir / src.path.name, src.sheet, src.url_env, src.query)
                if src.path is not None
                else src
            )
            for name, src in self.tables.items()
        }
        return replace(self, data_dir=new_dir, tables=tables)

    def with_output_dir(self, output_dir: str | Path | None) -> Config:
        """A copy writing outputs under ``output_dir`` (for --output-dir)."""
        if output_dir is None:
            return self
        return replace(self, output_dir=Path(output_dir).expanduser().resolve())

    def with_cache_dir(self, cache_dir: str | Path | None) -> Config:
        """A copy keeping the report's reuse store in ``cache_dir`` (for --cache-dir)."""
        if cache_dir is None:
            return self
        return replace(self, cache_dir=Path(cache_dir).expanduser().resolve())

    def resolve(self, value: str | Path) -> Path:
        """Resolve a path written in the config (or a scenario key) from the config's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.path.parent / p).resolve()

    def relative(self, path: str | Path) -> str:
        """``path`` as pages and machine-readable output show it: relative to the config file's
        folder (:func:`display_path`), e.g. ``scenarios/dsg.yaml`` or ``../data/raw``."""
        return display_path(path, self.path.parent)

    def scenario_file(self, value: str | Path | None, kind: Literal["forecast", "sufficiency", "dsg"]) -> Path:
        """The scenario file of ``kind`` a run uses.

        Empty ``value``: the config's ``report.forecast_scenario`` / ``report.sufficiency_scenario``
        / ``report.scenarios`` (DSG), relative to the config's folder. Otherwise an absolute path
        as given, or a relative one looked up in ``scenarios_dir``, then the config's folder,
        then the current directory. Raises :class:`~sendlib.core.errors.UsageError` when the
        file does not exist.
        """
        from sendlib.core.errors import UsageError

        if value is None or not str(value).strip():
            configured = {
                "forecast": self.report.forecast_scenario,
                "sufficiency": self.report.sufficiency_scenario,
                "dsg": self.report.scenarios,
            }[kind]
            path = self.resolve(configured)
        else:
            p = Path(str(value)).expanduser()
            candidates = [p] if p.is_absolute() else [self.scenarios_dir / p, self.path.parent / p, Path.cwd() / p]
            path = next((c for c in candidates if c.is_file()), candidates[0])
        path = path.resolve()
        if not path.is_file():
            raise UsageError(f"{kind} scenario file not found: {path}")
        return path

    def database_url(self, table: str, source: TableSource | None = None) -> str:
        """The database URL for a SQL-sourced table, from its environment variable."""
        src = source or self.table_source(table)
        if not src.url_env:
            raise ConfigError(f"table '{table}': a sql source needs url_env (an environment variable)")
        url = os.environ.get(src.url_env)
        if not url:
            raise ConfigError(
                f"table '{table}': environment variable {src.url_env} is not set (it should hold the database URL)"
            )
        return url


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate a configuration file (default: ``config/default.yaml``).

    Raises
    ------
    ConfigError
        When the file is missing, is not YAML, or has an unknown or malformed key (the message
        names the file, the key and the rule).
    """
    cfg_path = Path(path).expanduser().resolve() if path else DEFAULT_CONFIG
    settings = load_settings_file(ConfigFile, cfg_path, "config file")
    base = cfg_path.parent

    def resolve(value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    folders = {key: resolve(value) for key, value in settings.paths.model_dump().items() if key != "cache_dir"}
    cache_dir = resolve(settings.paths.cache_dir) if settings.paths.cache_dir else None
    tables: dict[str, TableSource] = {}
    for name, spec in settings.tables.items():
        if spec.format == "sql":
            tables[name] = TableSource("sql", None, None, spec.url_env, spec.query)
        else:
            p = Path(spec.path or f"{name}.{TABLE_EXTENSIONS[spec.format]}").expanduser()
            tables[name] = TableSource(spec.format, p if p.is_absolute() else folders["data_dir"] / p, spec.sheet)
    return Config(
        path=cfg_path,
        authority_name=settings.authority.name,
        dfe_code=settings.authority.dfe_code,
        comparator_code=settings.authority.comparator_code,
        region=settings.authority.region,
        localities=dict(settings.authority.localities),
        tables=tables,
        kpi_targets=dict(settings.kpi_targets),
        suppression_threshold=settings.suppression.threshold,
        min_denominator=settings.suppression.min_denominator,
        report=settings.report,
        sen2=settings.sen2,
        cache_dir=cache_dir,
        missing_tables=settings.missing_tables,
        **folders,
    )
