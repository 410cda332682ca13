"""The DSG scenario explorer (``notebooks/08_dsg_scenario_explorer.ipynb``, docs/finance.md).

A finance officer moves the levers of a DSG scenario (demand growth adjustment, unit-cost
inflation, the INMSS price, new local places and their opening year, a schools block transfer,
each mitigation on or off with its start year, the high needs allocation growth) and sees the
cumulative DSG balance, its position at the end of the statutory override and in year 5, and the
invest-to-save payback, within a second. "Save as scenario" writes the settings as a named
scenario of a DSG scenario file, which ``sendlib scenarios --scenarios FILE`` reproduces exactly.

How it stays exact: the levers are turned into a scenario mapping (``extends:`` the template
scenario, only what changed written out), validated by the same reader as ``sendlib scenarios``
(:func:`sendlib.models.finance.parse_scenarios`) and priced by the same :func:`run_finance` on the
same demand (:func:`sendlib.models.chain.quarter_projection` and the placement cascade of the
scenario's sufficiency file). How it stays fast: the demand projection and each sufficiency
file's cascade are computed once, when the explorer starts; a lever only reruns the finance model.

Lever -> scenario file:

- ``placement_growth_adjustment_pct``, ``unit_cost_inflation_pct``, ``block_transfer_pct``,
  ``hnb_allocation_growth_pct``: the assumption's central value (its ``low``/``high`` move with it,
  keeping the Monte Carlo spread, clipped to the assumption's bounds);
- INMSS price: a ``unit_cost_change`` mitigation ``inmss_price`` on ``inmss`` from the first
  projected year (no investment; like every mitigation scaled by ``mitigation_delivery_pct``);
- new local places: an ``inmss_to_local`` mitigation ``explorer_local_places`` (children moved from
  INMSS into ``special_maintained`` places from the opening year, no investment);
- each mitigation of the template: ``enabled: false`` or its ``start_year``. When every
  ``local_places`` mitigation is off, the scenario takes the ``compare_to`` scenario's sufficiency
  file (the new places are not in the cascade).
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sendlib.core.errors import UsageError
from sendlib.core.quarters import Quarter, financial_year_label
from sendlib.models.finance import ASSUMPTIONS, FinanceResults, ScenarioFile, load_scenarios, parse_scenarios
from sendlib.models.finance.run import run_finance
from sendlib.models.projection import PlacementProjection

#: the scenario the explorer writes, unless named otherwise
DEFAULT_NAME = "explored"
#: assumption levers (name -> widget label)
ASSUMPTION_LEVERS = {
    "placement_growth_adjustment_pct": "Demand growth adj. (% a year)",
    "unit_cost_inflation_pct": "Unit-cost inflation (% a year)",
    "block_transfer_pct": "Schools block transfer (%)",
    "hnb_allocation_growth_pct": "Allocation growth (% a year)",
}
INMSS_PRICE = "inmss_price"
LOCAL_PLACES = "explorer_local_places"
LOCAL_PLACES_SETTING = "special_maintained"


@dataclass(frozen=True)
class Levers:
    """The explorer's settings. Years are financial-year labels ("2027-28")."""

    placement_growth_adjustment_pct: float = 0.0
    unit_cost_inflation_pct: float = 3.0
    block_transfer_pct: float = 0.0
    hnb_allocation_growth_pct: float = 3.0
    inmss_price_pct: float = 0.0
    local_places: int = 0
    local_places_year: str = ""
    #: template mitigation name -> (on, start year)
    mitigations: Mapping[str, tuple[bool, str]] = field(default_factory=dict)


@dataclass
class Figures:
    """What the explorer shows for one set of levers (money in whole pounds)."""

    scenario: str
    compare_to: str
    results: FinanceResults
    override_year: str
    override_gbp: int | None
    compare_override_gbp: int | None
    year5: str
    year5_gbp: int
    compare_year5_gbp: int
    payback_year: str
    investment_gbp: int
    seconds: float

    @property
    def comparison(self) -> pd.DataFrame:
        """The ``sendlib scenarios --format csv`` rows of the explored scenario."""
        c = self.results.comparison
        return c[c["scenario"] == self.scenario].reset_index(drop=True)


def _pounds(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{'-' if x < 0 else ''}£{abs(float(x)):,.0f}"


def _shift(raw: Mapping[str, Any], name: str, value: float, today: str) -> dict[str, Any]:
    """An assumption mapping with a new central value; ``low``/``high`` move by the same amount."""
    spec = ASSUMPTIONS[name]
    out = copy.deepcopy(dict(raw))
    old = float(out["value"])
    delta = float(value) - old
    out["value"] = float(value)
    lo_b = spec.min_value if spec.min_value is not None else float("-inf")
    hi_b = spec.max_value if spec.max_value is not None else float("inf")
    if out.get("low") is not None:
        out["low"] = min(max(float(out["low"]) + delta, lo_b), float(value))
    if out.get("high") is not None:
        out["high"] = max(min(float(out["high"]) + delta, hi_b), float(value))
    out["source"] = f"DSG scenario explorer: changed from {old:g} to {float(value):g} ({out.get('source', '')})"
    out["as_of"] = today
    return out


class Explorer:
    """Levers -> a validated scenario -> the finance model's figures, on demand computed once.

    Build with :meth:`from_config` (loads the data and projects demand, as ``sendlib scenarios``
    does), or directly from its inputs (tests).
    """

    def __init__(
        self,
        raw: Mapping[str, Any],
        scenario_path: str | Path,
        tables: Mapping[str, pd.DataFrame],
        quarter: Quarter | str,
        projection: PlacementProjection,
        sufficiency: Any,
        *,
        template: str = "mitigated",
        horizon: int = 5,
        draws: int = 2000,
        seed: int = 0,
    ) -> None:
        self.raw = copy.deepcopy(dict(raw))
        self.scenario_path = Path(scenario_path).expanduser().resolve()
        self.sf = parse_scenarios(self.raw, origin=str(self.scenario_path))
        if template not in self.sf.scenarios:
            raise UsageError(f"template scenario '{template}' is not in {self.scenario_path}")
        self.template = template
        self.tables = tables
        self.quarter = Quarter.parse(quarter)
        self.projection = projection
        self.sufficiency = sufficiency
        self.horizon = int(horizon)
        self.draws = int(draws)
        self.seed = int(seed)
        self._demand: dict[str, PlacementProjection] = {}
        self.years = [financial_year_label(self.quarter.fy_start + i) for i in range(self.horizon + 1)]

    # ----- construction ----------------------------------------------------------------------

    @classmethod
    def from_config(
        cls,
        config_path: str = "",
        quarter: str = "latest",
        data_dir: str = "",
        scenarios: str = "",
        *,
        template: str = "mitigated",
        horizon: int | None = None,
        draws: int = 2000,
        seed: int = 0,
    ) -> Explorer:
        """Load the data and project demand exactly as ``sendlib scenarios`` does (same defaults)."""
        from sendlib.core.config import load_config
        from sendlib.core.settings import read_yaml_mapping
        from sendlib.data.loaders import load_tables, resolve_quarter
        from sendlib.models import chain
        from sendlib.models.finance.demand import census_years_needed
        from sendlib.models.forecast.scenario import load_scenario
        from sendlib.models.sufficiency import load_scenario as load_sufficiency

        cfg = load_config(config_path or None).with_data_dir(data_dir or None)
        path = Path(cfg.scenario_file(scenarios, "dsg"))
        raw = read_yaml_mapping(path, "scenario file", UsageError)
        load_scenarios(path)  # validated before anything else
        h = int(horizon) if horizon is not None else cfg.report.horizon_years
        tables = load_tables(cfg, ("ehcp_plans", "placements", "population", "capacity", "hnb_budget", "dsg_income"))
        q = resolve_quarter(quarter, cfg, tables)
        projection = chain.quarter_projection(
            tables,
            q,
            load_scenario(cfg.scenario_file("", "forecast")),
            horizon_years=cfg.report.horizon_years,
            through_year=census_years_needed(q, h)[-1],
            seed=seed,
        )
        sufficiency = load_sufficiency(cfg.scenario_file("", "sufficiency"))
        ex = cls(raw, path, tables, q, projection, sufficiency, template=template, horizon=h, draws=draws, seed=seed)
        ex.warm()
        return ex

    def warm(self) -> None:
        """Compute every scenario's demand (each sufficiency file's cascade) once, and the figures once."""
        self._demand_for(self.sf, self.sf.names)
        self.figures(self.levers())

    # ----- levers -> scenario -----------------------------------------------------------------

    @property
    def compare_to(self) -> str:
        sc = self.sf.scenarios[self.template]
        return sc.compare_to or ("unmitigated" if "unmitigated" in self.sf.scenarios else self.template)

    def levers(self, scenario: str | None = None) -> Levers:
        """The levers as a scenario of the file sets them (default: the template)."""
        sc = self.sf.scenarios[scenario or self.template]
        first = self.years[1] if len(self.years) > 1 else self.years[0]
        return Levers(
            placement_growth_adjustment_pct=sc.value("placement_growth_adjustment_pct"),
            unit_cost_inflation_pct=sc.value("unit_cost_inflation_pct"),
            block_transfer_pct=sc.value("block_transfer_pct"),
            hnb_allocation_growth_pct=sc.value("hnb_allocation_growth_pct"),
            inmss_price_pct=0.0,
            local_places=0,
            local_places_year=first,
            mitigations={m.name: (True, financial_year_label(m.start_year)) for m in sc.mitigations},
        )

    @property
    def block_transfer_cap(self) -> float:
        return float(self.sf.block_transfer_cap.value)

    def scenario_body(self, levers: Levers, name: str = DEFAULT_NAME, today: str | None = None) -> dict[str, Any]:
        """The scenario mapping (as written to the file) for these levers."""
        today = today or dt.date.today().isoformat()
        tpl = self.sf.scenarios[self.template]
        first = self.years[1] if len(self.years) > 1 else self.years[0]
        body: dict[str, Any] = {
            "extends": self.template,
            "description": f"Saved from the DSG scenario explorer on {today} (template {self.template}).",
            "compare_to": self.compare_to,
        }
        assumptions: dict[str, Any] = {}
        for a in ASSUMPTION_LEVERS:
            v = float(getattr(levers, a))
            if abs(v - tpl.value(a)) < 1e-12:
                continue
            if a in tpl.assumptions:
                parent = tpl.assumptions[a]
                raw_a = {"value": parent.value, "source": parent.source, "as_of": parent.as_of}
                if parent.low is not None and parent.high is not None:
                    raw_a.update(low=parent.low, high=parent.high, distribution=parent.distribution)
            else:
                raw_a = {"value": tpl.value(a), "source": "neutral value"}
            assumptions[a] = _shift(raw_a, a, v, today)
        if assumptions:
            body["assumptions"] = assumptions
        mitigations: list[dict[str, Any]] = []
        local_on = False
        has_local = False
        for m in tpl.mitigations:
            on, start = levers.mitigations.get(m.name, (True, financial_year_label(m.start_year)))
            if m.kind == "local_places":
                has_local = True
                local_on = local_on or bool(on)
            if not on:
                mitigations.append({"name": m.name, "enabled": False})
            elif start != financial_year_label(m.start_year):
                mitigations.append({"name": m.name, "start_year": start})
        if levers.inmss_price_pct:
            mitigations.append(
                {
                    "name": INMSS_PRICE,
                    "kind": "unit_cost_change",
                    "description": "INMSS fees changed from the first projected year (DSG scenario explorer)",
                    "start_year": first,
                    "settings": ["inmss"],
                    "change_pct": float(levers.inmss_price_pct),
                    "source": "DSG scenario explorer: INMSS price lever",
                    "as_of": today,
                }
            )
        if levers.local_places:
            mitigations.append(
                {
                    "name": LOCAL_PLACES,
                    "kind": "inmss_to_local",
                    "description": "New local specialist places taking children from INMSS (DSG scenario explorer)",
                    "start_year": levers.local_places_year or first,
                    "places": {levers.local_places_year or first: int(levers.local_places)},
                    "to_setting": LOCAL_PLACES_SETTING,
                    "source": "DSG scenario explorer: new local places lever",
                    "as_of": today,
                }
            )
        if mitigations:
            body["mitigations"] = mitigations
        if has_local and not local_on:
            ref = self.sf.scenarios[self.compare_to].sufficiency_scenario
            body["sufficiency_scenario"] = (
                None
                if ref is None
                else {**ref.model_dump(), "file": str((self.scenario_path.parent / ref.file).resolve())}
            )
        return body

    def scenario_file(self, levers: Levers, name: str = DEFAULT_NAME, base: Mapping[str, Any] | None = None) -> dict:
        """The whole file mapping: ``base`` (default the explorer's file) plus the scenario ``name``."""
        raw = copy.deepcopy(dict(base if base is not None else self.raw))
        raw["scenarios"] = dict(raw.get("scenarios") or {})
        if name in self.sf.scenarios and base is None:
            raise UsageError(f"'{name}' is a scenario of {self.scenario_path} already; choose another name")
        raw["scenarios"][name] = self.scenario_body(levers, name)
        return raw

    def validate(self, levers: Levers, name: str = DEFAULT_NAME) -> ScenarioFile:
        """The file with the explored scenario, validated by the ``sendlib scenarios`` reader."""
        return parse_scenarios(self.scenario_file(levers, name), origin=str(self.scenario_path))

    # ----- computing --------------------------------------------------------------------------

    def _demand_for(self, sf: ScenarioFile, names: list[str]) -> dict[str, PlacementProjection]:
        from sendlib.models import chain
        from sendlib.models import sufficiency as suff

        out = {}
        folder = Path(sf.path).parent
        for n in names:
            ref = sf.scenarios[n].sufficiency_scenario
            key = "" if ref is None else str((folder / ref.file).resolve())
            if key not in self._demand:
                self._demand[key] = chain.finance_projections(
                    self.tables, self.projection, self.sufficiency, sf, self.quarter, [n]
                )[n]
            else:
                chosen = self.sufficiency if ref is None else suff.load_scenario(folder / ref.file)
                chain._check_local_places(n, sf.scenarios[n], chosen, self.quarter)
            out[n] = self._demand[key]
        return out

    def figures(self, levers: Levers, name: str = DEFAULT_NAME) -> Figures:
        """The finance model on these levers (raises UsageError when the levers are invalid)."""
        t0 = time.perf_counter()
        sf = self.validate(levers, name)
        ref = self.compare_to
        names = [n for n in sf.names if n in (ref, name)]  # file order, as the command runs them
        demand = self._demand_for(sf, names)
        res = run_finance(
            sf,
            demand,
            self.tables,
            self.quarter,
            horizon=self.horizon,
            draws=self.draws,
            seed=self.seed,
            scenarios=names,
        )
        c = res.comparison.set_index(["scenario", "financial_year"])["cumulative_balance_gbp"]
        fy5 = res.year5
        ov = res.override_end
        its = res.invest_to_save[res.invest_to_save["scenario"] == name]
        return Figures(
            scenario=name,
            compare_to=ref,
            results=res,
            override_year=ov,
            override_gbp=int(c[(name, ov)]) if (name, ov) in c.index else None,
            compare_override_gbp=int(c[(ref, ov)]) if (ref, ov) in c.index else None,
            year5=fy5,
            year5_gbp=int(c[(name, fy5)]),
            compare_year5_gbp=int(c[(ref, fy5)]),
            payback_year=str(its["payback_year"].iloc[0]) if not its.empty and its["payback_year"].iloc[0] else "",
            investment_gbp=int(its["cumulative_investment_gbp"].iloc[-1]) if not its.empty else 0,
            seconds=time.perf_counter() - t0,
        )

    # ----- saving -----------------------------------------------------------------------------

    def save(self, levers: Levers, path: str | Path, name: str = DEFAULT_NAME) -> Path:
        """Write the levers as scenario ``name`` of the DSG scenario file ``path``.

        An existing file gains (or replaces) the scenario; a new file starts as a copy of the
        explorer's scenario file. Sufficiency files are referred to relative to ``path``'s folder.
        The file is validated by the ``sendlib scenarios`` reader before and after writing.
        """
        from sendlib.core.settings import read_yaml_mapping

        target = Path(path).expanduser().resolve()
        base = read_yaml_mapping(target, "scenario file", UsageError) if target.exists() else self.raw
        if name in self.sf.scenarios:
            raise UsageError(f"'{name}' is a scenario of {self.scenario_path} already; choose another name")
        raw = self.scenario_file(levers, name, base=base)
        source_folder = self.scenario_path.parent if not target.exists() else target.parent
        for body in raw["scenarios"].values():
            ref = body.get("sufficiency_scenario") if isinstance(body, Mapping) else None
            if isinstance(ref, Mapping) and ref.get("file"):
                file = Path(ref["file"])
                absolute = file if file.is_absolute() else (source_folder / file).resolve()
                body["sufficiency_scenario"] = {**ref, "file": os.path.relpath(absolute, target.parent)}
        parse_scenarios(raw, origin=str(target))  # refuse before writing
        target.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(
            "# DSG scenario file written by the DSG scenario explorer (docs/finance.md).\n" + text, encoding="utf-8"
        )
        tmp.replace(target)
        load_scenarios(target)
        return target

    # ----- display ----------------------------------------------------------------------------

    def chart_png(self, fig: Figures) -> bytes:
        """The cumulative balance chart (both lines, the Monte Carlo band, the override marked) as PNG."""
        import matplotlib.pyplot as plt

        from sendlib.publish.plots.finance import cumulative_balance_chart

        res = fig.results
        chart = cumulative_balance_chart(
            res.comparison,
            res.fan,
            override_end=res.override_end,
            scenarios=[fig.compare_to, fig.scenario],
        )
        buf = io.BytesIO()
        chart.figure.set_size_inches(8, 4.5)
        chart.figure.savefig(buf, format="png", dpi=80, bbox_inches="tight")
        plt.close(chart.figure)
        return buf.getvalue()

    def summary_html(self, fig: Figures) -> str:
        """The figures as HTML; the year-5 figure carries ``class="dsg-year5"`` and ``data-gbp``."""
        ov_date = f"31 March {int(fig.override_year[:4]) + 1}"
        pay = (
            f"pays back in <b>{fig.payback_year}</b>"
            if fig.payback_year
            else ("does not pay back within the horizon" if fig.investment_gbp else "no investment")
        )
        return (
            '<div class="dsg-explorer-figures">'
            f"<p>Cumulative DSG balance at the end of the statutory override ({ov_date}): "
            f'<b class="dsg-override" style="white-space:nowrap" data-gbp="{fig.override_gbp}">{_pounds(fig.override_gbp)}</b> '
            f"({fig.compare_to}: {_pounds(fig.compare_override_gbp)})</p>"
            f"<p>Year 5 ({fig.year5}): "
            f'<b class="dsg-year5" style="white-space:nowrap" data-gbp="{fig.year5_gbp}">{_pounds(fig.year5_gbp)}</b> '
            f"({fig.compare_to}: {_pounds(fig.compare_year5_gbp)})</p>"
            f"<p>Invest to save: {_pounds(fig.investment_gbp)} invested, {pay}.</p>"
            f'<p style="color:#666">computed in {fig.seconds:.2f} s; {self.draws} Monte Carlo draws</p>'
            "</div>"
        )

    def ui(self, save_path: str | Path = "saved_scenarios.yaml", debounce_s: float = 0.25) -> Any:
        """The ipywidgets explorer: controls, chart, figures, "Save as scenario"."""
        import ipywidgets as w

        lv = self.levers()
        years = self.years[1:] or self.years
        style = {"description_width": "210px"}
        layout = w.Layout(width="480px")

        def slider(label: str, value: float, lo: float, hi: float, step: float) -> Any:
            return w.FloatSlider(
                value=value,
                min=lo,
                max=hi,
                step=step,
                description=label,
                continuous_update=False,
                style=style,
                layout=layout,
                readout_format=".1f",
            )

        controls: dict[str, Any] = {
            "placement_growth_adjustment_pct": slider(
                ASSUMPTION_LEVERS["placement_growth_adjustment_pct"], lv.placement_growth_adjustment_pct, -5, 10, 0.5
            ),
            "unit_cost_inflation_pct": slider(
                ASSUMPTION_LEVERS["unit_cost_inflation_pct"], lv.unit_cost_inflation_pct, 0, 10, 0.5
            ),
            "inmss_price_pct": slider("INMSS price change (%)", 0.0, -20, 20, 1),
            "local_places": w.IntSlider(
                value=0,
                min=0,
                max=200,
                step=4,
                description="New local places (from INMSS)",
                continuous_update=False,
                style=style,
                layout=layout,
            ),
            "local_places_year": w.Dropdown(
                options=years, value=years[0], description="Places open in", style=style, layout=layout
            ),
            "block_transfer_pct": slider(
                ASSUMPTION_LEVERS["block_transfer_pct"], lv.block_transfer_pct, 0, self.block_transfer_cap, 0.1
            ),
            "hnb_allocation_growth_pct": slider(
                ASSUMPTION_LEVERS["hnb_allocation_growth_pct"], lv.hnb_allocation_growth_pct, -2, 10, 0.5
            ),
        }
        for c, key in ((controls["inmss_price_pct"], "inmss_price_pct"),):
            c.add_class(f"dsg-{key.replace('_', '-')}")
        mit_controls: dict[str, tuple[Any, Any]] = {}
        for mname, (on, start) in lv.mitigations.items():
            opts = list(dict.fromkeys([*years, start]))
            mit_controls[mname] = (
                w.Checkbox(
                    value=on,
                    description=f"Mitigation {mname}",
                    indent=False,
                    layout=w.Layout(width="290px", margin="0 0 0 20px"),
                ),
                w.Dropdown(
                    options=opts,
                    value=start,
                    description="from",
                    style={"description_width": "40px"},
                    layout=w.Layout(width="170px"),
                ),
            )
        name_box = w.Text(value=DEFAULT_NAME, description="Scenario name", style=style, layout=layout)
        path_box = w.Text(value=str(save_path), description="Scenario file", style=style, layout=layout)
        save_button = w.Button(description="Save as scenario", button_style="primary")
        status = w.HTML()
        figures = w.HTML()
        image = w.Image(format="png")
        figures.add_class("dsg-figures")
        status.add_class("dsg-status")

        def current() -> Levers:
            return replace(
                lv,
                **{k: (int(c.value) if k == "local_places" else c.value) for k, c in controls.items()},
                mitigations={k: (bool(cb.value), dd.value) for k, (cb, dd) in mit_controls.items()},
            )

        def update() -> None:
            try:
                fig = self.figures(current(), name_box.value or DEFAULT_NAME)
            except UsageError as exc:
                status.value = f'<span style="color:#b00">{exc}</span>'
                return
            image.value = self.chart_png(fig)
            figures.value = self.summary_html(fig)
            status.value = ""

        debounced = _debounce(update, debounce_s)

        def on_save(_: Any) -> None:
            try:
                written = self.save(current(), path_box.value, name_box.value or DEFAULT_NAME)
            except UsageError as exc:
                status.value = f'<span style="color:#b00">{exc}</span>'
                return
            status.value = (
                f"Saved scenario <b>{name_box.value}</b> to <code>{written}</code>: "
                f"<code>sendlib scenarios --scenarios {written} --format csv</code> reproduces it."
            )

        for c in controls.values():
            c.observe(lambda _change: debounced(), names="value")
        for cb, dd in mit_controls.values():
            cb.observe(lambda _change: debounced(), names="value")
            dd.observe(lambda _change: debounced(), names="value")
        save_button.on_click(on_save)
        update()
        left = w.VBox(
            [
                *controls.values(),
                *[w.HBox([cb, dd]) for cb, dd in mit_controls.values()],
                name_box,
                path_box,
                save_button,
            ],
            layout=w.Layout(width="500px"),
        )
        right = w.VBox([image, figures], layout=w.Layout(width="660px"))
        return w.VBox([w.HBox([left, right], layout=w.Layout(flex_flow="row wrap")), status])


def _debounce(fn: Callable[[], None], wait_s: float) -> Callable[[], None]:
    """Call ``fn`` once, ``wait_s`` after the last of a burst of calls (on the kernel's event loop;
    immediately when there is no running loop)."""
    import asyncio

    handle: list[Any] = [None]

    def call() -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            try:
                loop = asyncio.get_event_loop()
            except RuntimeError:
                loop = None
        if loop is None or not loop.is_running() or wait_s <= 0:
            fn()
            return
        if handle[0] is not None:
            handle[0].cancel()
        handle[0] = loop.call_later(wait_s, fn)

    return call
