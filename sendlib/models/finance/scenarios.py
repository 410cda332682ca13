"""DSG scenario files: load, resolve ``extends:`` and validate, naming the offending key.

A scenario file (``config/scenarios/dsg.yaml``) holds every assumption of the high needs block
model: unit-cost inflation, funding growth, block transfers, growth of the lines not driven by
plan numbers, the setting-type -> budget-line map, the statutory override date, mitigations
(start year, effect, investment) and the uncertainty of each assumption (``low``/``high`` and a
distribution). Nothing numeric that is an assumption lives in code. See ``docs/finance.md``.

The file is declared by :class:`ScenarioFile` (sections :class:`StatutoryOverride`,
:class:`DeficitThreshold`, :class:`BlockTransferCap`, :class:`BudgetLines`, and one
:class:`Scenario` per name with its :class:`Assumption` and :class:`Mitigation` entries). Every
problem raises :class:`sendlib.core.errors.UsageError` naming the file, the dotted key
(``scenarios.mitigated.assumptions.unit_cost_inflation_pct.value``) and what is expected.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sendlib.core.errors import UsageError
from sendlib.core.quarters import financial_year_label, parse_financial_year
from sendlib.core.schema import HNB_LINE, SETTING_TYPE, SPECIALIST_SETTINGS
from sendlib.core.settings import SettingsModel, errors_at, parse_settings, read_yaml_mapping

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
        "Annual inflation of placement unit costs (fees, top-ups, place funding)", "% a year", min_value=0.0
    ),
    "unit_cost_change_pct": AssumptionSpec(
        "Change to every calibrated unit cost from the first projected year (uncertainty in the base cost)",
        "%",
        required=False,
        min_value=-100.0,
        neutral=0.0,
    ),
    "placement_growth_adjustment_pct": AssumptionSpec(
        "Extra annual growth in placements on top of the demand projection",
        "% a year",
        required=False,
        min_value=-100.0,
        neutral=0.0,
    ),
    "hnb_allocation_growth_pct": AssumptionSpec(
        "Annual growth of the high needs block allocation (after place-funding deductions)",
        "% a year",
        min_value=-100.0,
    ),
    "other_income_growth_pct": AssumptionSpec("Annual growth of other high needs income", "% a year", min_value=-100.0),
    "schools_block_gbp": AssumptionSpec("Schools block allocation in the base year", "GBP", min_value=0.0),
    "schools_block_growth_pct": AssumptionSpec("Annual growth of the schools block", "% a year", min_value=-100.0),
    "block_transfer_pct": AssumptionSpec(
        "Transfer from the schools block to high needs each projected year, % of the schools block "
        "(Schools Forum approval; capped by block_transfer_cap_pct)",
        "% of schools block",
        min_value=0.0,
    ),
    "mitigation_delivery_pct": AssumptionSpec(
        "Share of every mitigation's planned effect that is delivered (investment is spent in full)",
        "%",
        required=False,
        min_value=0.0,
        max_value=200.0,
        neutral=100.0,
    ),
}
for _line, _label in HNB_LINE.items():
    ASSUMPTIONS[f"{_line}_growth_pct"] = AssumptionSpec(
        f"Annual growth of the part of '{_label}' not driven by plan numbers",
        "% a year",
        required=False,
        min_value=-100.0,
    )

_MITIGATION_KINDS = {
    "fewer_new_plans": {"reduction_pct", "settings"},
    "inmss_to_local": {"places", "to_setting"},
    "unit_cost_change": {"change_pct", "settings"},
    "local_places": {"setting_ids"},
}
#: keys a kind of mitigation must give, and what they are
_MITIGATION_NEEDS = {
    "fewer_new_plans": {"reduction_pct": "% of the projected growth in placements removed"},
    "inmss_to_local": {
        "to_setting": "the local specialist setting children move to",
        "places": 'cumulative local places by financial year, e.g. {"2026-27": 16}',
    },
    "unit_cost_change": {"settings": "the setting types whose unit costs change", "change_pct": "% change"},
    "local_places": {
        "setting_ids": "the new settings (add_settings of the scenario's sufficiency_scenario file) it opens",
    },
}
_MITIGATION_COMMON = {"name", "kind", "description", "start_year", "investment_gbp", "source", "as_of", "enabled"}
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,23}$")


# ----- value types --------------------------------------------------------------------------------


def _plain_number(value: Any) -> float:
    """A plain number; text such as "3%" or "-2" is refused."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, str):
        raise ValueError(
            f"'{value}' is text, not a number; write a plain number without quotes, "
            "% sign or commas (e.g. 3 for 3%, -2 for minus 2%)"
        )
    if not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def _check_bounds(v: float, min_value: float | None, max_value: float | None) -> float:
    if min_value is not None and v < min_value:
        what = "negative" if min_value == 0 and v < 0 else f"below {min_value:g}"
        raise ValueError(f"{v:g} is {what}; it must be at least {min_value:g}")
    if max_value is not None and v > max_value:
        raise ValueError(f"{v:g} is above the maximum {max_value:g}")
    return v


def _within(min_value: float | None = None, max_value: float | None = None) -> AfterValidator:
    return AfterValidator(lambda v: _check_bounds(v, min_value, max_value))


def _as_of(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise ValueError(f"expected a date YYYY-MM-DD (when the figure was last checked), got {value!r}")


def _financial_year(value: Any) -> int:
    """A financial year label (``2026-27``) -> its start year."""
    if not isinstance(value, str):
        raise ValueError(f'expected a financial year in quotes like "2026-27", got {value!r}')
    return parse_financial_year(value)  # a UsageError is a ValueError: reported at the key


def _sourced_text(value: str) -> str:
    if not value:
        raise ValueError("required (say where the figure comes from)")
    return value


def _setting_type(value: str) -> str:
    if value not in SETTING_TYPE:
        raise ValueError(f"setting type '{value}' is unknown; expected one of {sorted(SETTING_TYPE)}")
    return value


def _budget_line(value: str) -> str:
    if value not in HNB_LINE:
        raise ValueError(f"budget line '{value}' is unknown; expected one of {sorted(HNB_LINE)}")
    return value


def _scenario_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(
            "a scenario name is lower case letters, digits and _ (max 24 characters), starting with a letter"
        )
    return value


def _mitigation_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(f"lower case letters, digits and _, at most 24 characters (got {value!r})")
    return value


def _assumption_name(value: str) -> str:
    if value not in ASSUMPTIONS:
        close = difflib.get_close_matches(value, sorted(ASSUMPTIONS), n=1)
        raise ValueError(
            f"unknown key (assumption '{value}')"
            + (f"; did you mean '{close[0]}'?" if close else "")
            + f"; expected one of {sorted(ASSUMPTIONS)}"
        )
    return value


def _by_year(amounts: dict[int, float]) -> dict[int, float]:
    return dict(sorted(amounts.items()))


def _null_is(empty: Callable[[], Any]) -> BeforeValidator:
    """A key written with nothing after it (YAML null) is empty: ``""``, ``()`` or ``{}``."""
    return BeforeValidator(lambda value: empty() if value is None else value)


#: a plain number (3 for 3%); text such as "3%" is refused
Number = Annotated[float, BeforeValidator(_plain_number)]
#: where a figure comes from (required, not empty)
Source = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_sourced_text)]
#: when a figure was last checked, YYYY-MM-DD
AsOf = Annotated[str, BeforeValidator(_as_of)]
#: a financial year written "2026-27", read as its start year (2026)
FinancialYear = Annotated[int, BeforeValidator(_financial_year)]
SettingType = Annotated[str, AfterValidator(_setting_type)]
Note = Annotated[str, BeforeValidator(lambda v: str(v or ""))]
#: pounds (or places) by financial year, in year order
YearAmounts = Annotated[dict[FinancialYear, Annotated[Number, _within(0.0)]], _null_is(dict), AfterValidator(_by_year)]


# ----- the file's sections -------------------------------------------------------------------------


class _Provenance(SettingsModel):
    """Where a setting comes from and when it was last checked."""

    source: Source
    as_of: AsOf
    note: Note = ""


class StatutoryOverride(_Provenance):
    """``statutory_override``: the financial year the override that keeps DSG deficits off general funds ends."""

    end_financial_year: FinancialYear

    @property
    def value(self) -> int:
        """Start year of the last financial year covered (2027 for 2027-28)."""
        return self.end_financial_year


class DeficitThreshold(_Provenance):
    """``deficit_threshold``: the cumulative deficit (pounds, positive) the probability table reports against."""

    deficit_gbp: Annotated[Number, _within(0.0)]

    @property
    def value(self) -> float:
        return self.deficit_gbp


class BlockTransferCap(_Provenance):
    """``block_transfer_cap``: the largest schools block transfer without the Secretary of State's approval."""

    pct_of_schools_block: Annotated[Number, _within(0.0, 100.0)]

    @property
    def value(self) -> float:
        return self.pct_of_schools_block


class BudgetLines(_Provenance):
    """``budget_lines``: the high needs budget line each setting type is paid from, and the
    plan-driven share of lines that are only partly driven by plan numbers."""

    setting_to_line: dict[Annotated[str, AfterValidator(_setting_type)], Annotated[str, AfterValidator(_budget_line)]]
    plan_driven_share: Annotated[dict[str, Annotated[Number, _within(0.0, 1.0)]], _null_is(dict)] = Field(
        default_factory=dict
    )

    @property
    def value(self) -> None:
        return None

    @field_validator("setting_to_line")
    @classmethod
    def _every_setting_type(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [st for st in SETTING_TYPE if st not in value]
        if missing:
            raise ValueError(f"every setting type needs a budget line; missing {missing}")
        return value

    @field_validator("plan_driven_share")
    @classmethod
    def _mapped_lines_only(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        mapped = set((info.data.get("setting_to_line") or {}).values())
        if "setting_to_line" in info.data:
            bad = [line for line in value if line not in mapped]
            if bad:
                raise errors_at([((line,), f"'{line}' is not a line any setting type maps to", line) for line in bad])
        return value


class SufficiencyScenarioRef(_Provenance):
    """``scenarios.<name>.sufficiency_scenario``: the sufficiency scenario file (relative to this
    file's folder) whose placement cascade gives the scenario's demand: e.g. the approved
    pipeline one year late, or the new places a mitigation opens."""

    file: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class PlaceFunding(_Provenance):
    """``place_funding``: place funding per place a year (fixed rates, never inflated) and the share
    of each setting type's places in academies, whose place funding the DfE pays directly and
    deducts from the high needs allocation before it reaches the council (so it is neither the
    council's income nor its spend).

    ``outturn_includes_academy_place_funding``: whether the ``hnb_budget`` lines of those setting
    types include that place funding (then it is taken out of the base-year outturn, shown in the
    reconciliation); ``placements.annual_cost`` always includes it (schema: place funding plus
    top-up), so it is taken out of the observed unit costs.
    """

    rates_gbp: dict[SettingType, Annotated[Number, _within(0.0)]]
    academy_share: dict[SettingType, Annotated[Number, _within(0.0, 1.0)]]
    outturn_includes_academy_place_funding: StrictBool

    @property
    def value(self) -> None:
        return None

    def deducted_gbp(self, setting: str) -> float:
        """Place funding a year per child of ``setting`` paid by the DfE (deducted before allocation)."""
        return float(self.rates_gbp.get(setting, 0.0)) * float(self.academy_share.get(setting, 0.0))

    def council_fixed_gbp(self, setting: str) -> float:
        """Place funding a year per child of ``setting`` the council pays (maintained places; not inflated)."""
        return float(self.rates_gbp.get(setting, 0.0)) * (1.0 - float(self.academy_share.get(setting, 0.0)))


class Assumption(SettingsModel):
    """One assumption: central value, optional uncertainty, and provenance.

    ``name`` is the key the assumption is written under (the reader sets it). With ``low`` and
    ``high`` the distribution is ``triangular`` unless another is given; without, ``fixed``.
    """

    name: str
    value: Number
    low: Number | None = None
    high: Number | None = None
    distribution: Literal[DISTRIBUTIONS]  # type: ignore[valid-type]
    source: Source
    as_of: AsOf
    note: Note = ""

    @model_validator(mode="before")
    @classmethod
    def _default_distribution(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "distribution" not in data:
            uncertain = data.get("low") is not None and data.get("high") is not None
            return {**data, "distribution": "triangular" if uncertain else "fixed"}
        return data

    @field_validator("value", "low", "high")
    @classmethod
    def _within_the_assumptions_range(cls, value: float | None, info: ValidationInfo) -> float | None:
        spec = ASSUMPTIONS.get(info.data.get("name", ""))
        if value is None or spec is None:
            return value
        return _check_bounds(value, spec.min_value, spec.max_value)

    @model_validator(mode="after")
    def _low_value_high(self) -> Assumption:
        low, high = self.low, self.high
        if (low is None) != (high is None):
            raise ValueError("give both low and high, or neither")
        if self.distribution != "fixed" and low is None:
            raise errors_at([(("distribution",), f"'{self.distribution}' needs low and high", self.distribution)])
        if low is not None and high is not None and not low <= self.value <= high:
            raise ValueError(f"low ({low:g}) <= value ({self.value:g}) <= high ({high:g}) does not hold")
        return self

    @property
    def is_uncertain(self) -> bool:
        return self.distribution != "fixed" and self.low is not None and self.high is not None and self.low < self.high


class Mitigation(SettingsModel):
    """A mitigation: what it changes from ``start_year`` (a financial-year start) and what it costs.

    ``kind``: ``fewer_new_plans`` (``reduction_pct`` of the growth in projected placements removed,
    early help), ``inmss_to_local`` (``places``: cumulative local specialist places by financial
    year, each taking a child from an independent / non-maintained special school into
    ``to_setting``), ``unit_cost_change`` (``change_pct`` on the unit costs of ``settings``,
    e.g. banding), ``local_places`` (new local specialist places beyond the approved pipeline:
    ``setting_ids`` name the ``add_settings`` rows of the scenario's ``sufficiency_scenario``
    file, whose places the placement cascade uses; here their cost and start year). ``enabled: false`` drops it (a scenario that extends another uses this to
    drop an inherited one); it must still be a valid mitigation.
    """

    name: Annotated[str, AfterValidator(_mitigation_name)]
    kind: Literal["fewer_new_plans", "inmss_to_local", "unit_cost_change", "local_places"]
    start_year: FinancialYear
    source: Source
    as_of: AsOf
    description: Note = ""
    enabled: StrictBool = True
    settings: tuple[SettingType, ...] = ()
    reduction_pct: Annotated[Number, _within(0.0, 100.0)] = 0.0
    change_pct: Annotated[Number, _within(-100.0)] = 0.0
    places: YearAmounts = Field(default_factory=dict)
    to_setting: SettingType = ""
    setting_ids: Annotated[tuple[Annotated[str, BeforeValidator(lambda v: str(v))], ...], Field(min_length=1)] = ()
    investment_gbp: YearAmounts = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _keys_of_its_kind(cls, data: Any) -> Any:
        kind = data.get("kind") if isinstance(data, Mapping) else None
        if kind not in _MITIGATION_KINDS:
            return data
        allowed = _MITIGATION_COMMON | _MITIGATION_KINDS[kind]
        problems = [
            ((str(k),), f"unknown key for kind {kind}; expected some of {sorted(allowed)}", data[k])
            for k in data
            if k not in allowed
        ]
        problems += [
            ((k,), f"is required ({what})", None) for k, what in _MITIGATION_NEEDS[kind].items() if k not in data
        ]
        if problems:
            raise errors_at(problems)
        return data

    @field_validator("settings")
    @classmethod
    def _some_settings(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("expected a non-empty list of setting types")
        return value

    @field_validator("to_setting")
    @classmethod
    def _local_specialist(cls, value: str) -> str:
        if value not in SPECIALIST_SETTINGS:
            raise ValueError(f"'{value}' is not a local specialist setting {list(SPECIALIST_SETTINGS)}")
        return value

    @model_validator(mode="after")
    def _places_from_the_start(self) -> Mitigation:
        early = [y for y in self.places if y < self.start_year]
        if early:
            raise errors_at(
                [
                    (
                        ("places", financial_year_label(early[0])),
                        f"{financial_year_label(early[0])} is before start_year {financial_year_label(self.start_year)}",
                        self.places[early[0]],
                    )
                ]
            )
        return self


class Scenario(SettingsModel):
    """A fully resolved scenario (``extends`` applied; ``name`` is its key in the file).

    ``compare_to``: the scenario its savings and payback are measured against (default
    ``unmitigated`` for a scenario with mitigations, when the file has one).
    """

    name: str
    description: Annotated[str, _null_is(str)] = ""
    compare_to: str | None = None
    #: the sufficiency scenario file whose placement cascade gives this scenario's demand
    #: (None: the run's, the config's ``report.sufficiency_scenario``)
    sufficiency_scenario: SufficiencyScenarioRef | None = None
    assumptions: Annotated[dict[Annotated[str, AfterValidator(_assumption_name)], Assumption], _null_is(dict)] = Field(
        default_factory=dict
    )
    mitigations: Annotated[tuple[Mitigation, ...], _null_is(tuple)] = ()

    @field_validator("assumptions", mode="before")
    @classmethod
    def _named_by_key(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        written = [
            ((str(k), "name"), "unknown key", v["name"])
            for k, v in value.items()
            if isinstance(v, Mapping) and "name" in v
        ]
        if written:
            raise errors_at(written)
        return {k: {**v, "name": k} if isinstance(v, Mapping) else v for k, v in value.items()}

    @field_validator("mitigations")
    @classmethod
    def _enabled_once_each(cls, value: tuple[Mitigation, ...]) -> tuple[Mitigation, ...]:
        seen: set[str] = set()
        problems = []
        for i, m in enumerate(value):
            if not m.enabled:
                continue
            if m.name in seen:
                problems.append(((i, "name"), f"'{m.name}' appears twice", m.name))
            seen.add(m.name)
        if problems:
            raise errors_at(problems)
        return tuple(m for m in value if m.enabled)

    @model_validator(mode="after")
    def _required_assumptions(self) -> Scenario:
        missing = [
            (("assumptions", name), f"required ({spec.description}, {spec.unit})", None)
            for name, spec in ASSUMPTIONS.items()
            if spec.required and name not in self.assumptions
        ]
        if missing:
            raise errors_at(missing)
        return self

    def value(self, name: str) -> float:
        """Central value of an assumption (the neutral value for an absent optional one)."""
        if name in self.assumptions:
            return self.assumptions[name].value
        spec = ASSUMPTIONS[name]
        if spec.neutral is None:
            return 0.0
        return spec.neutral


class _ExtendsError(Exception):
    def __init__(self, loc: tuple[str, ...], rule: str, given: Any) -> None:
        super().__init__(rule)
        self.problem = (loc, rule, given)


def _resolve_extends(name: str, scen_raw: Mapping[str, Any], chain: list[str]) -> Any:
    """Merge a scenario over its parent: assumptions replace by name, mitigations by ``name``."""
    if name in chain:
        raise _ExtendsError((name, "extends"), f"circular ({' -> '.join(chain + [name])})", name)
    body = copy.deepcopy(scen_raw[name])
    body = {} if body is None else body
    if not isinstance(body, Mapping) or body.get("extends") is None:
        return body
    parent = body["extends"]
    if parent not in scen_raw:
        raise _ExtendsError(
            (name, "extends"), f"scenario '{parent}' is not in this file; expected one of {sorted(scen_raw)}", parent
        )
    base = _resolve_extends(parent, scen_raw, chain + [name])
    if not isinstance(base, Mapping):  # the parent's own error is reported under its name
        return {k: v for k, v in body.items() if k != "extends"}
    merged = copy.deepcopy(dict(base))
    merged.update({k: v for k, v in body.items() if k not in ("extends", "assumptions", "mitigations")})
    merged["description"] = body.get("description", base.get("description", ""))
    merged["compare_to"] = body.get("compare_to", base.get("compare_to"))
    base_a, own_a = base.get("assumptions") or {}, body.get("assumptions") or {}
    merged["assumptions"] = {**base_a, **own_a} if isinstance(base_a, Mapping) and isinstance(own_a, Mapping) else own_a
    mits, own = list(base.get("mitigations") or []), body.get("mitigations") or []
    if not isinstance(own, list):
        merged["mitigations"] = own
        return merged
    for m in own:
        idx = next(
            (
                i
                for i, x in enumerate(mits)
                if isinstance(x, Mapping) and isinstance(m, Mapping) and x.get("name") == m.get("name")
            ),
            None,
        )
        if idx is None:
            mits.append(m)
        else:
            mits[idx] = {**mits[idx], **m}
    merged["mitigations"] = mits
    return merged


class ScenarioFile(SettingsModel):
    """A DSG scenario file (``config/scenarios/dsg.yaml``), validated, every ``extends`` resolved."""

    version: int = 1
    description: Annotated[str, _null_is(str)] = ""
    statutory_override: StatutoryOverride
    deficit_threshold: DeficitThreshold
    block_transfer_cap: BlockTransferCap
    budget_lines: BudgetLines
    place_funding: PlaceFunding | None = None
    scenarios: dict[Annotated[str, AfterValidator(_scenario_name)], Scenario]
    _path: str = PrivateAttr("<memory>")

    @field_validator("scenarios", mode="before")
    @classmethod
    def _resolve(cls, value: Any) -> Any:
        """Each scenario merged over the one it ``extends``; its name and default ``compare_to`` set."""
        if not isinstance(value, Mapping):
            return value
        out: dict[Any, Any] = {}
        problems = []
        for name in value:
            try:
                body = _resolve_extends(name, value, [])
            except _ExtendsError as exc:
                problems.append(exc.problem)
                continue
            if isinstance(body, Mapping):
                if "name" in body:
                    problems.append(((name, "name"), "unknown key", body["name"]))
                body = {**body, "name": str(name)}
                mits = body.get("mitigations")
                enabled = isinstance(mits, list) and any(
                    isinstance(m, Mapping) and m.get("enabled", True) is not False for m in mits
                )
                if body.get("compare_to") is None and enabled and "unmitigated" in value and name != "unmitigated":
                    body["compare_to"] = "unmitigated"
            out[name] = body
        if problems:
            raise errors_at(problems)
        return out

    @field_validator("scenarios")
    @classmethod
    def _against_the_file(cls, value: dict[str, Scenario], info: ValidationInfo) -> dict[str, Scenario]:
        """Rules that need the file's other sections: compare_to, growth of non-plan lines, the transfer cap."""
        if not value:
            raise ValueError("at least one scenario is required")
        problems: list[tuple[tuple[str, ...], str, Any]] = []
        lines = info.data.get("budget_lines")
        cap = info.data.get("block_transfer_cap")
        for name, sc in value.items():
            if sc.compare_to is not None and sc.compare_to not in value:
                problems.append(
                    ((name, "compare_to"), f"scenario '{sc.compare_to}' is not in this file", sc.compare_to)
                )
            if lines is not None:
                for line in _non_plan_lines(lines):
                    if f"{line}_growth_pct" not in sc.assumptions:
                        problems.append(
                            (
                                (name, "assumptions", f"{line}_growth_pct"),
                                f"required: budget line '{line}' has a part not driven by plan numbers, "
                                "so it needs its own growth rate",
                                None,
                            )
                        )
            bt = sc.assumptions.get("block_transfer_pct")
            if cap is not None and bt is not None:
                for fld in ("value", "low", "high"):
                    v = getattr(bt, fld)
                    if v is not None and v > cap.value:
                        problems.append(
                            (
                                (name, "assumptions", "block_transfer_pct", fld),
                                f"{v:g}% is above the cap of {cap.value:g}% (block_transfer_cap.pct_of_schools_block; "
                                "a higher transfer needs the Secretary of State's approval)",
                                v,
                            )
                        )
        if problems:
            raise errors_at(problems)
        return value

    @property
    def path(self) -> str:
        """The file read (``<memory>`` for a mapping given in code)."""
        return self._path

    @property
    def names(self) -> list[str]:
        return list(self.scenarios)

    @property
    def statutory_override_end(self) -> StatutoryOverride:
        """``.value``: the financial-year start the override ends in (2027 for 2027-28)."""
        return self.statutory_override

    @property
    def deficit_threshold_gbp(self) -> DeficitThreshold:
        """``.value``: a deficit size in pounds (positive)."""
        return self.deficit_threshold

    @property
    def block_transfer_cap_pct(self) -> BlockTransferCap:
        return self.block_transfer_cap

    @property
    def setting_to_line(self) -> Mapping[str, str]:
        return self.budget_lines.setting_to_line

    @property
    def plan_driven_share(self) -> Mapping[str, float]:
        return self.budget_lines.plan_driven_share

    @property
    def budget_lines_source(self) -> BudgetLines:
        """``.source`` and ``.as_of`` of the budget-line map."""
        return self.budget_lines

    def non_plan_lines(self) -> list[str]:
        """Budget lines with a part not driven by plan numbers (they need a growth assumption)."""
        return _non_plan_lines(self.budget_lines)


def _non_plan_lines(lines: BudgetLines) -> list[str]:
    mapped = set(lines.setting_to_line.values())
    return [ln for ln in HNB_LINE if ln not in mapped or lines.plan_driven_share.get(ln, 1.0) < 1.0]


# ----- reading --------------------------------------------------------------------------------------


def load_scenarios(path: str | Path) -> ScenarioFile:
    """Read and validate a DSG scenario file.

    Raises
    ------
    UsageError
        When the file is missing, not YAML, or any key is unknown or malformed; the message names
        the file and the key (e.g. ``scenarios.mitigated.mitigations.0.settings.1``).
    """
    p = Path(path).expanduser()
    return parse_scenarios(read_yaml_mapping(p, "scenario file", UsageError), origin=str(p))


def parse_scenarios(raw: Any, origin: str = "<memory>") -> ScenarioFile:
    """Validate an already-parsed scenario mapping (see :func:`load_scenarios`)."""
    if not isinstance(raw, Mapping):
        raise UsageError(f"scenario file {origin} must be a mapping of keys, not {type(raw).__name__}")
    sf = parse_settings(ScenarioFile, raw, f"scenario file {origin}", UsageError)
    sf._path = origin
    return sf


def assumptions_table(sf: ScenarioFile) -> pd.DataFrame:  # noqa: F821
    """Every assumption and mitigation of every scenario, with provenance (the workbook's first sheet)."""
    import pandas as pd

    rows = []
    for item, s in (
        ("statutory_override_end", sf.statutory_override_end),
        ("deficit_threshold_gbp", sf.deficit_threshold_gbp),
        ("block_transfer_cap_pct", sf.block_transfer_cap_pct),
    ):
        val = financial_year_label(s.value) if item == "statutory_override_end" else s.value
        rows.append(
            {
                "scenario": "(all)",
                "kind": "setting",
                "name": item,
                "value": val,
                "low": None,
                "high": None,
                "distribution": "fixed",
                "start_year": None,
                "investment_gbp": None,
                "description": "",
                "source": s.source,
                "as_of": s.as_of,
            }
        )
    pf = sf.place_funding
    if pf is not None:
        for st, rate in pf.rates_gbp.items():
            rows.append(
                {
                    "scenario": "(all)",
                    "kind": "place_funding",
                    "name": st,
                    "value": rate,
                    "low": None,
                    "high": None,
                    "distribution": "fixed",
                    "start_year": None,
                    "investment_gbp": None,
                    "description": f"place funding per place a year (not inflated); academy share "
                    f"{pf.academy_share.get(st, 0.0):g} paid by the DfE and deducted before allocation",
                    "source": pf.source,
                    "as_of": pf.as_of,
                }
            )
    for st, line in sf.setting_to_line.items():
        rows.append(
            {
                "scenario": "(all)",
                "kind": "budget_line",
                "name": st,
                "value": line,
                "low": None,
                "high": None,
                "distribution": "fixed",
                "start_year": None,
                "investment_gbp": None,
                "description": f"plan-driven share of the line: {sf.plan_driven_share.get(line, 1.0):g}",
                "source": sf.budget_lines_source.source,
                "as_of": sf.budget_lines_source.as_of,
            }
        )
    for sc in sf.scenarios.values():
        for a in sc.assumptions.values():
            rows.append(
                {
                    "scenario": sc.name,
                    "kind": "assumption",
                    "name": a.name,
                    "value": a.value,
                    "low": a.low,
                    "high": a.high,
                    "distribution": a.distribution,
                    "start_year": None,
                    "investment_gbp": None,
                    "description": ASSUMPTIONS[a.name].description,
                    "source": a.source,
                    "as_of": a.as_of,
                }
            )
        if sc.sufficiency_scenario is not None:
            rows.append(
                {
                    "scenario": sc.name,
                    "kind": "sufficiency_scenario",
                    "name": "sufficiency_scenario",
                    "value": sc.sufficiency_scenario.file,
                    "low": None,
                    "high": None,
                    "distribution": "fixed",
                    "start_year": None,
                    "investment_gbp": None,
                    "description": "Sufficiency scenario whose placement cascade gives this scenario's demand",
                    "source": sc.sufficiency_scenario.source,
                    "as_of": sc.sufficiency_scenario.as_of,
                }
            )
        for m in sc.mitigations:
            effect = {
                "fewer_new_plans": f"reduction_pct={m.reduction_pct:g}"
                + (f" settings={list(m.settings)}" if m.settings else ""),
                "unit_cost_change": f"change_pct={m.change_pct:g} settings={list(m.settings)}",
                "inmss_to_local": f"to {m.to_setting}: places "
                + ", ".join(f"{financial_year_label(y)}={v:g}" for y, v in m.places.items()),
                "local_places": "new places (sufficiency add_settings): " + ", ".join(m.setting_ids),
            }[m.kind]
            rows.append(
                {
                    "scenario": sc.name,
                    "kind": f"mitigation:{m.kind}",
                    "name": m.name,
                    "value": effect,
                    "low": None,
                    "high": None,
                    "distribution": "fixed",
                    "start_year": financial_year_label(m.start_year),
                    "investment_gbp": float(sum(m.investment_gbp.values())),
                    "description": m.description,
                    "source": m.source,
                    "as_of": m.as_of,
                }
            )
    return pd.DataFrame(rows)
