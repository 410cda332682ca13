"""Output checks of a report run: no person identifier, birth month or small count leaves it.

``collect_identifiers`` gathers the identifying values of the input tables (columns flagged
``identifying`` in the schema); ``scan_outputs_for_identifiers`` looks for them in every text
output; ``scan_small_counts`` looks for unsuppressed counts of 1-4 in published tables. Findings
name the file and how many values were found, never the values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Column names treated as counts by the small-count scan: exact names and name endings.
COUNT_COLUMN_NAMES = ("n", "count", "numerator", "denominator")


COUNT_COLUMN_SUFFIXES = ("_n", "_count", "count", "_numerator", "_denominator")


_DATA_URI = re.compile(r"data:[\w.+-]+/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+")


#: A base64 raster image in a notebook's JSON (``"image/png": "iVBOR..."``, ``\n`` escapes allowed).
_JSON_IMAGE = re.compile(r'"image/(?:png|jpeg|gif|webp)":\s*"[A-Za-z0-9+/=\\]*"')


_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


_MONTH_TOKEN = re.compile(r"(?<![0-9])(\d{4}-\d{2})(?![0-9-])")


_SCANNED_SUFFIXES = {".html", ".htm", ".csv", ".ipynb", ".json", ".log", ".txt", ".md", ".css"}


#: A record identifier worth scanning for: a whole token of 5+ characters with a letter and a digit.
_ID_LIKE = re.compile(r"(?=[^A-Za-z]*[A-Za-z])(?=\D*\d)[A-Za-z0-9_-]{5,}")


_BIRTH_MONTH = re.compile(r"\d{4}-\d{2}")


@dataclass
class Finding:
    """A problem the output checks found. Never holds the offending value itself."""

    check: str  # "identifier scan" | "small-count scan" | "inputs unchanged"
    file: str  # path relative to the report folder
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.file}: {self.detail}"


@dataclass(frozen=True)
class Identifiers:
    """Identifying values from the input data that must never appear in an output.

    ``ids`` are record identifiers (person ids, request ids, ...) that contain a letter and a
    digit and are at least 5 characters long (shorter or all-digit ids would match ordinary
    numbers; they are counted in ``skipped``). ``birth_months`` are ``YYYY-MM`` values.
    """

    ids: frozenset[str]
    birth_months: frozenset[str]
    skipped: int = 0


def collect_identifiers(tables: Mapping[str, Any]) -> Identifiers:
    """The identifying values in canonical tables (columns flagged ``identifying`` in the schema)."""
    from sendlib.core.schema import identifying_columns

    months: set[str] = set()
    id_columns: list[set[str]] = []
    for table, cols in identifying_columns().items():
        df = tables.get(table)
        if df is None:
            continue
        for col in cols:
            if col not in df.columns:
                continue
            values = {str(v).strip() for v in df[col].dropna().unique().tolist()}
            if "birth" in col:
                months |= {v for v in values if _BIRTH_MONTH.fullmatch(v)}
            else:
                id_columns.append(values)
    # a person id appears in several tables: test each distinct value once
    ids = {v for v in set().union(*id_columns) if _ID_LIKE.fullmatch(v)}
    skipped = sum(len(values - ids) - ("" in values) for values in id_columns)
    return Identifiers(frozenset(ids), frozenset(months), skipped)


def scan_text_for_identifiers(text: str, identifiers: Identifiers) -> tuple[int, int, bool]:
    """(id hits, birth-month hits, mentions a birth-month column) in one file's text.

    Embedded images (``data:...;base64,`` in HTML, base64 ``image/png`` strings in a notebook's
    JSON) are skipped: they are pixels, and tokenising megabytes of base64 is slow. An identifier counts only as a whole
    token. A birth month counts only where it appears on the same line as an identifier, or
    in a CSV column whose header names a birth month or date of birth: months alone are too
    common (monthly trends) to flag.
    """
    text = _JSON_IMAGE.sub('"image:"', _DATA_URI.sub("data:", text))
    id_hits = 0
    month_hits = 0
    for line in text.splitlines():
        tokens = set(_TOKEN.findall(line))
        line_ids = tokens & identifiers.ids
        id_hits += len(line_ids)
        if line_ids and identifiers.birth_months:
            month_hits += len(set(_MONTH_TOKEN.findall(line)) & identifiers.birth_months)
    mentions = bool(re.search(r"\b(birth_month|date_of_birth|dob)\b", text, flags=re.I))
    return id_hits, month_hits, mentions


def redact(text: str, identifiers: Identifiers) -> str:
    """``text`` with every identifier from the input data replaced by ``[identifier]`` (for
    error messages that go to the terminal, the log and the index)."""
    return _TOKEN.sub(lambda m: "[identifier]" if m.group(0) in identifiers.ids else m.group(0), text)


def scan_outputs_for_identifiers(folder: str | Path, identifiers: Identifiers) -> list[Finding]:
    """Identifier scan: every text output under ``folder`` (HTML, CSV, ipynb, JSON, log).

    Findings name the file and how many values were found, never the values.
    """
    import csv
    import io

    root = Path(folder)
    findings: list[Finding] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in _SCANNED_SUFFIXES:
            continue
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        id_hits, month_hits, mentions = scan_text_for_identifiers(text, identifiers)
        if path.suffix.lower() == ".csv":
            rows = list(csv.reader(io.StringIO(text)))
            if rows:
                birth_cols = [i for i, h in enumerate(rows[0]) if re.search(r"birth|dob", h, flags=re.I)]
                month_hits += sum(
                    1 for r in rows[1:] for i in birth_cols if i < len(r) and r[i].strip() in identifiers.birth_months
                )
                if birth_cols:
                    findings.append(Finding("identifier scan", rel, "has a birth month / date of birth column"))
        if id_hits:
            findings.append(
                Finding("identifier scan", rel, f"{id_hits} distinct record identifier(s) from the input data")
            )
        if month_hits:
            findings.append(
                Finding(
                    "identifier scan", rel, f"{month_hits} birth month(s) from the input data next to an identifier"
                )
            )
        if mentions and path.suffix.lower() in (".csv", ".html"):
            findings.append(Finding("identifier scan", rel, "mentions a birth-month / date-of-birth field"))
    return findings


def is_count_column(name: str) -> bool:
    """True for columns the small-count scan checks: ``n``, ``count``, ``numerator``,
    ``denominator``, or names ending ``_n``, ``count``, ``_numerator``, ``_denominator``."""
    low = name.strip().lower()
    return low in COUNT_COLUMN_NAMES or low.endswith(COUNT_COLUMN_SUFFIXES)


def scan_small_counts(tables_dir: str | Path, threshold: int = 5) -> list[Finding]:
    """Small-count scan: published tables must not show a count from 1 to ``threshold - 1``.

    Conservative on purpose: only count columns (:func:`is_count_column`) are checked, and only
    cells that are a bare whole number (``3`` or ``3.0``); suppressed cells read ``<5``.
    """
    import csv

    findings: list[Finding] = []
    folder = Path(tables_dir)
    if not folder.is_dir():
        return findings
    small = re.compile(r"^\s*([0-9]+)(?:\.0+)?\s*$")
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="", encoding="utf-8", errors="replace") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                continue
            cols = [i for i, h in enumerate(header) if is_count_column(h)]
            if not cols:
                continue
            hits: dict[str, int] = {}
            for row in reader:
                for i in cols:
                    if i < len(row):
                        m = small.match(row[i])
                        if m and 1 <= int(m.group(1)) < threshold:
                            hits[header[i]] = hits.get(header[i], 0) + 1
        for col, n in sorted(hits.items()):
            findings.append(
                Finding(
                    "small-count scan",
                    f"tables/{path.name}",
                    f"column '{col}' has {n} unsuppressed count(s) between 1 and {threshold - 1}",
                )
            )
    return findings
