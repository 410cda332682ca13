"""Business rules of the SEN2 return, on the flattened modules (:mod:`sendlib.data.sen2.reader`).

Each rule has an id, a severity (``error`` stops a submission, ``query`` must be explained, as the
DfE's own validation distinguishes), the module and item it reads, and a function returning the
rows (of that module's frame) that break it. Messages name the module, the item and the record's
position (person, request, placement or need; and the line): never a name, UPN, ULN, postcode or
date of birth.

The rules are pure pandas functions: the issue asks for them as Great Expectations suites on the
flattened modules; they keep the same id / severity / message structure so they can move onto the
gate's engine later without changing their ids or their output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

import pandas as pd

from sendlib.data.sen2.reader import MODULE_LABEL, Sen2Return, StructureError

ERROR = "error"
QUERY = "query"

#: the UPN check letter alphabet (DfE "Unique pupil numbers (UPNs)": I, O and S are not used)
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN = re.compile(r"[A-Z]\d{11}[0-9A-Z]")
_ULN = re.compile(r"\d{10}")


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
class Rule:
    id: str
    severity: str
    frame: str  # the module frame it reports on
    item: str
    text: str  # what is wrong, without values
    check: Callable[[dict[str, pd.DataFrame], Sen2Return], pd.DataFrame]


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


# -- the checks: each returns the offending rows of its frame -----------------------------------


def _upn(t, ret):
    p = t["person"]
    upn = _col(p, "UPN")
    bad = upn.notna() & upn.fillna("").map(lambda u: upn_problem(u) is not None).astype(bool)
    return p[bad]


def _uln(t, ret):
    p = t["person"]
    uln = _col(p, "UniqueLearnerNumber")
    return p[uln.notna() & ~uln.fillna("").str.fullmatch(_ULN.pattern).astype(bool)]


def _no_identifier(t, ret):
    p = t["person"]
    return p[_col(p, "UPN").isna() & _col(p, "UniqueLearnerNumber").isna() & _col(p, "UPNunknown").isna()]


def _age(t, ret):
    p = t["person"]
    ref = ret.reference_date
    if ref is None:
        return p.iloc[0:0]
    dob = _date(p, "PersonBirthDate")
    age = ref.year - dob.dt.year - ((dob.dt.month > ref.month) | ((dob.dt.month == ref.month) & (dob.dt.day > ref.day)))
    return p[dob.notna() & ((age < 0) | (age > 25))]


def _dup_upn(t, ret):
    p = t["person"]
    upn = _col(p, "UPN").str.upper()
    return p[upn.notna() & upn.duplicated(keep="first")]


def _dup_name_dob(t, ret):
    p = t["person"]
    k = pd.DataFrame(
        {
            "s": _col(p, "Surname").str.strip().str.upper(),
            "f": _col(p, "Forename").str.strip().str.upper(),
            "d": _col(p, "PersonBirthDate"),
        }
    )
    return p[k.notna().all(axis=1) & k.duplicated(keep="first")]


def _future_request(t, ret):
    r = t["request"]
    ref = ret.reference_date
    if ref is None:
        return r.iloc[0:0]
    return r[_date(r, "ReceivedDate") > ref]


def _request_order(t, ret):
    r = t["request"]
    return r[_date(r, "RequestOutcomeDate") < _date(r, "ReceivedDate")]


def _request_outcome_date(t, ret):
    r = t["request"]
    return r[_col(r, "RequestOutcome").isin(["Y", "N"]).fillna(False) & _col(r, "RequestOutcomeDate").isna()]


def _assessment_outcome_date(t, ret):
    a = t["assessment"]
    return a[_col(a, "AssessmentOutcome").isin(["Y", "N"]).fillna(False) & _col(a, "AssessmentOutcomeDate").isna()]


def _assessment_order(t, ret):
    a = t["assessment"].merge(
        t["request"][["person_pos", "request_pos", *[c for c in ("ReceivedDate",) if c in t["request"]]]],
        on=["person_pos", "request_pos"],
        how="left",
    )
    bad = _date(a, "AssessmentOutcomeDate") < _date(a, "ReceivedDate")
    return t["assessment"][bad.to_numpy()]


def _plan_order(t, ret):
    n = t["named_plan"]
    return n[_date(n, "CeaseDate") < _date(n, "StartDate")]


def _issue_order(t, ret):
    n = t["named_plan"].merge(
        t["assessment"][
            ["person_pos", "request_pos", *[c for c in ("AssessmentOutcomeDate",) if c in t["assessment"]]]
        ],
        on=["person_pos", "request_pos"],
        how="left",
    )
    bad = _date(n, "StartDate") < _date(n, "AssessmentOutcomeDate")
    return t["named_plan"][bad.to_numpy()]


def _one_provider(frame):
    def check(t, ret):
        d = t[frame]
        n = sum(_col(d, c).notna().astype(int) for c in ("URN", "UKPRN", "SENSetting"))
        return d[n != 1]

    return check


def _placement_order(t, ret):
    d = t["placement_detail"]
    return d[_date(d, "LeavingDate") < _date(d, "EntryDate")]


def _plan_without_placement(t, ret):
    a = t["active_plan"]
    have = t["placement_detail"][["person_pos", "request_pos"]].drop_duplicates()
    m = a.merge(have, on=["person_pos", "request_pos"], how="left", indicator=True)
    return a[(m["_merge"] == "left_only").to_numpy()]


def _rank1(t, ret):
    a = t["active_plan"]
    n = t["sen_need"]
    ones = (
        n[_col(n, "SENtypeRank") == "1"].groupby(["person_pos", "request_pos"]).size().rename("ones").reset_index()
        if len(n)
        else pd.DataFrame(columns=["person_pos", "request_pos", "ones"])
    )
    m = a.merge(ones, on=["person_pos", "request_pos"], how="left")
    return a[(m["ones"].fillna(0) != 1).to_numpy()]


def _future_dates(frame, cols):
    def check(t, ret):
        d = t[frame]
        ref = ret.reference_date
        if ref is None:
            return d.iloc[0:0]
        bad = pd.Series(False, index=d.index)
        for c in cols:
            bad |= (_date(d, c) > ref).fillna(False)
        return d[bad]

    return check


RULES: tuple[Rule, ...] = (
    Rule("SEN2-P01", ERROR, "person", "UPN", "UPN format or check letter is not valid", _upn),
    Rule("SEN2-P02", ERROR, "person", "UniqueLearnerNumber", "ULN is not 10 digits", _uln),
    Rule("SEN2-P03", QUERY, "person", "UPN/UniqueLearnerNumber/UPNunknown", "no UPN, ULN or UPNunknown reason", _no_identifier),
    Rule("SEN2-P04", ERROR, "person", "PersonBirthDate", "age at the reference date is outside 0-25", _age),
    Rule("SEN2-P05", ERROR, "person", "UPN", "the same UPN as an earlier person (duplicate person)", _dup_upn),
    Rule("SEN2-P06", QUERY, "person", "Surname/Forename/PersonBirthDate", "the same name and date of birth as an earlier person (possible duplicate)", _dup_name_dob),
    Rule("SEN2-R01", ERROR, "request", "ReceivedDate", "request received after the reference date", _future_request),
    Rule("SEN2-R02", ERROR, "request", "RequestOutcomeDate", "request outcome date before the received date", _request_order),
    Rule("SEN2-R03", ERROR, "request", "RequestOutcomeDate", "request outcome Y or N needs a request outcome date", _request_outcome_date),
    Rule("SEN2-A01", ERROR, "assessment", "AssessmentOutcomeDate", "assessment outcome Y or N needs an assessment outcome date", _assessment_outcome_date),
    Rule("SEN2-A02", ERROR, "assessment", "AssessmentOutcomeDate", "assessment outcome date before the request's received date", _assessment_order),
    Rule("SEN2-N01", ERROR, "named_plan", "CeaseDate", "plan cease date before its start date", _plan_order),
    Rule("SEN2-N02", QUERY, "named_plan", "StartDate", "plan start date before the assessment outcome (issue) date", _issue_order),
    Rule("SEN2-N03", ERROR, "plan_detail", "URN/UKPRN/SENSetting", "a named placement must give exactly one of URN, UKPRN or SENSetting", _one_provider("plan_detail")),
    Rule("SEN2-AP01", ERROR, "active_plan", "PlacementDetail", "active plan without a placement", _plan_without_placement),
    Rule("SEN2-AP02", ERROR, "active_plan", "SENneed/SENtypeRank", "active plan must have exactly one rank-1 SEN need", _rank1),
    Rule("SEN2-PL01", ERROR, "placement_detail", "URN/UKPRN/SENSetting", "a placement must give exactly one of URN, UKPRN or SENSetting", _one_provider("placement_detail")),
    Rule("SEN2-PL02", ERROR, "placement_detail", "LeavingDate", "placement leaving date before its entry date", _placement_order),
    Rule("SEN2-PL03", QUERY, "placement_detail", "EntryDate/LeavingDate", "placement date after the reference date", _future_dates("placement_detail", ("EntryDate", "LeavingDate"))),
    Rule("SEN2-N04", QUERY, "named_plan", "StartDate/CeaseDate", "plan date after the reference date", _future_dates("named_plan", ("StartDate", "CeaseDate"))),
)  # fmt: skip

STRUCTURE_RULE = "SEN2-XSD"


def run_rules(ret: Sen2Return, rules: tuple[Rule, ...] = RULES) -> list[Finding]:
    """Every rule's findings, in rule order then file order."""
    found: list[Finding] = []
    for rule in rules:
        bad = rule.check(ret.tables, ret)
        module = MODULE_LABEL[rule.frame]
        for _, row in bad.iterrows():
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
