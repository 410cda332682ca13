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
Gap, utilisation, shortfall
    ``gap = demand - capacity`` (positive = shortfall); ``utilisation_pct = demand / capacity x
    100`` (median demand; empty where there are no places); ``prob_shortfall`` = share of
    simulations in which demand exceeds capacity; the first year the gap opens is the first
    census year whose median gap is above zero.
Overflow
    Per simulation, census year and matching group: ``overflow = max(0, demand - capacity)``,
    never negative. The matching group is the scenario's ``match_within``: ``locality`` (phase x
    designation x locality: a child is placed in their home locality) or ``county`` (phase x
    designation: a place anywhere in the county will do; the county excess is shared among the
    localities in proportion to their demand). Roll-ups add group overflows (spare places in
    one matching group do not absorb a shortfall in another), while the net ``gap`` of a roll-up
    nets them. :func:`apply_overflow` moves each group's overflow from the specialist projection
    groups that make it up, in proportion to their share of the group's demand in that
    simulation and year, to the ``inmss`` group with the same phase, primary need, locality and
    age group (created if absent). Totals of children are unchanged.
Baseline excess
    Children above places at the last observed census (``projection.history``) per matching
    group. With ``baseline_excess: hold`` they stay where they are (over-full settings, specialist
    schools outside the capacity table) and overflow is ``max(0, demand - places - held)``; with
    ``none`` it is ``max(0, demand - places)``. The gap is always demand minus places.

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
#: Where overflow goes: independent and non-maintained special schools.
OVERFLOW_SETTING = "inmss"
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
        ``locality``: demand meets places of its phase and designation in the child's home
        locality; ``county``: anywhere in the county (see :attr:`Sufficiency.overflow`).
    baseline_excess : str
        ``none``: every child above places goes to INMSS; ``hold``: children already above places
        at the last observed census (over-full settings, specialist places outside the table) stay
        where they are, and only demand above places plus that excess overflows.
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
    baseline_excess: str = "none"
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
    baseline_excess: Assumed[Literal["none", "hold"]]
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
                "baseline_excess",
                "include_proposed",
            )
        }
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
            baseline_excess=self.baseline_excess.value,
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
        "baseline_excess": scenario.baseline_excess,
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
    """Specialist demand and places per group (phase x designation x locality) and census year.

    Attributes
    ----------
    years : list of int
        January census years.
    keys : DataFrame
        One row per group, columns :data:`KEY`.
    demand : ndarray
        ``(n_sims, n_years, n_keys)`` simulated children in specialist places.
    capacity : ndarray
        ``(n_years, n_keys)`` usable places in force.
    group_key : ndarray
        For each projection group, the index of its key, or -1 when not in scope.
    scenario : str
        Scenario name.
    match_within : str
        ``locality`` (places meet demand in the same locality) or ``county`` (anywhere in the
        county, same phase and designation); see :attr:`overflow`.
    baseline_year, baseline_demand, baseline_capacity, hold_baseline
        The last observed census before the projection (``projection.history``), its children in
        specialist places and places in force per group, and whether the excess then is held.
    """

    years: list[int]
    keys: pd.DataFrame
    demand: np.ndarray
    capacity: np.ndarray
    group_key: np.ndarray
    scenario: str = ""
    match_within: str = "locality"
    baseline_year: int | None = None
    baseline_demand: np.ndarray | None = None
    baseline_capacity: np.ndarray | None = None
    hold_baseline: bool = False

    def __post_init__(self) -> None:
        n = len(self.keys)
        if self.baseline_demand is None:
            self.baseline_demand = np.zeros(n)
        if self.baseline_capacity is None:
            self.baseline_capacity = np.zeros(n)

    @property
    def match_by(self) -> list[str]:
        """Columns of the matching group: where demand meets places."""
        return list(KEY) if self.match_within == "locality" else ["phase", "designation"]

    def baseline_excess(self) -> tuple[pd.DataFrame, np.ndarray]:
        """Children above places at the baseline census per matching group (never negative):
        the excess that ``baseline_excess: hold`` keeps where it is. Keys and ``(n_match,)``."""
        keys, code = self._codes(self.match_by)
        bd = np.bincount(code, weights=self.baseline_demand, minlength=len(keys))
        bc = np.bincount(code, weights=self.baseline_capacity, minlength=len(keys))
        return keys, np.maximum(0.0, bd - bc)

    @property
    def overflow(self) -> np.ndarray:
        """Children above the places in force, per simulation, year and group: never negative.

        Per matching group (:attr:`match_by`): ``max(0, demand - places - held)``, ``held`` being
        the baseline excess when the scenario holds it (else 0); shared among the group's
        localities in proportion to their demand (with locality matching a group is one key).
        """
        keys, d, c, code = self._sum_to(self.match_by)
        held = self.baseline_excess()[1] if self.hold_baseline else np.zeros(len(keys))
        over_m = overflow_draws(d, c + held[None, :])
        dm = d[:, :, code]
        share = np.divide(self.demand, dm, out=np.zeros_like(self.demand, dtype=float), where=dm > 0)
        return over_m[:, :, code] * share

    def _codes(self, by: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
        by = list(by)
        keys = self.keys[by].drop_duplicates().sort_values(by).reset_index(drop=True)
        code = self.keys[by].merge(keys.reset_index(), on=by, how="left")["index"].to_numpy()
        return keys, code

    def _sum_to(self, by: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
        keys, code = self._codes(by)
        n = len(keys)
        d = np.zeros(self.demand.shape[:2] + (n,))
        c = np.zeros((self.capacity.shape[0], n))
        for k in range(n):
            m = code == k
            d[:, :, k] = self.demand[:, :, m].sum(axis=2)
            c[:, k] = self.capacity[:, m].sum(axis=1)
        return keys, d, c, code

    def rollup(self, by: Sequence[str] | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
        """Sum to ``by`` (a subset of :data:`KEY`; None = county total): keys, demand, capacity,
        overflow (overflow is the sum of group overflows, not the overflow of the sum)."""
        over = self.overflow
        if not by:
            return (
                pd.DataFrame(index=[0]),
                self.demand.sum(axis=2, keepdims=True),
                self.capacity.sum(axis=1, keepdims=True),
                over.sum(axis=2, keepdims=True),
            )
        keys, d, c, code = self._sum_to(by)
        o = np.zeros_like(d)
        for k in range(len(keys)):
            o[:, :, k] = over[:, :, code == k].sum(axis=2)
        return keys, d, c, o

    def table(self, by: Sequence[str] | None = KEY, interval: float = 0.8) -> pd.DataFrame:
        """Per census year and ``by`` group: demand (median and interval), capacity, gap,
        utilisation, probability of shortfall, overflow (median and interval), first gap year.

        Columns: ``scenario``, ``year``, ``by``..., ``demand_median``, ``demand_lower_80``,
        ``demand_upper_80``, ``capacity_places``, ``gap_median`` (demand - capacity),
        ``gap_lower_80``, ``gap_upper_80``, ``utilisation_pct``, ``prob_shortfall``,
        ``overflow_median``, ``overflow_lower_80``, ``overflow_upper_80``, ``overflow_mean``,
        ``first_gap_year`` (first year whose median gap > 0; empty if none).
        """
        keys, d, c, o = self.rollup(by)
        pct = int(round(interval * 100))
        qs = [(1 - interval) / 2, 0.5, 1 - (1 - interval) / 2]
        dq = np.quantile(d, qs, axis=0)  # (3, n_years, n_keys)
        oq = np.quantile(o, qs, axis=0)
        short = (d > c[None, :, :]).mean(axis=0)
        omean = o.mean(axis=0)
        n_keys, n_years = d.shape[2], len(self.years)
        if n_keys == 0 or n_years == 0:
            rows: list = []
            out = pd.DataFrame(rows)
        else:

            def flat(a: np.ndarray) -> np.ndarray:  # (n_years, n_keys) -> one value per key, year
                return np.asarray(a, dtype=np.float64).T.reshape(-1)

            cap = flat(c)
            med, lo, hi = flat(dq[1]), flat(dq[0]), flat(dq[2])
            util = np.full_like(cap, np.nan)
            np.divide(med, cap, out=util, where=cap > 0)
            util = np.where(cap > 0, util * 100.0, np.nan)
            # keys as plain Python values, as the frame built row by row held them
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
                "capacity_places": cap,
                "gap_median": med - cap,
                f"gap_lower_{pct}": lo - cap,
                f"gap_upper_{pct}": hi - cap,
                "utilisation_pct": util,
                "prob_shortfall": flat(short),
                "overflow_median": flat(oq[1]),
                f"overflow_lower_{pct}": flat(oq[0]),
                f"overflow_upper_{pct}": flat(oq[2]),
                "overflow_mean": flat(omean),
            }
            for name, values in columns.items():
                out[name] = values
        group_cols = list(by) if by else []
        out["first_gap_year"] = first_gap_year(out, group_cols)
        return out


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


def assess(projection: PlacementProjection, capacity: pd.DataFrame, scenario: SufficiencyScenario) -> Sufficiency:
    """Specialist demand from ``projection`` against ``capacity`` under ``scenario``.

    Parameters
    ----------
    projection : PlacementProjection
        The demand forecast (all setting types; only specialist ones in the scenario's phases
        are used).
    capacity : DataFrame
        The canonical ``capacity`` table (the scenario's what-ifs are applied here).
    scenario : SufficiencyScenario

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
    hist = projection.history
    bkeys = pd.DataFrame(columns=list(KEY))
    base_year = None
    past = hist["year"] < min(years) if hist is not None and len(hist) and "year" in hist else None
    if past is not None and past.any():
        base_year = int(hist.loc[past, "year"].max())
        h = hist[
            (hist["year"] == base_year)
            & hist["setting_type"].isin(SPECIALIST_SETTINGS)
            & hist["phase"].isin(scenario.phases)
        ].reset_index(drop=True)
        bkeys = pd.DataFrame(
            {
                "phase": h["phase"].astype(str),
                "designation": assign_designation(h, scenario, available),
                "locality": h["locality"].astype(str),
                "count": h["count"].astype(float),
            }
        )
        bsupply = places_by_year(cap, [base_year], KEY, scenario.usable_places_pct)
        bsupply[list(KEY)] = bsupply[list(KEY)].astype(str)
        keys = (
            pd.concat([keys, bkeys[list(KEY)], bsupply[list(KEY)]], ignore_index=True)
            .drop_duplicates()
            .sort_values(list(KEY))
            .reset_index(drop=True)
        )
    code = gkeys.merge(keys.reset_index(), on=list(KEY), how="left")["index"]
    group_key = np.where(in_scope, code.fillna(-1).to_numpy(), -1).astype(int)
    base_demand = np.zeros(len(keys))
    base_cap = np.zeros(len(keys))
    if base_year is not None:
        bi = bkeys.merge(keys.reset_index(), on=list(KEY), how="left")["index"].to_numpy()
        np.add.at(base_demand, bi, bkeys["count"].to_numpy())
        si = bsupply.merge(keys.reset_index(), on=list(KEY), how="left")["index"].to_numpy()
        np.add.at(base_cap, si, bsupply["places"].to_numpy(dtype=float))
    n_keys = len(keys)
    demand = group_sums(projection.draws, group_key, n_keys)
    capm = np.zeros((len(years), n_keys))
    if len(supply):
        idx = supply.merge(keys.reset_index(), on=list(KEY), how="left")["index"].to_numpy()
        yidx = np.searchsorted(years, supply["year"].to_numpy())
        np.add.at(capm, (yidx, idx), supply["places"].to_numpy(dtype=float))
    return Sufficiency(
        years=years,
        keys=keys,
        demand=demand,
        capacity=capm,
        group_key=group_key,
        scenario=scenario.name,
        match_within=scenario.match_within,
        baseline_year=base_year,
        baseline_demand=base_demand,
        baseline_capacity=base_cap,
        hold_baseline=scenario.baseline_excess == "hold",
    )


def apply_overflow(
    projection: PlacementProjection, capacity_frame: pd.DataFrame, scenario: SufficiencyScenario
) -> PlacementProjection:
    """The projection with specialist overflow moved to independent special schools (``inmss``).

    For each simulation, census year and group (phase x designation x locality) the overflow
    ``max(0, demand - capacity)`` is taken from the specialist projection groups in that group in
    proportion to their share of its demand, and added to the ``inmss`` group with the same
    ``phase``, ``primary_need``, ``locality`` and ``age_group`` (a new zero group is created
    where none exists; its other columns are copied from the first specialist group that feeds
    it). The number of children in every simulation and year is unchanged; counts moved are
    fractional where a group's overflow is shared between several projection groups.

    Finance prices the result, so sufficiency changes the money in one chain.
    """
    suff = assess(projection, capacity_frame, scenario)
    over = suff.overflow
    groups = projection.groups.copy()
    gk = suff.group_key
    n_groups = projection.draws.shape[2]
    # only specialist groups in scope lose children: work on their columns alone (in float64,
    # element by element as before), everything else is copied through unchanged
    cols = np.flatnonzero(gk >= 0)
    kk = gk[cols]
    src = np.take(projection.draws, cols, axis=2).astype(np.float64)
    total = np.take(suff.demand, kk, axis=2)
    moved = np.divide(src, total, out=np.zeros_like(src), where=total > 0)  # each group's share
    moved *= np.take(over, kk, axis=2)
    np.minimum(moved, src, out=moved)  # guards float rounding: a group never goes below zero
    src -= moved
    match_cols = [c for c in GROUP_COLUMNS if c != "setting_type"]
    has_moved = moved.reshape(-1, len(cols)).sum(axis=0) > 0 if len(cols) else np.zeros(0, dtype=bool)
    sources = cols[has_moved]
    moved = moved[:, :, has_moved]
    targets = np.empty(len(sources), dtype=int)
    new_rows = []
    if len(sources):
        tuples = list(groups[match_cols].astype(str).itertuples(index=False, name=None))
        is_target = (groups["setting_type"] == OVERFLOW_SETTING).to_numpy()
        target_index = {t: i for i, t in enumerate(tuples) if is_target[i]}
        for n, gi in enumerate(sources):
            keyv = tuples[gi]
            if keyv not in target_index:
                row = groups.iloc[gi].copy()
                row["setting_type"] = OVERFLOW_SETTING
                target_index[keyv] = len(groups) + len(new_rows)
                new_rows.append(row)
            targets[n] = target_index[keyv]
        if new_rows:
            groups = pd.concat([groups, pd.DataFrame(new_rows)], ignore_index=True)
    draws = np.empty(projection.draws.shape[:2] + (n_groups + len(new_rows),), dtype=projection.draws.dtype)
    draws[:, :, :n_groups] = projection.draws
    draws[:, :, n_groups:] = 0
    draws[:, :, cols] = src
    if len(sources):
        # each target receives its sources' children in source order, in float64
        tcols, tpos = np.unique(targets, return_inverse=True)
        received = draws[:, :, tcols].astype(np.float64)
        for n in range(len(sources)):
            received[:, :, tpos[n]] += moved[:, :, n]
        draws[:, :, tcols] = received
    return projection.with_draws(draws, groups=groups)


def overflow_summary(
    sufficiency: Sufficiency, by: Sequence[str] | None = ("phase",), interval: float = 0.8
) -> pd.DataFrame:
    """Children moved to independent special schools per census year (and ``by``):
    ``overflow_median``, interval, ``overflow_mean`` and ``prob_any_overflow``."""
    keys, _, _, o = sufficiency.rollup(by)
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
                    "prob_any_overflow": float(np.mean(x > 0)),
                }
            )
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
) -> pd.DataFrame:
    """How capacity, gap and overflow move between a base scenario and a what-if.

    One row per census year and ``by`` group, columns ``capacity_places_<s>``, ``gap_median_<s>``,
    ``prob_shortfall_<s>``, ``overflow_median_<s>``, ``overflow_mean_<s>`` for ``s`` in
    ``base`` / ``whatif``, and ``*_change`` (what-if minus base).

    ``base_result``, when the caller has it already, is ``assess(projection, capacity, base)``
    (not assessed again). Raises ValueError when it is for another scenario or other years.
    """
    if base_result is not None and (
        base_result.scenario != base.name or list(base_result.years) != [int(y) for y in projection.years]
    ):
        raise ValueError(
            f"base_result is the assessment of scenario '{base_result.scenario}' for "
            f"{list(base_result.years)}, not of '{base.name}' for {list(projection.years)}"
        )
    cols = ["capacity_places", "gap_median", "prob_shortfall", "overflow_median", "overflow_mean"]
    group_cols = ["year", *(list(by) if by else [])]
    tables = {}
    for label, sc in (("base", base), ("whatif", whatif)):
        result = base_result if label == "base" and base_result is not None else assess(projection, capacity, sc)
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
    simulations): negative for the specialist types they leave, positive for ``inmss``."""
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

    ``children_moved`` is the mean number moved to ``inmss``; ``extra_cost_gbp`` = sum over
    setting types of (change in children x unit cost), i.e. their INMSS cost less the specialist
    places they did not get. Unit costs (pounds per placement a year) come from finance
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
                "children_moved": float(m.loc[m["setting_type"] == OVERFLOW_SETTING, "children_change"].sum()),
                "extra_cost_gbp": int(np.rint(m["cost_change_gbp"].sum())),
            }
        )
    return pd.DataFrame(rows)
