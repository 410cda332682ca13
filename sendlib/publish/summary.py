"""The executive summary at the top of the board pack's ``index.html``.

Five things a board member needs before the meeting, built only from the pack's own published
tables (``tables/*.csv``, the suppressed tables the sections wrote, machine column names), so the
summary always agrees with the sections and never shows a number the sections withheld:

1. the headline KPIs with a board target: RAG (written as a word, not only a colour) and movement
   since the previous quarter (``02_kpi_dashboard__kpis``);
2. the EHC plans projected at the last census of the forecast, with the 80% interval
   (``04_ehcp_demand_forecast__total``), beside the plans in force now (K4);
3. the first January census at which a specialist phase has more projected demand (median) than
   local places (``05_placement_sufficiency__demand_vs_capacity_by_phase``, first scenario);
4. the cumulative DSG balance when the statutory override ends, per scenario, with the Monte Carlo
   10th-90th percentile range (``06_high_needs_dsg__statutory_override_position``; the date comes
   from the DSG scenario file through that table);
5. the same in the final (year-5) financial year (``06_high_needs_dsg__comparison``).

Plus "what changed since the previous quarter's pack" when that pack's tables are given: RAG
changes, the projection, the first shortfall year, the DSG positions, and tables added or dropped.

A section that failed, was not run or did not publish its table gives a line saying so, never an
exception. Three steps, each pure except the first: :func:`read_tables` (a pack's CSVs) ->
:func:`pack_facts` (typed figures) -> :func:`build_summary` (items and changes) ->
:func:`render_html` (escaped HTML for the index template).
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sendlib.core.schema import PHASE
from sendlib.models.kpi import HEADLINE_KPIS
from sendlib.publish.narrative import SUBJECTS, format_value

LOG = logging.getLogger("sendlib.publish.summary")

KPI_SECTION = "02_kpi_dashboard"
FORECAST_SECTION = "04_ehcp_demand_forecast"
SUFFICIENCY_SECTION = "05_placement_sufficiency"
FINANCE_SECTION = "06_high_needs_dsg"

#: summary item -> (section stem, table name): the published table each item is built from
SOURCES: Mapping[str, tuple[str, str]] = {
    "kpis": (KPI_SECTION, "kpis"),
    "plans": (FORECAST_SECTION, "total"),
    "places": (SUFFICIENCY_SECTION, "demand_vs_capacity_by_phase"),
    "override": (FINANCE_SECTION, "statutory_override_position"),
    "year5": (FINANCE_SECTION, "comparison"),
}

#: the columns each item needs from its table
REQUIRED: Mapping[str, tuple[str, ...]] = {
    "kpis": ("kpi", "name", "value", "unit", "rag", "change", "better"),
    "plans": ("year", "median", "lower_80", "upper_80"),
    "places": ("year", "phase", "gap_median"),
    "override": ("scenario", "financial_year", "cumulative_balance_gbp"),
    "year5": ("scenario", "financial_year", "cumulative_balance_gbp"),
}

TITLES: Mapping[str, str] = {
    "kpis": "Headline KPIs",
    "plans": "EHC plans in five years",
    "places": "Specialist places",
    "override": "DSG position when the statutory override ends",
    "year5": "DSG position in year 5",
}

RAGS = ("red", "amber", "green")


def table_key(section: str, name: str) -> str:
    """The file stem a section's table is published under: ``02_kpi_dashboard__kpis``."""
    return f"{section}__{name}"


# ----- typed figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiFigure:
    """One rated headline KPI as published: value and change as shown (``"<5"`` stays ``"<5"``)."""

    kpi: str
    name: str
    value: str  # formatted, e.g. "54%"; "not published" when withheld
    rag: str  # red | amber | green
    movement: str  # "down 4.5 points on the previous quarter (worse)"
    direction: str  # better | worse | same | unknown | context


@dataclass(frozen=True)
class Interval:
    """A projected count with its 80% interval, as published (strings when suppressed)."""

    year: int
    median: float | str
    lower_80: float | str
    upper_80: float | str


@dataclass(frozen=True)
class Shortfall:
    """When local specialist places first run short of projected demand (median)."""

    scenario: str
    first_year: int | None  # None: no phase runs short in the projection
    phases: tuple[str, ...]  # phase codes short in ``first_year``
    last_year: int  # the projection's last census
    final_gap: float  # sum of positive median gaps at ``last_year``


@dataclass(frozen=True)
class DsgPosition:
    """One scenario's cumulative DSG balance at one point (negative = deficit), £."""

    scenario: str
    financial_year: str
    date: str  # "" when the table gives none
    balance: float | None
    p10: float | None
    p90: float | None


@dataclass(frozen=True)
class PackFacts:
    """The figures of one pack the summary is made from; a missing figure has a reason instead."""

    kpis: tuple[KpiFigure, ...] | None = None
    plans_in_force: str | None = None  # K4, formatted, when published
    plans: Interval | None = None
    plans_years: int = 0  # how many censuses the forecast covers
    places: Shortfall | None = None
    override: tuple[DsgPosition, ...] | None = None
    year5: tuple[DsgPosition, ...] | None = None
    year5_index: int = 0  # which year after the base year the final one is
    missing: Mapping[str, str] = field(default_factory=dict)  # item -> why it has no figure
    tables: tuple[str, ...] = ()  # the table stems published


@dataclass(frozen=True)
class Section:
    """A section of the run as the index lists it."""

    title: str
    href: str | None  # the page, relative to the index; None when none was written
    status: str  # ok | failed


@dataclass(frozen=True)
class SummaryItem:
    """One of the five lines: plain English, the section page it summarises, and any sub-lines."""

    key: str
    title: str
    text: str
    section: str  # stem of the section
    section_title: str
    href: str | None
    available: bool  # False: the line says why there is no figure
    details: tuple[KpiFigure, ...] = ()


@dataclass(frozen=True)
class ExecutiveSummary:
    """What the index shows at its top."""

    quarter: str
    items: tuple[SummaryItem, ...]
    previous_quarter: str | None = None
    changes: tuple[str, ...] | None = None  # None: there is no previous pack to compare with


# ----- reading --------------------------------------------------------------------------------------


def read_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Every ``*.csv`` in a pack's ``tables/`` folder by file stem; an unreadable file is left out
    (its item then says the table is missing) and logged."""
    out: dict[str, pd.DataFrame] = {}
    for path in sorted(Path(folder).glob("*.csv")):
        try:
            out[path.stem] = pd.read_csv(path, encoding="utf-8")
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            LOG.warning("summary: could not read %s: %s", path.name, exc)
    return out


# ----- numbers --------------------------------------------------------------------------------------


def _number(value: object) -> float | None:
    """A published cell as a number; None for blank, ``"<5"`` and other withheld text."""
    if value is None or isinstance(value, bool):
        return None
    try:
        v = float(str(value).replace(",", "")) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _count(value: float | str | None) -> str:
    """A published count for a sentence: ``12,345``; suppressed text (``<5``) as published."""
    n = _number(value)
    if n is None:
        text = "" if value is None else str(value).strip()
        return text if text and text.lower() != "nan" else "not published"
    return f"{n:,.0f}"


def _money(value: float | None) -> str:
    return "no figure" if value is None else format_value(abs(value), "£")


def _balance(value: float | None) -> str:
    """``a deficit of £128.7m`` / ``a surplus of £2.0m`` / ``a balance of £0``."""
    if value is None:
        return "not published"
    if value < 0:
        return f"a deficit of {_money(value)}"
    if value > 0:
        return f"a surplus of {_money(value)}"
    return "a balance of £0"


def _range(p10: float | None, p90: float | None) -> str:
    if p10 is None or p90 is None or p10 == p90:
        return ""
    lo, hi = sorted((p10, p90))
    if hi < 0:  # both deficits: the smaller first
        return f" (80% range: a deficit of {_money(hi)} to {_money(lo)})"
    if lo > 0:
        return f" (80% range: a surplus of {_money(lo)} to {_money(hi)})"
    return f" (80% range {_signed(lo)} to {_signed(hi)})"


def _signed(value: float) -> str:
    return ("-" if value < 0 else "") + _money(value)


def _phase(code: str) -> str:
    return PHASE.get(code, str(code).replace("_", " ")).split(" (")[0].lower()


def _scenario(name: str) -> str:
    return str(name).replace("_", " ")


def _join(words: Sequence[str]) -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


# ----- facts from tables ----------------------------------------------------------------------------


def _movement(change: float | None, unit: str, better: str) -> tuple[str, str]:
    if change is None:
        return "no comparable figure for the previous quarter", "unknown"
    if change == 0 or format_value(abs(change), unit) in ("0%", "0.0%", "0", "£0"):
        return "no change on the previous quarter", "same"
    verb = "up" if change > 0 else "down"
    size = f"{abs(change):.1f} points" if unit == "%" else format_value(abs(change), unit)
    if better in ("up", "down"):
        good = (change > 0) == (better == "up")
        direction = "better" if good else "worse"
        return f"{verb} {size} on the previous quarter ({direction})", direction
    return f"{verb} {size} on the previous quarter", "context"


def _kpis(frame: pd.DataFrame) -> tuple[tuple[KpiFigure, ...], str | None]:
    order = {k: i for i, k in enumerate(HEADLINE_KPIS)}
    rows = frame[frame["kpi"].astype(str).isin(order)]
    rows = rows[rows["rag"].astype(str).str.lower().isin(RAGS)]
    rows = rows.assign(_order=rows["kpi"].map(order)).sort_values("_order")
    figures = []
    for _, r in rows.iterrows():
        unit = str(r["unit"])
        value = _number(r["value"])
        movement, direction = _movement(_number(r["change"]), unit, str(r["better"]))
        figures.append(
            KpiFigure(
                kpi=str(r["kpi"]),
                name=SUBJECTS.get(str(r["kpi"]), str(r["name"])),
                value="not published (small numbers)" if value is None else format_value(value, unit),
                rag=str(r["rag"]).lower(),
                movement=movement,
                direction=direction,
            )
        )
    k4 = frame[frame["kpi"].astype(str) == "K4"]
    in_force = _count(k4["value"].iloc[0]) if len(k4) else None
    return tuple(figures), in_force


def _plans(frame: pd.DataFrame) -> tuple[Interval, int]:
    rows = frame.assign(_year=pd.to_numeric(frame["year"], errors="coerce")).dropna(subset=["_year"])
    rows = rows.sort_values("_year")
    last = rows.iloc[-1]
    interval = Interval(int(last["_year"]), last["median"], last["lower_80"], last["upper_80"])
    return interval, len(rows)


def _places(frame: pd.DataFrame) -> Shortfall:
    rows = frame
    scenario = ""
    if "scenario" in frame.columns and len(frame):
        scenario = str(frame["scenario"].iloc[0])
        rows = frame[frame["scenario"].astype(str) == scenario]
    gap = rows["gap_median"].map(_number)
    years = pd.to_numeric(rows["year"], errors="coerce")
    short = rows[(gap > 0).fillna(False).to_numpy(bool)]
    last_year = int(years.max())
    final_gap = float(gap[(years == last_year).to_numpy(bool)].clip(lower=0).sum())
    if short.empty:
        return Shortfall(scenario, None, (), last_year, final_gap)
    first = int(pd.to_numeric(short["year"]).min())
    phases = tuple(dict.fromkeys(short.loc[pd.to_numeric(short["year"]) == first, "phase"].astype(str)))
    order = {p: i for i, p in enumerate(PHASE)}
    phases = tuple(sorted(phases, key=lambda p: order.get(p, len(order))))
    return Shortfall(scenario, first, phases, last_year, final_gap)


def _positions(frame: pd.DataFrame, last_only: bool) -> tuple[tuple[DsgPosition, ...], int]:
    out = []
    index = 0
    for scenario, rows in frame.groupby(frame["scenario"].astype(str), sort=False):
        rows = rows.sort_values("financial_year")
        index = max(index, len(rows) - 1)
        r = rows.iloc[-1] if last_only else rows.iloc[0]
        out.append(
            DsgPosition(
                scenario=scenario,
                financial_year=str(r["financial_year"]),
                date=str(r["date"]) if "date" in rows.columns and pd.notna(r["date"]) else "",
                balance=_number(r["cumulative_balance_gbp"]),
                p10=_number(r.get("cumulative_balance_p10_gbp")),
                p90=_number(r.get("cumulative_balance_p90_gbp")),
            )
        )
    return tuple(out), index


def pack_facts(tables: Mapping[str, pd.DataFrame]) -> PackFacts:
    """The summary's figures from a pack's published tables (keyed by file stem).

    A missing table, a table without the columns an item needs or one with no rows leaves that
    item's figure None, with the reason in ``missing``.
    """
    missing: dict[str, str] = {}
    frames: dict[str, pd.DataFrame] = {}
    for key, (section, name) in SOURCES.items():
        stem = table_key(section, name)
        frame = tables.get(stem)
        if frame is None:
            missing[key] = f"the table {stem}.csv was not published in this pack"
            continue
        lacking = [c for c in REQUIRED[key] if c not in frame.columns]
        if lacking:
            missing[key] = f"the table {stem}.csv has no column {', '.join(lacking)}"
        elif frame.empty:
            missing[key] = f"the table {stem}.csv has no rows"
        else:
            frames[key] = frame
    facts: dict[str, object] = {}
    if "kpis" in frames:
        facts["kpis"], facts["plans_in_force"] = _kpis(frames["kpis"])
    if "plans" in frames:
        facts["plans"], facts["plans_years"] = _plans(frames["plans"])
    if "places" in frames:
        facts["places"] = _places(frames["places"])
    if "override" in frames:
        facts["override"], _ = _positions(frames["override"], last_only=False)
    if "year5" in frames:
        facts["year5"], facts["year5_index"] = _positions(frames["year5"], last_only=True)
    return PackFacts(**facts, missing=missing, tables=tuple(sorted(tables)))  # type: ignore[arg-type]


# ----- the five lines -------------------------------------------------------------------------------


def _kpi_text(kpis: tuple[KpiFigure, ...]) -> str:
    if not kpis:
        return "No headline KPI has a board target (and so a RAG rating) this quarter."
    counts = {rag: sum(k.rag == rag for k in kpis) for rag in RAGS}
    rated = _join([f"{counts[rag]} {rag}" for rag in RAGS if counts[rag]])
    better = sum(k.direction == "better" for k in kpis)
    worse = sum(k.direction == "worse" for k in kpis)
    return (
        f"Of the {len(kpis)} headline KPIs with a board target, {rated}. Since the previous quarter "
        f"{better} moved the right way and {worse} the wrong way."
    )


def _plans_text(plans: Interval, years: int, in_force: str | None) -> str:
    now = f", against {in_force} in force at the end of this quarter" if in_force else ""
    span = f", the last census of the {years}-year forecast" if years > 1 else ""
    return (
        f"{_count(plans.median)} children and young people are projected to have an EHC plan in "
        f"January {plans.year}{span} (80% interval {_count(plans.lower_80)} to {_count(plans.upper_80)})"
        f"{now}."
    )


def _places_text(places: Shortfall, threshold: int) -> str:
    if places.first_year is None:
        return (
            f"No specialist phase runs out of local places by January {places.last_year}: projected "
            "demand (median) stays within the places in force, including the approved pipeline."
        )
    phases = _join([_phase(p) for p in places.phases])
    gap = places.final_gap
    size = f"fewer than {threshold}" if 0 < gap < threshold else f"{gap:,.0f}"
    return (
        f"Local specialist places first run out in January {places.first_year}: projected demand "
        f"(median) is above the places in force for {phases}. By January {places.last_year} the "
        f"shortfall is {size} places in total across the phases that are short."
    )


def _dsg_text(positions: tuple[DsgPosition, ...], when: str) -> str:
    parts = [f"{_balance(p.balance)} {_scenario(p.scenario)}{_range(p.p10, p.p90)}" for p in positions]
    return f"{when}, the cumulative DSG balance is projected at " + "; ".join(parts) + "."


def _override_when(positions: tuple[DsgPosition, ...]) -> str:
    first = positions[0]
    if first.date:
        day = pd.Timestamp(first.date)
        return f"When the statutory override ends on {day.day} {day:%B %Y} (end of {first.financial_year})"
    return f"When the statutory override ends (end of {first.financial_year})"


def build_summary(
    quarter: str,
    facts: PackFacts,
    sections: Mapping[str, Section],
    *,
    threshold: int = 5,
    previous: PackFacts | None = None,
    previous_quarter: str | None = None,
) -> ExecutiveSummary:
    """The five lines (and the changes since ``previous``, when given) for ``quarter``'s pack.

    ``sections`` maps each section's stem to its title, page and status: a failed section's line
    says it failed; a section absent from it was not run in this pack. ``threshold`` is the
    suppression threshold (a summed figure below it is written "fewer than N").
    """
    items = []
    for key, (stem, _) in SOURCES.items():
        sec = sections.get(stem)
        title = sec.title if sec else stem
        href = sec.href if sec else None
        text: str | None = None
        details: tuple[KpiFigure, ...] = ()
        if sec is None:
            text = f"The section {stem} was not run in this pack, so there is no figure."
        elif sec.status != "ok":
            text = f"The section \u201c{sec.title}\u201d failed in this run, so its figure is not summarised here."
        elif key in facts.missing:
            text = f"No figure: {facts.missing[key]}."
        elif key == "kpis" and facts.kpis is not None:
            text, details = _kpi_text(facts.kpis), facts.kpis
        elif key == "plans" and facts.plans is not None:
            text = _plans_text(facts.plans, facts.plans_years, facts.plans_in_force)
        elif key == "places" and facts.places is not None:
            text = _places_text(facts.places, threshold)
        elif key == "override" and facts.override:
            text = _dsg_text(facts.override, _override_when(facts.override))
        elif key == "year5" and facts.year5:
            fy = facts.year5[0].financial_year
            when = f"In {fy}, year {facts.year5_index} of the scenarios" if facts.year5_index else f"In {fy}"
            text = _dsg_text(facts.year5, when)
        available = not (sec is None or sec.status != "ok" or key in facts.missing)
        if text is None:  # a figure None without a reason: cannot happen with pack_facts' output
            text, available = "No figure.", False
        items.append(SummaryItem(key, TITLES[key], text, stem, title, href, available, details))
    changes = None if previous is None else tuple(compare_packs(facts, previous))
    return ExecutiveSummary(quarter, tuple(items), previous_quarter, changes)


# ----- what changed since the previous pack ---------------------------------------------------------


def _positions_by_scenario(positions: tuple[DsgPosition, ...] | None) -> dict[str, DsgPosition]:
    return {p.scenario: p for p in positions or ()}


def _dsg_changes(now: tuple[DsgPosition, ...] | None, before: tuple[DsgPosition, ...] | None, what: str) -> list[str]:
    if not now or not before:
        return [f"{what}: not in {'this' if not now else 'the previous'} pack, so not compared."]
    old = _positions_by_scenario(before)
    lines = []
    for p in now:
        q = old.get(p.scenario)
        if q is None or p.balance is None or q.balance is None:
            continue
        same_year = p.financial_year == q.financial_year
        diff = p.balance - q.balance
        year = "" if same_year else f" (then {q.financial_year}, now {p.financial_year})"
        if round(diff) == 0:
            lines.append(f"{what}, {_scenario(p.scenario)}: unchanged at {_balance(p.balance)}{year}.")
            continue
        move = f"{_money(diff)} {'better' if diff > 0 else 'worse'}"
        lines.append(
            f"{what}, {_scenario(p.scenario)}: {_balance(p.balance)}, {move} than in the previous pack "
            f"({_balance(q.balance)}{year})."
        )
    return lines


def compare_packs(now: PackFacts, before: PackFacts) -> list[str]:
    """Plain-English lines on what moved between the previous pack and this one: KPI RAG ratings,
    the projected plans, the first shortfall year, the DSG positions, and tables added or dropped.
    Only published figures are compared; a figure missing from either pack says so."""
    lines: list[str] = []
    if now.kpis is not None and before.kpis is not None:
        old = {k.kpi: k for k in before.kpis}
        moved = [
            f"{k.name} is now {k.rag} (was {old[k.kpi].rag})"
            for k in now.kpis
            if k.kpi in old and old[k.kpi].rag != k.rag
        ]
        new = [k.name for k in now.kpis if k.kpi not in old]
        if moved:
            lines.append("RAG ratings changed: " + "; ".join(moved) + ".")
        else:
            lines.append("No headline KPI changed its RAG rating.")
        if new:
            lines.append("Newly rated: " + _join(new) + ".")
    else:
        lines.append("Headline KPIs: not in both packs, so not compared.")
    if now.plans is not None and before.plans is not None:
        a, b = _number(now.plans.median), _number(before.plans.median)
        if a is not None and b is not None:
            diff = a - b
            moved = "unchanged" if round(diff) == 0 else f"{'up' if diff > 0 else 'down'} {abs(diff):,.0f}"
            lines.append(
                f"Projected EHC plans at the end of the forecast: {_count(a)} in January {now.plans.year}, "
                f"{moved} on the previous pack's {_count(b)} (January {before.plans.year})."
            )
    else:
        lines.append("Projected EHC plans: not in both packs, so not compared.")
    if now.places is not None and before.places is not None:
        a_year, b_year = now.places.first_year, before.places.first_year
        show = lambda y: "none in the projection" if y is None else f"January {y}"  # noqa: E731
        if a_year == b_year:
            lines.append(f"First year a specialist phase runs out of places: unchanged ({show(a_year)}).")
        else:
            lines.append(f"First year a specialist phase runs out of places: now {show(a_year)}, was {show(b_year)}.")
    else:
        lines.append("Specialist places: not in both packs, so not compared.")
    lines += _dsg_changes(now.override, before.override, "DSG balance when the override ends")
    lines += _dsg_changes(now.year5, before.year5, "DSG balance in the final year")
    added = sorted(set(now.tables) - set(before.tables))
    dropped = sorted(set(before.tables) - set(now.tables))
    if added:
        lines.append("Tables new in this pack: " + ", ".join(f"{t}.csv" for t in added) + ".")
    if dropped:
        lines.append("Tables no longer published: " + ", ".join(f"{t}.csv" for t in dropped) + ".")
    return lines


# ----- HTML -----------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_html(summary: ExecutiveSummary) -> str:
    """The summary as an HTML fragment for the index (every text escaped): a heading, an ordered
    list of the five items (each with a link to its section; KPI RAG as a word in a badge), and
    "what changed since the previous pack" when there is one."""
    out = [
        '<section class="exec-summary" aria-labelledby="exec-summary-title">',
        '<h2 id="exec-summary-title">Summary for the board</h2>',
        '<ol class="summary-items">',
    ]
    for item in summary.items:
        link = f' <a href="{_e(item.href)}">See \u201c{_e(item.section_title)}\u201d</a>' if item.href else ""
        cls = "summary-item" if item.available else "summary-item summary-missing"
        out.append(f'<li class="{cls}"><strong>{_e(item.title)}.</strong> {_e(item.text)}{link}')
        if item.details:
            out.append('<ul class="summary-kpis">')
            for k in item.details:
                out.append(
                    f'<li><span class="rag rag-{_e(k.rag)}">{_e(k.rag.capitalize())}</span> '
                    f"{_e(k.name)}: {_e(k.value)}; {_e(k.movement)}.</li>"
                )
            out.append("</ul>")
        out.append("</li>")
    out.append("</ol>")
    if summary.changes is not None:
        label = summary.previous_quarter or "previous"
        out.append(f'<h3 id="changes-since-previous">What changed since the {_e(label)} pack</h3>')
        out.append('<ul class="summary-changes">')
        out += [f"<li>{_e(line)}</li>" for line in summary.changes]
        out.append("</ul>")
    out.append("</section>")
    return "\n".join(out)
