"""Import a SEN2 XML return into the canonical tables (``ehcp_requests``, ``ehcp_plans``,
``placements``, ``annual_reviews``), written as ``<table>.csv`` with the schema's columns.

Person ids are pseudonyms: an HMAC-SHA256 keyed hash of the UPN, else the ULN, else name and date of
birth, so the same child gets the same id in next year's return. The key comes from the environment
variable the config names (``sen2.pseudonym_key_env``, default ``SENDLIB_PSEUDONYM_KEY``) and is
never stored. Only the birth month is kept; no name, UPN, ULN or postcode is written anywhere.

What SEN2 does not hold is left empty and listed in the import's summary: ``locality`` (SEN2 has
only the postcode, which is never written), a placement's ``annual_cost`` and ``out_of_county``, the
``setting_type`` of a placement named by URN or UKPRN (it needs the GIAS / UKRLP register), and an
annual review's ``due_date``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sendlib.core.config import Config
from sendlib.core.errors import UsageError, ValidationFailed
from sendlib.core.schema import END_REASON, PRIMARY_NEED, TABLES
from sendlib.data.sen2.reader import parse_return
from sendlib.data.sen2.rules import Finding, validate_return

#: SEN2 CeaseReason 1-9 -> canonical end_reason (END_REASON is declared in the DfE's order)
CEASE_REASON = {str(i): code for i, code in enumerate(END_REASON, start=1)}
#: SEN2 SENSetting -> canonical setting_type
SEN_SETTING = {
    "EHE": "elective_home",
    "NEET": "neet",
    "OLA": "other",
    "OPA": "other",
    "EYP": "other",
    "OTH": "other",
    "NIEC": "other",
    "NIEO": "other",
}
UNKNOWN_LOCALITY = "unknown"


def pseudonym(
    key: bytes, upn: str | None, uln: str | None, surname: str | None, forename: str | None, dob: str | None
) -> str:
    """The person id: keyed hash of UPN, else ULN, else names and date of birth (16 hex digits)."""
    if upn:
        material = "UPN:" + upn.strip().upper()
    elif uln:
        material = "ULN:" + uln.strip()
    else:
        material = "NAME:" + "|".join(((surname or "").strip().upper(), (forename or "").strip().upper(), dob or ""))
    return "P" + hmac.new(key, material.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def _key(cfg: Config) -> bytes:
    env = cfg.sen2.pseudonym_key_env
    value = os.environ.get(env, "")
    if not value:
        raise UsageError(
            f"environment variable {env} is not set: it holds the key of the pseudonymous person ids "
            f"(config sen2.pseudonym_key_env); keep it outside the repository and use the same key every year"
        )
    return value.encode("utf-8")


@dataclass
class ImportResult:
    out_dir: Path
    rows: dict[str, int]
    findings: list[Finding]
    left_missing: dict[str, int] = field(default_factory=dict)  # "table.column" -> empty values
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> records not imported

    def summary_lines(self) -> list[str]:
        n_err = sum(f.severity == "error" for f in self.findings)
        n_q = len(self.findings) - n_err
        out = [f"SEN2 import into {self.out_dir}: {n_err} rule error(s), {n_q} query(ies) (kept as read)"]
        out += [f"  {f.rule_id} {f.severity}: {f.message}" for f in self.findings]
        out += [f"  wrote {name}.csv: {n} row(s)" for name, n in self.rows.items()]
        out += [f"  left missing (SEN2 does not hold it): {col}: {n} row(s)" for col, n in self.left_missing.items()]
        out += [f"  not imported: {reason}: {n}" for reason, n in self.dropped.items()]
        return out


def _age(dob: pd.Series, at: pd.Series) -> pd.Series:
    years = at.dt.year - dob.dt.year
    before = (at.dt.month < dob.dt.month) | ((at.dt.month == dob.dt.month) & (at.dt.day < dob.dt.day))
    return (years - before.astype(int)).astype("Int64")


def _phase(age: pd.Series) -> pd.Series:
    bins = [-1, 3, 10, 15, 18, 200]
    labels = ["early_years", "primary", "secondary", "post16", "post19"]
    return pd.cut(age.astype("float"), bins=bins, labels=labels).astype("string")


def _d(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, errors="coerce", format="%Y-%m-%d")


def _fmt(s: pd.Series) -> pd.Series:
    return s.dt.strftime("%Y-%m-%d").astype("string")


def build_tables(path: str | Path, key: bytes) -> tuple[dict[str, pd.DataFrame], list[Finding], dict, dict]:
    """The canonical frames of a return (dates as ISO strings), its findings, what was left missing or dropped."""
    ret = parse_return(path)
    findings, _ = validate_return(ret)
    t = ret.tables

    def col(df: pd.DataFrame, name: str) -> pd.Series:
        return df[name] if name in df.columns else pd.Series(pd.NA, index=df.index, dtype="string")

    person = t["person"].copy()
    person["person_id"] = [
        pseudonym(key, *(None if pd.isna(v) else str(v) for v in vals))
        for vals in zip(
            col(person, "UPN"),
            col(person, "UniqueLearnerNumber"),
            col(person, "Surname"),
            col(person, "Forename"),
            col(person, "PersonBirthDate"),
        )
    ]
    person["dob"] = _d(col(person, "PersonBirthDate"))
    pkeys = person[["person_pos", "person_id", "dob", *[c for c in ("Sex",) if c in person]]]

    need = t["sen_need"]
    rank1 = (
        need[col(need, "SENtypeRank") == "1"]
        .drop_duplicates(["person_pos", "request_pos"])
        .loc[:, ["person_pos", "request_pos", "SENtype"]]
        if len(need) and "SENtype" in need
        else pd.DataFrame(columns=["person_pos", "request_pos", "SENtype"])
    )
    rank1["primary_need"] = rank1["SENtype"].where(rank1["SENtype"].isin(list(PRIMARY_NEED)), "OTH")

    keys = ["person_pos", "request_pos"]
    ass = t["assessment"].rename(columns=lambda c: c if c in keys else f"A_{c}")
    plan = t["named_plan"].rename(columns=lambda c: c if c in keys else f"N_{c}")
    act = t["active_plan"].rename(columns=lambda c: c if c in keys else f"AP_{c}")
    req = (
        t["request"]
        .merge(pkeys, on="person_pos", how="left")
        .merge(ass, on=keys, how="left")
        .merge(plan, on=keys, how="left")
        .merge(act, on=keys, how="left")
        .merge(rank1[[*keys, "primary_need"]], on=keys, how="left")
    )
    req["request_id"] = req["person_id"] + "-R" + req["request_pos"].astype(str)
    left: dict[str, int] = {}
    dropped: dict[str, int] = {}

    # -- ehcp_requests: requests with a received date (historical ones have none) -------------
    received = _d(col(req, "ReceivedDate"))
    has = received.notna()
    dropped["requests without ReceivedDate (historical)"] = int((~has).sum())
    r = req[has].copy()
    rd = received[has]
    ro = col(r, "RequestOutcome")
    ao = col(r, "A_AssessmentOutcome")
    aod = _d(col(r, "A_AssessmentOutcomeDate"))
    rod = _d(col(r, "RequestOutcomeDate"))
    outcome = pd.Series("open", index=r.index, dtype="string")
    outcome[ro == "N"] = "refused"
    outcome[ro == "W"] = "withdrawn"
    outcome[(ro == "Y") & (ao == "Y")] = "plan_issued"
    outcome[(ro == "Y") & (ao == "N")] = "no_plan"
    outcome[(ro == "Y") & (ao == "W")] = "withdrawn"
    outcome = outcome.fillna("open")
    out_date = pd.Series(pd.NaT, index=r.index, dtype="datetime64[ns]")
    out_date[outcome == "refused"] = rod[outcome == "refused"]
    done = outcome.isin(["plan_issued", "no_plan"])
    out_date[done] = aod[done]
    requests = pd.DataFrame(
        {
            "request_id": r["request_id"],
            "person_id": r["person_id"],
            "request_date": _fmt(rd),
            "age_at_request": _age(r["dob"], rd),
            "primary_need": r["primary_need"],
            "decision_date": _fmt(rod),
            "decision": ro.map({"Y": "assess", "N": "refuse"}).astype("string"),
            "outcome_date": _fmt(out_date),
            "plan_issued_date": _fmt(aod.where(outcome == "plan_issued")),
            "outcome": outcome,
            "exception": (col(r, "A_Week20") == "1").fillna(False),
            "locality": UNKNOWN_LOCALITY,
        }
    )

    # -- ehcp_plans: a named plan or an active plan ------------------------------------------
    is_plan = col(req, "N_StartDate").notna() | col(req, "AP_line").notna() | (col(req, "A_AssessmentOutcome") == "Y")
    p = req[is_plan.fillna(False)].copy()
    start = _d(col(p, "N_StartDate")).fillna(_d(col(p, "A_AssessmentOutcomeDate")))
    dropped["plans without a StartDate or issue date"] = int(start.isna().sum())
    p, start = p[start.notna()], start[start.notna()]
    plans = pd.DataFrame(
        {
            "person_id": p["person_id"],
            "request_id": p["request_id"].where(_d(col(p, "ReceivedDate")).notna()),
            "birth_month": p["dob"].dt.strftime("%Y-%m").astype("string"),
            "sex": col(p, "Sex"),
            "primary_need": p["primary_need"],
            "plan_start_date": _fmt(start),
            "plan_end_date": _fmt(_d(col(p, "N_CeaseDate"))),
            "end_reason": col(p, "N_CeaseReason").map(CEASE_REASON).astype("string"),
            "locality": UNKNOWN_LOCALITY,
        }
    ).drop_duplicates(["person_id", "plan_start_date"])
    left["ehcp_plans.primary_need"] = int(plans["primary_need"].isna().sum())

    # -- placements: 5b PlacementDetail ------------------------------------------------------
    pl = t["placement_detail"].merge(pkeys, on="person_pos", how="left")
    entry = _d(col(pl, "EntryDate"))
    setting = col(pl, "SENSetting").map(SEN_SETTING).astype("string")
    resourced = (col(pl, "ResourcedProvisionIndicator") == "1") | (col(pl, "SENunitIndicator") == "1")
    setting = setting.where(setting.notna() | ~resourced.fillna(False), "resourced_provision")
    placements = pd.DataFrame(
        {
            "placement_id": pl["person_id"]
            + "-R"
            + pl["request_pos"].astype(str)
            + "-P"
            + pl["detail_pos"].astype(str),
            "person_id": pl["person_id"],
            "setting_type": setting,
            "phase": _phase(_age(pl["dob"], entry)),
            "provider_id": col(pl, "URN").fillna(col(pl, "UKPRN")).fillna(col(pl, "SENSetting")),
            "start_date": _fmt(entry),
            "end_date": _fmt(_d(col(pl, "LeavingDate"))),
            "annual_cost": pd.Series(pd.NA, index=pl.index, dtype="Float64"),
            "out_of_county": pd.Series(pd.NA, index=pl.index, dtype="boolean"),
        }
    )
    for c in ("setting_type", "start_date", "annual_cost", "out_of_county"):
        left[f"placements.{c}"] = int(placements[c].isna().sum())

    # -- annual_reviews: 5a ReviewMeeting ----------------------------------------------------
    ap = req[col(req, "AP_ReviewMeeting").notna()]
    reviews = pd.DataFrame(
        {
            "person_id": ap["person_id"],
            "due_date": pd.Series(pd.NA, index=ap.index, dtype="string"),
            "meeting_date": _fmt(_d(col(ap, "AP_ReviewMeeting"))),
            "decision_date": pd.Series(pd.NA, index=ap.index, dtype="string"),
        }
    )
    left["annual_reviews.due_date"] = len(reviews)
    left["ehcp_requests.locality"] = len(requests)
    left["ehcp_plans.locality"] = len(plans)
    frames = {"ehcp_requests": requests, "ehcp_plans": plans, "placements": placements, "annual_reviews": reviews}
    for name, df in frames.items():
        frames[name] = df[TABLES[name].column_names].reset_index(drop=True)
    return frames, findings, {k: v for k, v in left.items() if v}, {k: v for k, v in dropped.items() if v}


def import_return(path: str | Path, out_dir: str | Path, cfg: Config, *, strict: bool = False) -> ImportResult:
    """Import the return at ``path`` into ``out_dir``; with ``strict``, refuse when any rule fails."""
    key = _key(cfg)
    frames, findings, left, dropped = build_tables(path, key)
    if strict and findings:
        raise ValidationFailed(
            f"--strict: {len(findings)} rule failure(s) in the return, nothing written; first: {findings[0].message}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        df.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
    return ImportResult(out, {n: len(df) for n, df in frames.items()}, findings, left, dropped)
