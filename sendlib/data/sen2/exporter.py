"""The canonical tables as a SEN2 return for a census year (``sendlib sen2 export``).

For year ``Y`` the reference date is the third Thursday of January ``Y``; the return holds the
requests received in calendar year ``Y-1`` (and earlier ones still open on 1 January ``Y-1``) and the
plans in force at the reference date, each plan's current placements, primary need and latest annual
review meeting (``annual_reviews``, when given), as known at the reference date: a request
decision or outcome dated after it is written as ongoing (``A``), as a January return would hold
it. What the canonical tables do not hold is written as SEN2 allows or as a documented stand-in: the person's
date of birth is the first day of the birth month; the names are ``SENDLIB`` and the person id (a
pseudonym already), there is no UPN (``UPNunknown`` UN1), and no postcode. A plan without a linked
request in the period is a request with outcome H (historical).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd

from sendlib.core.schema import END_REASON

CEASE_CODE = {code: str(i) for i, code in enumerate(END_REASON, start=1)}
SETTING_CODE = {"elective_home": "EHE", "neet": "NEET"}


def reference_date(year: int) -> pd.Timestamp:
    """The SEN2 census reference date: the third Thursday of January."""
    first = pd.Timestamp(year=year, month=1, day=1)
    return first + pd.Timedelta(days=(3 - first.weekday()) % 7 + 14)


def _d(v) -> str | None:
    return None if v is None or pd.isna(v) else f"{pd.Timestamp(v):%Y-%m-%d}"


def _el(tag: str, value) -> str:
    return (
        ""
        if value is None or (not isinstance(value, str) and pd.isna(value))
        else f"<{tag}>{escape(str(value))}</{tag}>"
    )


def _provider(row) -> str:
    pid = str(row["provider_id"]) if pd.notna(row["provider_id"]) else ""
    if pid.isdigit() and len(pid) <= 6:
        return _el("URN", pid)
    if pid.isdigit() and len(pid) == 8:
        return _el("UKPRN", pid)
    return _el("SENSetting", SETTING_CODE.get(row["setting_type"], "OTH"))


def export_return(tables: dict[str, pd.DataFrame], year: int, out: str | Path, la_code: str = "201") -> dict[str, int]:
    """Write the return for census ``year`` to ``out``; counts of what went in."""
    ref = reference_date(year)
    start = pd.Timestamp(year=year - 1, month=1, day=1)
    end = pd.Timestamp(year=year - 1, month=12, day=31)
    req = tables["ehcp_requests"].copy()
    plans = tables["ehcp_plans"].copy()
    plc = tables["placements"].copy()
    for df, cols in (
        (req, ["request_date", "decision_date", "outcome_date", "plan_issued_date"]),
        (plans, ["plan_start_date", "plan_end_date"]),
        (plc, ["start_date", "end_date"]),
    ):
        for c in cols:
            df[c] = pd.to_datetime(df[c])
    req = req[
        (req["request_date"] <= ref)
        & ((req["request_date"] >= start) | req["outcome_date"].isna() | (req["outcome_date"] >= start))
    ]
    in_force = (plans["plan_start_date"] <= ref) & (plans["plan_end_date"].isna() | (plans["plan_end_date"] > ref))
    issued = plans["plan_start_date"].between(start, end)
    plans = plans[in_force | issued].copy()
    plans["in_force"] = in_force[plans.index]
    plc = plc[(plc["start_date"] <= ref) & (plc["end_date"].isna() | (plc["end_date"] >= ref))]
    plc_by_person = dict(list(plc.groupby("person_id")))
    # 5.4a ReviewMeeting: the person's latest annual review meeting on or before the reference date
    last_meeting: dict = {}
    if tables.get("annual_reviews") is not None:
        rv = tables["annual_reviews"]
        held = pd.to_datetime(rv["meeting_date"])
        last_meeting = held[held <= ref].groupby(rv.loc[held <= ref, "person_id"]).max().to_dict()
    all_plans = tables["ehcp_plans"]
    birth = all_plans.drop_duplicates("person_id").set_index("person_id")
    plan_by_request = {r: g.iloc[0] for r, g in plans[plans["request_id"].notna()].groupby("request_id")}
    used_plans: set = set()
    persons = sorted(set(req["person_id"]) | set(plans["person_id"]))
    req_by_person = {p: g.sort_values("request_date") for p, g in req.groupby("person_id")}
    plans_by_person = dict(list(plans.groupby("person_id")))

    def active(plan) -> str:
        if not plan["in_force"]:
            return ""
        parts = []
        for rank, (_, pl) in enumerate(plc_by_person.get(plan["person_id"], pd.DataFrame()).head(2).iterrows(), 1):
            parts.append(
                "<PlacementDetail>"
                + _provider(pl)
                + _el("PlacementRank", rank)
                + _el("EntryDate", _d(pl["start_date"]))
                + _el("LeavingDate", _d(pl["end_date"]) if pd.notna(pl["end_date"]) and pl["end_date"] <= ref else None)
                + "</PlacementDetail>"
            )
        need = plan["primary_need"] if plan["primary_need"] != "NSA" else "OTH"
        parts.append(f"<SENneed><SENtype>{need}</SENtype><SENtypeRank>1</SENtypeRank></SENneed>")
        meeting = last_meeting.get(plan["person_id"])
        if meeting is not None and meeting >= plan["plan_start_date"]:
            parts.append(_el("ReviewMeeting", _d(meeting)))
        return "<ActivePlans>" + "".join(parts) + "</ActivePlans>"

    def named(plan) -> str:
        return (
            "<NamedPlan>"
            + _el("StartDate", _d(plan["plan_start_date"]))
            + _el("CeaseDate", _d(plan["plan_end_date"]) if not plan["in_force"] else None)
            + _el("CeaseReason", CEASE_CODE.get(plan["end_reason"]) if not plan["in_force"] else None)
            + "</NamedPlan>"
        )

    n_req = n_plans = 0
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<Message><Header><CollectionDetails><Collection>SEN2</Collection>'
            f"<Year>{year}</Year><ReferenceDate>{_d(ref)}</ReferenceDate></CollectionDetails><Source>"
            f"<SourceLevel>L</SourceLevel><LEA>{escape(la_code)}</LEA><SoftwareCode>sendlib</SoftwareCode>"
            "<Release>1</Release><SerialNo>001</SerialNo><DMO>Y</DMO><DCO>Y</DCO></Source></Header>\n<Persons>\n"
        )
        for pid in persons:
            b = birth.loc[pid] if pid in birth.index else None
            dob = f"{b['birth_month']}-01" if b is not None else "2010-01-01"
            sex = b["sex"] if b is not None else "M"
            body = []
            for _, r in req_by_person.get(pid, pd.DataFrame()).iterrows():
                # as at the census: a decision or an outcome dated after the reference date is not yet known
                decided = pd.notna(r["decision_date"]) and r["decision_date"] <= ref
                ended = pd.notna(r["outcome_date"]) and r["outcome_date"] <= ref
                ro = {"assess": "Y", "refuse": "N"}.get(r["decision"], "W" if r["outcome"] == "withdrawn" else "A")
                if (ro in "YN" and not decided) or (ro == "W" and not ended):
                    ro = "A"
                x = ["<Requests>", _el("ReceivedDate", _d(r["request_date"])), "<RYA>0</RYA>"]
                x += [
                    _el("RequestOutcomeDate", _d(r["decision_date"]) if ro in "YN" else None),
                    _el("RequestOutcome", ro),
                ]
                if ro == "Y":
                    ao = {"plan_issued": "Y", "no_plan": "N", "withdrawn": "W"}.get(r["outcome"], "A") if ended else "A"
                    plan = plan_by_request.get(r["request_id"])
                    x += [
                        "<Assessment>",
                        _el("AssessmentOutcome", ao),
                        _el("AssessmentOutcomeDate", _d(r["outcome_date"]) if ao in "YN" else None),
                        _el("Week20", "1" if str(r["exception"]).lower() in ("true", "1") else "0"),
                    ]
                    if plan is not None and ao == "Y":
                        x.append(named(plan))
                    x.append("</Assessment>")
                    if plan is not None and ao == "Y":
                        x.append(active(plan))
                        used_plans.add((pid, plan["plan_start_date"]))
                        n_plans += 1
                x.append("</Requests>")
                body.append("".join(x))
                n_req += 1
            for _, plan in plans_by_person.get(pid, pd.DataFrame()).iterrows():
                if (pid, plan["plan_start_date"]) in used_plans:
                    continue
                body.append(
                    "<Requests><RequestOutcome>H</RequestOutcome><Assessment><AssessmentOutcome>H</AssessmentOutcome>"
                    + named(plan)
                    + "</Assessment>"
                    + active(plan)
                    + "</Requests>"
                )
                n_plans += 1
            fh.write(
                f"<Person><Surname>SENDLIB</Surname><Forename>{escape(pid)}</Forename><PersonBirthDate>{dob}</PersonBirthDate>"
                f"<Sex>{sex}</Sex><Ethnicity>REFU</Ethnicity><UPNunknown>UN1</UPNunknown>"
                + "".join(body)
                + "</Person>\n"
            )
        fh.write("</Persons></Message>\n")
    return {"persons": len(persons), "requests": n_req, "plans": n_plans}
