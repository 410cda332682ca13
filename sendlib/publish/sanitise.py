"""Neutralise spreadsheet formulas in published text (CSV and Excel outputs).

A cell of text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel, LibreOffice and Google Sheets when a board officer opens the file ("CSV
injection", OWASP: https://owasp.org/www-community/attacks/CSV_Injection). Free text from the
inputs (a PAP comment, a setting's name) reaches the published tables as it was typed, so every
text cell is neutralised here, in one place, before any CSV or workbook is written: such a value
is prefixed with a single quote (``'``), which spreadsheets show as text. Numbers stay numbers: a
real negative amount is a float, not text, and is never touched. HTML pages are escaped by the
exporter instead (``sendlib.report.export``).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

#: characters that make a spreadsheet read a text cell as a formula (OWASP)
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: what is put in front of such a value
ESCAPE_PREFIX = "'"
#: a plain signed number written as text ("-3", "+1.5e3"): a spreadsheet reads it as a number,
#: never as a formula, so it is left as it is
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def is_formula_like(value: object) -> bool:
    """True when ``value`` is text a spreadsheet would run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value)


def neutralise_text(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is formula-like text; anything else unchanged."""
    return ESCAPE_PREFIX + value if is_formula_like(value) else value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names cannot run as formulas.

    Only text columns (object or string dtype) are looked at; numeric, boolean and date columns
    are returned as they are, so negative money stays numeric.
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            mask = s.map(is_formula_like).astype(bool)
            if mask.any():
                out[col] = s.astype(object).where(~mask, ESCAPE_PREFIX + s.astype(object).where(mask, ""))
    out.columns = [neutralise_text(c) if isinstance(c, str) else c for c in out.columns]
    return out
