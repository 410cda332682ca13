"""Great Expectations suites: built from the declared rules, committed as a GX file project in
``expectations/`` (``python -m sendlib.quality build``) and read back for validation."""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from sendlib.core.config import PROJECT_ROOT
from sendlib.core.errors import ConfigError
from sendlib.core.gx import import_gx, project_config
from sendlib.core.schema import TABLES
from sendlib.quality.rules import declare_rules
from sendlib.quality.settings import CHECKPOINT, DATASOURCE, RESULT_FORMAT, SCHEMA, VOLUME, QualitySettings


def suite_name(table: str) -> str:
    return f"{table}_suite"


def build_suites(settings: QualitySettings | None = None) -> dict[str, Any]:
    """GX ``ExpectationSuite`` per validated frame, from :func:`declare_rules`."""
    gx = import_gx()
    suites = {}
    for table, rules in declare_rules(settings).items():
        desc = (
            TABLES[table].description
            if table in TABLES
            else {
                VOLUME: "Rows per quarter per table: volume and continuity.",
                SCHEMA: "Column dtypes per table against the schema kinds.",
            }[table]
        )
        suites[table] = gx.ExpectationSuite(
            name=suite_name(table), expectations=[r.to_gx() for r in rules], meta={"table": table, "notes": desc}
        )
    return suites


def _register(context: Any, suites: Mapping[str, Any]) -> dict[str, Any]:
    """Datasource, one dataframe asset + whole-frame batch definition, suite and validation
    definition per frame, and one checkpoint per frame (each runs with its own dataframe)."""
    gx = import_gx()
    ds = context.data_sources.add_or_update_pandas(name=DATASOURCE)
    vds = {}
    for table, suite in suites.items():
        asset = ds.add_dataframe_asset(name=table)
        bd = asset.add_batch_definition_whole_dataframe(name=f"{table}_whole")
        suite = context.suites.add(suite)
        vd = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{table}_validation", data=bd, suite=suite)
        )
        vds[table] = vd
    checkpoints = {}
    for table, vd in vds.items():
        checkpoints[table] = context.checkpoints.add(
            gx.Checkpoint(
                name=f"{CHECKPOINT}__{table}", validation_definitions=[vd], actions=[], result_format=RESULT_FORMAT
            )
        )
    return checkpoints


def build_project(expectations_dir: str | Path | None = None, settings: QualitySettings | None = None) -> Path:
    """(Re)generate the committed GX file project in ``expectations_dir`` (default ``expectations/``).

    Writes ``great_expectations.yml``, one suite per table in ``expectations/``, one validation
    definition and one checkpoint per table. Ids are made deterministic (uuid5 of where each first
    appears) so regenerating unchanged declarations gives identical files.
    """
    gx = import_gx()
    target = Path(expectations_dir) if expectations_dir else PROJECT_ROOT / "expectations"
    suites = build_suites(settings)
    with tempfile.TemporaryDirectory() as tmp:
        context = gx.get_context(mode="file", project_root_dir=tmp)
        root = Path(tmp) / "gx"
        context.variables.progress_bars = project_config(None, in_memory=False).progress_bars
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


def _deterministic_ids(texts: Mapping[str, str]) -> dict[str, str]:
    import re

    pattern = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    mapping: dict[str, str] = {}
    ns = uuid.UUID("6f1d8a52-3c1e-4a53-9a55-5e4d0c2b7a10")
    for rel in sorted(texts):
        for _i, m in enumerate(pattern.finditer(texts[rel])):
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


def committed_suites(expectations_dir: str | Path) -> dict[str, dict]:
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
    gx = import_gx()
    folder = expectations_dir / "expectations"
    mtimes = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.json"))) if folder.is_dir() else ()
    data = _load_suite_json(str(expectations_dir), mtimes)
    suites = {}
    for table in tables:
        if table not in data:
            raise ConfigError(
                f"no committed suite for table '{table}' in {folder}: run `python -m sendlib.quality build`"
            )
        d = normalise_suite(data[table])
        n = len(d.get("expectations", []))
        suite = gx.ExpectationSuite(**d)
        if len(suite.expectations) != n:
            raise ConfigError(f"committed suite {folder / (suite_name(table) + '.json')} has an invalid expectation")
        suites[table] = suite
    return suites
