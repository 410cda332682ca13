"""Import a SEN2 XML return into the canonical tables (``ehcp_requests``, ``ehcp_plans``,
``placements``, ``annual_reviews``): written as ``<table>.csv`` by ``sendlib sen2 import``, or built
in memory for a config whose ``tables.sen2`` names a return (:func:`tables_from_return`).

Person ids are pseudonyms: an HMAC-SHA256 keyed hash of the UPN, else the ULN, else name and date of
birth, so the same child gets the same id in next year's return. The key comes from the environment
variable the config names (``sen2.pseudonym_key_env``, default ``SENDLIB_PSEUDONYM_KEY``) and is
never stored. Only the birth month is kept; no name, UPN, ULN or postcode is written anywhere.

Completeness. A return whose element nesting does not follow the XSD is refused (a
:class:`~sendlib.core.errors.DataError`: the modules cannot be tied together). A return whose
values fail a rule imports: each failure is listed with its rule id and what the import kept or
left out (:data:`RULE_EFFECT`). What SEN2 does not hold:

- ``locality`` (SEN2 has only the postcode, never read): the config's ``sen2.unknown_locality``
  (default ``unknown``), which the config lists in ``authority.localities``;
- a placement's ``annual_cost`` and ``out_of_county``, and the ``setting_type`` of a placement
  named by URN or UKPRN (it needs the GIAS / UKRLP register): left empty, "not known"; the schema
  allows it (``Column.not_in_sen2``) and the import's ``metadata.yaml`` declares them
  ``not_known`` so the gate accepts them;
- an annual review's ``due_date``: the anniversary of the plan's start nearest the review meeting
  (at least one year on): a review is due within 12 months of the plan and of each previous review
  (SEND Code of Practice 2015, 9.176; the previous review is not in the return). The decision date
  after the review is not held (left empty);
- the primary need of a plan that is not active at the census (SEN2 records needs only for active
  plans): the need of the person's active plan, else ``OTH``, counted in the summary.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from sendlib.core.config import Config
from sendlib.core.errors import DataError, UsageError, ValidationFailed
from sendlib.core.schema import END_REASON, PRIMARY_NEED, TABLES
from sendlib.data.sen2.reader import MODULES, check_structure, parse_return
from sendlib.data.sen2.rules import Finding, run_rules, structure_findings

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
#: elements whose place in the file ties the modules together (a misplaced one is a nesting error)
MODULE_TAGS = frozenset({"Message", "Header", "Persons"} | {tag for _, tag in MODULES.values()})
#: what the import does with a record that fails each rule (the summary says it per finding)
RULE_EFFECT: dict[str, str] = {
    "SEN2-XSD": "value kept as read where the table has a column for it",
    "SEN2-P01": "kept: the person id is the keyed hash of the UPN as written",
    "SEN2-P02": "kept: the person id is the keyed hash of the ULN as written (when there is no UPN)",
    "SEN2-P03": "kept: the person id is the keyed hash of names and date of birth",
    "SEN2-P04": "kept: birth month and ages as read",
    "SEN2-P05": "left out: the later person with the same UPN (the first is imported)",
    "SEN2-P06": "kept: both persons (ids from their UPN or ULN where they differ)",
    "SEN2-R01": "kept as read; the gate refuses a date after the extract date",
    "SEN2-R02": "kept both dates as read; the gate reports the date order",
    "SEN2-R03": "kept: the request's decision date left empty",
    "SEN2-A01": "kept: the request's outcome date left empty",
    "SEN2-A02": "kept both dates as read; the gate reports the date order",
    "SEN2-N01": "kept both dates as read; the gate reports the date order",
    "SEN2-N02": "kept: the plan starts on its StartDate",
    "SEN2-N03": "kept: named placements are not imported",
    "SEN2-AP01": "kept: the plan, with no placement",
    "SEN2-AP02": "kept: the plan's primary need from the first rank-1 need, else the person's active plan, else OTH",
    "SEN2-PL01": "kept: provider_id is the first of URN, UKPRN, SENSetting given; left out when none is",
    "SEN2-PL02": "kept both dates as read; the gate reports the date order",
    "SEN2-PL03": "kept as read; the gate refuses a date after the extract date",
    "SEN2-N04": "kept as read; the gate refuses a date after the extract date",
    "SEN2-P07": "kept: the person id is the keyed hash of the UPN or ULN given; UPNunknown is not imported",
    "SEN2-R04": "kept: the request is open at the census (its later outcome dates emptied)",
    "SEN2-R05": "left out as a request (no received date); its plan is kept without a linked request",
    "SEN2-R06": "kept: both requests, as read",
    "SEN2-A03": "kept: the request is open at the census (its later outcome dates emptied)",
    "SEN2-N05": "kept: the plan's end date, with no end reason",
    "SEN2-N06": "kept: the plan in force (no end date), its cease reason as read",
    "SEN2-N07": "kept: named placements are not imported",
    "SEN2-AP03": "left out: the review meeting after the census",
    "SEN2-SN01": "kept: the plan's primary need is the rank-1 need; other needs are not imported",
}


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
        out = [f"SEN2 import into {self.out_dir}: {n_err} rule error(s), {n_q} query(ies)"]
        out += [
            f"  {f.rule_id} {f.severity}: {f.message} -> {RULE_EFFECT.get(f.rule_id, 'kept as read')}"
            for f in self.findings
        ]
        out += [f"  wrote {name}.csv: {n} row(s)" for name, n in self.rows.items()]
        out += [
            f"  left missing or stood in (SEN2 does not hold it): {col}: {n} row(s)"
            for col, n in self.left_missing.items()
        ]
        out += [f"  as at the census or not imported: {reason}: {n}" for reason, n in self.dropped.items()]
        return out


def is_nesting_error(err: object) -> bool:
    """An XSD error about module nesting (a module where it does not belong, or a module missing,
    so the flattened modules could not be tied together), not about a value or an item.

    The reader classes each error (``StructureError.kind``: ``"value"`` for a simple type or
    facet, ``"nesting"`` for the content model). Of the content-model errors, only those that name
    a module element (``Person``, ``Requests``, ``Assessment``, ... :data:`MODULE_TAGS`) as
    unexpected or expected, or the message root, stop an import: an item in another order or place
    inside its own module (the mock return's ``LastReview``) is reported by the validator and the
    item is read where it is.
    """
    if getattr(err, "kind", None) == "value":
        return False
    reason = str(getattr(err, "reason", ""))
    # the tags the validator names as unexpected ("Unexpected child with tag 'X'") or as expected
    # ("Tag 'X' expected"), never the parent whose content is wrong
    named = {t.rsplit("}", 1)[-1] for t in re.findall(r"[Tt]ags? '([^']+)'", reason)}
    if named & MODULE_TAGS:
        return True
    return bool(re.search(r"root|is not an element of the schema", reason))


def _refuse_nesting(path: Path, errors: list) -> None:
    bad = [e for e in errors if is_nesting_error(e)]
    if bad:
        shown = "; ".join(f"{e.path} (line {e.line}): {e.reason}" for e in bad[:3])
        raise DataError(
            "sen2",
            "element nesting does not follow the XSD: the modules cannot be tied together, nothing imported",
            file=str(path),
            n_rows=len(bad),
            detail=shown
            + (f" (+{len(bad) - 3} more)" if len(bad) > 3 else "")
            + "; run `sendlib sen2 validate` for every finding",
        )


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


def _anniversary_due(start: pd.Series, meeting: pd.Series) -> pd.Series:
    """The anniversary of ``start`` nearest ``meeting``, at least one year on (the review's due date)."""
    years = ((meeting - start).dt.days / 365.25).round().clip(lower=1)
    out = [(s + pd.DateOffset(years=int(y))) if pd.notna(s) and pd.notna(y) else pd.NaT for s, y in zip(start, years)]
    return pd.Series(pd.to_datetime(out), index=start.index, dtype="datetime64[ns]")


def as_at(frames: dict[str, pd.DataFrame], ref: pd.Timestamp) -> dict[str, int]:
    """The tables as at the census reference date ``ref`` (in place): what happened after it is not
    yet known at the census. A request decided or ended later is open (its later dates emptied);
    a plan, placement or review meeting starting later is left out; a plan or placement ending
    later is still open. Returns counts by what was changed."""
    day = f"{ref:%Y-%m-%d}"  # ISO strings compare as dates
    done: dict[str, int] = {}
    r = frames["ehcp_requests"]
    late_dec = (r["decision_date"].notna() & (r["decision_date"] > day)).fillna(False).astype(bool)
    late_out = (r["outcome_date"].notna() & (r["outcome_date"] > day)).fillna(False).astype(bool)
    r.loc[late_dec, ["decision_date", "decision"]] = pd.NA
    r.loc[late_out, ["outcome_date", "plan_issued_date"]] = pd.NA
    r.loc[late_out, "outcome"] = "open"
    done["ehcp_requests decided or ended after the reference date: open at the census"] = int(
        (late_dec | late_out).sum()
    )
    p = frames["ehcp_plans"]
    late = (p["plan_start_date"] > day).fillna(False).astype(bool)
    done["ehcp_plans starting after the reference date: left out"] = int(late.sum())
    p = p[~late].copy()
    ended = (p["plan_end_date"].notna() & (p["plan_end_date"] > day)).fillna(False).astype(bool)
    p.loc[ended, ["plan_end_date", "end_reason"]] = pd.NA
    done["ehcp_plans ceasing after the reference date: in force at the census"] = int(ended.sum())
    frames["ehcp_plans"] = p
    pl = frames["placements"]
    late = (pl["start_date"] > day).fillna(False).astype(bool)
    done["placements starting after the reference date: left out"] = int(late.sum())
    pl = pl[~late].copy()
    pl.loc[(pl["end_date"].notna() & (pl["end_date"] > day)).fillna(False).astype(bool), "end_date"] = pd.NA
    frames["placements"] = pl
    rv = frames["annual_reviews"]
    late = (rv["meeting_date"] > day).fillna(False).astype(bool)
    done["annual_reviews meetings after the reference date: left out"] = int(late.sum())
    frames["annual_reviews"] = rv[~late]
    return done


def build_tables(
    path: str | Path, key: bytes, *, unknown_locality: str = UNKNOWN_LOCALITY
) -> tuple[dict[str, pd.DataFrame], list[Finding], dict, dict]:
    """The canonical frames of a return (dates as ISO strings), its findings, what was left missing
    or stood in, and what was not imported. Raises :class:`DataError` when the element nesting does
    not follow the XSD."""
    frames, findings, left, dropped, _ = _build(path, key, unknown_locality)
    return frames, findings, left, dropped


def _build(
    path: str | Path, key: bytes, unknown_locality: str
) -> tuple[dict[str, pd.DataFrame], list[Finding], dict, dict, pd.Timestamp | None]:
    ret = parse_return(path)
    errors, used = check_structure(ret)
    _refuse_nesting(Path(path), errors)
    findings = structure_findings(errors, used) + run_rules(ret)
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
    dup = person["person_id"].duplicated(keep="first")
    dropped_persons = int(dup.sum())
    person = person[~dup]
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
        .merge(pkeys, on="person_pos", how="inner")
        .merge(ass, on=keys, how="left")
        .merge(plan, on=keys, how="left")
        .merge(act, on=keys, how="left")
        .merge(rank1[[*keys, "primary_need"]], on=keys, how="left")
    )
    req["request_id"] = req["person_id"] + "-R" + req["request_pos"].astype(str)
    left: dict[str, int] = {}
    dropped: dict[str, int] = {"persons repeating an earlier person's UPN (SEN2-P05)": dropped_persons}

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
            "locality": unknown_locality,
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
            "locality": unknown_locality,
        }
    ).drop_duplicates(["person_id", "plan_start_date"])
    # SEN2 records needs only for active plans: a plan ceased before the census takes the need of
    # the person's active plan, else OTH (counted)
    no_need = plans["primary_need"].isna()
    left["ehcp_plans.primary_need (no need recorded: the person's active plan's need, else OTH)"] = int(no_need.sum())
    known = plans.dropna(subset=["primary_need"]).drop_duplicates("person_id").set_index("person_id")["primary_need"]
    plans["primary_need"] = plans["primary_need"].fillna(plans["person_id"].map(known)).fillna("OTH").astype("string")

    # -- placements: 5b PlacementDetail ------------------------------------------------------
    pl = t["placement_detail"].merge(pkeys, on="person_pos", how="inner")
    provider = col(pl, "URN").fillna(col(pl, "UKPRN")).fillna(col(pl, "SENSetting"))
    keep = _d(col(pl, "EntryDate")).notna() & provider.notna()
    dropped["placements without an EntryDate or a provider (URN, UKPRN or SENSetting)"] = int((~keep).sum())
    pl = pl[keep.to_numpy()]
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
    for c in ("setting_type", "annual_cost", "out_of_county"):
        left[f"placements.{c} (not known)"] = int(placements[c].isna().sum())

    # -- annual_reviews: 5a ReviewMeeting, due on the plan start's anniversary nearest it ----------
    ap = req[col(req, "AP_ReviewMeeting").notna()].copy()
    meeting = _d(col(ap, "AP_ReviewMeeting"))
    ap_start = _d(col(ap, "N_StartDate")).fillna(_d(col(ap, "A_AssessmentOutcomeDate")))
    due = _anniversary_due(ap_start, meeting)
    dropped["annual reviews of a plan without a start date (no due date)"] = int(due.isna().sum())
    reviews = pd.DataFrame(
        {
            "person_id": ap["person_id"],
            "due_date": _fmt(due),
            "meeting_date": _fmt(meeting),
            "decision_date": pd.Series(pd.NA, index=ap.index, dtype="string"),
        }
    )
    reviews = reviews[due.notna().to_numpy()].drop_duplicates(["person_id", "due_date"])
    left["annual_reviews.due_date (derived: plan start anniversary nearest the meeting)"] = len(reviews)
    left["annual_reviews.decision_date (not held)"] = len(reviews)
    left["ehcp_requests.locality (written as the config's sen2.unknown_locality)"] = len(requests)
    left["ehcp_plans.locality (written as the config's sen2.unknown_locality)"] = len(plans)
    frames = {"ehcp_requests": requests, "ehcp_plans": plans, "placements": placements, "annual_reviews": reviews}
    if ret.reference_date is not None:
        dropped.update(as_at(frames, ret.reference_date))
    for name, df in frames.items():
        frames[name] = df[TABLES[name].column_names].reset_index(drop=True)
    left = {k: v for k, v in left.items() if v}
    return frames, findings, left, {k: v for k, v in dropped.items() if v}, ret.reference_date


def not_known_columns() -> list[str]:
    """``table.column`` of every column SEN2 does not hold in the tables an import writes."""
    return [
        f"{n}.{c}"
        for n in ("ehcp_requests", "ehcp_plans", "placements", "annual_reviews")
        for c in TABLES[n].not_in_sen2_columns
    ]


@functools.lru_cache(maxsize=2)
def _cached_frames(path: str, mtime_ns: int, size: int, key: bytes, locality: str) -> dict[str, pd.DataFrame]:
    frames, _, _, _ = build_tables(path, key, unknown_locality=locality)
    return frames


def tables_from_return(path: str | Path, cfg: Config) -> dict[str, pd.DataFrame]:
    """The canonical frames of a return, in memory (for a config whose ``tables.sen2`` names it):
    parsed once per file version and kept for the process; copies are returned."""
    p = Path(path).resolve()
    st = p.stat()
    frames = _cached_frames(str(p), st.st_mtime_ns, st.st_size, _key(cfg), cfg.sen2.unknown_locality)
    return {n: df.copy() for n, df in frames.items()}


def import_return(path: str | Path, out_dir: str | Path, cfg: Config, *, strict: bool = False) -> ImportResult:
    """Import the return at ``path`` into ``out_dir``; with ``strict``, refuse when any rule fails.

    Writes ``<table>.csv`` for each table (as at the return's reference date, :func:`as_at`) and
    ``metadata.yaml``: the reference date as the extract date, and the columns SEN2 does not hold
    under ``not_known``. Raises
    :class:`DataError` when the element nesting does not follow the XSD, and
    :class:`ValidationFailed` with ``strict`` when any rule fails; nothing is written then.
    """
    key = _key(cfg)
    frames, findings, left, dropped, ref = _build(path, key, cfg.sen2.unknown_locality)
    if strict and findings:
        raise ValidationFailed(
            f"--strict: {len(findings)} rule failure(s) in the return, nothing written; first: "
            f"{findings[0].rule_id} {findings[0].message}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        df.to_csv(out / f"{name}.csv", index=False, lineterminator="\n")
    meta = {
        "description": f"Imported by sendlib sen2 import from a SEN2 return ({Path(path).name}), as at its reference date.",
        **({"extract_date": f"{ref:%Y-%m-%d}"} if ref is not None else {}),
        "not_known": not_known_columns(),
    }
    (out / "metadata.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return ImportResult(out, {n: len(df) for n, df in frames.items()}, findings, left, dropped)
