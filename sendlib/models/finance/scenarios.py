"""DSG scenario files: load, resolve ``extends:`` and validate, naming the offending key.

A scenario file (``config/scenarios/dsg.yaml``) holds every assumption of the high needs block
model: unit-cost inflation, funding growth, block transfers, growth of the lines not driven by
plan numbers, the setting-type -> budget-line map, the statutory override date, mitigations
(start year, effect, investment) and the uncertainty of each assumption (``low``/``high`` and a
distribution). Nothing numeric that is an assumption lives in code. See ``docs/finance.md``.

Every problem raises :class:`sendlib.core.errors.UsageError` whose message starts with the dotted key
(``scenarios.mitigated.assumptions.unit_cost_inflation_pct.value``) and says what is expected.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from sendlib.core.errors import UsageError
from sendlib.core.quarters import financial_year_label, parse_financial_year
from sendlib.data.schema import HNB_LINE, SETTING_TYPE, SPECIALIST_SETTINGS

#: Distributions an uncertain assumption may take. ``low``/``high`` are the minimum/maximum of a
#: triangular or uniform distribution, and the 10th/90th percentiles of a normal one.
DISTRIBUTIONS = ("fixed", "triangular", "normal", "uniform")


@dataclass(frozen=True)
class AssumptionSpec:
    """What the model knows about one named assumption (not its value: that is in the file)."""

    description: str
    unit: str
    required: bool = True
    min_value: float | None = None
    max_value: float | None = None
    #: neutral value used when an optional assumption is absent (an identity, not an assumption)
    neutral: float | None = None


#: The assumptions a scenario may set. ``<line>_growth_pct`` for each high needs line with a part
#: not driven by plan numbers is added below.
ASSUMPTIONS: dict[str, AssumptionSpec] = {
    "unit_cost_inflation_pct": AssumptionSpec(
        "Annual inflation of placement unit costs (fees, top-ups, place funding)", "% a year", min_value=0.0),
    "unit_cost_change_pct": AssumptionSpec(
        "Change to every calibrated unit cost from the first projected year (uncertainty in the base cost)",
        "%", required=False, min_value=-100.0, neutral=0.0),
    "placement_growth_adjustment_pct": AssumptionSpec(
        "Extra annual growth in placements on top of the demand projection", "% a year",
        required=False, min_value=-100.0, neutral=0.0),
    "hnb_allocation_growth_pct": AssumptionSpec(
        "Annual growth of the high needs block allocation (after place-funding deductions)", "% a year",
        min_value=-100.0),
    "other_income_growth_pct": AssumptionSpec("Annual growth of other high needs income", "% a year", min_value=-100.0),
    "schools_block_gbp": AssumptionSpec("Schools block allocation in the base year", "GBP", min_value=0.0),
    "schools_block_growth_pct": AssumptionSpec("Annual growth of the schools block", "% a year", min_value=-100.0),
    "block_transfer_pct": AssumptionSpec(
        "Transfer from the schools block to high needs each projected year, % of the schools block "
        "(Schools Forum approval; capped by block_transfer_cap_pct)", "% of schools block", min_value=0.0),
    "mitigation_delivery_pct": AssumptionSpec(
        "Share of every mitigation's planned effect that is delivered (investment is spent in full)", "%",
        required=False, min_value=0.0, max_value=200.0, neutral=100.0),
}
for _line, _label in HNB_LINE.items():
    ASSUMPTIONS[f"{_line}_growth_pct"] = AssumptionSpec(
        f"Annual growth of the part of '{_label}' not driven by plan numbers", "% a year",
        required=False, min_value=-100.0)

_TOP_KEYS = {"version", "description", "statutory_override", "deficit_threshold", "block_transfer_cap",
             "budget_lines", "scenarios"}
_ASSUMPTION_KEYS = {"value", "low", "high", "distribution", "source", "as_of", "note"}
_SCENARIO_KEYS = {"description", "extends", "compare_to", "assumptions", "mitigations"}
_MITIGATION_KINDS = {
    "fewer_new_plans": {"reduction_pct", "settings"},
    "inmss_to_local": {"places", "to_setting"},
    "unit_cost_change": {"change_pct", "settings"},
}
_MITIGATION_COMMON = {"name", "kind", "description", "start_year", "investment_gbp", "source", "as_of", "enabled"}
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,23}$")


@dataclass(frozen=True)
class Assumption:
    """One assumption: central value, optional uncertainty, and provenance."""

    name: str
    value: float
    source: str
    as_of: str
    low: float | None = None
    high: float | None = None
    distribution: str = "fixed"
    note: str = ""

    @property
    def is_uncertain(self) -> bool:
        return self.distribution != "fixed" and self.low is not None and self.high is not None and self.low < self.high


@dataclass(frozen=True)
class Mitigation:
    """A mitigation: what it changes from ``start_year`` (a financial-year start) and what it costs.

    ``kind``: ``fewer_new_plans`` (``reduction_pct`` of the growth in projected placements removed,
    early help), ``inmss_to_local`` (``places``: cumulative local specialist places by financial
    year, each taking a child from an independent / non-maintained special school into
    ``to_setting``), ``unit_cost_change`` (``change_pct`` on the unit costs of ``settings``,
    e.g. banding).
    """

    name: str
    kind: str
    start_year: int
    source: str
    as_of: str
    description: str = ""
    settings: tuple[str, ...] = ()
    reduction_pct: float = 0.0
    change_pct: float = 0.0
    places: Mapping[int, float] = field(default_factory=dict)
    to_setting: str = ""
    investment_gbp: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """A fully resolved scenario (``extends`` applied)."""

    name: str
    description: str
    assumptions: Mapping[str, Assumption]
    mitigations: tuple[Mitigation, ...] = ()
    compare_to: str | None = None

    def value(self, name: str) -> float:
        """Central value of an assumption (the neutral value for an absent optional one)."""
        if name in self.assumptions:
            return self.assumptions[name].value
        spec = ASSUMPTIONS[name]
        if spec.neutral is None:
            return 0.0
        return spec.neutral


@dataclass(frozen=True)
class Sourced:
    """A file-level setting with provenance."""

    value: Any
    source: str
    as_of: str


@dataclass(frozen=True)
class ScenarioFile:
    """A validated scenario file."""

    path: str
    description: str
    statutory_override_end: Sourced  # value: financial-year start (2027 for 2027-28)
    deficit_threshold_gbp: Sourced  # value: a deficit size in pounds (positive)
    block_transfer_cap_pct: Sourced
    setting_to_line: Mapping[str, str]
    plan_driven_share: Mapping[str, float]
    budget_lines_source: Sourced
    scenarios: Mapping[str, Scenario]

    @property
    def names(self) -> list[str]:
        return list(self.scenarios)

    def non_plan_lines(self) -> list[str]:
        """Budget lines with a part not driven by plan numbers (they need a growth assumption)."""
        mapped = set(self.setting_to_line.values())
        return [ln for ln in HNB_LINE if ln not in mapped or self.plan_driven_share.get(ln, 1.0) < 1.0]


# ----- helpers --------------------------------------------------------------------------------------


def _number(value: Any, key: str, *, min_value: float | None = None, max_value: float | None = None) -> float:
    """A plain number; text such as "3%" or "-2" is refused with the key named."""
    if isinstance(value, bool) or value is None:
        raise UsageError(f"{key}: expected a number, got {value!r}")
    if isinstance(value, str):
        raise UsageError(
            f"{key}: '{value}' is text, not a number; write a plain number without quotes, "
            "% sign or commas (e.g. 3 for 3%, -2 for minus 2%)"
        )
    if not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise UsageError(f"{key}: expected a finite number, got {value!r}")
    v = float(value)
    if min_value is not None and v < min_value:
        what = "negative" if min_value == 0 and v < 0 else f"below {min_value:g}"
        raise UsageError(f"{key}: {v:g} is {what}; it must be at least {min_value:g}")
    if max_value is not None and v > max_value:
        raise UsageError(f"{key}: {v:g} is above the maximum {max_value:g}")
    return v


def _text(value: Any, key: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise UsageError(f"{key}: required (say where the figure comes from)")
    if not isinstance(value, str):
        raise UsageError(f"{key}: expected text, got {value!r}")
    return value.strip()


def _as_of(value: Any, key: str) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise UsageError(f"{key}: expected a date YYYY-MM-DD (when the figure was last checked), got {value!r}")


def _fy(value: Any, key: str) -> int:
    """A financial year label (``2026-27``) -> its start year."""
    if not isinstance(value, str):
        raise UsageError(f"{key}: expected a financial year in quotes like \"2026-27\", got {value!r}")
    try:
        return parse_financial_year(value)
    except UsageError as exc:
        raise UsageError(f"{key}: {exc}") from exc


def _mapping(value: Any, key: str) -> dict:
    if not isinstance(value, dict):
        raise UsageError(f"{key}: expected a mapping of keys to values, got {type(value).__name__}")
    return value


def _unknown(d: Mapping, allowed: set[str], key: str) -> None:
    extra = sorted(set(map(str, d)) - allowed)
    if extra:
        import difflib

        hints = []
        for e in extra:
            close = difflib.get_close_matches(e, sorted(allowed), n=1)
            hints.append(f"'{key}.{e}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise UsageError(f"{key}: unknown key {', '.join(hints)}; expected some of {sorted(allowed)}")


def _setting(value: Any, key: str) -> str:
    if value not in SETTING_TYPE:
        raise UsageError(f"{key}: setting type '{value}' is unknown; expected one of {sorted(SETTING_TYPE)}")
    return str(value)


def _sourced(raw: Any, key: str, field_name: str) -> tuple[Any, str, str]:
    d = _mapping(raw, key)
    _unknown(d, {field_name, "source", "as_of", "note"}, key)
    if field_name not in d:
        raise UsageError(f"{key}.{field_name}: required")
    return d[field_name], _text(d.get("source"), f"{key}.source"), _as_of(d.get("as_of"), f"{key}.as_of")


# ----- parsing --------------------------------------------------------------------------------------


def load_scenarios(path: "str | Path") -> ScenarioFile:
    """Read and validate a DSG scenario file.

    Raises
    ------
    UsageError
        When the file is missing, not YAML, or any key is unknown or malformed; the message names
        the key (e.g. ``scenarios.mitigated.mitigations[0].settings``).
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise UsageError(f"scenario file not found: {p}")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UsageError(f"scenario file {p} is not valid YAML: {exc}") from exc
    try:
        return parse_scenarios(raw, origin=str(p))
    except UsageError as exc:
        raise UsageError(f"scenario file {p}: {exc}") from exc


def parse_scenarios(raw: Any, origin: str = "<memory>") -> ScenarioFile:
    """Validate an already-parsed scenario mapping (see :func:`load_scenarios`)."""
    top = _mapping(raw, "scenario file")
    _unknown(top, _TOP_KEYS, "(top level)")
    for key in ("statutory_override", "deficit_threshold", "block_transfer_cap", "budget_lines", "scenarios"):
        if key not in top:
            raise UsageError(f"{key}: required section is missing")

    v, s, a = _sourced(top["statutory_override"], "statutory_override", "end_financial_year")
    override = Sourced(_fy(v, "statutory_override.end_financial_year"), s, a)
    v, s, a = _sourced(top["deficit_threshold"], "deficit_threshold", "deficit_gbp")
    threshold = Sourced(_number(v, "deficit_threshold.deficit_gbp", min_value=0.0), s, a)
    v, s, a = _sourced(top["block_transfer_cap"], "block_transfer_cap", "pct_of_schools_block")
    cap = Sourced(_number(v, "block_transfer_cap.pct_of_schools_block", min_value=0.0, max_value=100.0), s, a)

    bl = _mapping(top["budget_lines"], "budget_lines")
    _unknown(bl, {"setting_to_line", "plan_driven_share", "source", "as_of", "note"}, "budget_lines")
    bl_src = Sourced(None, _text(bl.get("source"), "budget_lines.source"), _as_of(bl.get("as_of"), "budget_lines.as_of"))
    s2l_raw = _mapping(bl.get("setting_to_line"), "budget_lines.setting_to_line")
    s2l: dict[str, str] = {}
    for st, line in s2l_raw.items():
        k = f"budget_lines.setting_to_line.{st}"
        _setting(st, k)
        if line not in HNB_LINE:
            raise UsageError(f"{k}: budget line '{line}' is unknown; expected one of {sorted(HNB_LINE)}")
        s2l[str(st)] = str(line)
    missing = [st for st in SETTING_TYPE if st not in s2l]
    if missing:
        raise UsageError(f"budget_lines.setting_to_line: every setting type needs a budget line; missing {missing}")
    share: dict[str, float] = {}
    for line, val in _mapping(bl.get("plan_driven_share") or {}, "budget_lines.plan_driven_share").items():
        k = f"budget_lines.plan_driven_share.{line}"
        if line not in set(s2l.values()):
            raise UsageError(f"{k}: '{line}' is not a line any setting type maps to")
        share[str(line)] = _number(val, k, min_value=0.0, max_value=1.0)

    scen_raw = _mapping(top["scenarios"], "scenarios")
    if not scen_raw:
        raise UsageError("scenarios: at least one scenario is required")
    for name in scen_raw:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise UsageError(
                f"scenarios.{name}: a scenario name is lower case letters, digits and _ (max 24 characters), "
                "starting with a letter"
            )
        _unknown(_mapping(scen_raw[name], f"scenarios.{name}"), _SCENARIO_KEYS, f"scenarios.{name}")

    resolved: dict[str, dict] = {}
    for name in scen_raw:
        resolved[name] = _resolve_extends(name, scen_raw, [])

    sf_partial = dict(cap=cap.value)
    scenarios: dict[str, Scenario] = {}
    non_plan = [ln for ln in HNB_LINE if ln not in set(s2l.values()) or share.get(ln, 1.0) < 1.0]
    for name, body in resolved.items():
        scenarios[name] = _build_scenario(name, body, sf_partial, non_plan, scen_raw)
    desc = top.get("description", "")
    return ScenarioFile(
        path=origin,
        description=str(desc or ""),
        statutory_override_end=override,
        deficit_threshold_gbp=threshold,
        block_transfer_cap_pct=cap,
        setting_to_line=s2l,
        plan_driven_share=share,
        budget_lines_source=bl_src,
        scenarios=scenarios,
    )


def _resolve_extends(name: str, scen_raw: Mapping[str, Any], chain: list[str]) -> dict:
    """Merge a scenario over its parent: assumptions replace by name, mitigations by ``name``."""
    if name in chain:
        raise UsageError(f"scenarios.{name}.extends: circular ({' -> '.join(chain + [name])})")
    body = copy.deepcopy(scen_raw[name]) or {}
    parent = body.get("extends")
    if parent is None:
        return body
    if parent not in scen_raw:
        raise UsageError(f"scenarios.{name}.extends: scenario '{parent}' is not in this file; expected one of {sorted(scen_raw)}")
    base = _resolve_extends(parent, scen_raw, chain + [name])
    merged = copy.deepcopy(base)
    merged["description"] = body.get("description", base.get("description", ""))
    merged["compare_to"] = body.get("compare_to", base.get("compare_to"))
    a = dict(_mapping(base.get("assumptions") or {}, f"scenarios.{parent}.assumptions"))
    a.update(_mapping(body.get("assumptions") or {}, f"scenarios.{name}.assumptions"))
    merged["assumptions"] = a
    mits = list(base.get("mitigations") or [])
    own = body.get("mitigations") or []
    if not isinstance(own, list):
        raise UsageError(f"scenarios.{name}.mitigations: expected a list of mitigations")
    for m in own:
        if not isinstance(m, dict):
            raise UsageError(f"scenarios.{name}.mitigations: each mitigation is a mapping")
        idx = next((i for i, x in enumerate(mits) if isinstance(x, dict) and x.get("name") == m.get("name")), None)
        if idx is None:
            mits.append(m)
        else:
            mits[idx] = {**mits[idx], **m}
    merged["mitigations"] = mits
    merged.pop("extends", None)
    return merged


def _build_scenario(name: str, body: Mapping[str, Any], sf: Mapping[str, Any], non_plan: list[str],
                    scen_raw: Mapping[str, Any]) -> Scenario:
    key = f"scenarios.{name}"
    assumptions: dict[str, Assumption] = {}
    araw = _mapping(body.get("assumptions") or {}, f"{key}.assumptions")
    for aname, spec_raw in araw.items():
        akey = f"{key}.assumptions.{aname}"
        if aname not in ASSUMPTIONS:
            import difflib

            close = difflib.get_close_matches(str(aname), sorted(ASSUMPTIONS), n=1)
            raise UsageError(
                f"{akey}: unknown key (assumption '{aname}')" + (f"; did you mean '{close[0]}'?" if close else "")
                + f"; expected one of {sorted(ASSUMPTIONS)}"
            )
        assumptions[aname] = _build_assumption(aname, spec_raw, akey)
    for aname, spec in ASSUMPTIONS.items():
        if spec.required and aname not in assumptions:
            raise UsageError(f"{key}.assumptions.{aname}: required ({spec.description}, {spec.unit})")
    for line in non_plan:
        aname = f"{line}_growth_pct"
        if aname not in assumptions:
            raise UsageError(
                f"{key}.assumptions.{aname}: required: budget line '{line}' has a part not driven by plan "
                "numbers, so it needs its own growth rate"
            )
    bt = assumptions["block_transfer_pct"]
    for fld in ("value", "low", "high"):
        v = getattr(bt, fld)
        if v is not None and v > sf["cap"]:
            raise UsageError(
                f"{key}.assumptions.block_transfer_pct.{fld}: {v:g}% is above the cap of {sf['cap']:g}% "
                "(block_transfer_cap.pct_of_schools_block; a higher transfer needs the Secretary of State's approval)"
            )

    mits: list[Mitigation] = []
    mraw = body.get("mitigations") or []
    if not isinstance(mraw, list):
        raise UsageError(f"{key}.mitigations: expected a list of mitigations")
    seen: set[str] = set()
    for i, m in enumerate(mraw):
        mit = _build_mitigation(m, f"{key}.mitigations[{i}]")
        if mit is None:
            continue
        if mit.name in seen:
            raise UsageError(f"{key}.mitigations[{i}].name: '{mit.name}' appears twice")
        seen.add(mit.name)
        mits.append(mit)
    compare_to = body.get("compare_to")
    if compare_to is not None and compare_to not in scen_raw:
        raise UsageError(f"{key}.compare_to: scenario '{compare_to}' is not in this file")
    if compare_to is None and mits and "unmitigated" in scen_raw and name != "unmitigated":
        compare_to = "unmitigated"
    return Scenario(name=name, description=str(body.get("description") or ""), assumptions=assumptions,
                    mitigations=tuple(mits), compare_to=compare_to)


def _build_assumption(name: str, raw: Any, key: str) -> Assumption:
    spec = ASSUMPTIONS[name]
    if not isinstance(raw, dict):
        raise UsageError(
            f"{key}: expected a mapping with value, source and as_of (and optionally low, high, distribution), "
            f"got {raw!r}"
        )
    _unknown(raw, _ASSUMPTION_KEYS, key)
    if "value" not in raw:
        raise UsageError(f"{key}.value: required")
    bounds = dict(min_value=spec.min_value, max_value=spec.max_value)
    value = _number(raw["value"], f"{key}.value", **bounds)
    low = _number(raw["low"], f"{key}.low", **bounds) if "low" in raw else None
    high = _number(raw["high"], f"{key}.high", **bounds) if "high" in raw else None
    dist = raw.get("distribution", "triangular" if (low is not None and high is not None) else "fixed")
    if dist not in DISTRIBUTIONS:
        raise UsageError(f"{key}.distribution: '{dist}' is not one of {list(DISTRIBUTIONS)}")
    if (low is None) != (high is None):
        raise UsageError(f"{key}: give both low and high, or neither")
    if dist != "fixed" and low is None:
        raise UsageError(f"{key}.distribution: '{dist}' needs low and high")
    if low is not None and high is not None and not low <= value <= high:
        raise UsageError(f"{key}: low ({low:g}) <= value ({value:g}) <= high ({high:g}) does not hold")
    return Assumption(
        name=name, value=value, low=low, high=high, distribution=str(dist),
        source=_text(raw.get("source"), f"{key}.source"), as_of=_as_of(raw.get("as_of"), f"{key}.as_of"),
        note=str(raw.get("note") or ""),
    )


def _year_amounts(raw: Any, key: str, *, min_value: float | None = 0.0) -> dict[int, float]:
    out: dict[int, float] = {}
    for fy, amount in _mapping(raw, key).items():
        out[_fy(fy, f"{key}.{fy}")] = _number(amount, f"{key}.{fy}", min_value=min_value)
    return dict(sorted(out.items()))


def _build_mitigation(raw: Any, key: str) -> Mitigation | None:
    if not isinstance(raw, dict):
        raise UsageError(f"{key}: expected a mapping (name, kind, start_year, ...)")
    kind = raw.get("kind")
    if kind not in _MITIGATION_KINDS:
        raise UsageError(f"{key}.kind: '{kind}' is not one of {sorted(_MITIGATION_KINDS)}")
    _unknown(raw, _MITIGATION_COMMON | _MITIGATION_KINDS[kind], key)
    if raw.get("enabled", True) is False:
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise UsageError(f"{key}.name: required, lower case letters, digits and _ (got {name!r})")
    if "start_year" not in raw:
        raise UsageError(f"{key}.start_year: required (the financial year the mitigation starts, e.g. \"2026-27\")")
    start = _fy(raw["start_year"], f"{key}.start_year")
    investment = _year_amounts(raw.get("investment_gbp") or {}, f"{key}.investment_gbp")
    common = dict(
        name=name, kind=kind, start_year=start, description=str(raw.get("description") or ""),
        source=_text(raw.get("source"), f"{key}.source"), as_of=_as_of(raw.get("as_of"), f"{key}.as_of"),
        investment_gbp=investment,
    )
    settings: tuple[str, ...] = ()
    if "settings" in raw:
        lst = raw["settings"]
        if not isinstance(lst, list) or not lst:
            raise UsageError(f"{key}.settings: expected a non-empty list of setting types")
        settings = tuple(_setting(s, f"{key}.settings") for s in lst)
    if kind == "fewer_new_plans":
        if "reduction_pct" not in raw:
            raise UsageError(f"{key}.reduction_pct: required")
        return Mitigation(**common, settings=settings,
                          reduction_pct=_number(raw["reduction_pct"], f"{key}.reduction_pct", min_value=0.0, max_value=100.0))
    if kind == "unit_cost_change":
        if not settings:
            raise UsageError(f"{key}.settings: required (the setting types whose unit costs change)")
        if "change_pct" not in raw:
            raise UsageError(f"{key}.change_pct: required")
        return Mitigation(**common, settings=settings,
                          change_pct=_number(raw["change_pct"], f"{key}.change_pct", min_value=-100.0))
    # inmss_to_local
    to = _setting(raw.get("to_setting"), f"{key}.to_setting")
    if to not in SPECIALIST_SETTINGS:
        raise UsageError(f"{key}.to_setting: '{to}' is not a local specialist setting {list(SPECIALIST_SETTINGS)}")
    if "places" not in raw:
        raise UsageError(f"{key}.places: required (cumulative local places by financial year, e.g. {{\"2026-27\": 16}})")
    places = _year_amounts(raw["places"], f"{key}.places")
    early = [y for y in places if y < start]
    if early:
        raise UsageError(f"{key}.places: {financial_year_label(early[0])} is before start_year {financial_year_label(start)}")
    return Mitigation(**common, places=places, to_setting=to)


def assumptions_table(sf: ScenarioFile) -> "pd.DataFrame":  # noqa: F821
    """Every assumption and mitigation of every scenario, with provenance (the workbook's first sheet)."""
    import pandas as pd

    rows = []
    for item, s in (("statutory_override_end", sf.statutory_override_end),
                    ("deficit_threshold_gbp", sf.deficit_threshold_gbp),
                    ("block_transfer_cap_pct", sf.block_transfer_cap_pct)):
        val = financial_year_label(s.value) if item == "statutory_override_end" else s.value
        rows.append({"scenario": "(all)", "kind": "setting", "name": item, "value": val, "low": None, "high": None,
                     "distribution": "fixed", "start_year": None, "investment_gbp": None,
                     "description": "", "source": s.source, "as_of": s.as_of})
    for st, line in sf.setting_to_line.items():
        rows.append({"scenario": "(all)", "kind": "budget_line", "name": st, "value": line,
                     "low": None, "high": None, "distribution": "fixed", "start_year": None, "investment_gbp": None,
                     "description": f"plan-driven share of the line: {sf.plan_driven_share.get(line, 1.0):g}",
                     "source": sf.budget_lines_source.source, "as_of": sf.budget_lines_source.as_of})
    for sc in sf.scenarios.values():
        for a in sc.assumptions.values():
            rows.append({"scenario": sc.name, "kind": "assumption", "name": a.name, "value": a.value,
                         "low": a.low, "high": a.high, "distribution": a.distribution, "start_year": None,
                         "investment_gbp": None, "description": ASSUMPTIONS[a.name].description,
                         "source": a.source, "as_of": a.as_of})
        for m in sc.mitigations:
            effect = {
                "fewer_new_plans": f"reduction_pct={m.reduction_pct:g}" + (f" settings={list(m.settings)}" if m.settings else ""),
                "unit_cost_change": f"change_pct={m.change_pct:g} settings={list(m.settings)}",
                "inmss_to_local": f"to {m.to_setting}: places " + ", ".join(
                    f"{financial_year_label(y)}={v:g}" for y, v in m.places.items()),
            }[m.kind]
            rows.append({"scenario": sc.name, "kind": f"mitigation:{m.kind}", "name": m.name, "value": effect,
                         "low": None, "high": None, "distribution": "fixed",
                         "start_year": financial_year_label(m.start_year),
                         "investment_gbp": float(sum(m.investment_gbp.values())),
                         "description": m.description, "source": m.source, "as_of": m.as_of})
    return pd.DataFrame(rows)
