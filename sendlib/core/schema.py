"""The canonical tables: columns, types and code lists, declared once.

Loaders (:mod:`sendlib.data.loaders`), the data-quality gate (:mod:`sendlib.quality`) and the synthetic
county generator (:mod:`sendlib.data.synth`) all read these declarations; nothing else declares a
column. The data model is described in ``docs/data-model.md``.

Column kinds
------------
``str``    text (ids, names, free text)
``code``   text from a fixed code list (``Column.codes``)
``int``    whole number (nullable ``Int64``)
``float``  number (``float64``); money is pounds
``date``   ISO ``YYYY-MM-DD`` date (``datetime64``)
``bool``   true/false (nullable ``boolean``); accepts true/false, 1/0, yes/no, y/n
``month``  ``YYYY-MM`` (used for birth month: a full date of birth is never held)
``quarter`` a financial-year quarter in canonical form, e.g. ``2025-26Q2``
``fy``     a financial year label, e.g. ``2025-26``
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# ----- code lists (SEN2 / school census / DfE definitions) -------------------------------------

PRIMARY_NEED: Mapping[str, str] = {
    "SPLD": "Specific learning difficulty",
    "MLD": "Moderate learning difficulty",
    "SLD": "Severe learning difficulty",
    "PMLD": "Profound and multiple learning difficulty",
    "SEMH": "Social, emotional and mental health",
    "SLCN": "Speech, language and communication needs",
    "HI": "Hearing impairment",
    "VI": "Visual impairment",
    "MSI": "Multi-sensory impairment",
    "PD": "Physical disability",
    "ASD": "Autistic spectrum disorder",
    "OTH": "Other difficulty or disability",
    "NSA": "SEN support but no specialist assessment of type of need",
}

SETTING_TYPE: Mapping[str, str] = {
    "mainstream_maintained": "Mainstream school (LA maintained)",
    "mainstream_academy": "Mainstream academy or free school",
    "resourced_provision": "Resourced provision or SEN unit in mainstream",
    "special_maintained": "Special school (LA maintained)",
    "special_academy": "Special academy or free school",
    "inmss": "Independent or non-maintained special school",
    "alternative_provision": "Alternative provision or pupil referral unit",
    "fe_college": "General further education college",
    "specialist_post16": "Specialist post-16 institution",
    "other_post16": "Other post-16 (apprenticeship, traineeship, supported internship)",
    "elective_home": "Elective home education",
    "neet": "Not in education, employment or training",
    "other": "Other arrangements (EOTAS, hospital, awaiting provision)",
}

#: Setting types that are specialist places the council plans sufficiency for.
SPECIALIST_SETTINGS = ("resourced_provision", "special_maintained", "special_academy")
#: Mainstream school settings (K5 headline).
MAINSTREAM_SETTINGS = ("mainstream_maintained", "mainstream_academy", "resourced_provision")

PHASE: Mapping[str, str] = {
    "early_years": "Early years (before Reception)",
    "primary": "Primary (Reception to Year 6)",
    "secondary": "Secondary (Years 7 to 11)",
    "post16": "Post-16 (Years 12 to 14, ages 16-18)",
    "post19": "Post-19 (ages 19-25)",
}

BRAG: Mapping[str, str] = {
    "grey": "Not yet begun",
    "red": "Delayed and impact not being delivered",
    "amber": "On track and expected impact on track",
    "green": "Completed with early evidence of impact",
    "blue": "Change embedded, sustainable, ongoing evidence of impact",
}
#: BRAG in order of progress (for "moved up / down").
BRAG_ORDER = ("grey", "red", "amber", "green", "blue")

DECISION = {"assess": "Decided to assess", "refuse": "Decided not to assess"}
OUTCOME = {
    "plan_issued": "EHC plan issued",
    "no_plan": "Assessed, decision not to issue a plan",
    "refused": "Refused to assess",
    "withdrawn": "Request withdrawn",
    "open": "Still open at extract",
}
END_REASON = {
    "max_age": "Reached maximum age (25)",
    "needs_met": "Needs met without a plan",
    "higher_education": "Moved on to higher education",
    "employment": "Moved on to paid employment",
    "moved_la": "Moved to another local authority",
    "no_engagement": "Young person no longer wishes to engage",
    "moved_outside_england": "Moved outside England",
    "deceased": "Deceased",
    "other": "Other",
}
SEX = {"F": "Female", "M": "Male"}
HEALTH_SERVICE = {
    "neurodevelopmental": "Neurodevelopmental assessment (autism / ADHD)",
    "speech_language": "Speech and language therapy",
    "occupational_therapy": "Occupational therapy",
    "physiotherapy": "Physiotherapy",
}
#: K7 groups: the board reports neurodevelopmental and "integrated therapies" (SLT, OT, physio).
HEALTH_SERVICE_GROUP = {
    "neurodevelopmental": "neurodevelopmental",
    "speech_language": "integrated_therapies",
    "occupational_therapy": "integrated_therapies",
    "physiotherapy": "integrated_therapies",
}
SEN_STATUS = {"ehcp": "EHC plan", "sen_support": "SEN support", "none": "No identified SEN"}
EXCLUSION_KIND = {"suspension": "Suspension", "permanent": "Permanent exclusion"}
SCHOOL_PHASE = {"primary": "Primary", "secondary": "Secondary", "special": "Special"}
ACTIVITY = {
    "education": "In education",
    "employment": "In employment",
    "training": "In training",
    "neet": "Not in education, employment or training",
    "unknown": "Activity not known",
}
POPULATION_KIND = {"estimate": "ONS mid-year estimate", "projection": "Population projection"}
CAPACITY_STATUS = {
    "open": "Open",
    "pipeline": "Approved, opening on open_date",
    "proposed": "Proposed, not yet approved (only in scenarios that include it)",
}
#: Capacity designation: the primary need a specialist setting is designated for; ``mixed`` for
#: settings designated for complex or several needs.
DESIGNATION = {**{k: v for k, v in PRIMARY_NEED.items() if k != "NSA"}, "mixed": "Complex / mixed needs"}
#: High needs block budget lines (s251 high needs lines grouped as a finance team reports them).
HNB_LINE = {
    "mainstream_top_up": "Top-up funding: mainstream schools and academies",
    "resourced_provision": "Place and top-up funding: resourced provision and SEN units",
    "special_maintained": "Place and top-up funding: maintained special schools",
    "special_academy": "Place and top-up funding: special academies and free schools",
    "inmss": "Independent and non-maintained special school fees",
    "post16_fe": "Post-16: FE colleges, specialist post-16 institutions, other post-16",
    "alternative_provision": "Alternative provision and pupil referral units",
    "other_placements": "Other placements, EOTAS and direct payments",
    "hospital_education": "Hospital education",
    "central_sen_services": "Central SEN services (SEN team, educational psychology)",
    "sen_support_services": "SEN support and inclusion services",
}
DSG_ITEM = {
    "hnb_allocation": "High needs block allocation (after place-funding deductions)",
    "block_transfer": "Transfer from the schools block (Schools Forum approval)",
    "other": "Other high needs income",
    "opening_cumulative_balance": (
        "Cumulative DSG balance brought forward at the start of the year "
        "(negative = deficit; s251 line 1.9.3 of the previous year)"
    ),
}

#: What a family appealed to the SEND Tribunal against: the appealable decisions of the Children and
#: Families Act 2014, s.51(2) (contents may be appealed when a plan is first issued or amended,
#: s.51(3)); ``plan_contents`` and ``plan_amended`` split the contents appeals by that moment. SEN2 (2025-26 returns) records three of them as flags: items
#: 2.7 ``RequestTribunal`` (refuse_assess), 3.4 ``AssessmentTribunal`` (refuse_plan) and 3.6
#: ``OtherTribunal`` (the rest).
TRIBUNAL_DECISION = {
    "refuse_assess": "Refusal to secure an EHC needs assessment (SEN2 RequestTribunal)",
    "refuse_plan": "Decision not to issue an EHC plan after an assessment (SEN2 AssessmentTribunal)",
    "plan_contents": "Contents of a plan as first issued: needs, provision, setting (sections B, F, I)",
    "plan_amended": "Contents of a plan after an amendment, incl. at a phase transfer or after a review",
    "refuse_amend": "Decision not to amend a plan after a review or re-assessment",
    "refuse_reassess": "Refusal to secure a re-assessment",
    "cease": "Decision to cease to maintain a plan",
}
#: How an appeal ended (MoJ Tribunal Statistics Quarterly, SEND tables: decided, withdrawn, conceded).
TRIBUNAL_OUTCOME = {
    "upheld": "Decided by the tribunal in the family's favour, wholly or in part (appeal allowed)",
    "conceded": "Conceded by the authority before a decision (not opposed, or agreed by consent order)",
    "withdrawn": "Withdrawn by the family (often after agreement with the authority)",
    "dismissed": "Decided by the tribunal in the authority's favour (appeal dismissed)",
    "struck_out": "Struck out by the tribunal (out of time, no jurisdiction, not pursued)",
}
#: The statutory phase transfers (SEND Regulations 2014, reg. 18(2); SEND Code of Practice 2015,
#: 9.179) with the phases they move between.
TRANSFER_POINT = {
    "into_school": "Early years provision to school (Reception)",
    "infant_to_junior": "Infant school to junior school",
    "primary_to_middle": "Primary school to middle school",
    "into_secondary": "Primary school to secondary school",
    "middle_to_secondary": "Middle school to secondary school",
    "into_post16": "Secondary school to a post-16 institution",
}
#: Month and day of the reg. 18(1) deadline by transfer point, in the calendar year of the transfer:
#: 31 March for secondary to post-16, 15 February for every other transfer.
TRANSFER_DEADLINE = {k: ((3, 31) if k == "into_post16" else (2, 15)) for k in TRANSFER_POINT}
#: The statutory time limit for issuing a final EHC plan: 20 weeks from the request (SEND
#: Regulations 2014, reg. 13(2)), in days: a plan issued on day 140 is in time.
TWENTY_WEEKS_DAYS = 140


# ----- declarations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    kind: str
    description: str
    nullable: bool = False
    codes: Mapping[str, str] | None = None
    #: identifying columns never leave the pipeline (person ids, birth month, record ids)
    identifying: bool = False
    #: plausible range for numbers (inclusive); ``None`` = unbounded on that side
    min_value: float | None = None
    max_value: float | None = None
    #: SEN2 does not hold it: the loaders accept an empty value, meaning "not known", but the gate
    #: requires a value unless the data declare the column not known (the table comes from a SEN2
    #: return, or the data folder's ``metadata.yaml`` lists it under ``not_known``, as
    #: ``sendlib sen2 import`` writes). Always ``nullable``.
    not_in_sen2: bool = False


@dataclass(frozen=True)
class TableSchema:
    """A canonical table: ordered columns, its key, and a description."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    #: the date column that places a row in a quarter (volume and continuity checks)
    event_date: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table '{self.name}' has no column '{name}'")

    def columns_of_kind(self, *kinds: str) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    @property
    def identifying_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.identifying]

    @property
    def not_in_sen2_columns(self) -> list[str]:
        """Columns a SEN2 return does not hold (:attr:`Column.not_in_sen2`)."""
        return [c.name for c in self.columns if c.not_in_sen2]


def _c(name: str, kind: str, description: str, **kw: object) -> Column:
    return Column(name, kind, description, **kw)  # type: ignore[arg-type]


MAX_ANNUAL_COST_GBP = 500_000.0  # a plausible ceiling for one placement's annual cost

TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in [
        TableSchema(
            "population",
            "Resident population aged 0-25 by single year of age (ONS mid-year estimates, then projections).",
            (
                _c(
                    "year",
                    "int",
                    "Calendar year of the mid-year (30 June) estimate or projection",
                    min_value=1990,
                    max_value=2100,
                ),
                _c("age", "int", "Age in whole years", min_value=0, max_value=25),
                _c("population", "int", "Residents of that age", min_value=1),
                _c("kind", "code", "estimate or projection", codes=POPULATION_KIND),
            ),
            key=("year", "age"),
        ),
        TableSchema(
            "ehcp_requests",
            "Requests for an EHC needs assessment and what happened to them.",
            (
                _c("request_id", "str", "Request identifier", identifying=True),
                _c("person_id", "str", "Child or young person identifier", identifying=True),
                _c("request_date", "date", "Date the request was received"),
                _c("age_at_request", "int", "Age in whole years at the request date", min_value=0, max_value=25),
                _c("primary_need", "code", "Primary need as recorded at request", nullable=True, codes=PRIMARY_NEED),
                _c("decision_date", "date", "Date of the decision whether to assess", nullable=True),
                _c("decision", "code", "assess or refuse", nullable=True, codes=DECISION),
                _c(
                    "outcome_date",
                    "date",
                    "Date the request ended (plan issued, not issued, refused, withdrawn)",
                    nullable=True,
                ),
                _c("plan_issued_date", "date", "Date the final EHC plan was issued", nullable=True),
                _c("outcome", "code", "How the request ended, or open", codes=OUTCOME),
                _c(
                    "exception",
                    "bool",
                    "A permitted exception to the 20-week limit applies (SEN Regulations 2014, reg. 13(3))",
                ),
                _c("locality", "str", "Home locality (codes in config authority.localities)"),
            ),
            key=("request_id",),
            event_date="request_date",
        ),
        TableSchema(
            "ehcp_plans",
            "EHC plans maintained by the authority (the caseload): one row per plan spell.",
            (
                _c("person_id", "str", "Child or young person identifier", identifying=True),
                _c(
                    "request_id",
                    "str",
                    "Request that led to the plan; empty for plans older than the case data or transferred in",
                    nullable=True,
                    identifying=True,
                ),
                _c("birth_month", "month", "Month of birth YYYY-MM (never a full date of birth)", identifying=True),
                _c("sex", "code", "Sex as recorded in SEN2", codes=SEX),
                _c("primary_need", "code", "Primary need", codes=PRIMARY_NEED),
                _c("plan_start_date", "date", "Date the plan was first issued (or transferred in)"),
                _c("plan_end_date", "date", "Date the plan ceased; empty while in force", nullable=True),
                _c("end_reason", "code", "Why the plan ceased", nullable=True, codes=END_REASON),
                _c("locality", "str", "Home locality (codes in config authority.localities)"),
            ),
            key=("person_id", "plan_start_date"),
            event_date="plan_start_date",
        ),
        TableSchema(
            "placements",
            "Placement spells of children and young people with a plan.",
            (
                _c("placement_id", "str", "Placement spell identifier", identifying=True),
                _c("person_id", "str", "Child or young person identifier", identifying=True),
                _c(
                    "setting_type",
                    "code",
                    "Where the child is educated; empty = not known (a SEN2 placement named by URN or UKPRN)",
                    codes=SETTING_TYPE,
                    nullable=True,
                    not_in_sen2=True,
                ),
                _c("phase", "code", "Phase of education during the spell", codes=PHASE),
                _c(
                    "provider_id",
                    "str",
                    "Provider (school or college) identifier; equals capacity.setting_id for local specialist settings",
                ),
                _c("start_date", "date", "First day of the placement spell"),
                _c("end_date", "date", "Last day of the spell; empty while current", nullable=True),
                _c(
                    "annual_cost",
                    "float",
                    "Annual cost to the high needs block in pounds (place funding plus top-up, or fees); "
                    "empty = not known (SEN2 does not hold it)",
                    min_value=0,
                    max_value=MAX_ANNUAL_COST_GBP,
                    nullable=True,
                    not_in_sen2=True,
                ),
                _c(
                    "out_of_county",
                    "bool",
                    "Provider is outside the authority's area; empty = not known (SEN2 does not hold it)",
                    nullable=True,
                    not_in_sen2=True,
                ),
            ),
            key=("placement_id",),
            event_date="start_date",
        ),
        TableSchema(
            "annual_reviews",
            "Annual reviews of EHC plans falling due.",
            (
                _c("person_id", "str", "Child or young person identifier", identifying=True),
                _c("due_date", "date", "Date the review meeting is due (12 months from issue or last review)"),
                _c("meeting_date", "date", "Date the review meeting was held", nullable=True),
                _c("decision_date", "date", "Date the authority notified its decision after the review", nullable=True),
            ),
            key=("person_id", "due_date"),
            event_date="due_date",
        ),
        TableSchema(
            "health_waits",
            "Referrals to children's community health services (NHS provider waiting lists).",
            (
                _c("referral_id", "str", "Referral identifier", identifying=True),
                _c("service", "code", "Service referred to", codes=HEALTH_SERVICE),
                _c("referral_date", "date", "Date the referral was accepted"),
                _c("first_contact_date", "date", "Date of first contact; empty while still waiting", nullable=True),
            ),
            key=("referral_id",),
            event_date="referral_date",
        ),
        TableSchema(
            "exclusions",
            "Suspensions and permanent exclusions of pupils at the authority's schools.",
            (
                _c("event_id", "str", "Exclusion event identifier", identifying=True),
                _c("person_id", "str", "Pupil identifier", identifying=True),
                _c("sen_status", "code", "SEN status of the pupil at the time", codes=SEN_STATUS),
                _c("kind", "code", "suspension or permanent", codes=EXCLUSION_KIND),
                _c("start_date", "date", "First day of the exclusion"),
                _c("days", "float", "School days lost (suspensions can be half days)", min_value=0.5, max_value=45),
            ),
            key=("event_id",),
            event_date="start_date",
        ),
        TableSchema(
            "school_population",
            "Pupils on roll at the January school census by phase and SEN status (denominators for rates).",
            (
                _c("census_date", "date", "School census day (third Thursday of January)"),
                _c("phase", "code", "School phase", codes=SCHOOL_PHASE),
                _c("sen_status", "code", "SEN status", codes=SEN_STATUS),
                _c("pupils", "int", "Pupils on roll", min_value=1),
            ),
            key=("census_date", "phase", "sen_status"),
        ),
        TableSchema(
            "transitions",
            "Young people with a plan from Year 9 (school-year age 13) to age 25 at a census: transition plan and activity.",
            (
                _c("person_id", "str", "Young person identifier", identifying=True),
                _c("census_date", "date", "Census date the record describes"),
                _c("age", "int", "Age in whole years at the census date", min_value=13, max_value=25),
                _c("has_transition_plan", "bool", "Preparing-for-adulthood transition plan in place"),
                _c("activity", "code", "Main activity", codes=ACTIVITY),
            ),
            key=("person_id", "census_date"),
        ),
        TableSchema(
            "hnb_budget",
            "High needs block budget monitoring: budget, forecast outturn as at each quarter, and actual.",
            (
                _c("financial_year", "fy", "Financial year, e.g. 2025-26"),
                _c("as_at_quarter", "quarter", "Monitoring quarter at which the forecast was made"),
                _c("line", "code", "Budget line", codes=HNB_LINE),
                _c("budget", "float", "Budget in pounds", min_value=0),
                _c("forecast_outturn", "float", "Forecast outturn in pounds at as_at_quarter", min_value=0),
                _c("actual", "float", "Actual outturn in pounds (after year end)", nullable=True, min_value=0),
            ),
            key=("financial_year", "as_at_quarter", "line"),
        ),
        TableSchema(
            "dsg_income",
            "Dedicated Schools Grant high needs income, and the cumulative balance brought forward.",
            (
                _c("financial_year", "fy", "Financial year, e.g. 2025-26"),
                _c("item", "code", "Income item or the opening balance", codes=DSG_ITEM),
                _c("amount", "float", "Pounds (the opening balance is negative for a deficit)"),
            ),
            key=("financial_year", "item"),
        ),
        TableSchema(
            "capacity",
            "Specialist places: settings open now, approved (pipeline) and proposed, by phase.",
            (
                _c("setting_id", "str", "Setting identifier (placements.provider_id)"),
                _c("name", "str", "Setting name"),
                _c(
                    "setting_type",
                    "code",
                    "Kind of specialist setting",
                    codes={k: SETTING_TYPE[k] for k in SPECIALIST_SETTINGS},
                ),
                _c(
                    "phase",
                    "code",
                    "Phase the places serve (a school serving two phases has a row per phase)",
                    codes=PHASE,
                ),
                _c("designation", "code", "Primary need the places are designated for", codes=DESIGNATION),
                _c("locality", "str", "Locality of the setting"),
                _c("places", "int", "Commissioned places", min_value=1, max_value=1000),
                _c("open_date", "date", "Date the places open (past for open settings)"),
                _c("close_date", "date", "Date the places close; empty if none planned", nullable=True),
                _c("status", "code", "open, pipeline or proposed", codes=CAPACITY_STATUS),
            ),
            key=("setting_id", "phase"),
        ),
        TableSchema(
            "pap_actions",
            "Priority Action Plan actions (docs/sources.md) with their BRAG rating at each quarter end.",
            (
                _c("ref", "str", "PAP reference, e.g. 3A1"),
                _c("objective", "str", "Action text"),
                _c("theme", "str", "Transformation theme"),
                _c("project", "str", "Project(s) delivering the action"),
                _c(
                    "due",
                    "date",
                    "Due date (end of the month given in the plan); empty for TBC / ongoing",
                    nullable=True,
                ),
                _c("quarter", "quarter", "Quarter at whose end the rating was given"),
                _c("brag", "code", "BRAG rating (DfE definitions)", codes=BRAG),
                _c("comment", "str", "Progress comment", nullable=True),
            ),
            key=("ref", "quarter"),
        ),
        TableSchema(
            "tribunal_appeals",
            "Appeals registered with the First-tier Tribunal (SEND) against the authority's decisions: "
            "one row per appeal.",
            (
                _c("appeal_id", "str", "Appeal identifier (the tribunal's case reference)", identifying=True),
                _c("person_id", "str", "Child or young person identifier", identifying=True),
                _c("decision_appealed", "code", "The decision appealed against", codes=TRIBUNAL_DECISION),
                _c("decision_date", "date", "Date the authority notified the decision appealed against"),
                _c("registered_date", "date", "Date the tribunal registered the appeal"),
                _c(
                    "outcome",
                    "code",
                    "How the appeal ended; empty while pending",
                    nullable=True,
                    codes=TRIBUNAL_OUTCOME,
                ),
                _c(
                    "outcome_date",
                    "date",
                    "Date of the decision, withdrawal or concession; empty while pending",
                    nullable=True,
                ),
            ),
            key=("appeal_id",),
            event_date="registered_date",
        ),
        TableSchema(
            "phase_transfers",
            "Children and young people with a plan due to move between phases of education at a statutory "
            "transfer point (SEND Regulations 2014, reg. 18): one row per child and transfer.",
            (
                _c("person_id", "str", "Child or young person identifier", identifying=True),
                _c("transfer_point", "code", "Statutory transfer point (reg. 18(2))", codes=TRANSFER_POINT),
                _c("from_phase", "code", "Phase before the transfer", codes=PHASE),
                _c("to_phase", "code", "Phase after the transfer", codes=PHASE),
                _c("transfer_date", "date", "First day in the new phase (usually 1 September)"),
                _c(
                    "due_date",
                    "date",
                    "Deadline for the amended plan (SEN2 5.6a PhaseTransferDueDate): 15 February of the "
                    "calendar year of the transfer, 31 March for secondary to post-16",
                ),
                _c(
                    "final_date",
                    "date",
                    "Date the amended plan naming the new setting was finalised (SEN2 5.6b "
                    "PhaseTransferFinalDate); empty while not yet finalised",
                    nullable=True,
                ),
            ),
            key=("person_id", "transfer_date"),
        ),
    ]
}

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)


def identifying_columns() -> dict[str, list[str]]:
    """Identifying columns per table: these never appear in published outputs."""
    return {name: t.identifying_columns for name, t in TABLES.items() if t.identifying_columns}


def data_model_markdown() -> str:
    """The data model as Markdown (``docs/data-model.md`` is this text; a test keeps them equal)."""
    lines = [
        "# Data model",
        "",
        "Generated from `sendlib/core/schema.py` by `python -m sendlib.core.schema > docs/data-model.md`;",
        "do not edit by hand. Dates are ISO `YYYY-MM-DD`, money is pounds, codes follow SEN2 where",
        "one exists. Beyond the SEN2 return's fields: `ehcp_requests.outcome_date` and the",
        "`refused` outcome (so K2/K3 need no inference); `ehcp_plans.request_id` (links a plan to its",
        "request; empty for plans older than the case data or transferred in); `placements.placement_id`;",
        "`hnb_budget.as_at_quarter` (the forecast outturn changes every quarter); `dsg_income` item",
        "`opening_cumulative_balance`; capacity rows per setting and phase.",
        "",
    ]
    for t in TABLES.values():
        lines += [f"## `{t.name}`", "", t.description, "", f"Key: {', '.join(f'`{k}`' for k in t.key)}.", ""]
        lines += ["| column | kind | required | description |", "|---|---|---|---|"]
        for c in t.columns:
            desc = c.description
            if c.codes:
                desc += ". Codes: " + ", ".join(f"`{k}`" for k in c.codes)
            if c.min_value is not None or c.max_value is not None:
                desc += f". Range {c.min_value if c.min_value is not None else ''}..{c.max_value if c.max_value is not None else ''}"
            if c.identifying:
                desc += ". **Identifying: never published**"
            required = "no" if c.nullable and not c.not_in_sen2 else "yes"
            if c.not_in_sen2:
                required += " (unless not known: SEN2)"
            lines.append(f"| `{c.name}` | {c.kind} | {required} | {desc} |")
        lines.append("")
    lines += ["## Code lists", ""]
    for title, codes in [
        ("primary_need", PRIMARY_NEED),
        ("setting_type", SETTING_TYPE),
        ("phase", PHASE),
        ("brag", BRAG),
        ("hnb line", HNB_LINE),
        ("dsg item", DSG_ITEM),
        ("tribunal decision_appealed", TRIBUNAL_DECISION),
        ("tribunal outcome", TRIBUNAL_OUTCOME),
        ("transfer_point", TRANSFER_POINT),
    ]:
        lines += [f"### {title}", ""] + [f"- `{k}`: {v}" for k, v in codes.items()] + [""]
    lines += _DESIGN_NOTES
    return "\n".join(lines)


#: Why the tribunal and phase-transfer tables look as they do (appended to docs/data-model.md).
_DESIGN_NOTES = [
    "## Design notes: `tribunal_appeals` and `phase_transfers`",
    "",
    "**`tribunal_appeals`** holds one row per appeal, not per decision: the appeal rate's numerator",
    "(appeals registered in a period) and the outcomes (decided in the period) are counted from it,",
    "and its denominator (appealable decisions) is computed from the tables the decisions already",
    "live in (`ehcp_requests` refusals and assessments not leading to a plan, `ehcp_plans` in force",
    "in January and ceased because needs are met), so no decision is recorded twice",
    "(`sendlib.models.statutory.tribunal_appeal_rate`). `decision_appealed` follows the appealable",
    "decisions of the Children and Families Act 2014, s.51(2); SEN2 (2025 and 2026 returns, items",
    "2.7, 3.4 and 3.6) records only whether a request, an assessment or another decision was",
    "appealed, which these codes map onto. `outcome` uses the MoJ's SEND disposal categories",
    "(decided for or against the appellant, withdrawn, conceded) with struck out on its own; an",
    "appeal still pending has no outcome and no outcome date. Mediation is not recorded here.",
    "",
    "**`phase_transfers`** holds one row per child with a plan and statutory transfer, keyed by",
    "person and transfer date. The SEND Regulations 2014, reg. 18 require the plan to be reviewed and",
    "amended, naming the new setting, before 15 February of the calendar year of the transfer (early",
    "years to school, infant to junior, primary to middle, primary to secondary, middle to",
    "secondary), and before 31 March for secondary school to a post-16 institution (SEND Code of",
    "Practice 2015, 9.179). The due date is stored, not only derived, because SEN2 collects it",
    "(item 5.6a `PhaseTransferDueDate`, with 5.6b `PhaseTransferFinalDate` for `final_date`) and",
    "the gate checks it against the transfer date. Moves between post-16 institutions (five months",
    "before, reg. 18(1)) and moves at other times of year are not in the table. A row exists from",
    "when the child is within 12 months of the transfer, so `transfer_date` and `due_date` may be",
    "after the extract date (the next September's cohort); `final_date` may not. The table has no",
    "`event_date`: every transfer falls due in February or March, so a quarterly volume check",
    "would flag the other three quarters as empty.",
    "",
]


if __name__ == "__main__":  # pragma: no cover
    print(data_model_markdown(), end="")
