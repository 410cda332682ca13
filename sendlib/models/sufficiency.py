"""Placement sufficiency: specialist place demand against capacity and the pipeline.

The demand forecast hands over a :class:`~sendlib.models.projection.PlacementProjection`; this module
compares its specialist placements with the ``capacity`` table and moves any overflow (demand
above capacity) to independent and non-maintained special schools (``inmss``), so that finance
prices it at their unit cost: one model chain (``docs/architecture.md``, ``docs/sufficiency.md``).

Definitions (also in ``docs/sufficiency.md``)
---------------------------------------------
Specialist demand
    Projected children with a plan in ``resourced_provision``, ``special_maintained`` or
    ``special_academy`` (:data:`sendlib.core.schema.SPECIALIST_SETTINGS`) at each January census, in
    the scenario's ``phases``, grouped by ``phase`` x ``designation`` x ``locality`` (the child's
    home locality). Setting types are pooled: a place is a place of that designation.
Designation of a child
    ``designation_map[primary_need]`` from the scenario. Two fall-backs, both to the scenario's
    ``unmatched_designation`` (``mixed``): (a) a need the map does not list; (b) a need whose
    mapped designation has no setting in force in that phase at any projected census (anywhere
    in the county), so the child is counted against the complex / mixed-needs places.
Places in force for census year ``Y``
    A capacity row counts when ``open_date <= census day of Y`` and (``close_date`` is empty or
    ``close_date > census day of Y``), the census day being the third Thursday of January.
    A pipeline place opening in the middle of a school year therefore counts from the first
    census on or after its open date (a resource base opening in April 2025 counts from January
    2026). ``open`` and ``pipeline`` rows count; ``proposed`` rows only when the scenario's
    ``include_proposed`` is ``true`` or lists their ``setting_id``. Usable places are
    ``places x usable_places_pct / 100``.
Local demand and the out-of-county line
    Children in other authorities' special schools and resourced provision are not demand for
    local places: at the last observed census the share of each phase and setting type placed
    out of county (``placements.out_of_county``) is held in every simulation and year and
    reported as ``out_of_county`` (the scenario's ``out_of_county_return_pct`` brings a share of
    them back into local demand). ``demand`` is the rest: in-county demand for local places.
The placement cascade (:func:`cascade`)
    Per simulation, census year and pool (phase, or phase x locality with ``match_within:
    locality``): (1) children take places of their own designation; (2) children left take spare
    complex / mixed-needs places; (3) then any spare place of the phase (``cross_designation``
    stops after 1 or 2). Places are usable places x (1 + ``over_admission_pct`` / 100). Children
    with no local place overflow: under-5s to an early years setting with top-up
    (``early_years_overflow_setting``), post-16 / post-19 to specialist post-16 institutions or FE
    colleges (``post16_overflow_split``), school age to other authorities' maintained places
    (``overflow_out_of_county_pct``) and the rest to independent / non-maintained special schools
    (INMSS). For every simulation, year and group ``placed + overflow by destination = demand``.
Gap, utilisation, shortfall
    ``gap = demand - places`` (positive = shortfall); ``utilisation_pct`` = mean children in the
    group's local places / places x 100 (never above 100 + the over-admission allowance; empty
    where there are no places); ``prob_shortfall`` = share of simulations with any overflow;
    the first year the gap opens is the first census year whose median gap is above zero.
    Roll-ups add groups (their overflow is the sum of group overflows); :meth:`Sufficiency.table`
    adds a phase total row with designation ``all``. :func:`apply_overflow` moves the overflow
    in the projection to the destination setting types (finance prices it); overflow to other
    authorities' maintained places keeps its specialist setting type.

Everything assumed (the designation map, phases, what-ifs) is in the scenario file
(``config/scenarios/sufficiency.yaml``), validated by :func:`load_scenario`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

import numpy as np
import pandas as pd
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationInfo,
    model_validator,
)

from sendlib.core.errors import UsageError
from sendlib.core.quarters import third_thursday_of_january
from sendlib.core.schema import DESIGNATION, PHASE, PRIMARY_NEED, SPECIALIST_SETTINGS
from sendlib.core.settings import SettingsModel, errors_at, parse_settings, read_yaml_mapping
from sendlib.models.projection import GROUP_COLUMNS, PlacementProjection, group_sums

#: The level at which demand meets capacity (and overflow is computed).
KEY = ("phase", "designation", "locality")
#: Where school-age overflow that finds no out-of-county maintained place goes: independent and
#: non-maintained special schools.
OVERFLOW_SETTING = "inmss"
#: Overflow destinations, in the order of the cascade's output columns (``overflow_<d>_mean``):
#: other authorities' maintained special schools / resourced provision, independent and
#: non-maintained special schools, post-16 providers (specialist post-16 institutions, FE
#: colleges), early years settings with top-up funding.
DESTINATIONS = ("out_of_county", "inmss", "post16", "early_years")
#: Setting types post-16 overflow may go to (``post16_overflow_split``).
POST16_OVERFLOW_SETTINGS = ("specialist_post16", "fe_college", "other_post16")
#: Setting types under-5 overflow may go to (``early_years_overflow_setting``).
EARLY_YEARS_OVERFLOW_SETTINGS = ("mainstream_maintained", "mainstream_academy", "other")
#: Phases whose overflow goes to post-16 providers, and to early years settings.
POST16_PHASES = ("post16", "post19")
EARLY_YEARS_PHASES = ("early_years",)
#: Columns of a capacity row (``sendlib.core.schema.TABLES['capacity']``).
CAPACITY_COLUMNS = (
    "setting_id",
    "name",
    "setting_type",
    "phase",
    "designation",
    "locality",
    "places",
    "open_date",
    "close_date",
    "status",
)

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ----- scenario ---------------------------------------------------------------------------------


@dataclass
class SufficiencyScenario:
    """The assumptions of one sufficiency run (from a scenario YAML; see ``docs/sufficiency.md``).

    Attributes
    ----------
    name : str
        Scenario label (shown in tables and charts).
    phases : tuple of str
        Phases whose specialist demand is compared with capacity (the phases the capacity table
        plans for). Specialist demand in other phases is left as projected.
    designation_map : mapping
        ``primary_need -> capacity designation`` (a :data:`sendlib.core.schema.DESIGNATION` code).
    unmatched_designation : str
        Where a need with no map entry, or with no designated setting in its phase, is counted.
    usable_places_pct : float
        Share of commissioned places that can be filled, percent (100 = commissioned places).
    match_within : str
        ``locality``: the cascade runs within the child's home locality (phase x locality);
        ``county``: anywhere in the county (phase).
    over_admission_pct : float
        Children a setting may take above its usable places, percent of them (0 = none): caps
        the children placed in local places at ``capacity x (1 + over_admission_pct / 100)``.
    cross_designation : str
        How far the cascade looks for a spare local place of the phase after the child's own
        designation: ``none`` (designated places only), ``mixed`` (then complex / mixed-needs
        places), ``any`` (then any spare place of the phase).
    out_of_county_return_pct : float
        Percent of the children in other authorities' special schools and resourced provision
        brought back into local demand in every projected year (0 = they stay out of county).
    overflow_out_of_county_pct : float
        Percent of school-age overflow placed in other authorities' maintained special schools
        and resourced provision; the rest goes to independent / non-maintained special schools.
    post16_overflow_split : mapping
        ``setting_type -> percent`` (adding to 100): where post-16 / post-19 overflow goes
        (specialist post-16 institutions, FE colleges).
    early_years_overflow_setting : str
        Setting type that takes under-5 overflow (an early years setting with top-up funding).
    pipeline_delay_years : int
        Approved (``pipeline``) capacity rows of the table open this many years later.
    include_proposed : bool
        Count every ``proposed`` capacity row.
    include_setting_ids : tuple of str
        ``proposed`` settings to count (when ``include_proposed`` lists ids).
    add_settings : DataFrame
        Extra capacity rows (what-if settings), capacity columns.
    change_open_date, change_close_date : mapping
        ``setting_id -> date`` (``change_close_date`` may map to ``None``: no closure).
    sources : mapping
        ``key -> source`` for every assumption, for the assumptions log.

    A scenario file is read by :class:`SufficiencyScenarioFile`, which holds the file's rules;
    this object is what the model functions use (tests build it directly).
    """

    name: str
    phases: tuple[str, ...]
    designation_map: Mapping[str, str]
    unmatched_designation: str = "mixed"
    usable_places_pct: float = 100.0
    match_within: str = "locality"
    over_admission_pct: float = 0.0
    cross_designation: str = "any"
    out_of_county_return_pct: float = 0.0
    overflow_out_of_county_pct: float = 0.0
    post16_overflow_split: Mapping[str, float] = field(
        default_factory=lambda: {"specialist_post16": 50.0, "fe_college": 50.0}
    )
    early_years_overflow_setting: str = "mainstream_maintained"
    pipeline_delay_years: int = 0
    include_proposed: bool = False
    include_setting_ids: tuple[str, ...] = ()
    add_settings: pd.DataFrame = field(default_factory=lambda: _empty_capacity())
    change_open_date: Mapping[str, pd.Timestamp] = field(default_factory=dict)
    change_close_date: Mapping[str, pd.Timestamp | None] = field(default_factory=dict)
    description: str = ""
    source: str = ""
    as_of: str = ""
    sources: Mapping[str, str] = field(default_factory=dict)
    path: Path | None = None

    def designation_of(self, need: str) -> str:
        """The capacity designation a primary need maps to (before the no-setting fall-back)."""
        return self.designation_map.get(need, self.unmatched_designation)


def _empty_capacity() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype="string") for c in CAPACITY_COLUMNS})
    df["places"] = df["places"].astype("Int64")
    df["open_date"] = df["open_date"].astype("datetime64[ns]")
    df["close_date"] = df["close_date"].astype("datetime64[ns]")
    return df


def _origin(path: Path | str | None) -> str:
    return f"scenario file {path}" if path else "scenario"


# ----- the scenario file: keys, types and rules ------------------------------------------------------


def _code(codes: Sequence[str] | Mapping[str, str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in codes:
            raise ValueError(f"'{value}' is not a {what}; expected one of {list(codes)}")
        return value

    return AfterValidator(check)


def _as_text(value: Any) -> Any:
    """Identifiers YAML reads as numbers (``setting_id: 101``) are text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _sourced(value: str) -> str:
    if not value.strip():
        raise ValueError("must say where the assumption comes from")
    return value


def _census_date(value: Any) -> dt.date:
    """A date written YYYY-MM-DD (quoted or not) that exists."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("needs a date (YYYY-MM-DD)")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not _DATE_RE.match(text):
        raise ValueError(f"'{value}' is not a date in the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{value}' is not a date that exists") from None


def _census_date_or_none(value: Any) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _census_date(value)


def _date_as_text(value: Any) -> Any:
    """``as_of: 2026-11-23`` written without quotes is read as text, as with quotes."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _null_is(empty: Callable[[], Any]) -> BeforeValidator:
    """A key written with nothing after it (YAML null) is empty: ``""``, ``()`` or ``{}``."""
    return BeforeValidator(lambda value: empty() if value is None else value)


def _include_proposed(value: Any) -> Any:
    if isinstance(value, bool) or (isinstance(value, list) and all(isinstance(s, str) and s for s in value)):
        return value
    raise ValueError("must be true, false or a list of setting_id")


Phase = Annotated[str, _code(PHASE, "phase code")]
Designation = Annotated[str, _code(DESIGNATION, "designation")]
PrimaryNeed = Annotated[str, _code(PRIMARY_NEED, "primary need code")]
SpecialistSetting = Annotated[str, _code(SPECIALIST_SETTINGS, "specialist setting type")]
Post16Setting = Annotated[str, _code(POST16_OVERFLOW_SETTINGS, "post-16 overflow setting type")]
EarlyYearsSetting = Annotated[str, _code(EARLY_YEARS_OVERFLOW_SETTINGS, "early years overflow setting type")]
#: an identifier or label (a number is read as text)
Label = Annotated[str, BeforeValidator(_as_text), AfterValidator(_not_blank)]
#: where a figure or a what-if comes from
Source = Annotated[str, AfterValidator(_sourced)]
CensusDate = Annotated[dt.date, BeforeValidator(_census_date)]
CensusDateOrNone = Annotated[dt.date | None, BeforeValidator(_census_date_or_none)]
T = TypeVar("T")


class Assumed(SettingsModel, Generic[T]):
    """An assumption: ``{value: ..., source: ...}`` (and an optional ``note``)."""

    value: T
    source: Source
    note: str = ""


class AddedSetting(SettingsModel):
    """``add_settings[i]``: a what-if capacity row (capacity table columns plus its source)."""

    setting_id: Label
    name: Label
    setting_type: SpecialistSetting
    phase: Phase
    designation: Designation
    locality: Label
    places: Annotated[StrictInt, Field(gt=0)]
    open_date: CensusDate
    close_date: CensusDateOrNone = None
    status: Literal["open", "pipeline", "proposed"] = "pipeline"
    source: Source

    @model_validator(mode="after")
    def _closes_after_it_opens(self) -> AddedSetting:
        if self.close_date is not None and self.close_date <= self.open_date:
            raise errors_at(
                [(("close_date",), f"must be after its open_date ({self.open_date})", str(self.close_date))]
            )
        return self


class OpenDateChange(SettingsModel):
    """``change_open_date.<setting_id>``: a new open date and where it comes from."""

    date: CensusDate
    source: Source
    note: str = ""


class CloseDateChange(SettingsModel):
    """``change_close_date.<setting_id>``: a new close date (null: the setting does not close)."""

    date: CensusDateOrNone
    source: Source
    note: str = ""


class SufficiencyScenarioFile(SettingsModel):
    """A sufficiency scenario file (``config/scenarios/sufficiency.yaml``, or a what-if that
    ``extends`` one: its keys replace the parent file's, whose ``description`` is not inherited).

    Every assumption is stated in the file with its source (no defaults); the what-if keys
    (``add_settings``, ``change_open_date``, ``change_close_date``) are empty unless written.
    Setting ids a what-if names are checked against the capacity table when it is applied
    (:func:`capacity_in_scenario`).
    """

    name: Label
    description: Annotated[str, _null_is(str)] = ""
    source: str
    as_of: Annotated[str, BeforeValidator(_date_as_text)]
    #: the file this one extends (relative to this file's folder), already merged in
    extends: str | None = None
    phases: Assumed[Annotated[tuple[Phase, ...], Field(min_length=1)]]
    designation_map: Assumed[dict[PrimaryNeed, Designation]]
    unmatched_designation: Assumed[Designation]
    usable_places_pct: Assumed[Annotated[StrictFloat, Field(gt=0, le=200)]]
    match_within: Assumed[Literal["locality", "county"]]
    over_admission_pct: Assumed[Annotated[StrictFloat, Field(ge=0, le=100)]]
    cross_designation: Assumed[Literal["none", "mixed", "any"]]
    out_of_county_return_pct: Assumed[Annotated[StrictFloat, Field(ge=0, le=100)]]
    overflow_out_of_county_pct: Assumed[Annotated[StrictFloat, Field(ge=0, le=100)]]
    post16_overflow_split: Assumed[dict[Post16Setting, Annotated[StrictFloat, Field(ge=0, le=100)]]]
    early_years_overflow_setting: Assumed[EarlyYearsSetting]
    pipeline_delay_years: Assumed[Annotated[StrictInt, Field(ge=0, le=10)]] | None = None
    #: true / false, or the setting_id of the ``proposed`` rows to count
    include_proposed: Assumed[Annotated[StrictBool | tuple[str, ...], BeforeValidator(_include_proposed)]]
    add_settings: Annotated[tuple[AddedSetting, ...], _null_is(tuple)] = ()
    change_open_date: Annotated[dict[Label, OpenDateChange], _null_is(dict)] = Field(default_factory=dict)
    change_close_date: Annotated[dict[Label, CloseDateChange], _null_is(dict)] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _merge_extended_file(cls, data: Any, info: ValidationInfo) -> Any:
        """``extends: <file>``: the keys of this file over those of the file it names."""
        if not isinstance(data, Mapping) or data.get("extends") in (None, ""):
            return data
        parent = data["extends"]
        if not isinstance(parent, str):
            raise errors_at([(("extends",), "must be a file name", parent)])
        here = (info.context or {}).get("path")
        seen = (Path(here).expanduser().resolve(),) if here else ()
        folder = seen[0].parent if seen else Path.cwd()
        base_path = Path(parent).expanduser()
        try:
            base = read_scenario_mapping(base_path if base_path.is_absolute() else folder / base_path, seen)
        except UsageError as exc:
            raise errors_at([(("extends",), str(exc), parent)]) from None
        base.pop("description", None)
        return {**base, **data}

    @model_validator(mode="after")
    def _split_adds_up(self) -> SufficiencyScenarioFile:
        total = sum(self.post16_overflow_split.value.values())
        if abs(total - 100.0) > 1e-6:
            raise errors_at([(("post16_overflow_split", "value"), f"must add up to 100 (adds up to {total:g})", total)])
        return self

    @model_validator(mode="after")
    def _added_once(self) -> SufficiencyScenarioFile:
        first: dict[tuple[str, str], int] = {}
        problems = []
        for i, s in enumerate(self.add_settings):
            j = first.setdefault((s.setting_id, s.phase), i)
            if j != i:
                problems.append(
                    (("add_settings", i), f"lists {s.setting_id} ({s.phase}) again (as add_settings.{j})", s.setting_id)
                )
        if problems:
            raise errors_at(problems)
        return self

    def scenario(self, path: Path | str | None = None) -> SufficiencyScenario:
        """The scenario the model functions use (dates as timestamps, what-ifs as capacity rows)."""
        sources: dict[str, str] = {
            key: getattr(self, key).source
            for key in (
                "phases",
                "designation_map",
                "unmatched_designation",
                "usable_places_pct",
                "match_within",
                "over_admission_pct",
                "cross_designation",
                "out_of_county_return_pct",
                "overflow_out_of_county_pct",
                "post16_overflow_split",
                "early_years_overflow_setting",
                "include_proposed",
            )
        }
        if self.pipeline_delay_years is not None:
            sources["pipeline_delay_years"] = self.pipeline_delay_years.source
        rows = []
        for s in self.add_settings:
            rows.append(
                {
                    "setting_id": s.setting_id,
                    "name": s.name,
                    "setting_type": s.setting_type,
                    "phase": s.phase,
                    "designation": s.designation,
                    "locality": s.locality,
                    "places": s.places,
                    "open_date": pd.Timestamp(s.open_date),
                    "close_date": None if s.close_date is None else pd.Timestamp(s.close_date),
                    "status": s.status,
                }
            )
            sources[f"add_settings.{s.setting_id}.{s.phase}"] = s.source
        for sid, change in self.change_open_date.items():
            sources[f"change_open_date.{sid}"] = change.source
        for sid, change in self.change_close_date.items():
            sources[f"change_close_date.{sid}"] = change.source
        include = self.include_proposed.value
        return SufficiencyScenario(
            name=self.name,
            phases=tuple(self.phases.value),
            designation_map=dict(self.designation_map.value),
            unmatched_designation=self.unmatched_designation.value,
            usable_places_pct=float(self.usable_places_pct.value),
            match_within=self.match_within.value,
            over_admission_pct=float(self.over_admission_pct.value),
            cross_designation=self.cross_designation.value,
            out_of_county_return_pct=float(self.out_of_county_return_pct.value),
            overflow_out_of_county_pct=float(self.overflow_out_of_county_pct.value),
            post16_overflow_split={k: float(v) for k, v in self.post16_overflow_split.value.items()},
            early_years_overflow_setting=self.early_years_overflow_setting.value,
            pipeline_delay_years=0 if self.pipeline_delay_years is None else int(self.pipeline_delay_years.value),
            include_proposed=include if isinstance(include, bool) else False,
            include_setting_ids=() if isinstance(include, bool) else tuple(include),
            add_settings=_as_capacity(pd.DataFrame(rows)) if rows else _empty_capacity(),
            change_open_date={sid: pd.Timestamp(c.date) for sid, c in self.change_open_date.items()},
            change_close_date={
                sid: None if c.date is None else pd.Timestamp(c.date) for sid, c in self.change_close_date.items()
            },
            description=self.description,
            source=self.source,
            as_of=self.as_of,
            sources=sources,
            path=Path(path) if path else None,
        )


def parse_scenario(raw: Mapping[str, Any], *, path: Path | str | None = None) -> SufficiencyScenario:
    """Validate a scenario mapping (:class:`SufficiencyScenarioFile`); ``path`` is the file it was
    read from (an ``extends`` is found beside it; without a path, in the current directory).

    Raises
    ------
    UsageError
        Naming the file, the key and the rule: unknown key, missing assumption or source, bad
        date, unknown code, negative or zero places, a duplicated added setting.
    """
    context = {"path": Path(path)} if path else {}
    return parse_settings(SufficiencyScenarioFile, raw, _origin(path), UsageError, context).scenario(path)


def read_scenario_mapping(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario YAML, merged over the file it ``extends`` (top-level keys replace)."""
    p = Path(path).expanduser().resolve()
    if p in _seen:
        raise UsageError(f"scenario file {p}: 'extends' goes round in a circle")
    raw = read_yaml_mapping(p, "scenario file", UsageError)
    parent = raw.get("extends")
    if parent:
        if not isinstance(parent, str):
            raise UsageError(f"scenario file {p}: extends must be a file name")
        base_path = Path(parent).expanduser()
        base_path = base_path if base_path.is_absolute() else p.parent / base_path
        base = read_scenario_mapping(base_path, _seen + (p,))
        base.pop("extends", None)
        for k in ("description",):
            base.pop(k, None)
        merged = {**base, **{k: v for k, v in raw.items() if k != "extends"}}
        return merged
    return dict(raw)


def load_scenario(path: str | Path) -> SufficiencyScenario:
    """Load and validate a sufficiency scenario file (see ``config/scenarios/sufficiency.yaml``)."""
    p = Path(path).expanduser().resolve()
    return parse_scenario(read_yaml_mapping(p, "scenario file", UsageError), path=p)


def assumptions_table(scenario: SufficiencyScenario) -> pd.DataFrame:
    """The assumptions log of a scenario: one row per assumption with its value and source."""
    values: dict[str, Any] = {
        "phases": ", ".join(scenario.phases),
        "designation_map": ", ".join(f"{k}->{v}" for k, v in scenario.designation_map.items()),
        "unmatched_designation": scenario.unmatched_designation,
        "usable_places_pct": scenario.usable_places_pct,
        "match_within": scenario.match_within,
        "over_admission_pct": scenario.over_admission_pct,
        "cross_designation": scenario.cross_designation,
        "out_of_county_return_pct": scenario.out_of_county_return_pct,
        "overflow_out_of_county_pct": scenario.overflow_out_of_county_pct,
        "post16_overflow_split": ", ".join(f"{k} {v:g}%" for k, v in scenario.post16_overflow_split.items()),
        "early_years_overflow_setting": scenario.early_years_overflow_setting,
        "pipeline_delay_years": scenario.pipeline_delay_years,
        "include_proposed": (
            ", ".join(scenario.include_setting_ids) if scenario.include_setting_ids else scenario.include_proposed
        ),
    }
    rows = []
    for key, source in scenario.sources.items():
        if key in values:
            value = values[key]
        elif key.startswith("add_settings."):
            _, sid, phase = key.split(".", 2)
            r = scenario.add_settings[
                (scenario.add_settings["setting_id"] == sid) & (scenario.add_settings["phase"] == phase)
            ].iloc[0]
            value = f"{r['name']}: {int(r['places'])} {r['phase']} places from {r['open_date']:%Y-%m-%d}"
        else:
            which, sid = key.split(".", 1)
            d = (scenario.change_open_date if which == "change_open_date" else scenario.change_close_date)[sid]
            value = "none" if d is None else f"{d:%Y-%m-%d}"
        rows.append({"scenario": scenario.name, "assumption": key, "value": str(value), "source": source})
    return pd.DataFrame(rows, columns=["scenario", "assumption", "value", "source"])


# ----- supply -----------------------------------------------------------------------------------


def census_day(year: int) -> pd.Timestamp:
    """January census day of ``year`` (third Thursday of January), the point places are counted."""
    return third_thursday_of_january(int(year))


def _as_capacity(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in CAPACITY_COLUMNS:
        if c not in out.columns:
            out[c] = pd.NA
    out["places"] = pd.to_numeric(out["places"]).astype("Int64")
    out["open_date"] = pd.to_datetime(out["open_date"]).astype("datetime64[ns]")
    out["close_date"] = pd.to_datetime(out["close_date"]).astype("datetime64[ns]")
    for c in ("setting_id", "name", "setting_type", "phase", "designation", "locality", "status"):
        out[c] = out[c].astype("string")
    return out


def capacity_in_scenario(capacity: pd.DataFrame, scenario: SufficiencyScenario) -> pd.DataFrame:
    """Capacity rows that count in this scenario, what-ifs applied.

    Adds ``add_settings``, applies ``change_open_date`` / ``change_close_date`` (to every phase of
    the setting), then keeps ``open`` and ``pipeline`` rows and only the ``proposed`` rows the
    scenario includes. Adds a column ``changed`` (True for rows a what-if added or moved).

    Raises
    ------
    UsageError
        A what-if names a setting_id that is not in the capacity table, or adds one that is.
    """
    cap = _as_capacity(capacity[list(CAPACITY_COLUMNS)])
    cap["changed"] = False
    if scenario.pipeline_delay_years:
        late = (cap["status"] == "pipeline").fillna(False).to_numpy()
        shift = pd.DateOffset(years=int(scenario.pipeline_delay_years))
        cap.loc[late, "open_date"] = cap.loc[late, "open_date"] + shift
        closes = late & cap["close_date"].notna().to_numpy()
        cap.loc[closes, "close_date"] = cap.loc[closes, "close_date"] + shift
        cap.loc[late, "changed"] = True
    origin = _origin(scenario.path)
    known = set(cap["setting_id"].dropna())
    if len(scenario.add_settings):
        clash = sorted(set(scenario.add_settings["setting_id"]) & known)
        if clash:
            raise UsageError(
                f"{origin}: add_settings: setting_id {clash} already in the capacity table "
                "(use change_open_date to move it)"
            )
        added = _as_capacity(scenario.add_settings)
        added["changed"] = True
        cap = pd.concat([cap, added], ignore_index=True)
        known |= set(added["setting_id"])
    for which, col in (("change_open_date", "open_date"), ("change_close_date", "close_date")):
        for sid, date in getattr(scenario, which).items():
            if sid not in known:
                raise UsageError(f"{origin}: {which}.{sid}: no setting with that setting_id in the capacity table")
            m = cap["setting_id"] == sid
            cap.loc[m, col] = pd.NaT if date is None else date
            cap.loc[m, "changed"] = True
    for sid in scenario.include_setting_ids:
        if sid not in known:
            raise UsageError(f"{origin}: include_proposed.{sid}: no setting with that setting_id in the capacity table")
    bad = cap["close_date"].notna() & (cap["close_date"] <= cap["open_date"])
    if bad.any():
        raise UsageError(f"{origin}: setting {cap.loc[bad, 'setting_id'].iloc[0]} would close on or before it opens")
    proposed = cap["status"] == "proposed"
    keep = ~proposed | scenario.include_proposed | cap["setting_id"].isin(scenario.include_setting_ids)
    return cap[keep.fillna(False).to_numpy()].reset_index(drop=True)


def in_force(capacity: pd.DataFrame, date: pd.Timestamp | str) -> pd.Series:
    """Boolean mask: the row's places count on ``date`` (open on or before, not closed by it)."""
    d = pd.Timestamp(date)
    return (capacity["open_date"] <= d) & (capacity["close_date"].isna() | (capacity["close_date"] > d))


def places_by_year(
    capacity: pd.DataFrame, years: Sequence[int], by: Sequence[str] = KEY, usable_places_pct: float = 100.0
) -> pd.DataFrame:
    """Places in force at each January census, summed by ``by``.

    ``capacity`` should already be :func:`capacity_in_scenario`. Returns columns ``year``,
    ``by``..., ``places`` (usable places: commissioned x ``usable_places_pct`` / 100), one row
    per year and every ``by`` key seen in the table (zero when nothing is in force).
    """
    by = list(by)
    keys = capacity[by].drop_duplicates().sort_values(by).reset_index(drop=True)
    if not len(years):
        return pd.DataFrame(columns=["year", *by, "places"])
    # each row's key, and its places (a missing number adds nothing, as in a groupby sum)
    code = capacity[by].merge(keys.reset_index(), on=by, how="left")["index"].to_numpy()
    places = capacity["places"].astype("Float64").fillna(0.0).to_numpy(dtype=float)
    frames = []
    for y in years:
        m = in_force(capacity, census_day(y)).fillna(False).to_numpy()
        f = keys.copy()
        f["places"] = np.bincount(code[m], weights=places[m], minlength=len(keys)) * usable_places_pct / 100.0
        f.insert(0, "year", int(y))
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


# ----- demand -----------------------------------------------------------------------------------


def designations_available(capacity: pd.DataFrame, years: Sequence[int]) -> dict[str, set[str]]:
    """Designations with at least one setting in force, per phase, at any of the ``years``' censuses."""
    out: dict[str, set[str]] = {}
    phases = [str(p) for p in capacity["phase"]]
    designations = [str(d) for d in capacity["designation"]]
    for y in years:
        for i in np.flatnonzero(in_force(capacity, census_day(y)).fillna(False).to_numpy()):
            out.setdefault(phases[i], set()).add(designations[i])
    return out


def assign_designation(
    groups: pd.DataFrame, scenario: SufficiencyScenario, available: Mapping[str, set[str]] | None = None
) -> pd.Series:
    """Capacity designation each projection group's children count against.

    ``designation_map[primary_need]``; the scenario's ``unmatched_designation`` for a need not
    in the map, or (when ``available`` is given) whose mapped designation has no setting in
    force in the group's phase.
    """
    des = groups["primary_need"].map(lambda n: scenario.designation_of(str(n)))
    if available is not None:
        has = [d in available.get(str(p), set()) for p, d in zip(groups["phase"], des)]
        des = des.where(pd.Series(has, index=groups.index), scenario.unmatched_designation)
    return des.astype(str)


@dataclass
class Sufficiency:
    """Local specialist demand, places and the placement cascade per group and census year.

    Groups are phase x designation x locality (:data:`KEY`). Every array but ``capacity`` is
    ``(n_sims, n_years, n_keys)``; for every simulation, year and group
    ``placed + sum(overflow_to.values()) == demand`` (the cascade conserves children).

    Attributes
    ----------
    years : list of int
        January census years.
    keys : DataFrame
        One row per group, columns :data:`KEY`.
    demand : ndarray
        In-county demand for local specialist places: projected children in specialist settings
        less those who stay in other authorities' special schools / resourced provision.
    capacity : ndarray
        ``(n_years, n_keys)`` usable places in force.
    group_key : ndarray
        For each projection group, the index of its key, or -1 when not in scope.
    out_of_county : ndarray
        Children projected to stay in other authorities' special schools and resourced provision
        (the out-of-county line; not part of ``demand``).
    placed : ndarray
        Children of the group's demand placed in a local place (of any designation the cascade
        allows).
    occupied : ndarray
        Children in the group's places (whatever their own designation): utilisation.
    overflow_to : dict
        :data:`DESTINATIONS` -> children of the group's demand who found no local place, by where
        they go.
    scenario, match_within, over_admission_pct
        From the scenario.
    """

    years: list[int]
    keys: pd.DataFrame
    demand: np.ndarray
    capacity: np.ndarray
    group_key: np.ndarray
    out_of_county: np.ndarray | None = None
    placed: np.ndarray | None = None
    occupied: np.ndarray | None = None
    overflow_to: dict[str, np.ndarray] = field(default_factory=dict)
    scenario: str = ""
    match_within: str = "locality"
    over_admission_pct: float = 0.0

    def __post_init__(self) -> None:
        zeros = np.zeros(self.demand.shape)
        if self.out_of_county is None:
            self.out_of_county = zeros.copy()
        if self.placed is None or self.occupied is None:
            # no cascade given: designated places only, overflow to INMSS
            cap = self.capacity[None, :, :] * (1.0 + self.over_admission_pct / 100.0)
            self.placed = np.minimum(self.demand, cap)
            self.occupied = self.placed.copy()
        for d in DESTINATIONS:
            self.overflow_to.setdefault(d, zeros.copy())
        if not any(self.overflow_to[d].any() for d in DESTINATIONS):
            self.overflow_to["inmss"] = np.maximum(0.0, self.demand - self.placed)

    @property
    def match_by(self) -> list[str]:
        """Columns of the matching group: where demand meets places in the cascade."""
        return list(KEY) if self.match_within == "locality" else ["phase", "designation"]

    @property
    def overflow(self) -> np.ndarray:
        """Children of each group's demand with no local place, per simulation, year and group:
        ``demand - placed``, never negative; the sum of :attr:`overflow_to`."""
        return np.maximum(0.0, self.demand - self.placed)

    def _codes(self, by: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
        by = list(by)
        keys = self.keys[by].drop_duplicates().sort_values(by).reset_index(drop=True)
        code = self.keys[by].merge(keys.reset_index(), on=by, how="left")["index"].to_numpy()
        return keys, code

    def arrays(self) -> dict[str, np.ndarray]:
        """Every per-simulation quantity by name (``demand``, ``placed``, ``occupied``,
        ``overflow``, ``out_of_county``, ``overflow_<destination>``)."""
        out = {
            "demand": self.demand,
            "placed": self.placed,
            "occupied": self.occupied,
            "overflow": self.overflow,
            "out_of_county": self.out_of_county,
        }
        out.update({f"overflow_{d}": self.overflow_to[d] for d in DESTINATIONS})
        return out

    def rollup_all(self, by: Sequence[str] | None) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
        """Sum to ``by`` (a subset of :data:`KEY`; None = county total): keys, capacity
        ``(n_years, n)`` and every array of :meth:`arrays` summed over its groups (overflow is the
        sum of group overflows)."""
        arrays = self.arrays()
        if not by:
            return (
                pd.DataFrame(index=[0]),
                self.capacity.sum(axis=1, keepdims=True),
                {k: v.sum(axis=2, keepdims=True) for k, v in arrays.items()},
            )
        keys, code = self._codes(by)
        n = len(keys)
        onehot = np.zeros((len(code), n))
        onehot[np.arange(len(code)), code] = 1.0
        return keys, self.capacity @ onehot, {k: v @ onehot for k, v in arrays.items()}

    def rollup(self, by: Sequence[str] | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
        """Sum to ``by``: keys, demand, capacity, overflow (the sum of group overflows)."""
        keys, c, a = self.rollup_all(by)
        return keys, a["demand"], c, a["overflow"]

    def table(self, by: Sequence[str] | None = KEY, interval: float = 0.8, totals: bool | None = None) -> pd.DataFrame:
        """Per census year and ``by`` group: demand, places, the cascade and its overflow.

        Columns: ``scenario``, ``year``, ``by``..., ``demand_median``, ``demand_lower_80``,
        ``demand_upper_80``, ``demand_mean`` (in-county demand for local places),
        ``capacity_places``, ``gap_median`` (median demand - places), ``gap_lower_80``,
        ``gap_upper_80``, ``placed_mean`` (children of this demand in local places),
        ``occupied_mean`` (children in these places), ``utilisation_pct`` (``occupied_mean`` /
        places x 100; empty without places), ``prob_shortfall`` (share of simulations with any
        overflow), ``overflow_median``, ``overflow_lower_80``, ``overflow_upper_80``,
        ``overflow_mean``, ``overflow_out_of_county_mean``, ``overflow_inmss_mean``,
        ``overflow_post16_mean``, ``overflow_early_years_mean`` (overflow by destination; they
        add up to ``overflow_mean``), ``out_of_county_mean`` (children staying in other
        authorities' special places, not in demand), ``first_gap_year``.

        ``totals`` (default: when ``by`` has ``designation``) adds a row per year and the other
        ``by`` columns with ``designation`` ``all``: the phase total.
        """
        by = list(by) if by else []
        if totals is None:
            totals = "designation" in by
        out = self._table(by, interval)
        if totals and "designation" in by:
            rest = [c for c in by if c != "designation"]
            tot = self._table(rest, interval)
            tot.insert(2 + by.index("designation"), "designation", "all")
            out = pd.concat([out, tot[out.columns]], ignore_index=True)
            out = out.sort_values(["year", *by], kind="stable").reset_index(drop=True)
        out["first_gap_year"] = first_gap_year(out, by)
        return out

    def _table(self, by: list[str], interval: float) -> pd.DataFrame:
        keys, c, a = self.rollup_all(by or None)
        pct = int(round(interval * 100))
        qs = [(1 - interval) / 2, 0.5, 1 - (1 - interval) / 2]
        d, o = a["demand"], a["overflow"]
        n_keys, n_years = d.shape[2], len(self.years)
        if n_keys == 0 or n_years == 0:
            return pd.DataFrame(columns=["scenario", "year", *by])
        dq = np.quantile(d, qs, axis=0)  # (3, n_years, n_keys)
        oq = np.quantile(o, qs, axis=0)

        def flat(x: np.ndarray) -> np.ndarray:  # (n_years, n_keys) -> one value per key, year
            return np.asarray(x, dtype=np.float64).T.reshape(-1)

        cap = flat(c)
        med, lo, hi = flat(dq[1]), flat(dq[0]), flat(dq[2])
        occupied = flat(a["occupied"].mean(axis=0))
        util = np.full_like(cap, np.nan)
        np.divide(occupied * 100.0, cap, out=util, where=cap > 0)
        out = (
            pd.DataFrame([r for r in keys.to_dict("records") for _ in range(n_years)])
            if by
            else pd.DataFrame(index=range(n_keys * n_years))
        )
        out.insert(0, "scenario", pd.Series([self.scenario] * (n_keys * n_years)))
        out.insert(1, "year", pd.Series([int(y) for _ in range(n_keys) for y in self.years]))
        columns = {
            "demand_median": med,
            f"demand_lower_{pct}": lo,
            f"demand_upper_{pct}": hi,
            "demand_mean": flat(d.mean(axis=0)),
            "capacity_places": cap,
            "gap_median": med - cap,
            f"gap_lower_{pct}": lo - cap,
            f"gap_upper_{pct}": hi - cap,
            "placed_mean": flat(a["placed"].mean(axis=0)),
            "occupied_mean": occupied,
            "utilisation_pct": util,
            "prob_shortfall": flat((o > _EPS).mean(axis=0)),
            "overflow_median": flat(oq[1]),
            f"overflow_lower_{pct}": flat(oq[0]),
            f"overflow_upper_{pct}": flat(oq[2]),
            "overflow_mean": flat(o.mean(axis=0)),
        }
        for dest in DESTINATIONS:
            columns[f"overflow_{dest}_mean"] = flat(a[f"overflow_{dest}"].mean(axis=0))
        columns["out_of_county_mean"] = flat(a["out_of_county"].mean(axis=0))
        for name, values in columns.items():
            out[name] = values
        return out


#: children below this are treated as none (float rounding in shared-out counts)
_EPS = 1e-9


def first_gap_year(table: pd.DataFrame, by: Sequence[str]) -> pd.Series:
    """For each row, the first census year in its group whose ``gap_median`` is above zero
    (``Int64``, empty when the gap never opens in the horizon)."""
    opened = table["year"].where(table["gap_median"] > 0)
    if by:
        first = opened.groupby([table[c] for c in by], dropna=False).transform("min")
    else:
        first = pd.Series(opened.min(), index=table.index)
    return first.astype("Float64").astype("Int64")


def overflow_draws(demand: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """``max(0, demand - capacity)``: children above the places in force, never negative.

    ``demand`` is ``(n_sims, n_years, n_groups)``; ``capacity`` ``(n_years, n_groups)``.
    """
    return np.maximum(0.0, np.asarray(demand, dtype=float) - np.asarray(capacity, dtype=float)[None, :, :])


def cascade(
    demand: np.ndarray, capacity: np.ndarray, pool: np.ndarray, is_mixed: np.ndarray, cross_designation: str = "any"
) -> tuple[np.ndarray, np.ndarray]:
    """The placement cascade over local places: who gets a place, and whose places fill.

    Parameters
    ----------
    demand : ndarray
        ``(n_sims, n_years, M)`` children per matching group (a designation in a pool).
    capacity : ndarray
        ``(n_years, M)`` places each group's designation has (after any over-admission allowance).
    pool : ndarray
        ``(M,)`` the pool each group belongs to (the phase, or phase x locality): places are only
        shared within a pool.
    is_mixed : ndarray
        ``(M,)`` True for complex / mixed-needs places.
    cross_designation : str
        ``none``: (1) designated places only; ``mixed``: then (2) spare mixed places take children
        of other designations; ``any``: then (3) any spare place in the pool takes any child left.

    Returns
    -------
    placed, occupied : ndarray
        ``(n_sims, n_years, M)``: children of each group's demand with a local place, and children
        in each group's places. Per pool ``placed.sum() == occupied.sum() <= capacity.sum()``, and
        ``placed <= demand``. At each step the places taken are shared among the children waiting
        in proportion to their numbers, and among the spare places in proportion to them.
    """
    d = np.asarray(demand, dtype=np.float64)
    c = np.broadcast_to(np.asarray(capacity, dtype=np.float64)[None, :, :], d.shape)
    placed = np.minimum(d, c)
    occupied = placed.copy()
    n_pools = int(pool.max()) + 1 if len(pool) else 0
    onehot = np.zeros((len(pool), n_pools))
    onehot[np.arange(len(pool)), pool] = 1.0

    def share(amount: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Spread a pool's ``amount`` ``(S, Y, P)`` over its groups in proportion to ``weights``."""
        tot = weights @ onehot
        frac = np.divide(weights, tot @ onehot.T, out=np.zeros_like(weights), where=(tot @ onehot.T) > _EPS)
        return (amount @ onehot.T) * frac

    steps = {"none": [], "mixed": ["mixed"], "any": ["mixed", "any"]}[cross_designation]
    for step in steps:
        waiting = np.maximum(0.0, d - placed)
        spare = np.maximum(0.0, c - occupied)
        if step == "mixed":
            waiting = waiting * ~is_mixed
            spare = spare * is_mixed
        take = np.minimum(waiting @ onehot, spare @ onehot)  # (S, Y, P)
        placed = placed + share(take, waiting)
        occupied = occupied + share(take, spare)
    return np.minimum(placed, d), np.minimum(occupied, c)


def out_of_county_shares(
    placements: pd.DataFrame | None, date: pd.Timestamp | str, phases: Sequence[str] | None = None
) -> pd.DataFrame:
    """Share of children in specialist settings placed out of county, per phase and setting type.

    Placements in force on ``date`` (``start_date <= date``, ``end_date`` empty or on/after it) in
    :data:`~sendlib.core.schema.SPECIALIST_SETTINGS`; ``share`` = those with ``out_of_county`` true
    over all, per ``phase`` x ``setting_type`` (columns ``phase``, ``setting_type``, ``children``,
    ``out_of_county``, ``share``). Empty without placements.
    """
    cols = ["phase", "setting_type", "children", "out_of_county", "share"]
    if placements is None or placements.empty or "out_of_county" not in placements:
        return pd.DataFrame(columns=cols)
    d = pd.Timestamp(date)
    p = placements
    live = (p["start_date"] <= d) & (p["end_date"].isna() | (p["end_date"] >= d))
    live = live.fillna(False).to_numpy() & p["setting_type"].isin(SPECIALIST_SETTINGS).to_numpy()
    if phases is not None:
        live &= p["phase"].isin(list(phases)).to_numpy()
    x = p[live]
    if x.empty:
        return pd.DataFrame(columns=cols)
    g = (
        x.assign(ooc=x["out_of_county"].fillna(False).astype(bool))
        .groupby([x["phase"].astype(str), x["setting_type"].astype(str)])["ooc"]
        .agg(["size", "sum"])
        .reset_index()
    )
    g.columns = ["phase", "setting_type", "children", "out_of_county"]
    g["share"] = g["out_of_county"] / g["children"]
    return g[cols]


def _last_census_before(projection: PlacementProjection) -> int:
    """The last observed census before the projection (its history), else the year before."""
    years = [int(y) for y in projection.years]
    hist = projection.history
    if hist is not None and len(hist) and "year" in hist:
        past = hist.loc[hist["year"] < min(years), "year"]
        if len(past):
            return int(past.max())
    return min(years) - 1


def assess(
    projection: PlacementProjection,
    capacity: pd.DataFrame,
    scenario: SufficiencyScenario,
    placements: pd.DataFrame | None = None,
) -> Sufficiency:
    """Local specialist demand from ``projection`` against ``capacity``, through the cascade.

    Parameters
    ----------
    projection : PlacementProjection
        The demand forecast (all setting types; only specialist ones in the scenario's phases
        are used).
    capacity : DataFrame
        The canonical ``capacity`` table (the scenario's what-ifs are applied here).
    scenario : SufficiencyScenario
    placements : DataFrame, optional
        The canonical ``placements`` table: the share of children in specialist settings placed
        out of county at the last observed census (:func:`out_of_county_shares`) is kept out of
        local demand (less the scenario's ``out_of_county_return_pct``). Without it every
        projected specialist child counts as local demand.

    Returns
    -------
    Sufficiency
        Groups are every phase x designation x locality with demand or places in scope.
    """
    cap = capacity_in_scenario(capacity, scenario)
    cap = cap[cap["phase"].isin(scenario.phases).to_numpy()].reset_index(drop=True)
    years = [int(y) for y in projection.years]
    g = projection.groups
    in_scope = (g["setting_type"].isin(SPECIALIST_SETTINGS) & g["phase"].isin(scenario.phases)).to_numpy()
    available = designations_available(cap, years)
    des = assign_designation(g, scenario, available)
    gkeys = pd.DataFrame({"phase": g["phase"].astype(str), "designation": des, "locality": g["locality"].astype(str)})
    supply = places_by_year(cap, years, KEY, scenario.usable_places_pct)
    supply[list(KEY)] = supply[list(KEY)].astype(str)
    keys = (
        pd.concat([gkeys[in_scope], supply[list(KEY)]], ignore_index=True)
        .drop_duplicates()
        .sort_values(list(KEY))
        .reset_index(drop=True)
    )
    code = gkeys.merge(keys.reset_index(), on=list(KEY), how="left")["index"]
    group_key = np.where(in_scope, code.fillna(-1).to_numpy(), -1).astype(int)
    n_keys = len(keys)
    stay = stay_out_of_county(projection, scenario, placements)  # (n_groups,) share staying out
    draws = projection.draws
    local_draws = draws * (1.0 - stay)[None, None, :]
    demand = group_sums(local_draws.astype(np.float64), group_key, n_keys)
    ooc = group_sums((draws * stay[None, None, :]).astype(np.float64), group_key, n_keys)
    capm = np.zeros((len(years), n_keys))
    if len(supply):
        idx = supply.merge(keys.reset_index(), on=list(KEY), how="left")["index"].to_numpy()
        yidx = np.searchsorted(years, supply["year"].to_numpy())
        np.add.at(capm, (yidx, idx), supply["places"].to_numpy(dtype=float))
    placed, occupied, overflow_to = _run_cascade(keys, demand, capm, scenario)
    return Sufficiency(
        years=years,
        keys=keys,
        demand=demand,
        capacity=capm,
        group_key=group_key,
        out_of_county=ooc,
        placed=placed,
        occupied=occupied,
        overflow_to=overflow_to,
        scenario=scenario.name,
        match_within=scenario.match_within,
        over_admission_pct=scenario.over_admission_pct,
    )


def stay_out_of_county(
    projection: PlacementProjection, scenario: SufficiencyScenario, placements: pd.DataFrame | None
) -> np.ndarray:
    """``(n_groups,)``: the share of each projection group's children who stay in other
    authorities' special schools / resourced provision (0 outside scope or without placements):
    the observed share of its phase and setting type at the last census before the projection,
    times ``1 - out_of_county_return_pct / 100``."""
    g = projection.groups
    out = np.zeros(len(g))
    if placements is None:
        return out
    shares = out_of_county_shares(placements, census_day(_last_census_before(projection)), scenario.phases)
    if shares.empty:
        return out
    lookup = {(r.phase, r.setting_type): float(r.share) for r in shares.itertuples()}
    keep = 1.0 - scenario.out_of_county_return_pct / 100.0
    return np.array(
        [lookup.get((str(p), str(s)), 0.0) * keep for p, s in zip(g["phase"], g["setting_type"])], dtype=np.float64
    )


def _run_cascade(
    keys: pd.DataFrame, demand: np.ndarray, capacity: np.ndarray, scenario: SufficiencyScenario
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The cascade at the scenario's matching level, shared back to the groups of :data:`KEY`:
    placed, occupied and overflow by destination per group."""
    match_by = list(KEY) if scenario.match_within == "locality" else ["phase", "designation"]
    pool_by = ["phase", "locality"] if scenario.match_within == "locality" else ["phase"]
    mkeys = keys[match_by].drop_duplicates().sort_values(match_by).reset_index(drop=True)
    code = keys[match_by].merge(mkeys.reset_index(), on=match_by, how="left")["index"].to_numpy()
    n_m = len(mkeys)
    onehot = np.zeros((len(keys), n_m))
    onehot[np.arange(len(keys)), code] = 1.0
    dm = demand @ onehot
    cm = capacity @ onehot
    pools = mkeys[pool_by].astype(str).agg("|".join, axis=1)
    pool = pd.factorize(pools)[0] if n_m else np.zeros(0, dtype=int)
    is_mixed = (mkeys["designation"] == scenario.unmatched_designation).to_numpy() if n_m else np.zeros(0, bool)
    allow = 1.0 + scenario.over_admission_pct / 100.0
    placed_m, occupied_m = cascade(dm, cm * allow, np.asarray(pool), is_mixed, scenario.cross_designation)
    # back to the groups: children in proportion to each group's demand, places to its places
    dmk = dm @ onehot.T
    cmk = cm @ onehot.T
    dshare = np.divide(demand, dmk, out=np.zeros_like(demand), where=dmk > _EPS)
    cshare = np.divide(capacity, cmk, out=np.zeros_like(capacity), where=cmk > _EPS)
    placed = np.minimum((placed_m @ onehot.T) * dshare, demand)
    occupied = (occupied_m @ onehot.T) * cshare[None, :, :]
    over = np.maximum(0.0, demand - placed)
    phase = keys["phase"].astype(str).to_numpy()
    frac = destination_fractions(phase, scenario)
    overflow_to = {d: over * frac[d][None, None, :] for d in DESTINATIONS}
    return placed, occupied, overflow_to


def destination_fractions(phase: Sequence[str], scenario: SufficiencyScenario) -> dict[str, np.ndarray]:
    """Where each group's overflow goes, by its phase: under-5s to early years settings, post-16
    and post-19 to post-16 providers, school age to other authorities' maintained places
    (``overflow_out_of_county_pct``) and the rest to INMSS. Fractions add up to 1 per group."""
    ph = np.asarray(phase, dtype=object)
    ey = np.isin(ph, EARLY_YEARS_PHASES)
    p16 = np.isin(ph, POST16_PHASES)
    school = ~ey & ~p16
    ooc = scenario.overflow_out_of_county_pct / 100.0
    return {
        "out_of_county": np.where(school, ooc, 0.0),
        "inmss": np.where(school, 1.0 - ooc, 0.0),
        "post16": p16.astype(float),
        "early_years": ey.astype(float),
    }


def destination_settings(scenario: SufficiencyScenario) -> dict[str, dict[str, float]]:
    """Destination -> {setting type: fraction} the projection moves overflow to
    (``out_of_county`` stays in its own specialist setting type, so it is not listed)."""
    total = sum(scenario.post16_overflow_split.values()) or 1.0
    return {
        "inmss": {OVERFLOW_SETTING: 1.0},
        "post16": {k: v / total for k, v in scenario.post16_overflow_split.items() if v > 0},
        "early_years": {scenario.early_years_overflow_setting: 1.0},
    }


def apply_overflow(
    projection: PlacementProjection,
    capacity_frame: pd.DataFrame,
    scenario: SufficiencyScenario,
    placements: pd.DataFrame | None = None,
) -> PlacementProjection:
    """The projection with the cascade's overflow moved to where it goes.

    Each group's overflow (:func:`assess`) is taken from the specialist projection groups that
    make it up, in proportion to their share of the group's local demand in that simulation and
    year, and added to a group with the same ``phase``, ``primary_need``, ``locality`` and
    ``age_group`` in the destination's setting type (:func:`destination_settings`: ``inmss``;
    the post-16 split; the early years setting), created with zero draws where absent. Overflow
    to other authorities' maintained places stays in its specialist setting type (it is priced
    as such). Children in every simulation and year are unchanged; counts moved are fractional
    where a group's overflow is shared between several projection groups.

    Finance prices the result, so sufficiency changes the money in one chain.
    """
    suff = assess(projection, capacity_frame, scenario, placements)
    gk = suff.group_key
    n_groups = projection.draws.shape[2]
    cols = np.flatnonzero(gk >= 0)
    kk = gk[cols]
    stay = stay_out_of_county(projection, scenario, placements)[cols]
    src = np.take(projection.draws, cols, axis=2).astype(np.float64)
    local = src * (1.0 - stay)[None, None, :]
    total = np.take(suff.demand, kk, axis=2)
    share = np.divide(local, total, out=np.zeros_like(local), where=total > _EPS)
    moves: list[tuple[str, np.ndarray]] = []  # (setting type, (S, Y, len(cols)) children moved)
    for dest, settings in destination_settings(scenario).items():
        amount = np.take(suff.overflow_to[dest], kk, axis=2) * share
        for setting, f in settings.items():
            moves.append((setting, amount * f))
    taken = np.zeros_like(src)
    for _, m in moves:
        taken += m
    scale = np.divide(local, taken, out=np.ones_like(taken), where=taken > local)  # guards rounding
    groups = projection.groups.copy()
    match_cols = [c for c in GROUP_COLUMNS if c != "setting_type"]
    tuples = list(groups[match_cols].astype(str).itertuples(index=False, name=None))
    index = {(groups["setting_type"].iloc[i], t): i for i, t in enumerate(tuples)}
    new_rows: list[pd.Series] = []
    received: dict[int, np.ndarray] = {}
    for setting, m in moves:
        m = m * scale
        has = m.reshape(-1, len(cols)).sum(axis=0) > 0 if len(cols) else np.zeros(0, dtype=bool)
        for n in np.flatnonzero(has):
            gi = cols[n]
            key = (setting, tuples[gi])
            if key not in index:
                row = groups.iloc[gi].copy()
                row["setting_type"] = setting
                index[key] = n_groups + len(new_rows)
                new_rows.append(row)
            t = index[key]
            received[t] = received.get(t, 0.0) + m[:, :, n]
    moved_out = np.zeros_like(src)
    for _, m in moves:
        moved_out += m * scale
    if new_rows:
        groups = pd.concat([groups, pd.DataFrame(new_rows)], ignore_index=True)
    draws = np.zeros(projection.draws.shape[:2] + (n_groups + len(new_rows),), dtype=np.float64)
    draws[:, :, :n_groups] = projection.draws
    draws[:, :, cols] = np.maximum(0.0, src - moved_out)
    for t, add in received.items():
        draws[:, :, t] += add
    return projection.with_draws(draws.astype(projection.draws.dtype), groups=groups)


def overflow_summary(
    sufficiency: Sufficiency, by: Sequence[str] | None = ("phase",), interval: float = 0.8
) -> pd.DataFrame:
    """Children with no local place per census year (and ``by``): ``overflow_median``, interval,
    ``overflow_mean``, the mean by destination (``overflow_<destination>_mean``),
    ``out_of_county_mean`` (children staying out of county, not overflow) and
    ``prob_any_overflow``."""
    keys, _, a = sufficiency.rollup_all(by)
    o = a["overflow"]
    pct = int(round(interval * 100))
    rows = []
    for k in range(o.shape[2]):
        for j, year in enumerate(sufficiency.years):
            x = o[:, j, k]
            lo, med, hi = np.quantile(x, [(1 - interval) / 2, 0.5, 1 - (1 - interval) / 2])
            row: dict[str, Any] = {"scenario": sufficiency.scenario, "year": int(year)}
            if by:
                row.update(keys.iloc[k].to_dict())
            row.update(
                {
                    "overflow_median": float(med),
                    f"overflow_lower_{pct}": float(lo),
                    f"overflow_upper_{pct}": float(hi),
                    "overflow_mean": float(x.mean()),
                }
            )
            for dest in DESTINATIONS:
                row[f"overflow_{dest}_mean"] = float(a[f"overflow_{dest}"][:, j, k].mean())
            row["out_of_county_mean"] = float(a["out_of_county"][:, j, k].mean())
            row["prob_any_overflow"] = float(np.mean(x > _EPS))
            rows.append(row)
    return pd.DataFrame(rows)


def compare_scenarios(
    projection: PlacementProjection,
    capacity: pd.DataFrame,
    base: SufficiencyScenario,
    whatif: SufficiencyScenario,
    by: Sequence[str] | None = ("phase",),
    interval: float = 0.8,
    *,
    base_result: Sufficiency | None = None,
    placements: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """How capacity, gap and overflow move between a base scenario and a what-if.

    One row per census year and ``by`` group, columns ``capacity_places_<s>``, ``gap_median_<s>``,
    ``prob_shortfall_<s>``, ``overflow_median_<s>``, ``overflow_mean_<s>`` for ``s`` in
    ``base`` / ``whatif``, and ``*_change`` (what-if minus base).

    ``base_result``, when the caller has it already, is ``assess(projection, capacity, base,
    placements)`` (not assessed again); ``placements`` as in :func:`assess`. Raises ValueError when it is for another scenario or other years.
    """
    if base_result is not None and (
        base_result.scenario != base.name or list(base_result.years) != [int(y) for y in projection.years]
    ):
        raise ValueError(
            f"base_result is the assessment of scenario '{base_result.scenario}' for "
            f"{list(base_result.years)}, not of '{base.name}' for {list(projection.years)}"
        )
    cols = ["capacity_places", "gap_median", "prob_shortfall", "overflow_median", "overflow_mean"]
    cols += [f"overflow_{d}_mean" for d in DESTINATIONS]
    group_cols = ["year", *(list(by) if by else [])]
    tables = {}
    for label, sc in (("base", base), ("whatif", whatif)):
        result = (
            base_result if label == "base" and base_result is not None else assess(projection, capacity, sc, placements)
        )
        t = result.table(by, interval)
        tables[label] = t[group_cols + cols].rename(columns={c: f"{c}_{label}" for c in cols})
    out = tables["base"].merge(tables["whatif"], on=group_cols, how="outer")
    for c in cols:
        out[[f"{c}_base", f"{c}_whatif"]] = out[[f"{c}_base", f"{c}_whatif"]].fillna(0.0)
        out[f"{c}_change"] = out[f"{c}_whatif"] - out[f"{c}_base"]
    out.insert(0, "whatif", whatif.name)
    out.insert(0, "base", base.name)
    return out.sort_values(group_cols).reset_index(drop=True)


# ----- today: occupancy and the pipeline ----------------------------------------------------------


def current_occupancy(placements: pd.DataFrame, capacity: pd.DataFrame, census: pd.Timestamp | str) -> pd.DataFrame:
    """Children on roll against places, per local specialist setting and phase, on ``census``.

    Placements in force on the day (``start_date <= census`` and ``end_date`` empty or on/after
    it) are counted by ``provider_id`` (= ``capacity.setting_id``) and ``phase``; settings whose
    places are in force that day are listed, over-full ones first. Columns: setting columns,
    ``places``, ``children``, ``occupancy_pct``, ``over_places`` (children above places, 0 if
    none), ``is_over_full``. Over-full settings are shown, never hidden.
    """
    d = pd.Timestamp(census)
    cap = _as_capacity(capacity[list(CAPACITY_COLUMNS)])
    cap = cap[in_force(cap, d).fillna(False).to_numpy()]
    p = placements
    live = (p["start_date"] <= d) & (p["end_date"].isna() | (p["end_date"] >= d))
    counts = (
        p[live.fillna(False).to_numpy()]
        .groupby(["provider_id", "phase"])
        .size()
        .rename("children")
        .reset_index()
        .rename(columns={"provider_id": "setting_id"})
    )
    counts[["setting_id", "phase"]] = counts[["setting_id", "phase"]].astype("string")
    cols = ["setting_id", "name", "setting_type", "phase", "designation", "locality", "places"]
    out = cap[cols].merge(counts, on=["setting_id", "phase"], how="left")
    out["children"] = out["children"].fillna(0).astype(int)
    out["places"] = out["places"].astype(int)
    out["occupancy_pct"] = (out["children"] / out["places"] * 100.0).round(1)
    out["over_places"] = (out["children"] - out["places"]).clip(lower=0)
    out["is_over_full"] = out["children"] > out["places"]
    out.insert(0, "census_date", d.normalize())
    return out.sort_values(["is_over_full", "occupancy_pct", "setting_id"], ascending=[False, False, True]).reset_index(
        drop=True
    )


def pipeline_timeline(capacity: pd.DataFrame, scenario: SufficiencyScenario, since: pd.Timestamp | str) -> pd.DataFrame:
    """The pipeline: places opening on or after ``since``, closing, or not yet open, per setting.

    Lists every capacity row (what-ifs applied, proposed ones too) that opens on or after
    ``since``, has a ``close_date``, or is ``pipeline`` / ``proposed``; with ``counted`` (False
    for proposed places this scenario leaves out), ``changed`` (moved or added by a what-if) and
    ``first_census_year`` (the first January census at which the places count).
    """
    s = pd.Timestamp(since)
    every = replace(scenario, include_proposed=True)
    allrows = capacity_in_scenario(capacity, every)
    counted = capacity_in_scenario(capacity, scenario)[["setting_id", "phase"]].assign(counted=True)
    rows = allrows[
        ((allrows["open_date"] >= s) | allrows["close_date"].notna() | allrows["status"].isin(["pipeline", "proposed"]))
        .fillna(False)
        .to_numpy()
    ]
    rows = rows.merge(counted, on=["setting_id", "phase"], how="left")
    rows["counted"] = rows["counted"].fillna(False).astype(bool)
    rows["first_census_year"] = [int(o.year) if o <= census_day(o.year) else int(o.year) + 1 for o in rows["open_date"]]
    rows["places"] = rows["places"].astype(int)
    rows.insert(0, "scenario", scenario.name)
    return rows.sort_values(["open_date", "setting_id", "phase"]).reset_index(drop=True)


def moved_to_inmss(before: PlacementProjection, after: PlacementProjection) -> pd.DataFrame:
    """Children moved by :func:`apply_overflow`, per census year and setting type (mean over
    simulations): negative for the specialist types they leave, positive for the destinations
    (``inmss``, the post-16 and early years settings)."""
    if list(before.years) != list(after.years):
        raise ValueError("before and after must project the same census years")
    rows = []
    kb, tb = before.totals(["setting_type"])
    ka, ta = after.totals(["setting_type"])
    mb = dict(zip(kb["setting_type"], tb.mean(axis=0).T))
    ma = dict(zip(ka["setting_type"], ta.mean(axis=0).T))
    for st in sorted(set(mb) | set(ma)):
        b = mb.get(st, np.zeros(len(before.years)))
        a = ma.get(st, np.zeros(len(before.years)))
        for j, year in enumerate(before.years):
            if abs(a[j] - b[j]) > 1e-9:
                rows.append({"year": int(year), "setting_type": st, "children_change": float(a[j] - b[j])})
    return pd.DataFrame(rows, columns=["year", "setting_type", "children_change"])


def overflow_cost(
    before: PlacementProjection, after: PlacementProjection, unit_cost_gbp: Mapping[str, float]
) -> pd.DataFrame:
    """Extra cost a year of the overflow at base-year unit costs (no inflation), per census year.

    ``children_moved`` is the mean number moved out of specialist setting types (to INMSS, post-16
    providers, early years settings); ``extra_cost_gbp`` = sum over setting types of (change in
    children x unit cost), i.e. their cost where they go less the specialist places they did not
    get (overflow to other authorities' maintained places keeps its setting type and unit cost). Unit costs (pounds per placement a year) come from finance
    (``sendlib.models.finance.model.FinanceBase.unit_cost``); sufficiency holds no costs of its own.
    """
    moved = moved_to_inmss(before, after)
    missing = sorted(set(moved["setting_type"]) - set(unit_cost_gbp))
    if missing:
        raise ValueError(f"no unit cost for setting type(s) {missing}")
    moved["cost_change_gbp"] = moved["children_change"] * moved["setting_type"].map(unit_cost_gbp).astype(float)
    rows = []
    for year in before.years:
        m = moved[moved["year"] == int(year)]
        rows.append(
            {
                "year": int(year),
                "children_moved": float(m.loc[~m["setting_type"].isin(SPECIALIST_SETTINGS), "children_change"].sum()),
                "extra_cost_gbp": int(np.rint(m["cost_change_gbp"].sum())),
            }
        )
    return pd.DataFrame(rows)
