"""What a notebook's first code cell calls: one context with config, quarter, tables, publish.

Notebooks are thin: ``ctx = sendlib.notebook.setup(quarter=quarter, config_path=config_path,
data_dir=data_dir, tables_dir=tables_dir, validated=validated, run_cache=run_cache,
notebook="kpi_dashboard")`` then one ``sendlib`` call per section. In a report run,
``run_cache`` names the run's private cache (:mod:`sendlib.report.runcache`): the tables come from it
as the report loaded and validated them, and costly shared results (``ctx.projection``) are
computed once per run and shared between notebooks. ``ctx.publish`` is the only way a notebook
writes a table: it refuses identifying columns, applies small-number suppression, and writes a
deterministic, formula-safe CSV. ``ctx.show`` is the only way a notebook shows one on a page: a
board table (:mod:`sendlib.publish.tables`), ``ctx.show(ctx.publish(df, "name"))``.

This module is part of the report layer (it knows the run cache); the models it calls never
import it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sendlib.core.config import Config, load_config
from sendlib.core.quarters import Quarter
from sendlib.core.schema import TABLES
from sendlib.data.loaders import load_tables, resolve_quarter
from sendlib.publish.disclosure import suppress_table
from sendlib.publish.sanitise import neutralise_frame
from sendlib.publish.tables import board_table
from sendlib.report import runcache

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

    from sendlib.models import chain
    from sendlib.models.projection import PlacementProjection


@dataclass
class NotebookContext:
    """A notebook's run: config, reporting quarter, canonical tables, and where tables go."""

    config: Config
    quarter: Quarter
    tables: Mapping[str, pd.DataFrame]
    tables_dir: Path | None = None
    notebook: str = ""
    published: list[Path] = field(default_factory=list)
    run_cache: Path | None = None

    def validation_report(self) -> Any:
        """The quality gate's :class:`~sendlib.quality.gate.ValidationReport` for these tables: the
        report run's own result when there is one (not validated twice), else a fresh validation."""
        stored = runcache.load_validation(self.run_cache)
        if stored is not None:
            return stored
        from sendlib.quality.gate import validate_tables

        return validate_tables(self.config, self.tables)

    def projection(
        self,
        *,
        years: int | None = None,
        through_year: int | None = None,
        scenario: str | Path = "",
        sims: int | None = None,
        seed: int | None = None,
        overflow: bool = False,
        sufficiency_scenario: str | Path = "",
    ) -> PlacementProjection:
        """The quarter's person-level projection (:func:`sendlib.models.chain.quarter_projection`),
        the same one in every section of a report run.

        ``years`` (censuses after the latest observed) or ``through_year`` choose the years kept;
        ``scenario`` / ``sufficiency_scenario`` name scenario files (empty: the config's);
        ``overflow`` moves demand local places cannot meet to INMSS (what finance prices). In a
        report run the projection and its overflow are computed once and kept in the run cache;
        when the report allows reuse, a projection an earlier run made from the same tables,
        settings and code is taken (the simulations are seeded, so it is the same projection).
        """
        from sendlib.models import chain
        from sendlib.models.forecast.scenario import load_scenario
        from sendlib.models.sufficiency import load_scenario as load_sufficiency

        forecast = load_scenario(self.config.scenario_file(scenario, "forecast"))
        spill = load_sufficiency(self.config.scenario_file(sufficiency_scenario, "sufficiency")) if overflow else None
        return chain.quarter_projection(
            self.tables,
            self.quarter,
            forecast,
            horizon_years=self.config.report.horizon_years,
            years=years,
            through_year=through_year,
            sims=sims,
            seed=seed,
            overflow=spill,
            memo=self._memo(),
        )

    def _memo(self) -> chain.Memo:
        """Results kept in the run cache (and the reuse store), keyed by their parts plus, for
        reuse between runs, the input tables' contents and the chain's code."""
        import functools

        from sendlib.core.fingerprint import code_fingerprint, tables_fingerprint
        from sendlib.models import chain

        @functools.cache
        def inputs() -> dict[str, str]:
            used = {k: self.tables[k] for k in sorted(self.tables) if k in chain.INPUT_TABLES}
            return {"tables": tables_fingerprint(used), "code": code_fingerprint(*chain.CODE)}

        def memo(name: str, parts: Mapping[str, Any], compute: Any) -> Any:
            return runcache.cached(self.run_cache, name, parts, compute, reusable=inputs)

        return memo

    @property
    def output_folder(self) -> Path | None:
        """The report folder (parent of ``tables_dir``) where workbooks go; None outside a report."""
        return self.tables_dir.parent if self.tables_dir is not None else None

    def show(self, df: pd.DataFrame, **options: Any) -> Styler:
        """The one way a notebook shows a table on a page: :func:`sendlib.publish.tables.board_table`
        (plain-English headers with units, no index, rounded numbers, code names), with the
        config's locality names. ``options`` are ``board_table``'s (``columns``, ``labels``,
        ``kind``, ``codes``...). Show a published table as ``ctx.show(ctx.publish(df, "name"))``.
        """
        codes = {"locality": dict(self.config.localities), **(options.pop("codes", None) or {})}
        return board_table(df, codes=codes, **options)

    def publish(
        self,
        df: pd.DataFrame,
        name: str,
        counts: Sequence[str] = (),
        percentages: Mapping[str, str | tuple[str, str]] | None = None,
        secondary_groups: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Suppress small numbers in an aggregate table and, in a report run, write it as CSV.

        Returns the suppressed frame (display that, not the raw one). Raises ValueError if the
        frame has an identifying column (person id, birth month, record ids).
        """
        identifying = {c.name for t in TABLES.values() for c in t.columns if c.identifying}
        leaked = sorted(identifying & set(map(str, df.columns)))
        if leaked:
            raise ValueError(f"refusing to publish '{name}': identifying column(s) {leaked}")
        safe = suppress_table(
            df,
            counts=counts,
            percentages=percentages,
            threshold=self.config.suppression_threshold,
            min_denominator=self.config.min_denominator,
            secondary_groups=secondary_groups,
        )
        if self.tables_dir is not None:
            self.tables_dir.mkdir(parents=True, exist_ok=True)
            stem = f"{self.notebook}__{name}" if self.notebook else name
            path = self.tables_dir / f"{stem}.csv"
            neutralise_frame(safe).to_csv(path, index=False, lineterminator="\n", float_format="%.6g")
            self.published.append(path)
        return safe


def setup(
    quarter: str = "latest",
    config_path: str = "",
    data_dir: str = "",
    tables_dir: str = "",
    validated: bool = False,
    notebook: str = "",
    tables: Sequence[str] | None = None,
    run_cache: str = "",
) -> NotebookContext:
    """Load config and tables, check data quality unless the report already did, set the style.

    Parameters mirror the notebook's parameters cell; empty strings mean "the default". With a
    ``run_cache`` (set by ``sendlib report``) the tables are the report's validated copies.
    Raises :class:`sendlib.core.errors.ValidationFailed` before anything is written when the data
    fail the quality gate.
    """
    cfg = load_config(config_path or None).with_data_dir(data_dir or None)
    cached = runcache.load_tables(run_cache, list(tables) if tables is not None else None)
    loaded = cached if cached is not None else load_tables(cfg, tables)
    if not validated:
        from sendlib.quality.gate import assert_valid  # the gate; imported only when needed

        assert_valid(cfg, loaded)
    q = resolve_quarter(quarter, cfg, loaded if tables is None else None)
    from sendlib.publish.plots.style import apply_house_style

    apply_house_style()
    return NotebookContext(
        config=cfg,
        quarter=q,
        tables=loaded,
        tables_dir=Path(tables_dir).resolve() if tables_dir else None,
        notebook=notebook,
        run_cache=Path(run_cache) if run_cache else None,
    )
