"""Board tables: how a table looks on a page of the board pack.

The tidy CSVs in ``tables/`` keep machine names (``demand_lower_80``, ``cumulative_balance_gbp``)
for Power BI and Excel; a page shows the same frame as a board reads it, through one helper,
:func:`board_table`:

- no index column;
- plain-English headers with their unit, from one label dictionary (:data:`COLUMN_LABELS`, plus
  rules for the families of names the models produce: ``<measure>_<statistic>``,
  ``<measure>_base`` / ``_whatif`` / ``_change``, ``*_gbp``, ``*_pct``); a name it does not know
  gets a readable fallback ("days_after_quarter_end" -> "Days after quarter end"), never a
  snake_case header;
- codes shown by their names from the code lists (:mod:`sendlib.core.schema`: primary need,
  setting type, phase, designation, BRAG, SEN status...; age bands "11-15", not "11_15" or
  "11 15"; localities from the config when given);
- numbers with thousands separators and rounded for reading: counts as whole numbers,
  percentages to 1 decimal place, money in whole pounds, or in £ millions to 1 decimal place when
  a column reaches £1m (the header then says "(£m)"), chances (0-1) as percentages, years and
  references without separators, dates (and ISO dates written as text in a date column) as
  "31 Mar 2028", true/false as Yes/No;
- suppression symbols ("<5", "c") and any other text shown as they are (escaped for HTML); an
  empty cell for a missing value.

:func:`board_frame` does the work and returns a frame of display strings (easy to test and to
print); :func:`board_table` wraps it in a pandas ``Styler`` that renders as an HTML table in
JupyterLab and in nbconvert's HTML export (the report's pages). In a notebook, the one way to
show a table is ``ctx.show(frame)`` (:meth:`sendlib.notebook.NotebookContext.show`), which adds
the config's locality names: ``ctx.show(ctx.publish(frame, "name", ...))`` for a published table.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sendlib.core.schema import (
    ACTIVITY,
    CAPACITY_STATUS,
    DECISION,
    DESIGNATION,
    END_REASON,
    EXCLUSION_KIND,
    HEALTH_SERVICE,
    HNB_LINE,
    OUTCOME,
    PRIMARY_NEED,
    SCHOOL_PHASE,
    SEN_STATUS,
    SETTING_TYPE,
    TRANSFER_POINT,
    TRIBUNAL_DECISION,
    TRIBUNAL_OUTCOME,
)
from sendlib.models.benchmark import INDICATORS
from sendlib.models.projection import AGE_GROUPS

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

#: a machine column name: lower-case words joined by underscores (what a page must never show)
SNAKE_CASE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")

# ----- how values are shown ----------------------------------------------------------------------

#: kinds of column, each with its own rounding (see :func:`format_value`)
KINDS = ("count", "number", "pct", "share", "gbp", "year", "date", "text", "ratio")


#: DSG template age bands (``sendlib.models.projection.AGE_GROUPS``) as printed: "11-15"
AGE_GROUP_NAMES: dict[str, str] = {g: ("Under 5" if g == "under_5" else g.replace("_", "-")) for g in AGE_GROUPS} | {
    "under 5": "Under 5"
}

#: BRAG / RAG ratings as a word (the DfE definitions are on the PAP page; schema.BRAG)
RATING_NAMES: dict[str, str] = {
    "grey": "Grey",
    "red": "Red",
    "amber": "Amber",
    "green": "Green",
    "blue": "Blue",
}

#: phases by their short names (schema.PHASE holds the definitions)
PHASE_NAMES: dict[str, str] = {
    "early_years": "Early years",
    "primary": "Primary",
    "secondary": "Secondary",
    "post16": "Post-16",
    "post19": "Post-19",
}

#: capacity status in a table (schema.CAPACITY_STATUS holds the definitions)
CAPACITY_STATUS_NAMES: dict[str, str] = {"open": "Open", "pipeline": "Approved (pipeline)", "proposed": "Proposed"}
assert set(CAPACITY_STATUS_NAMES) == set(CAPACITY_STATUS)

#: K7 health service groups (schema.HEALTH_SERVICE_GROUP)
HEALTH_GROUP_NAMES: dict[str, str] = {
    "neurodevelopmental": "Neurodevelopmental",
    "integrated_therapies": "Integrated therapies",
}

#: forecast methods (docs/forecast.md, "Aggregate methods")
METHOD_NAMES: dict[str, str] = {
    "naive_growth": "Naive: last growth carried forward",
    "mean_growth": "Mean growth of the last 3 years",
    "no_change": "No change",
    "damped_ets": "Damped trend (ETS)",
    "flow": "Flow: new plans and exits",
    "ensemble": "Ensemble (mean growth, damped trend, flow)",
    "panel": "Panel model across authorities",
    "weighted": "Combination weighted by past performance",
    "select": "Best method so far",
    "person": "Person-level model",
}

#: value names per column name: the code lists of :mod:`sendlib.core.schema` and their short forms.
#: A value not in its column's list is shown as it is.
CODE_NAMES: dict[str, Mapping[str, str]] = {
    "primary_need": PRIMARY_NEED,
    "setting_type": SETTING_TYPE,
    "phase": PHASE_NAMES,
    "from_phase": PHASE_NAMES,
    "to_phase": PHASE_NAMES,
    "school_phase": SCHOOL_PHASE,
    "designation": DESIGNATION,
    "age_group": AGE_GROUP_NAMES,
    "brag": RATING_NAMES,
    "previous_brag": RATING_NAMES,
    "rag": RATING_NAMES,
    "sen_status": SEN_STATUS,
    "pupils": SEN_STATUS,
    "service": HEALTH_SERVICE,
    "group": HEALTH_GROUP_NAMES,
    "status": CAPACITY_STATUS_NAMES,
    "decision": DECISION,
    "outcome": OUTCOME,
    "end_reason": END_REASON,
    "kind": EXCLUSION_KIND,
    "activity": ACTIVITY,
    "line": HNB_LINE,
    "transfer_point": TRANSFER_POINT,
    "decision_appealed": TRIBUNAL_DECISION,
    "tribunal_outcome": TRIBUNAL_OUTCOME,
    "method": METHOD_NAMES,
    "indicator": {i.name: i.label for i in INDICATORS},
}


@dataclass(frozen=True)
class Label:
    """A column's header text, its unit (shown in brackets) and how its values are rounded."""

    text: str
    unit: str = ""
    kind: str = "number"


def _l(text: str, unit: str = "", kind: str = "number") -> Label:
    return Label(text, unit, kind)


#: Headers of the column names the package publishes. Units: "children" etc. for counts, "%" for
#: percentages (kind ``pct``, values already in percent; ``share``: 0-1, shown x100), "£" for money
#: (kind ``gbp``; "£m" when the column is shown in millions).
COLUMN_LABELS: dict[str, Label] = {
    # data quality (01)
    "table": _l("Table", kind="text"),
    "column": _l("Column", kind="text"),
    "rule": _l("Rule", kind="text"),
    "description": _l("Description", kind="text"),
    "n_rows": _l("Rows failing", kind="count"),
    "example_rows": _l("Example rows", kind="text"),
    "detail": _l("Detail", kind="text"),
    "rows": _l("Rows", kind="count"),
    "rules": _l("Rules checked", kind="count"),
    "passed": _l("Rules passed", kind="count"),
    "failed": _l("Rules failed", kind="count"),
    "latest_date": _l("Latest event date", kind="date"),
    "quarter_end": _l("Quarter end", kind="date"),
    "days_after_quarter_end": _l("Latest event after quarter end", "days", "count"),
    "covers_quarter": _l("Covers the quarter", kind="text"),
    # KPIs (02)
    "kpi": _l("KPI", kind="text"),
    "name": _l("Name", kind="text"),
    "period": _l("Period", kind="text"),
    "numerator": _l("Numerator", kind="count"),
    "denominator": _l("Denominator", kind="count"),
    "value": _l("Value"),
    "rag": _l("RAG", kind="text"),
    "unit": _l("Unit", kind="text"),
    "target": _l("Target"),
    "previous_value": _l("Previous quarter"),
    "change": _l("Change"),
    "better": _l("Better when", kind="text"),
    "national_value": _l("England value"),
    "national_year": _l("England, year", kind="year"),
    "group": _l("Service group", kind="text"),
    "band": _l("Wait", "weeks", "text"),
    "referrals": _l("Referrals", kind="count"),
    "overdue_reviews": _l("Overdue annual reviews", kind="count"),
    "months_overdue": _l("Overdue by", "months", "text"),
    "pupils": _l("Pupils", kind="text"),
    # PAP (03)
    "ref": _l("Reference", kind="text"),
    "priority_area": _l("Priority area", kind="text"),
    "objective": _l("Action", kind="text"),
    "theme": _l("Theme", kind="text"),
    "project": _l("Project", kind="text"),
    "due": _l("Due", kind="date"),
    "brag": _l("BRAG", kind="text"),
    "previous_brag": _l("BRAG last quarter", kind="text"),
    "reason": _l("Reason", kind="text"),
    "movement": _l("Movement", kind="text"),
    "deteriorated": _l("Deteriorated", kind="count"),
    "is_overdue": _l("Overdue", kind="text"),
    "needs_attention": _l("Needs attention", kind="text"),
    "comment": _l("Comment", kind="text"),
    "grey": _l("Grey: not begun", "actions", "count"),
    "red": _l("Red: delayed", "actions", "count"),
    "amber": _l("Amber: on track", "actions", "count"),
    "green": _l("Green: completed", "actions", "count"),
    "blue": _l("Blue: embedded", "actions", "count"),
    "total": _l("Total", kind="count"),
    "started": _l("Started", "actions", "count"),
    "up": _l("Moved up", "actions", "count"),
    "same": _l("No change", "actions", "count"),
    "down": _l("Moved down", "actions", "count"),
    "new": _l("New", "actions", "count"),
    "quarter": _l("Quarter", kind="text"),
    # forecast (04)
    "method": _l("Method", kind="text"),
    "horizon": _l("Years ahead", kind="year"),
    "mape": _l("Mean absolute % error", "%", "pct"),
    "mase": _l("Mean absolute scaled error", kind="ratio"),
    "bias": _l("Bias (mean % error, + = over-forecast)", "%", "pct"),
    "coverage_80": _l("Actuals inside the 80% interval", "%", "pct"),
    "coverage_95": _l("Actuals inside the 95% interval", "%", "pct"),
    "n": _l("Forecasts scored", kind="count"),
    "forecasts_scored": _l("Forecasts scored", kind="count"),
    "n_series": _l("Authorities", kind="count"),
    "n_origins": _l("Forecast origins", kind="count"),
    "year": _l("Year", kind="year"),
    "census_year": _l("January census", kind="year"),
    "median": _l("Median", "children", "count"),
    "lower_80": _l("Lower 80% bound", "children", "count"),
    "upper_80": _l("Upper 80% bound", "children", "count"),
    "lower_95": _l("Lower 95% bound", "children", "count"),
    "upper_95": _l("Upper 95% bound", "children", "count"),
    "primary_need": _l("Primary need", kind="text"),
    "setting_type": _l("Setting type", kind="text"),
    "age_group": _l("Age band", kind="text"),
    "assumption": _l("Assumption", kind="text"),
    "source": _l("Source", kind="text"),
    # sufficiency (05)
    "scenario": _l("Scenario", kind="text"),
    "phase": _l("Phase", kind="text"),
    "designation": _l("Designation", kind="text"),
    "locality": _l("Locality", kind="text"),
    "setting_id": _l("Setting", kind="text"),
    "places": _l("Places", kind="count"),
    "children": _l("Children on roll", kind="count"),
    "occupancy_pct": _l("Occupancy", "%", "pct"),
    "over_places": _l("Over places", "children", "count"),
    "is_over_full": _l("Over full", kind="text"),
    "open_date": _l("Opens", kind="date"),
    "close_date": _l("Closes", kind="date"),
    "status": _l("Status", kind="text"),
    "counted": _l("Counted in places", kind="text"),
    "first_census_year": _l("First January census", kind="year"),
    "first_gap_year": _l("First year of a shortfall", kind="year"),
    "children_moved": _l("Children moved", kind="number"),
    "base": _l("Base scenario", kind="text"),
    "whatif": _l("What-if scenario", kind="text"),
    "utilisation_pct": _l("Places used", "%", "pct"),
    # finance (06)
    "financial_year": _l("Financial year", kind="text"),
    "date": _l("Date", kind="date"),
    "compared_with": _l("Compared with", kind="text"),
    "payback_year": _l("Payback year", kind="text"),
    "item": _l("Item", kind="text"),
    "category": _l("Placement category", kind="text"),
    "placements": _l("Placements", kind="count"),
    "low": _l("Low", kind="number"),
    "high": _l("High", kind="number"),
    "low_value": _l("Low value", kind="number"),
    "high_value": _l("High value", kind="number"),
    "distribution": _l("Distribution", kind="text"),
    "start_year": _l("Start year", kind="text"),
    "as_of": _l("As of", kind="date"),
    "probability_deficit_exceeds_pct": _l("Chance the deficit exceeds the threshold", "%", "pct"),
    "opening_balance_gbp": _l("Cumulative balance brought forward", "£", "gbp"),
    "income_gbp": _l("Income", "£", "gbp"),
    "expenditure_gbp": _l("Expenditure", "£", "gbp"),
    "in_year_balance_gbp": _l("In-year balance", "£", "gbp"),
    "cumulative_balance_gbp": _l("Cumulative balance", "£", "gbp"),
    "unit_cost_gbp": _l("Cost per place a year", "£", "gbp"),
    "central_gbp": _l("Cumulative balance, all assumptions central", "£", "gbp"),
    "at_low_gbp": _l("Cumulative balance, assumption at its low value", "£", "gbp"),
    "at_high_gbp": _l("Cumulative balance, assumption at its high value", "£", "gbp"),
    "swing_gbp": _l("Swing between low and high", "£", "gbp"),
    "investment_gbp": _l("Investment", "£", "gbp"),
    "savings_gbp": _l("Savings", "£", "gbp"),
    "cumulative_savings_gbp": _l("Cumulative savings", "£", "gbp"),
    "cumulative_investment_gbp": _l("Cumulative investment", "£", "gbp"),
    "net_benefit_gbp": _l("Net benefit (cumulative savings minus investment)", "£", "gbp"),
    "extra_cost_gbp": _l("Extra cost", "£", "gbp"),
    # benchmarking (07)
    "old_la_code": _l("DfE authority code", kind="text"),
    "la_name": _l("Authority", kind="text"),
    "region_name": _l("Region", kind="text"),
    "indicator": _l("Indicator", kind="text"),
    "la_value": _l("Authority value"),
    "region_value": _l("Region value"),
    "england_value": _l("England value"),
    "rank": _l("Rank", kind="count"),
    "n_ranked": _l("Authorities ranked", kind="count"),
    "scope": _l("Applies to", kind="text"),
    "years": _l("Years", kind="text"),
    "measures": _l("Measures", kind="text"),
    "text": _l("Caveat", kind="text"),
}

#: The measures of the sufficiency tables, each followed by a statistic (``demand_median``,
#: ``overflow_lower_80``) and, in a comparison, a scenario (``gap_median_change``).
MEASURES: dict[str, Label] = {
    "demand": _l("Demand", "children", "count"),
    "capacity_places": _l("Places", "places", "count"),
    "placed": _l("Placed locally", "children", "count"),
    "occupied": _l("Places occupied", "places", "count"),
    "gap": _l("Gap (demand minus places)", "children", "count"),
    "overflow": _l("No local place", "children", "count"),
    "overflow_out_of_county": _l("No local place: out of county", "children", "count"),
    "overflow_inmss": _l("No local place: independent special school", "children", "count"),
    "overflow_post16": _l("No local place: post-16 setting", "children", "count"),
    "overflow_early_years": _l("No local place: early years setting", "children", "count"),
    "out_of_county": _l("Placed out of county", "children", "count"),
    "prob_shortfall": _l("Chance of a shortfall", "%", "share"),
    "prob_any_overflow": _l("Chance some children have no local place", "%", "share"),
}
#: statistics after a measure's name
STATISTICS: dict[str, str] = {
    "median": "median",
    "mean": "mean",
    "lower_80": "lower 80% bound",
    "upper_80": "upper 80% bound",
    "lower_95": "lower 95% bound",
    "upper_95": "upper 95% bound",
    "p10": "10th percentile",
    "p90": "90th percentile",
}
#: scenario suffixes of a what-if comparison
SCENARIO_SUFFIXES: dict[str, str] = {"base": "base", "whatif": "what-if", "change": "change"}

#: words in a fallback header written as a reader expects them
WORDS: dict[str, str] = {
    "pct": "%",
    "gbp": "£",
    "la": "LA",
    "dsg": "DSG",
    "hnb": "HNB",
    "ehc": "EHC",
    "ehcp": "EHC plan",
    "sen": "SEN",
    "send": "SEND",
    "kpi": "KPI",
    "inmss": "INMSS",
    "neet": "NEET",
    "post16": "post-16",
    "post19": "post-19",
    "p10": "10th percentile",
    "p90": "90th percentile",
    "n": "number",
    "prob": "chance",
    "yr": "year",
    "whatif": "what-if",
}


#: a name ending in "year" holds years ("England year", "start_year"): no thousands separator
_YEAR_WORD = re.compile(r"(^|[_\s])year$", re.I)


def humanise(name: str) -> str:
    """A readable header for a name nobody labelled: words, capital first letter, no underscores.

    >>> humanise("days_after_quarter_end")
    'Days after quarter end'
    """
    words = [WORDS.get(w, w) for w in re.split(r"[_\s]+", str(name).strip()) if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else str(name)


def _measure_label(name: str) -> Label | None:
    """``<measure>_<statistic>[_<scenario>]``, ``<measure>_<scenario>`` and ``<money>_gbp`` names."""
    scenario = ""
    stem = name
    for suffix, word in SCENARIO_SUFFIXES.items():
        if stem.endswith("_" + suffix):
            stem, scenario = stem[: -len(suffix) - 1], word
            break
    stat = ""
    for suffix, word in STATISTICS.items():
        if stem.endswith("_" + suffix) and stem[: -len(suffix) - 1] in MEASURES:
            stem, stat = stem[: -len(suffix) - 1], word
            break
    base = MEASURES.get(stem) or (COLUMN_LABELS.get(stem) if scenario else None)
    if base is None:
        return None
    text = ", ".join(t for t in (base.text, stat, scenario) if t)
    return Label(text, base.unit, base.kind if not (stat == "mean" and base.kind == "count") else "number")


def column_label(name: Any, labels: Mapping[str, str] | None = None, units: Mapping[str, str] | None = None) -> Label:
    """The :class:`Label` of a column: ``labels`` / ``units`` given by the caller first, then
    :data:`COLUMN_LABELS`, the measure families, the ``_gbp`` / ``_pct`` suffixes, then
    :func:`humanise`. A name that is not snake_case (already a heading, a year) is kept. A name
    found by neither a dictionary nor a suffix has kind "" (the caller's default applies)."""
    key = str(name)
    if key in COLUMN_LABELS:
        found = COLUMN_LABELS[key]
    elif (measured := _measure_label(key)) is not None:
        found = measured
    elif key.endswith("_gbp"):
        stem, stat = key[: -len("_gbp")], ""
        for suffix, word in STATISTICS.items():
            if stem.endswith("_" + suffix):
                stem, stat = stem[: -len(suffix) - 1], word
                break
        base = COLUMN_LABELS.get(stem + "_gbp")
        found = Label(", ".join(t for t in (base.text if base else humanise(stem), stat) if t), "£", "gbp")
    elif key.endswith("_pct"):
        found = Label(humanise(key[: -len("_pct")]), "%", "pct")
    elif key.startswith("prob_"):
        found = Label(f"Chance of {humanise(key[len('prob_') :]).lower()}", "%", "share")
    elif SNAKE_CASE.match(key) or key.islower():
        found = Label(humanise(key), kind="year" if _YEAR_WORD.search(key) else "")
    else:
        found = Label(key, kind="year" if _YEAR_WORD.search(key) else "")
    if labels and key in labels:
        found = Label(labels[key], found.unit, found.kind)
    if units and key in units:
        found = Label(found.text, units[key], found.kind)
    return found


# ----- values ------------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float | np.floating) and math.isnan(value))
    except TypeError:
        return False


#: an ISO date written as text ("2028-03-31"), shown as a date in a date column
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: a number written as text ("53.675730110775426", "-3", "1e6"), as a CSV read back holds it
_NUMERIC_TEXT = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")


def _number(value: Any, *, text: bool = False) -> float | None:
    """``value`` as a float when it is a real number (not a bool), else None; with ``text``, a
    number written as text counts too (never a suppression symbol such as "<5")."""
    if isinstance(value, bool | np.bool_):
        return None
    if text and isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, int | float | np.integer | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    return None


def format_value(value: Any, kind: str, *, millions: bool = False) -> str:
    """One cell as text: rounded for ``kind`` (see :data:`KINDS`), thousands separators.

    Text (suppression symbols "<5", "c", labels) is returned as it is; a missing value is "".
    """
    if _is_missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "Yes" if value else "No"
    if isinstance(value, pd.Timestamp | datetime | date | np.datetime64):
        return pd.Timestamp(value).strftime("%d %b %Y").lstrip("0")
    if kind == "date" and isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return format_value(pd.Timestamp(value), kind)
    if kind == "date":
        return str(value)
    v = _number(value, text=kind != "text")
    if v is None:
        return str(value)
    if kind == "year":
        return f"{v:.0f}" if v == int(v) else f"{v:g}"
    if kind == "gbp":
        return f"{v / 1e6:,.1f}" if millions else f"{v:,.0f}"
    if kind == "share":
        return f"{v * 100:,.1f}"
    if kind == "pct":
        return f"{v:,.1f}"
    if kind == "ratio":
        return f"{v:,.2f}"
    if kind == "count":
        return f"{v:,.0f}"
    # "number" (or "text" holding numbers): as many decimals as the size needs
    if v == int(v) or abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:,.1f}"
    return f"{v:.2g}"


def _numbers(series: pd.Series, *, text: bool = True) -> list[float]:
    """The real numbers in a column (numbers written as text too, unless ``text`` is False)."""
    return [v for v in (_number(x, text=text) for x in series.tolist()) if v is not None]


#: a money column whose largest value reaches this is shown in £ millions
MILLIONS_FROM_GBP = 1_000_000


# ----- the table ---------------------------------------------------------------------------------


def _without_index(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with a meaningful (named) index turned into columns and a bare one dropped."""
    named = any(n is not None for n in df.index.names)
    out = df.reset_index() if named else df.reset_index(drop=True)
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = [" ".join(str(p) for p in c if str(p) != "") for c in out.columns]
    return out


def _board(
    df: pd.DataFrame,
    labels: Mapping[str, str] | None,
    units: Mapping[str, str] | None,
    codes: Mapping[str, Mapping[str, str]] | None,
    columns: Sequence[str] | None,
    kinds: Mapping[str, str] | None,
    kind: str,
) -> tuple[pd.DataFrame, list[bool]]:
    """The display frame and, per column, whether it holds numbers (right-aligned)."""
    frame = _without_index(df)
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise KeyError(f"board table: no column(s) {missing} in the table (it has {list(frame.columns)})")
        frame = frame[list(columns)]
    names = {**CODE_NAMES, **(codes or {})}
    out: dict[str, list[str]] = {}
    numeric: list[bool] = []
    for col in frame.columns:
        label = column_label(col, labels, units)
        col_kind = (kinds or {}).get(str(col)) or label.kind or kind
        series = frame[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        lookup = names.get(str(col))
        if lookup is not None:
            series = series.map(lambda v, m=lookup: m.get(v, v) if isinstance(v, str) else v)
        values = _numbers(series, text=col_kind != "text")
        millions = col_kind == "gbp" and bool(values) and max(abs(v) for v in values) >= MILLIONS_FROM_GBP
        unit = label.unit or ("£" if col_kind == "gbp" else "%" if col_kind in ("pct", "share") else "")
        unit = "£m" if millions and unit == "£" else unit
        header = f"{label.text} ({unit})" if unit and f"({unit})" not in label.text else label.text
        header = _unique(header, out)
        out[header] = [format_value(v, col_kind, millions=millions) for v in series.tolist()]
        numeric.append(col_kind != "text" and (bool(values) or label.kind in ("count", "pct", "share", "gbp", "ratio")))
    shown = pd.DataFrame(out, index=pd.RangeIndex(len(frame)), columns=list(out), dtype=object)
    return shown, numeric


def board_frame(
    df: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    codes: Mapping[str, Mapping[str, str]] | None = None,
    columns: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    kind: str = "number",
) -> pd.DataFrame:
    """The frame as a board reads it: headers in words with units, values as display text.

    Parameters
    ----------
    df : DataFrame
        A published (suppressed) or aggregate table with machine column names. A named index
        becomes columns; an unnamed one is dropped.
    labels, units : mapping, optional
        Header text / unit for columns, over :data:`COLUMN_LABELS` (e.g. ``{"value": "Rate"}``).
    codes : mapping, optional
        Value names per column over :data:`CODE_NAMES` (e.g. ``{"locality": config.localities}``).
    columns : sequence, optional
        The columns to show, in order (a wide table may show fewer than it publishes).
    kinds : mapping, optional
        Rounding per column over the label's (one of :data:`KINDS`).
    kind : str
        Rounding of columns with no label (default "number"): e.g. "gbp" for a table whose
        columns are financial years of pounds, "pct" for one whose columns are scenarios' percentages.

    Returns
    -------
    DataFrame
        Same rows, a default index, every cell a string; columns are the headers.

    Raises
    ------
    KeyError
        When ``columns`` names a column the table does not have.
    """
    return _board(df, labels, units, codes, columns, kinds, kind)[0]


def _unique(header: str, taken: Mapping[str, Any]) -> str:
    if header not in taken:
        return header
    n = 2
    while f"{header} ({n})" in taken:
        n += 1
    return f"{header} ({n})"


def board_table(
    df: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    codes: Mapping[str, Mapping[str, str]] | None = None,
    columns: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    kind: str = "number",
    caption: str = "",
) -> Styler:
    """A table for a page of the board pack (see the module docstring); arguments as
    :func:`board_frame`, plus an optional ``caption``.

    Returns a pandas ``Styler``: no index, headers and cells escaped for HTML, numbers
    right-aligned, text left-aligned, element ids derived from the table's content (a re-run
    writes the same page). It renders as an HTML table in JupyterLab and in the exported pages.
    """
    shown, numeric = _board(df, labels, units, codes, columns, kinds, kind)
    digest = hashlib.sha256((caption + shown.to_csv(index=False)).encode("utf-8")).hexdigest()[:10]
    classes = pd.DataFrame(
        [["num" if n else "text" for n in numeric]] * len(shown), index=shown.index, columns=shown.columns
    )
    align = [
        {"selector": f"th.col{i}", "props": [("text-align", "right" if n else "left")]} for i, n in enumerate(numeric)
    ]
    align += [
        {"selector": "td.num", "props": [("text-align", "right")]},
        {"selector": "td.text", "props": [("text-align", "left")]},
    ]
    from pandas.io.formats.style import Styler

    styler = (
        Styler(shown, uuid=f"board{digest}", cell_ids=False)
        .hide(axis="index")
        .format(escape="html")
        .format_index(escape="html", axis=1)
        .set_td_classes(classes)
        .set_table_styles(align)
        .set_table_attributes('class="dataframe board-table"')
    )
    if caption:
        styler = styler.set_caption(html.escape(caption))
    return styler


def snake_case_headers(headers: Sequence[Any]) -> list[str]:
    """Headers that are machine names (for tests and checks)."""
    return [str(h) for h in headers if SNAKE_CASE.match(str(h))]


__all__ = [
    "AGE_GROUP_NAMES",
    "CODE_NAMES",
    "COLUMN_LABELS",
    "MEASURES",
    "Label",
    "board_frame",
    "board_table",
    "column_label",
    "format_value",
    "humanise",
    "snake_case_headers",
]
