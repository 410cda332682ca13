"""One YAML configuration per run.

The default lives in ``config/default.yaml`` in the repository; another is passed with
``--config``. Relative paths in the file resolve from the file's own folder, never from the
current directory. Secrets (database URLs) come from environment variables named in the file.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from sendlib.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "default.yaml"

_TOP_KEYS = {"authority", "paths", "tables", "kpi_targets", "suppression", "report"}
_PATH_KEYS = {
    "data_dir",
    "reference_dir",
    "output_dir",
    "expectations_dir",
    "notebooks_dir",
    "scenarios_dir",
}
_TARGET_KEYS = {"target", "better", "tolerance", "source"}
_TABLE_FORMATS = {"csv", "parquet", "excel", "sql"}


@dataclass(frozen=True)
class KpiTarget:
    """A board target for one KPI variant: RAG is green on the right side of ``target``,
    amber within ``tolerance`` of it on the wrong side, red beyond."""

    target: float
    better: str  # "up" or "down"
    tolerance: float = 0.0
    source: str = ""


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
    dfe_code: str
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
    report: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def table_source(self, table: str) -> TableSource:
        """Source of ``table``: configured, or ``<data_dir>/<table>.csv``."""
        src = self.tables.get(table)
        if src is None:
            return TableSource(format="csv", path=self.data_dir / f"{table}.csv")
        return src

    def with_data_dir(self, data_dir: "str | Path | None") -> "Config":
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
        return _replace(self, data_dir=new_dir, tables=tables)

    def with_output_dir(self, output_dir: "str | Path | None") -> "Config":
        """A copy writing outputs under ``output_dir`` (for --output-dir)."""
        if output_dir is None:
            return self
        return _replace(self, output_dir=Path(output_dir).expanduser().resolve())

    def resolve(self, value: "str | Path") -> Path:
        """Resolve a path written in the config (or a scenario key) from the config's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.path.parent / p).resolve()

    def database_url(self, table: str, source: TableSource | None = None) -> str:
        """The database URL for a SQL-sourced table, from its environment variable."""
        src = source or self.table_source(table)
        if not src.url_env:
            raise ConfigError(f"table '{table}': a sql source needs url_env (an environment variable)")
        url = os.environ.get(src.url_env)
        if not url:
            raise ConfigError(
                f"table '{table}': environment variable {src.url_env} is not set "
                "(it should hold the database URL)"
            )
        return url


def _replace(cfg: Config, **changes: Any) -> Config:
    from dataclasses import replace

    return replace(cfg, **changes)


def read_yaml_mapping(path: "str | Path", what: str, error: type[Exception] = ConfigError) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; errors name the file and say what is wrong.

    Parameters
    ----------
    path : path of the file.
    what : words for the file in messages, e.g. ``"config file"`` or ``"scenario file"``.
    error : the exception class to raise (``ConfigError`` or ``UsageError``: both exit 2).
    """
    p = Path(path)
    if not p.is_file():
        raise error(f"{what} not found: {p}")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise error(f"{what} {p} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise error(f"{what} {p} must be a mapping of keys")
    return raw


def load_config(path: "str | Path | None" = None) -> Config:
    """Load and validate a configuration file (default: ``config/default.yaml``).

    Raises
    ------
    ConfigError
        When the file is missing, is not YAML, or has an unknown or malformed key (the message
        names the key).
    """
    cfg_path = Path(path).expanduser().resolve() if path else DEFAULT_CONFIG
    raw = read_yaml_mapping(cfg_path, "config file")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise ConfigError(
            f"config file {cfg_path}: unknown section(s) {sorted(unknown)}; "
            f"expected some of {sorted(_TOP_KEYS)}"
        )
    return _build(cfg_path, copy.deepcopy(raw))


def _build(cfg_path: Path, raw: dict[str, Any]) -> Config:
    base = cfg_path.parent

    def resolve(value: Any, key: str) -> Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"config {cfg_path}: paths.{key} must be a path")
        p = Path(value).expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    authority = raw.get("authority") or {}
    for key in ("name", "dfe_code"):
        if key not in authority:
            raise ConfigError(f"config {cfg_path}: authority.{key} is required")
    paths = raw.get("paths") or {}
    unknown = set(paths) - _PATH_KEYS
    if unknown:
        raise ConfigError(f"config {cfg_path}: unknown key(s) paths.{sorted(unknown)}")
    defaults = {
        "data_dir": "../data/raw",
        "reference_dir": "../data/reference",
        "output_dir": "../outputs",
        "expectations_dir": "../expectations",
        "notebooks_dir": "../notebooks",
        "scenarios_dir": "scenarios",
    }
    resolved = {k: resolve(paths.get(k, v), k) for k, v in defaults.items()}

    from sendlib.schema import TABLES  # local import: schema is a leaf module

    tables: dict[str, TableSource] = {}
    for name, spec in (raw.get("tables") or {}).items():
        if name not in TABLES:
            raise ConfigError(
                f"config {cfg_path}: tables.{name} is not a canonical table; "
                f"expected one of {sorted(TABLES)}"
            )
        spec = spec or {}
        fmt = spec.get("format", "csv")
        if fmt not in _TABLE_FORMATS:
            raise ConfigError(
                f"config {cfg_path}: tables.{name}.format '{fmt}' is not one of {sorted(_TABLE_FORMATS)}"
            )
        unknown = set(spec) - {"format", "path", "sheet", "url_env", "query"}
        if unknown:
            raise ConfigError(f"config {cfg_path}: unknown key(s) tables.{name}.{sorted(unknown)}")
        if fmt == "sql":
            if not spec.get("url_env") or not spec.get("query"):
                raise ConfigError(f"config {cfg_path}: tables.{name} (sql) needs url_env and query")
            tables[name] = TableSource("sql", None, None, spec["url_env"], spec["query"])
        else:
            p = spec.get("path", f"{name}.{ {'csv': 'csv', 'parquet': 'parquet', 'excel': 'xlsx'}[fmt] }")
            path = Path(p).expanduser()
            path = path if path.is_absolute() else resolved["data_dir"] / path
            tables[name] = TableSource(fmt, path, spec.get("sheet"))

    targets: dict[str, KpiTarget] = {}
    for kpi, spec in (raw.get("kpi_targets") or {}).items():
        if not isinstance(spec, dict):
            raise ConfigError(f"config {cfg_path}: kpi_targets.{kpi} must be a mapping")
        unknown = set(spec) - _TARGET_KEYS
        if unknown:
            raise ConfigError(f"config {cfg_path}: unknown key(s) kpi_targets.{kpi}.{sorted(unknown)}")
        if spec.get("better") not in ("up", "down"):
            raise ConfigError(f"config {cfg_path}: kpi_targets.{kpi}.better must be 'up' or 'down'")
        try:
            targets[kpi] = KpiTarget(
                target=float(spec["target"]),
                better=spec["better"],
                tolerance=float(spec.get("tolerance", 0.0)),
                source=str(spec.get("source", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"config {cfg_path}: kpi_targets.{kpi}.target must be a number") from exc
        if targets[kpi].tolerance < 0:
            raise ConfigError(f"config {cfg_path}: kpi_targets.{kpi}.tolerance must be >= 0")

    supp = raw.get("suppression") or {}
    unknown = set(supp) - {"threshold", "min_denominator"}
    if unknown:
        raise ConfigError(f"config {cfg_path}: unknown key(s) suppression.{sorted(unknown)}")
    threshold = int(supp.get("threshold", 5))
    min_den = int(supp.get("min_denominator", 10))
    if threshold < 1 or min_den < 0:
        raise ConfigError(f"config {cfg_path}: suppression values must be positive")

    localities = authority.get("localities") or {}
    if not isinstance(localities, dict):
        raise ConfigError(f"config {cfg_path}: authority.localities must map code -> label")

    report = raw.get("report") or {}
    scenarios_dir = resolved["scenarios_dir"]
    return Config(
        path=cfg_path,
        authority_name=str(authority["name"]),
        dfe_code=str(authority["dfe_code"]),
        region=str(authority.get("region", "")),
        localities={str(k): str(v) for k, v in localities.items()},
        data_dir=resolved["data_dir"],
        reference_dir=resolved["reference_dir"],
        output_dir=resolved["output_dir"],
        expectations_dir=resolved["expectations_dir"],
        notebooks_dir=resolved["notebooks_dir"],
        scenarios_dir=scenarios_dir,
        tables=tables,
        kpi_targets=targets,
        suppression_threshold=threshold,
        min_denominator=min_den,
        report=dict(report),
        raw=raw,
    )
