"""The January check of a SEN2 return, as the ``09_sen2_return_check`` notebook shows it.

:func:`check_return` validates a return (the year's XSD and the business rules of
:mod:`sendlib.data.sen2.rules`) and :func:`import_preview` says what ``sendlib sen2 import`` would
keep, leave out or stand in for. Every frame here is free of personal data: findings name the
module, item, rule and record position (never a name, UPN, ULN, postcode or date of birth), and the
preview holds counts only (the pseudonymous ids it computes with a throwaway key are not returned).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sendlib.core.errors import DataError
from sendlib.data.sen2.reader import parse_return
from sendlib.data.sen2.rules import RULES, STRUCTURE_RULE, findings_frame, validate_return

#: what each rule checks, in words (structure: the XSD)
RULE_TEXT = {r.id: r.text for r in RULES} | {STRUCTURE_RULE: "the file against the year's XSD"}


@dataclass(frozen=True)
class ReturnCheck:
    """A return's check: its year, the XSD year used, persons, and the findings (one row each)."""

    file: str  # the file's name (not its folder)
    year: int | None
    xsd_year: int
    persons: int
    findings: pd.DataFrame  # sendlib.data.sen2.rules.findings_frame columns

    @property
    def errors(self) -> int:
        return int((self.findings["severity"] == "error").sum())

    @property
    def queries(self) -> int:
        return int((self.findings["severity"] == "query").sum())

    def headline(self, expected_year: int | None = None) -> str:
        """One paragraph: what was checked, the counts, and whether the return can go to the DfE."""
        year = f"year {self.year}" if self.year else "no year in the header"
        used = "" if self.year == self.xsd_year else f" (the nearest shipped to {self.year})"
        text = (
            f"SEN2 return {self.file}: {year}, {self.persons:,} person(s); checked against the {self.xsd_year} "
            f"XSD{used} and {len(RULES)} business rules. {self.errors} error(s), {self.queries} query(ies). "
        )
        if self.errors:
            text += "Errors must be corrected in the case system before the return is submitted."
        elif self.queries:
            text += "No errors: every query needs an explanation in the DfE's collection system."
        else:
            text += "No errors and no queries."
        if expected_year and self.year and expected_year != self.year:
            text += f" The header says {self.year}, not the {expected_year} census expected."
        return text

    def summary(self) -> pd.DataFrame:
        """Findings counted by rule, severity and module, errors first, with what each rule checks."""
        f = self.findings
        cols = ["rule_id", "severity", "module", "records", "rule"]
        if f.empty:
            return pd.DataFrame(columns=cols)
        g = f.groupby(["rule_id", "severity", "module"], sort=False).size().rename("records").reset_index()
        g["rule"] = g["rule_id"].map(RULE_TEXT)
        g["_order"] = (g["severity"] != "error").astype(int)
        return g.sort_values(["_order", "records"], ascending=[True, False], kind="stable")[cols].reset_index(drop=True)

    def worklist(self) -> pd.DataFrame:
        """The findings an analyst works through, errors first, in file order within each rule."""
        f = self.findings.copy()
        f["_order"] = (f["severity"] != "error").astype(int)
        cols = ["rule_id", "severity", "module", "item", "record", "line", "message"]
        return f.sort_values(["_order", "rule_id", "line"], kind="stable")[cols].reset_index(drop=True)

    def structure_errors(self) -> pd.DataFrame:
        """The XSD findings (``SEN2-XSD``): element, line and the validator's reason (no values)."""
        f = self.findings[self.findings["rule_id"] == STRUCTURE_RULE]
        return f[["item", "record", "line", "message"]].reset_index(drop=True)


def check_return(path: str | Path) -> ReturnCheck:
    """Validate the return at ``path`` (a :class:`DataError` when it is not well-formed XML)."""
    ret = parse_return(path)
    findings, used = validate_return(ret)
    return ReturnCheck(Path(path).name, ret.year, used, len(ret.tables["person"]), findings_frame(findings))


@dataclass(frozen=True)
class ImportPreview:
    """What ``sendlib sen2 import`` would do with the return: counts only."""

    refused: str | None  # why the import would refuse the file (element nesting), else None
    rows: pd.DataFrame  # table, rows
    changes: pd.DataFrame  # what, rows: left missing, stood in, as at the census, not imported


def import_preview(path: str | Path) -> ImportPreview:
    """Build the canonical tables from the return in memory (with a throwaway pseudonym key, as no
    id is shown) and count what would be written, left missing, stood in or left out."""
    from sendlib.data.sen2.importer import build_tables

    empty = pd.DataFrame(columns=["what", "rows"])
    try:
        frames, _, left, dropped = build_tables(path, secrets.token_bytes(16))
    except DataError as exc:
        return ImportPreview(str(exc), pd.DataFrame(columns=["table", "rows"]), empty)
    rows = pd.DataFrame({"table": list(frames), "rows": [len(df) for df in frames.values()]})
    changes = pd.DataFrame(
        [{"what": k, "rows": v} for k, v in left.items()] + [{"what": k, "rows": v} for k, v in dropped.items()],
        columns=["what", "rows"],
    )
    return ImportPreview(None, rows, changes)
