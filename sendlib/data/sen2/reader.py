"""Read a SEN2 person-level XML return: check it against the year's XSD and flatten its modules.

The return is parsed once (standard library ``xml.etree`` with the line of every element kept),
checked against the shipped XSD with ``xmlschema`` and flattened into one frame per module, the
columns being the XML item names plus the keys that tie the modules together:

| module | frame | key |
|---|---|---|
| 0 | ``header`` (one row) | - |
| 1 Person | ``person`` | ``person_pos`` |
| 2 Requests | ``request`` | ``person_pos, request_pos`` |
| 3 Assessment | ``assessment`` | ``person_pos, request_pos`` |
| 4a NamedPlan | ``named_plan`` | ``person_pos, request_pos`` |
| 4b PlanDetail | ``plan_detail`` | ``person_pos, request_pos, detail_pos`` |
| 5a ActivePlans | ``active_plan`` | ``person_pos, request_pos`` |
| 5b PlacementDetail | ``placement_detail`` | ``person_pos, request_pos, detail_pos`` |
| 5c SENneed | ``sen_need`` | ``person_pos, request_pos, need_pos`` |

Positions are 1-based, in file order (the n-th ``<Person>``, its n-th ``<Requests>``, ...), and
every row carries the ``line`` of its element. The frames hold personal data (names, UPN, dates of
birth): they never leave the process; the validator's messages name positions and items only.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from sendlib.core.errors import DataError

#: module key -> (frame name, XML tag)
MODULES: dict[str, tuple[str, str]] = {
    "1": ("person", "Person"),
    "2": ("request", "Requests"),
    "3": ("assessment", "Assessment"),
    "4a": ("named_plan", "NamedPlan"),
    "4b": ("plan_detail", "PlanDetail"),
    "5a": ("active_plan", "ActivePlans"),
    "5b": ("placement_detail", "PlacementDetail"),
    "5c": ("sen_need", "SENneed"),
}
#: frame name -> module label used in messages ("5b PlacementDetail")
MODULE_LABEL = {frame: f"{key} {tag}" for key, (frame, tag) in MODULES.items()}

KEY_COLUMNS = ("person_pos", "request_pos", "detail_pos", "need_pos", "line")


def shipped_years() -> list[int]:
    folder = resources.files("sendlib.resources").joinpath("sen2")
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := re.fullmatch(r"sen2_schema_(\d{4})\.xsd", p.name)))


def schema_path(year: int | None) -> tuple[Path, int]:
    """The shipped XSD for a return's year, or the nearest year shipped: (path, year used)."""
    years = shipped_years()
    use = years[-1] if year is None else min(years, key=lambda y: (abs(y - year), -y))
    path = Path(str(resources.files("sendlib.resources").joinpath("sen2").joinpath(f"sen2_schema_{use}.xsd")))
    return path, use


def _parse_with_lines(path: Path) -> tuple[ET.Element, dict[int, int]]:
    """Parse with expat feeding a TreeBuilder, recording the line each element starts on."""
    import xml.parsers.expat

    builder = ET.TreeBuilder()
    lines: dict[int, int] = {}
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True

    def start(tag, attrs):
        elem = builder.start(tag, attrs)
        lines[id(elem)] = parser.CurrentLineNumber

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return builder.close(), lines


@dataclass
class Sen2Return:
    """A parsed return: the tree (kept so element ids stay valid), lines, header and module frames."""

    path: Path
    root: ET.Element
    lines: dict[int, int]
    header: dict[str, str]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def year(self) -> int | None:
        y = self.header.get("Year", "")
        return int(y) if y.isdigit() else None

    @property
    def reference_date(self) -> pd.Timestamp | None:
        d = pd.to_datetime(self.header.get("ReferenceDate", ""), errors="coerce")
        return None if pd.isna(d) else d

    def line_of(self, elem: ET.Element) -> int | None:
        return self.lines.get(id(elem))


def parse_return(path: str | Path) -> Sen2Return:
    """Parse the file (a ``DataError`` when it is not well-formed XML) and flatten its modules."""
    path = Path(path)
    import xml.parsers.expat

    try:
        root, lines = _parse_with_lines(path)
    except OSError as exc:
        raise DataError(table="sen2", rule="readable", file=str(path), detail=exc.strerror or str(exc)) from None
    except xml.parsers.expat.ExpatError as exc:
        raise DataError(
            table="sen2",
            rule="well-formed XML",
            file=str(path),
            detail=f"line {exc.lineno}, column {exc.offset}: {xml.parsers.expat.ErrorString(exc.code)}",
        ) from None
    header: dict[str, str] = {}
    head = root.find("Header")
    if head is not None:
        for el in head.iter():
            if len(el) == 0 and el.text is not None:
                header.setdefault(el.tag, el.text.strip())
    ret = Sen2Return(path=path, root=root, lines=lines, header=header)
    ret.tables = flatten(ret)
    return ret


def _leaves(elem: ET.Element) -> dict[str, str]:
    return {c.tag: (c.text or "").strip() for c in elem if len(c) == 0}


def flatten(ret: Sen2Return) -> dict[str, pd.DataFrame]:
    rows: dict[str, list[dict]] = {frame: [] for frame, _ in MODULES.values()}
    persons = ret.root.find("Persons")
    for p_pos, person in enumerate(persons.findall("Person") if persons is not None else [], start=1):
        rows["person"].append({"person_pos": p_pos, "line": ret.line_of(person), **_leaves(person)})
        for r_pos, req in enumerate(person.findall("Requests"), start=1):
            keys = {"person_pos": p_pos, "request_pos": r_pos}
            rows["request"].append({**keys, "line": ret.line_of(req), **_leaves(req)})
            ass = req.find("Assessment")
            if ass is not None:
                rows["assessment"].append({**keys, "line": ret.line_of(ass), **_leaves(ass)})
                plan = ass.find("NamedPlan")
                if plan is not None:
                    rows["named_plan"].append({**keys, "line": ret.line_of(plan), **_leaves(plan)})
                    for d_pos, det in enumerate(plan.findall("PlanDetail"), start=1):
                        rows["plan_detail"].append(
                            {**keys, "detail_pos": d_pos, "line": ret.line_of(det), **_leaves(det)}
                        )
            act = req.find("ActivePlans")
            if act is not None:
                rows["active_plan"].append({**keys, "line": ret.line_of(act), **_leaves(act)})
                for d_pos, det in enumerate(act.findall("PlacementDetail"), start=1):
                    rows["placement_detail"].append(
                        {**keys, "detail_pos": d_pos, "line": ret.line_of(det), **_leaves(det)}
                    )
                for n_pos, need in enumerate(act.findall("SENneed"), start=1):
                    rows["sen_need"].append({**keys, "need_pos": n_pos, "line": ret.line_of(need), **_leaves(need)})
    key_cols = {
        "person": ["person_pos", "line"],
        "request": ["person_pos", "request_pos", "line"],
        "plan_detail": ["person_pos", "request_pos", "detail_pos", "line"],
        "placement_detail": ["person_pos", "request_pos", "detail_pos", "line"],
        "sen_need": ["person_pos", "request_pos", "need_pos", "line"],
    }
    out = {}
    for frame, recs in rows.items():
        cols = key_cols.get(frame, ["person_pos", "request_pos", "line"])
        df = pd.DataFrame(recs, columns=None if recs else cols)
        for c in df.columns:
            if c not in KEY_COLUMNS:
                df[c] = df[c].astype("string").replace("", pd.NA)
        out[frame] = df
    return out


# -- structure (XSD) ---------------------------------------------------------------------------

_PERSON = re.compile(r"/Person(?:\[(\d+)\])?/")


@dataclass
class StructureError:
    path: str  # the XML path with positions, e.g. /Message/Persons/Person[2]/Requests[1]/RYA
    line: int | None
    person_pos: int | None
    reason: str  # the validator's reason with the element's value removed


def check_structure(ret: Sen2Return) -> tuple[list[StructureError], int]:
    """Every XSD violation in the return (year's schema, else the nearest): (errors, schema year)."""
    import xmlschema

    xsd, used = schema_path(ret.year)
    schema = xmlschema.XMLSchema(str(xsd))
    found = []
    for err in schema.iter_errors(ET.ElementTree(ret.root)):
        elem = err.elem if err.elem is not None else (err.obj if isinstance(err.obj, ET.Element) else None)
        path = err.path or ""
        m = _PERSON.search(path + "/")
        person = (int(m.group(1)) if m.group(1) else 1) if m else None
        reason = str(err.reason or "does not follow the schema")
        # never echo a value: remove the element's text (a UPN, a name, a date of birth) wherever it appears
        if elem is not None and (elem.text or "").strip():
            reason = reason.replace(elem.text.strip(), "<value>")
        if isinstance(err.obj, str) and err.obj.strip():
            reason = reason.replace(err.obj.strip(), "<value>")
        found.append(StructureError(path, ret.line_of(elem) if elem is not None else None, person, reason))
    return found, used
