"""UK financial-year quarters, the reporting period of every board paper.

A financial year runs April to March: ``2025-26Q1`` is April-June 2025, ``Q2`` July-September,
``Q3`` October-December and ``Q4`` January-March 2026 (so Q4 falls in the next calendar year).
Canonical form is ``YYYY-YYQn``. Lenient input: ``2025-26 Q2``, ``2025-26-Q2``, ``2025/26 Q2``,
``2025-2026 Q2``, ``FY2025Q2``, ``FY2025-26 Q2`` and lower case.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import total_ordering

import pandas as pd

from sendlib.core.errors import UsageError

_FORMS = [
    # 2025-26Q2, 2025-26 Q2, 2025-26-Q2, 2025/26 q2, 2025-2026 Q2, FY2025-26 Q2
    re.compile(r"^(?:fy\s*)?(?P<y1>\d{4})\s*[-/]\s*(?P<y2>\d{2}|\d{4})\s*[-_ ]?\s*q(?P<q>\d)$"),
    # FY2025Q2, FY 2025 Q2, fy2025-q2
    re.compile(r"^fy\s*(?P<y1>\d{4})\s*[-_ ]?\s*q(?P<q>\d)$"),
]

EXAMPLES = "2025-26Q2, 2025-26 Q2, 2025-26-Q2 or FY2025Q2"


@total_ordering
@dataclass(frozen=True)
class Quarter:
    """A quarter of a UK financial year.

    Parameters
    ----------
    fy_start : int
        Calendar year in which the financial year starts (2025 for 2025-26).
    q : int
        Quarter number 1-4 (1 = April-June).
    """

    fy_start: int
    q: int

    def __post_init__(self) -> None:
        if self.q not in (1, 2, 3, 4):
            raise UsageError(f"quarter number must be 1-4, not {self.q}")
        if not 1900 <= self.fy_start <= 2999:
            raise UsageError(f"financial year start {self.fy_start} is out of range")

    # ----- construction -------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str | Quarter) -> Quarter:
        """Parse a quarter leniently; raise UsageError naming what was not understood."""
        if isinstance(text, Quarter):
            return text
        if not isinstance(text, str):
            raise UsageError(f"a quarter must be text like {EXAMPLES}, not {type(text).__name__}")
        raw = text
        s = text.strip().lower()
        for form in _FORMS:
            m = form.match(s)
            if not m:
                continue
            y1 = int(m.group("y1"))
            y2 = m.groupdict().get("y2")
            if y2 is not None:
                expected = y1 + 1
                got = int(y2)
                ok = got == expected % 100 if len(y2) == 2 else got == expected
                if not ok:
                    raise UsageError(
                        f"quarter '{raw}': the financial year must run from one year to the next "
                        f"({y1}-{expected % 100:02d}), not {y1}-{y2}"
                    )
            q = int(m.group("q"))
            if q not in (1, 2, 3, 4):
                raise UsageError(f"quarter '{raw}': quarter number must be 1-4, not Q{q}")
            return cls(y1, q)
        raise UsageError(f"quarter '{raw}' not understood: expected a form like {EXAMPLES}")

    @classmethod
    def containing(cls, date: dt.date | pd.Timestamp | str) -> Quarter:
        """The quarter in which ``date`` falls."""
        d = pd.Timestamp(date)
        fy_start = d.year if d.month >= 4 else d.year - 1
        q = ((d.month - 4) % 12) // 3 + 1
        return cls(fy_start, q)

    @classmethod
    def latest_complete(cls, as_of: dt.date | pd.Timestamp | str) -> Quarter:
        """The latest quarter whose last day is on or before ``as_of``."""
        q = cls.containing(as_of)
        return q if pd.Timestamp(as_of).normalize() >= q.end else q.previous

    # ----- properties ---------------------------------------------------------------------
    @property
    def financial_year(self) -> str:
        """Financial year label, e.g. ``2025-26``."""
        return f"{self.fy_start}-{(self.fy_start + 1) % 100:02d}"

    @property
    def start(self) -> pd.Timestamp:
        """First day of the quarter."""
        month = 4 + 3 * (self.q - 1)
        year = self.fy_start + (month - 1) // 12
        month = (month - 1) % 12 + 1
        return pd.Timestamp(year=year, month=month, day=1)

    @property
    def end(self) -> pd.Timestamp:
        """Last day of the quarter (a date at midnight; periods are inclusive of it)."""
        return self.next.start - pd.Timedelta(days=1)

    @property
    def previous(self) -> Quarter:
        return Quarter(self.fy_start - 1, 4) if self.q == 1 else Quarter(self.fy_start, self.q - 1)

    @property
    def next(self) -> Quarter:
        return Quarter(self.fy_start + 1, 1) if self.q == 4 else Quarter(self.fy_start, self.q + 1)

    @property
    def census_date(self) -> pd.Timestamp:
        """The January school census of this quarter's financial year (third Thursday of January).

        SEN2 counts plans on the census day in January; every quarter of ``2025-26`` belongs to the
        January 2026 census. See :attr:`latest_census_date` for the last census already taken.
        """
        return third_thursday_of_january(self.fy_start + 1)

    @property
    def census_year(self) -> int:
        """Calendar year of :attr:`census_date` (2026 for any quarter of 2025-26)."""
        return self.fy_start + 1

    @property
    def latest_census_date(self) -> pd.Timestamp:
        """The latest January census on or before the quarter's end."""
        c = third_thursday_of_january(self.end.year)
        return c if c <= self.end else third_thursday_of_january(self.end.year - 1)

    @property
    def label(self) -> str:
        """Human label, e.g. ``2025-26 Q2 (Jul-Sep 2025)``."""
        s, e = self.start, self.end
        span = f"{s:%b}-{e:%b %Y}" if s.year == e.year else f"{s:%b %Y}-{e:%b %Y}"
        return f"{self.financial_year} Q{self.q} ({span})"

    def contains(self, date: dt.date | pd.Timestamp | str) -> bool:
        d = pd.Timestamp(date)
        return self.start <= d <= self.end

    def __str__(self) -> str:
        return f"{self.financial_year}Q{self.q}"

    def __repr__(self) -> str:
        return f"Quarter('{self}')"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Quarter):
            return NotImplemented
        return (self.fy_start, self.q) < (other.fy_start, other.q)

    def __add__(self, n: int) -> Quarter:
        idx = self.fy_start * 4 + (self.q - 1) + int(n)
        return Quarter(idx // 4, idx % 4 + 1)

    def __sub__(self, n: int) -> Quarter:
        return self + (-int(n))


def quarter_range(first: Quarter | str, last: Quarter | str) -> Iterator[Quarter]:
    """Every quarter from ``first`` to ``last`` inclusive."""
    q, end = Quarter.parse(first), Quarter.parse(last)
    while q <= end:
        yield q
        q = q.next


def last_n_quarters(last: Quarter | str, n: int) -> list[Quarter]:
    """The ``n`` quarters ending with ``last`` (oldest first)."""
    end = Quarter.parse(last)
    return [end - i for i in range(n - 1, -1, -1)]


def third_thursday_of_january(year: int) -> pd.Timestamp:
    """SEN2 / school census day: the third Thursday in January of ``year``."""
    first = pd.Timestamp(year=year, month=1, day=1)
    offset = (3 - first.weekday()) % 7  # Thursday is weekday 3
    return first + pd.Timedelta(days=offset + 14)


def parse_financial_year(text: str) -> int:
    """Start year of a financial year label (``2025-26`` -> 2025); lenient like quarters."""
    m = re.match(r"^\s*(?:fy\s*)?(\d{4})\s*[-/]\s*(\d{2}|\d{4})\s*$", str(text).lower())
    if not m:
        raise UsageError(f"financial year '{text}' not understood: expected a form like 2025-26")
    y1, y2 = int(m.group(1)), m.group(2)
    if (len(y2) == 2 and int(y2) != (y1 + 1) % 100) or (len(y2) == 4 and int(y2) != y1 + 1):
        raise UsageError(f"financial year '{text}' must run from one year to the next")
    return y1


def financial_year_label(start_year: int) -> str:
    """``2025`` -> ``2025-26``."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"
