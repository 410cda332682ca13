"""Business rules of the SEN2 return, on the flattened modules (:mod:`sendlib.data.sen2.reader`),
run on Great Expectations, the input gate's engine (:mod:`sendlib.quality`).

Each rule has an id, a severity (``error`` stops a submission, ``query`` must be explained, as the
DfE's own validation distinguishes), the module and item it reports on and one or more GX
expectations on that module's frame. :func:`sen2_suites` builds one GX ``ExpectationSuite`` per
frame from :data:`RULES`, each expectation's ``meta`` carrying the rule id, severity, module and
item; :func:`run_rules` validates the frames and turns the unexpected rows into :class:`Finding`
objects. Messages name the module, the item and the record's position (person, request,
placement or need; and the line): never a name, UPN, ULN, postcode or date of birth. GX runs with
``exclude_unexpected_values`` and reports rows by the ``_row`` column only, so no value of the
return is copied into a result.

Where a rule is not one built-in expectation on the XML items (a UPN's check letter, duplicate
persons, counts per plan, exactly one of three items, dates of two modules, the age at the
reference date), :func:`derive_frames` first adds a helper column to the frame, in pandas:
``date__<item>`` (the item as a date; not a date: empty), ``h__<name>`` (a value computed from
several items or modules) or ``chk__<name>`` (True where the record passes, empty where the rule
does not apply), and the rule is a built-in expectation on it. The reference date of the return is
a suite parameter (``{"$PARAMETER": "reference_date"}``), so the suites do not depend on the data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from sendlib.core.gx import ROW, import_gx, project_config, rows_of
from sendlib.data.sen2.reader import MODULE_LABEL, Sen2Return, StructureError

ERROR = "error"
QUERY = "query"

#: the UPN check letter alphabet (DfE "Unique pupil numbers (UPNs)": I, O and S are not used)
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN = re.compile(r"[A-Z]\d{11}[0-9A-Z]")
_ULN = re.compile(r"\d{10}")

#: the row-number column GX reports unexpected rows by (0-based position in the module frame)
#: the suite parameter holding the return's reference date
REFERENCE = {"$PARAMETER": "reference_date"}


def upn_check_letter(upn: str) -> str | None:
    """The check letter for a UPN's characters 2-13 (weights 2..13, modulus 23); None if not computable."""
    body = upn[1:13].upper()
    if len(body) != 12 or not body[:11].isdigit():
        return None
    last = body[11]
    if last.isdigit():
        values = [int(c) for c in body]
    elif last in UPN_LETTERS:  # a temporary UPN ends in a letter, valued by its place in the alphabet
        values = [int(c) for c in body[:11]] + [UPN_LETTERS.index(last)]
    else:
        return None
    total = sum(v * w for v, w in zip(values, range(2, 14)))
    return UPN_LETTERS[total % 23]


def upn_problem(upn: str) -> str | None:
    """Why a UPN is not valid (a description without the value), or None."""
    u = upn.strip().upper()
    if not _UPN.fullmatch(u):
        return "is not 13 characters: a check letter, 11 digits, then a digit or (temporary UPN) a letter"
    if upn_check_letter(u) != u[0]:
        return "has the wrong check letter for its other 12 characters"
    return None


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: str
    module: str
    item: str
    person_pos: int | None
    record: str  # "person 2, request 1, placement 2"
    line: int | None
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Expect:
    """One GX expectation of a rule: its class in ``great_expectations.expectations`` and arguments."""

    type: str
    kwargs: Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    """A business rule: what it reports (id, severity, module frame, item, text) and its
    expectations on the frame (a record breaks the rule when any of them finds it unexpected)."""

    id: str
    severity: str
    frame: str  # the module frame it reports on
    item: str
    text: str  # what is wrong, without values
    expectations: tuple[Expect, ...] = field(default=())


def _date(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    return pd.to_datetime(df[col], errors="coerce", format="%Y-%m-%d")


def _col(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="string")
    return df[col]


def _record(row: pd.Series) -> str:
    parts = [f"person {int(row['person_pos'])}"]
    for key, word in (("request_pos", "request"), ("detail_pos", "placement"), ("need_pos", "need")):
        if key in row.index and pd.notna(row[key]):
            parts.append(f"{word} {int(row[key])}")
    return ", ".join(parts)


# -- helper columns (pure pandas) ------------------------------------------------------------------


def upn_valid(upn: pd.Series) -> pd.Series:
    """True where the UPN has the right form and check letter, False where not, empty where no UPN."""
    ok = upn.fillna("").map(lambda u: upn_problem(u) is None).astype("boolean")
    return ok.mask(upn.isna())


def first_occurrence(keys: pd.DataFrame) -> pd.Series:
    """True where no earlier row has the same keys, False for a repeat, empty where a key is missing."""
    full = keys.notna().all(axis=1)
    out = (~keys.duplicated(keep="first")).astype("boolean")
    return out.mask(~full)


def age_at(dob: pd.Series, ref: pd.Timestamp | None) -> pd.Series:
    """Whole years from each date of birth to the reference date (empty without either)."""
    if ref is None:
        return pd.Series(pd.NA, index=dob.index, dtype="Int64")
    later = (dob.dt.month > ref.month) | ((dob.dt.month == ref.month) & (dob.dt.day > ref.day))
    return (ref.year - dob.dt.year - later.astype(int)).astype("Int64")


def provider_count(df: pd.DataFrame) -> pd.Series:
    """How many of URN, UKPRN and SENSetting a placement gives."""
    return sum(_col(df, c).notna().astype(int) for c in ("URN", "UKPRN", "SENSetting")).astype("Int64")


def count_per_plan(plans: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """For each plan row (``person_pos``, ``request_pos``), how many ``rows`` share its keys."""
    keys = ["person_pos", "request_pos"]
    if len(rows):
        n = rows.groupby(keys).size().rename("n").reset_index()
    else:
        n = pd.DataFrame(columns=[*keys, "n"])
    m = plans[keys].merge(n, on=keys, how="left")
    return pd.Series(m["n"].fillna(0).astype("int64").to_numpy(), index=plans.index, dtype="Int64")


def _from_request(frame: pd.DataFrame, other: pd.DataFrame, col: str) -> pd.Series:
    """``other``'s date item ``col`` for each row of ``frame`` (same person and request)."""
    keys = ["person_pos", "request_pos"]
    src = other[keys].assign(v=_date(other, col)).drop_duplicates(keys)
    m = frame[keys].merge(src, on=keys, how="left")
    return pd.Series(m["v"].to_numpy(), index=frame.index, dtype="datetime64[ns]")


#: the XML items read as dates, per frame (their ``date__`` columns)
DATE_ITEMS: dict[str, tuple[str, ...]] = {
    "person": ("PersonBirthDate",),
    "request": ("ReceivedDate", "RequestOutcomeDate"),
    "assessment": ("AssessmentOutcomeDate",),
    "named_plan": ("StartDate", "CeaseDate"),
    "active_plan": ("ReviewMeeting",),
    "placement_detail": ("EntryDate", "LeavingDate"),
}


def derive_frames(tables: Mapping[str, pd.DataFrame], reference_date: pd.Timestamp | None) -> dict[str, pd.DataFrame]:
    """Copies of the module frames with ``_row``, every item the rules read (empty where the
    return has none), the ``date__`` columns and the helper columns the rules check."""
    out: dict[str, pd.DataFrame] = {}
    for frame in MODULE_LABEL:
        df = tables.get(frame, pd.DataFrame()).copy().reset_index(drop=True)
        df[ROW] = range(len(df))
        for c in _ITEMS.get(frame, ()):
            if c not in df.columns:
                df[c] = pd.Series(pd.NA, index=df.index, dtype="string")
        for c in DATE_ITEMS.get(frame, ()):
            df[f"date__{c}"] = _date(df, c)
        out[frame] = df
    p = out["person"]
    p["chk__upn_valid"] = upn_valid(p["UPN"])
    p["chk__upn_first"] = first_occurrence(pd.DataFrame({"u": p["UPN"].str.upper()}))
    p["chk__name_dob_first"] = first_occurrence(
        pd.DataFrame(
            {
                "s": p["Surname"].str.strip().str.upper(),
                "f": p["Forename"].str.strip().str.upper(),
                "d": p["PersonBirthDate"],
            }
        )
    )
    p["h__identifier"] = p["UPN"].fillna(p["UniqueLearnerNumber"]).fillna(p["UPNunknown"])
    p["h__age"] = age_at(p["date__PersonBirthDate"], reference_date)
    r = out["request"]
    r["chk__received_first"] = first_occurrence(r[["person_pos", "ReceivedDate"]])
    a = out["assessment"]
    a["h__request_ReceivedDate"] = _from_request(a, out["request"], "ReceivedDate")
    n = out["named_plan"]
    n["h__AssessmentOutcomeDate"] = _from_request(n, out["assessment"], "AssessmentOutcomeDate")
    d = out["plan_detail"]
    d["h__providers"] = provider_count(d)
    d["chk__rank_first"] = first_occurrence(d[["person_pos", "request_pos", "PlacementRank"]])
    pl = out["placement_detail"]
    pl["h__providers"] = provider_count(pl)
    ap = out["active_plan"]
    need = out["sen_need"]
    ap["h__placements"] = count_per_plan(ap, pl)
    ap["h__rank1_needs"] = count_per_plan(ap, need[need["SENtypeRank"] == "1"])
    need["chk__type_first"] = first_occurrence(need[["person_pos", "request_pos", "SENtype"]])
    return out


# -- the rules ----------------------------------------------------------------------------------


def _e(type_: str, **kwargs: Any) -> Expect:
    return Expect(type_, kwargs)


def _true(col: str) -> Expect:
    return _e("ExpectColumnValuesToBeInSet", column=col, value_set=[True])


def _not_after_reference(item: str) -> Expect:
    return _e("ExpectColumnValuesToBeBetween", column=f"date__{item}", max_value=REFERENCE)


def _on_or_after(later: str, earlier: str) -> Expect:
    return _e(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        column_A=later,
        column_B=earlier,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


def _required_when(item: str, when: str, values: list[str] | None = None) -> Expect:
    """``item`` must be given where ``when`` is one of ``values`` (or, without values, is given)."""
    from great_expectations.expectations.row_conditions import Column

    cond = Column(when).is_in(values) if values else Column(when).is_not_null()
    return _e("ExpectColumnValuesToNotBeNull", column=item, row_condition=cond)


def _rules() -> tuple[Rule, ...]:
    from great_expectations.expectations.row_conditions import Column

    return (
        Rule("SEN2-P01", ERROR, "person", "UPN", "UPN format or check letter is not valid", (_true("chk__upn_valid"),)),
        Rule("SEN2-P02", ERROR, "person", "UniqueLearnerNumber", "ULN is not 10 digits",
             (_e("ExpectColumnValuesToMatchRegex", column="UniqueLearnerNumber", regex=r"^\d{10}$"),)),
        Rule("SEN2-P03", QUERY, "person", "UPN/UniqueLearnerNumber/UPNunknown", "no UPN, ULN or UPNunknown reason",
             (_e("ExpectColumnValuesToNotBeNull", column="h__identifier"),)),
        Rule("SEN2-P04", ERROR, "person", "PersonBirthDate", "age at the reference date is outside 0-25",
             (_e("ExpectColumnValuesToBeBetween", column="h__age", min_value=0, max_value=25),)),
        Rule("SEN2-P05", ERROR, "person", "UPN", "the same UPN as an earlier person (duplicate person)", (_true("chk__upn_first"),)),
        Rule("SEN2-P06", QUERY, "person", "Surname/Forename/PersonBirthDate", "the same name and date of birth as an earlier person (possible duplicate)",
             (_true("chk__name_dob_first"),)),
        Rule("SEN2-P07", QUERY, "person", "UPNunknown", "UPNunknown given although the person has a UPN or ULN",
             (_e("ExpectColumnValuesToBeNull", column="UPN", row_condition=Column("UPNunknown").is_not_null()),
              _e("ExpectColumnValuesToBeNull", column="UniqueLearnerNumber", row_condition=Column("UPNunknown").is_not_null()))),
        Rule("SEN2-R01", ERROR, "request", "ReceivedDate", "request received after the reference date", (_not_after_reference("ReceivedDate"),)),
        Rule("SEN2-R02", ERROR, "request", "RequestOutcomeDate", "request outcome date before the received date",
             (_on_or_after("date__RequestOutcomeDate", "date__ReceivedDate"),)),
        Rule("SEN2-R03", ERROR, "request", "RequestOutcomeDate", "request outcome Y or N needs a request outcome date",
             (_required_when("RequestOutcomeDate", "RequestOutcome", ["Y", "N"]),)),
        Rule("SEN2-R04", QUERY, "request", "RequestOutcomeDate", "request outcome date after the reference date",
             (_not_after_reference("RequestOutcomeDate"),)),
        Rule("SEN2-R05", ERROR, "request", "ReceivedDate", "a request needs its received date unless its outcome is H (historical)",
             (_e("ExpectColumnValuesToNotBeNull", column="ReceivedDate", row_condition=Column("RequestOutcome") != "H"),)),
        Rule("SEN2-R06", QUERY, "request", "ReceivedDate", "received on the same date as an earlier request of the person (possible duplicate)",
             (_true("chk__received_first"),)),
        Rule("SEN2-A01", ERROR, "assessment", "AssessmentOutcomeDate", "assessment outcome Y or N needs an assessment outcome date",
             (_required_when("AssessmentOutcomeDate", "AssessmentOutcome", ["Y", "N"]),)),
        Rule("SEN2-A02", ERROR, "assessment", "AssessmentOutcomeDate", "assessment outcome date before the request's received date",
             (_on_or_after("date__AssessmentOutcomeDate", "h__request_ReceivedDate"),)),
        Rule("SEN2-A03", QUERY, "assessment", "AssessmentOutcomeDate", "assessment outcome date after the reference date",
             (_not_after_reference("AssessmentOutcomeDate"),)),
        Rule("SEN2-N01", ERROR, "named_plan", "CeaseDate", "plan cease date before its start date", (_on_or_after("date__CeaseDate", "date__StartDate"),)),
        Rule("SEN2-N02", QUERY, "named_plan", "StartDate", "plan start date before the assessment outcome (issue) date",
             (_on_or_after("date__StartDate", "h__AssessmentOutcomeDate"),)),
        Rule("SEN2-N03", ERROR, "plan_detail", "URN/UKPRN/SENSetting", "a named placement must give exactly one of URN, UKPRN or SENSetting",
             (_e("ExpectColumnValuesToBeInSet", column="h__providers", value_set=[1]),)),
        Rule("SEN2-N05", ERROR, "named_plan", "CeaseReason", "a plan cease date needs a cease reason", (_required_when("CeaseReason", "CeaseDate"),)),
        Rule("SEN2-N06", ERROR, "named_plan", "CeaseDate", "a plan cease reason needs a cease date", (_required_when("CeaseDate", "CeaseReason"),)),
        Rule("SEN2-N07", ERROR, "plan_detail", "PlacementRank", "the same PlacementRank as an earlier named placement of the plan", (_true("chk__rank_first"),)),
        Rule("SEN2-AP01", ERROR, "active_plan", "PlacementDetail", "active plan without a placement",
             (_e("ExpectColumnValuesToBeBetween", column="h__placements", min_value=1),)),
        Rule("SEN2-AP02", ERROR, "active_plan", "SENneed/SENtypeRank", "active plan must have exactly one rank-1 SEN need",
             (_e("ExpectColumnValuesToBeInSet", column="h__rank1_needs", value_set=[1]),)),
        Rule("SEN2-AP03", QUERY, "active_plan", "ReviewMeeting", "annual review meeting after the reference date", (_not_after_reference("ReviewMeeting"),)),
        Rule("SEN2-SN01", QUERY, "sen_need", "SENtype", "the same SEN type as an earlier need of the plan", (_true("chk__type_first"),)),
        Rule("SEN2-PL01", ERROR, "placement_detail", "URN/UKPRN/SENSetting", "a placement must give exactly one of URN, UKPRN or SENSetting",
             (_e("ExpectColumnValuesToBeInSet", column="h__providers", value_set=[1]),)),
        Rule("SEN2-PL02", ERROR, "placement_detail", "LeavingDate", "placement leaving date before its entry date",
             (_on_or_after("date__LeavingDate", "date__EntryDate"),)),
        Rule("SEN2-PL03", QUERY, "placement_detail", "EntryDate/LeavingDate", "placement date after the reference date",
             (_not_after_reference("EntryDate"), _not_after_reference("LeavingDate"))),
        Rule("SEN2-N04", QUERY, "named_plan", "StartDate/CeaseDate", "plan date after the reference date",
             (_not_after_reference("StartDate"), _not_after_reference("CeaseDate"))),
    )  # fmt: skip


#: the XML items the rules or helper columns read, per frame (added empty where the return has none)
_ITEMS: dict[str, tuple[str, ...]] = {
    "person": ("UPN", "UniqueLearnerNumber", "UPNunknown", "Surname", "Forename", "PersonBirthDate"),
    "request": ("ReceivedDate", "RequestOutcome", "RequestOutcomeDate"),
    "assessment": ("AssessmentOutcome", "AssessmentOutcomeDate"),
    "named_plan": ("StartDate", "CeaseDate", "CeaseReason"),
    "plan_detail": ("URN", "UKPRN", "SENSetting", "PlacementRank"),
    "active_plan": ("ReviewMeeting",),
    "placement_detail": ("URN", "UKPRN", "SENSetting", "EntryDate", "LeavingDate"),
    "sen_need": ("SENtype", "SENtypeRank"),
}


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """Every business rule, in report order (:data:`RULES`)."""
    return _rules()


def __getattr__(name: str) -> Any:
    # RULES holds GX row conditions: built on first use, so importing this module stays light
    if name == "RULES":
        return all_rules()
    raise AttributeError(name)


STRUCTURE_RULE = "SEN2-XSD"

#: GX result format: every unexpected row, by ``_row`` only, no values copied
RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW],
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
    "exclude_unexpected_values": True,
}


def sen2_suites(rules: tuple[Rule, ...] | None = None) -> dict[str, Any]:
    """One GX ``ExpectationSuite`` per module frame (``sen2_<frame>``), from the rules; each
    expectation's ``meta``: rule id, severity, module, item."""

    gx = import_gx()
    rules = all_rules() if rules is None else rules
    suites: dict[str, Any] = {}
    for frame in MODULE_LABEL:
        exps = []
        for rule in (r for r in rules if r.frame == frame):
            for ex in rule.expectations:
                meta = {"rule_id": rule.id, "severity": rule.severity, "module": MODULE_LABEL[frame], "item": rule.item}
                exps.append(getattr(gx.expectations, ex.type)(**dict(ex.kwargs), meta=meta, description=rule.text))
        if exps:
            suites[frame] = gx.ExpectationSuite(
                name=f"sen2_{frame}", expectations=exps, meta={"module": MODULE_LABEL[frame]}
            )
    return suites


def validate_frames(
    frames: Mapping[str, pd.DataFrame], reference_date: pd.Timestamp | None, suites: Mapping[str, Any]
) -> dict[str, list[dict]]:
    """Run each frame's suite in one in-memory GX context: {frame: expectation results (JSON dicts)}."""

    gx = import_gx()
    context = gx.get_context(mode="ephemeral", project_config=project_config(None, in_memory=True))
    ds = context.data_sources.add_or_update_pandas(name="sen2")
    # a return without a reference date: no date is "after" it
    params = {"reference_date": reference_date if reference_date is not None else pd.Timestamp.max}
    out: dict[str, list[dict]] = {}
    for frame, suite in suites.items():
        bd = ds.add_dataframe_asset(name=frame).add_batch_definition_whole_dataframe(name=f"{frame}_whole")
        vd = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"sen2_{frame}", data=bd, suite=context.suites.add(suite))
        )
        res = vd.run(
            batch_parameters={"dataframe": frames[frame]}, expectation_parameters=params, result_format=RESULT_FORMAT
        )
        out[frame] = [r.to_json_dict() for r in res.results]
    return out


def _unexpected_rows(result: dict) -> list[int]:
    exc = result.get("exception_info") or {}
    if exc.get("raised_exception"):
        meta = (result.get("expectation_config") or {}).get("meta") or {}
        raise RuntimeError(f"SEN2 rule {meta.get('rule_id')} could not run: {str(exc.get('exception_message'))[:300]}")
    return rows_of((result.get("result") or {}).get("unexpected_index_list"))


def run_rules(ret: Sen2Return, rules: tuple[Rule, ...] | None = None) -> list[Finding]:
    """Every rule's findings (from the GX validation results), in rule order then file order."""
    rules = all_rules() if rules is None else rules
    frames = derive_frames(ret.tables, ret.reference_date)
    results = validate_frames(frames, ret.reference_date, sen2_suites(rules))
    rows: dict[str, set[int]] = {r.id: set() for r in rules}
    for frame_results in results.values():
        for res in frame_results:
            if not res.get("success"):
                rule_id = ((res.get("expectation_config") or {}).get("meta") or {}).get("rule_id")
                rows[rule_id].update(_unexpected_rows(res))
            else:
                _unexpected_rows(res)  # an expectation that could not run is never a pass
    found: list[Finding] = []
    for rule in rules:
        if not rows[rule.id]:
            continue
        df = frames[rule.frame]
        module = MODULE_LABEL[rule.frame]
        for _, row in df.iloc[sorted(rows[rule.id])].iterrows():
            record = _record(row)
            line = None if pd.isna(row.get("line")) else int(row["line"])
            found.append(
                Finding(
                    rule.id,
                    rule.severity,
                    module,
                    rule.item,
                    int(row["person_pos"]),
                    record,
                    line,
                    f"{module}, {rule.item}, {record} (line {line}): {rule.text}",
                )
            )
    return found


def structure_findings(errors: list[StructureError], year_used: int) -> list[Finding]:
    out = []
    for e in errors:
        where = f"person {e.person_pos}" if e.person_pos else "header"
        item = re.sub(r"\[\d+\]$", "", e.path.rsplit("/", 1)[-1]) if e.path else ""
        out.append(
            Finding(
                STRUCTURE_RULE,
                ERROR,
                "schema",
                item,
                e.person_pos,
                where,
                e.line,
                f"{e.path} (line {e.line}, {where}): {e.reason} [XSD {year_used}]",
            )
        )
    return out


def validate_return(ret: Sen2Return) -> tuple[list[Finding], int]:
    """Structure (XSD) then business rules: (findings, XSD year used)."""
    from sendlib.data.sen2.reader import check_structure

    errors, used = check_structure(ret)
    return structure_findings(errors, used) + run_rules(ret), used


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    cols = ["rule_id", "severity", "module", "item", "person_pos", "record", "line", "message"]
    frame = pd.DataFrame([f.to_dict() for f in findings], columns=cols)
    for c in ("person_pos", "line"):
        frame[c] = frame[c].astype("Int64")
    return frame
