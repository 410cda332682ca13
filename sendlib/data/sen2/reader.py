"""Read a SEN2 person-level XML return: check it against the year's XSD and flatten its modules.

The return is read in one streaming pass (standard library ``xml.parsers.expat``, which gives the
line of every element): each ``<Person>`` is built as a small element tree, flattened into rows,
checked against the XSD and dropped before the next one is read, so memory grows with the rows
kept, not with the file. The modules become one frame each, the columns being the XML item names
plus the keys that tie the modules together:

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

Structure (XSD, with ``xmlschema``): validating a whole return in pure Python is too slow for the
largest authorities' returns (about 13 s of CPU for 25,000 persons). The result is the same
when split into parts whose validity is known to repeat:

* the *shell* (the root, the header, ``<Persons>`` holding its first ``<Person>``) is validated
  whole, once;
* each ``<Person>`` is reduced to its *skeleton* (the nesting of its element tags, whether an
  element with children also holds text, its attribute names). The first person of each
  skeleton is validated whole against the schema's ``Person`` declaration. When that gives an
  error of nesting (:data:`NESTING`), every person with that skeleton is validated whole;
  otherwise the skeleton is sound and only the values can differ, so each leaf element is
  validated against its own declaration, once per distinct (item, value) pair (codes, dates and
  flags repeat across thousands of persons).

:func:`reference_parse` is the plain whole-tree reading (the tree held, the whole document given
to ``xmlschema``): slow, kept as the reference the tests compare the streaming reading with.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import xml.parsers.expat
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

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

#: kinds of structure error: an element in the wrong place, missing, unknown, holding text or
#: attributes it may not hold (the file's shape) ...
NESTING = "nesting"
#: ... or a value its simple type refuses (pattern, enumeration, length, date or number format)
VALUE = "value"

_CHUNK = 1 << 20


def shipped_years() -> list[int]:
    folder = resources.files("sendlib.resources").joinpath("sen2")
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := re.fullmatch(r"sen2_schema_(\d{4})\.xsd", p.name)))


def schema_path(year: int | None) -> tuple[Path, int]:
    """The shipped XSD for a return's year, or the nearest year shipped: (path, year used)."""
    years = shipped_years()
    use = years[-1] if year is None else min(years, key=lambda y: (abs(y - year), -y))
    path = Path(str(resources.files("sendlib.resources").joinpath("sen2").joinpath(f"sen2_schema_{use}.xsd")))
    return path, use


_SCHEMAS: dict[int, Any] = {}


def load_schema(year: int | None) -> tuple[Any, int]:
    """The ``xmlschema.XMLSchema`` for a return's year (nearest shipped), built once per process."""
    import xmlschema

    xsd, used = schema_path(year)
    if used not in _SCHEMAS:
        _SCHEMAS[used] = xmlschema.XMLSchema(str(xsd))
    return _SCHEMAS[used], used


def _year_of(header: dict[str, str]) -> int | None:
    y = header.get("Year", "")
    return int(y) if y.isdigit() else None


@dataclass
class StructureError:
    path: str  # the XML path with positions, e.g. /Message/Persons/Person[2]/Requests[1]/RYA
    line: int | None
    person_pos: int | None
    reason: str  # the validator's reason with the element's value removed
    #: :data:`NESTING` (element order, presence, unknown element: the file's shape is broken) or
    #: :data:`VALUE` (a value its type refuses: the record can still be read)
    kind: str = NESTING

    @property
    def is_nesting(self) -> bool:
        return self.kind == NESTING


def error_kind(error: Any) -> str:
    """:data:`VALUE` when ``xmlschema`` raised the error from a simple type or one of its facets
    (pattern, enumeration, length, a date or number that does not decode), else :data:`NESTING`
    (content model of a group, an element holding children or text it may not, an attribute, an
    element unknown to the schema)."""
    from xmlschema.validators import XsdFacet, XsdSimpleType

    return VALUE if isinstance(error.validator, (XsdSimpleType, XsdFacet)) else NESTING


def _scrub(reason: str, elem: ET.Element | None, obj: Any) -> str:
    """The reason with the element's text (a UPN, a name, a date of birth) removed wherever it appears."""
    if elem is not None and (elem.text or "").strip():
        reason = reason.replace(elem.text.strip(), "<value>")
    if isinstance(obj, str) and obj.strip():
        reason = reason.replace(obj.strip(), "<value>")
    return reason


@dataclass
class Sen2Return:
    """A read return: its header, module frames and (when read with the check) its XSD errors.

    ``root`` is the *shell* only (the root element, the header and ``<Persons>`` with the first
    ``<Person>``), ``lines`` the lines of the shell's elements: the persons are not kept.
    """

    path: Path
    root: ET.Element | None
    lines: dict[int, int]
    header: dict[str, str]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: XSD errors found while reading (``None`` when read without the check)
    structure_errors: list[StructureError] | None = None
    #: the XSD year the errors are against
    schema_year: int | None = None

    @property
    def year(self) -> int | None:
        return _year_of(self.header)

    @property
    def reference_date(self) -> pd.Timestamp | None:
        d = pd.to_datetime(self.header.get("ReferenceDate", ""), errors="coerce")
        return None if pd.isna(d) else d

    def line_of(self, elem: ET.Element) -> int | None:
        return self.lines.get(id(elem))


# -- flattening ----------------------------------------------------------------------------------


def _leaves(elem: ET.Element) -> dict[str, str]:
    return {c.tag: (c.text or "").strip() for c in elem if len(c) == 0}


def _person_rows(person: ET.Element, p_pos: int, line_of: Callable[[ET.Element], int | None], rows: dict) -> None:
    """Append one person's module rows (dicts) to ``rows`` (frame name -> list)."""
    rows["person"].append({"person_pos": p_pos, "line": line_of(person), **_leaves(person)})
    for r_pos, req in enumerate(person.findall("Requests"), start=1):
        keys = {"person_pos": p_pos, "request_pos": r_pos}
        rows["request"].append({**keys, "line": line_of(req), **_leaves(req)})
        ass = req.find("Assessment")
        if ass is not None:
            rows["assessment"].append({**keys, "line": line_of(ass), **_leaves(ass)})
            plan = ass.find("NamedPlan")
            if plan is not None:
                rows["named_plan"].append({**keys, "line": line_of(plan), **_leaves(plan)})
                for d_pos, det in enumerate(plan.findall("PlanDetail"), start=1):
                    rows["plan_detail"].append({**keys, "detail_pos": d_pos, "line": line_of(det), **_leaves(det)})
        act = req.find("ActivePlans")
        if act is not None:
            rows["active_plan"].append({**keys, "line": line_of(act), **_leaves(act)})
            for d_pos, det in enumerate(act.findall("PlacementDetail"), start=1):
                rows["placement_detail"].append({**keys, "detail_pos": d_pos, "line": line_of(det), **_leaves(det)})
            for n_pos, need in enumerate(act.findall("SENneed"), start=1):
                rows["sen_need"].append({**keys, "need_pos": n_pos, "line": line_of(need), **_leaves(need)})


_KEY_COLS = {
    "person": ["person_pos", "line"],
    "request": ["person_pos", "request_pos", "line"],
    "plan_detail": ["person_pos", "request_pos", "detail_pos", "line"],
    "placement_detail": ["person_pos", "request_pos", "detail_pos", "line"],
    "sen_need": ["person_pos", "request_pos", "need_pos", "line"],
}


def _frames(rows: dict[str, list[dict]]) -> dict[str, pd.DataFrame]:
    out = {}
    for frame, recs in rows.items():
        cols = _KEY_COLS.get(frame, ["person_pos", "request_pos", "line"])
        df = pd.DataFrame(recs, columns=None if recs else cols)
        for c in df.columns:
            if c not in KEY_COLUMNS:
                df[c] = df[c].astype("string").replace("", pd.NA)
        out[frame] = df
    return out


def _new_rows() -> dict[str, list[dict]]:
    return {frame: [] for frame, _ in MODULES.values()}


def _header(root: ET.Element | None) -> dict[str, str]:
    header: dict[str, str] = {}
    head = root.find("Header") if root is not None else None
    if head is not None:
        for el in head.iter():
            if len(el) == 0 and el.text is not None:
                header.setdefault(el.tag, el.text.strip())
    return header


# -- structure, person by person -----------------------------------------------------------------


class _PersonChecker:
    """XSD errors of one ``<Person>`` at a time, as (path below the person, element, reason, kind).

    ``skeleton`` is the person's tag nesting (built while reading), ``leaves`` its elements
    without children with their tag path below the person."""

    def __init__(self, schema: Any, root_tag: str, persons_tag: str) -> None:
        from xmlschema.validators.validation import ValidationContext

        self.schema = schema
        self.base = f"{root_tag}/{persons_tag}/Person"
        self.decl = schema.find(self.base)
        self.skeletons: dict[str, bool] = {}  # skeleton -> sound (no nesting error)
        self.leaf_decls: dict[tuple[str, ...], Any] = {}
        self.leaf_errors: dict[tuple[tuple[str, ...], str | None], list[tuple[str, str]]] = {}
        # one reusable context for the simple types' own decoding (the fast test of a value)
        self._context = ValidationContext(source=schema.maps.settings.get_resource_from_data(ET.Element("x"), None))

    def _whole(self, person: ET.Element) -> list[tuple[str, ET.Element | None, str, str]]:
        out = []
        for err in self.decl.iter_errors(person):
            elem = err.elem if err.elem is not None else None
            rel = (err.path or "/Person")[len("/Person") :]
            reason = _scrub(str(err.reason or "does not follow the schema"), elem, err.obj)
            out.append((rel, elem, reason, error_kind(err)))
        return out

    def _leaf(self, leaf: ET.Element, tags: tuple[str, ...]) -> list[tuple[str, str]] | None:
        """The leaf's errors (reason, kind), once per (tag path, text); None: not declared."""
        key = (tags, leaf.text)
        errs = self.leaf_errors.get(key)
        if errs is not None:
            return errs
        decl = self.leaf_decls.get(tags)
        if decl is None:
            decl = self.leaf_decls[tags] = self.schema.find(self.base + "/" + "/".join(tags))
            if decl is None:
                return None
        simple = decl.type.is_simple() and decl.fixed is None and not decl.nillable and not leaf.attrib
        if simple:
            ctx = self._context
            ctx.errors.clear()
            try:
                decl.type.raw_decode(leaf.text or "", "lax", ctx)
                simple = not ctx.errors  # valid: nothing to report; else ask for the exact errors
            except Exception:
                simple = False
        errs = (
            []
            if simple
            else [(str(e.reason or "does not follow the schema"), error_kind(e)) for e in decl.iter_errors(leaf)]
        )
        self.leaf_errors[key] = errs
        return errs

    def check(self, person: ET.Element, skeleton: str, leaves: list) -> list[tuple[str, ET.Element | None, str, str]]:
        if self.decl is None:
            return []
        sound = self.skeletons.get(skeleton)
        if sound is None:
            found = self._whole(person)
            self.skeletons[skeleton] = not any(kind == NESTING for *_, kind in found)
            return found
        if not sound:
            return self._whole(person)
        out = []
        for leaf, tags in leaves:
            errs = self._leaf(leaf, tags)
            if errs is None:  # cannot happen in a sound skeleton; be exact anyway
                return self._whole(person)
            if errs:
                from xmlschema.utils.etree import etree_getpath

                rel = (etree_getpath(leaf, person, relative=False, add_position=True) or "/Person")[len("/Person") :]
                out += [(rel, leaf, _scrub(reason, leaf, None), kind) for reason, kind in errs]
        return out


# -- the streaming reader ------------------------------------------------------------------------


def _stream(path: Path, year: int | None, check: bool) -> tuple[Sen2Return, int | None]:
    """One pass over the file; the XSD check uses ``year``'s schema (nearest shipped; None: the
    year in the header, read before the first person).

    Returns the return read and the year of the header (to check the right schema was used)."""
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    stack: list[ET.Element] = []
    lines: dict[int, int] = {}
    rows = _new_rows()
    state: dict[str, Any] = {"root": None, "person": None, "plines": None, "n": 0, "checker": None}
    found: list[tuple[int, str, int | None, str, str]] = []  # person_pos, rel path, line, reason, kind
    ptags: list[str] = []  # tag path below the person being read
    skel: list[str] = []  # its skeleton, token by token
    leaves: list[tuple[ET.Element, tuple[str, ...]]] = []

    def start(tag: str, attrs: dict) -> None:
        line = parser.CurrentLineNumber
        plines = state["plines"]
        if plines is not None:
            elem = ET.SubElement(stack[-1], tag, attrs)
            plines[id(elem)] = line
            ptags.append(tag)
            skel.append("<" + tag + ("@" + ",".join(sorted(attrs)) if attrs else ""))
        elif tag == "Person" and len(stack) == 2 and stack[-1].tag == "Persons":
            elem = ET.Element(tag, attrs)
            state["person"], state["plines"] = elem, {id(elem): line}
            ptags.clear()
            leaves.clear()
            skel[:] = ["<Person" + ("@" + ",".join(sorted(attrs)) if attrs else "")]
            if check and state["checker"] is None:
                # the header is read by now: the schema of its year
                schema, state["used"] = load_schema(year if year is not None else _year_of(_header(stack[0])))
                good = stack[0].tag == "Message"
                state["schema"] = schema
                state["checker"] = _PersonChecker(schema, stack[0].tag, stack[1].tag) if good else False
        else:
            elem = ET.SubElement(stack[-1], tag, attrs) if stack else ET.Element(tag, attrs)
            if not stack:
                state["root"] = elem
            lines[id(elem)] = line
        stack.append(elem)

    def end(tag: str) -> None:
        elem = stack.pop()
        if state["plines"] is None:
            return
        if elem is not state["person"]:
            if not len(elem):
                leaves.append((elem, tuple(ptags)))
            elif elem.text and not elem.text.isspace():
                skel.append("#")  # text before the first child element
            ptags.pop()
            skel.append(">")
            return
        state["n"] += 1
        pos, plines = state["n"], state["plines"]
        line_of = lambda e: plines.get(id(e))  # noqa: E731
        _person_rows(elem, pos, line_of, rows)
        if state["checker"]:
            if elem.text and not elem.text.isspace():
                skel.append("#")
            for rel, el, reason, kind in state["checker"].check(elem, "".join(skel), leaves):
                found.append((pos, rel, line_of(el) if el is not None else plines[id(elem)], reason, kind))
        if pos == 1:  # the shell keeps the first person, for the check of <Persons> itself
            stack[-1].append(elem)
            lines.update(plines)
        else:  # and an empty stand-in for each later one (positions in <Persons> stay right)
            stub = ET.SubElement(stack[-1], "Person")
            lines[id(stub)] = plines[id(elem)]
        state["person"] = state["plines"] = None

    def data(text: str) -> None:
        e = stack[-1]
        if not len(e):
            e.text = (e.text or "") + text
        elif not text.isspace():  # text beside child elements (whitespace between them is dropped)
            e[-1].tail = (e[-1].tail or "") + text
            if state["plines"] is not None:
                skel.append("#")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except OSError as exc:
        raise DataError(table="sen2", rule="readable", file=str(path), detail=exc.strerror or str(exc)) from None
    except xml.parsers.expat.ExpatError as exc:
        raise DataError(
            table="sen2",
            rule="well-formed XML",
            file=str(path),
            detail=f"line {exc.lineno}, column {exc.offset}: {xml.parsers.expat.ErrorString(exc.code)}",
        ) from None
    root = state["root"]
    header = _header(root)
    ret = Sen2Return(path=path, root=root, lines=lines, header=header, tables=_frames(rows))
    if check:
        if state["checker"] is None:  # no person: the header's year
            state["schema"], state["used"] = load_schema(year if year is not None else _year_of(header))
        ret.structure_errors = _shell_errors(ret, state["schema"]) + _person_errors(root, found, state["n"])
        ret.schema_year = state["used"]
    return ret, _year_of(header)


def _person_prefix(root: ET.Element | None) -> str:
    persons = root.find("Persons") if root is not None else None
    return "" if root is None else f"/{root.tag}/{persons.tag if persons is not None else 'Persons'}/Person"


def _person_errors(root: ET.Element | None, found: list, n_persons: int) -> list[StructureError]:
    prefix = _person_prefix(root)
    out = []
    for pos, rel, line, reason, kind in found:
        # xmlschema numbers a path step only where the tag repeats among its siblings
        head = f"{prefix}[{pos}]" if n_persons > 1 else prefix
        out.append(StructureError(head + rel, line, pos, reason, kind))
    return out


def _shell_errors(ret: Sen2Return, schema: Any) -> list[StructureError]:
    """The shell's errors (root, header, ``<Persons>``), without those inside its first person."""
    if ret.root is None:
        return []
    prefix = _person_prefix(ret.root)
    persons = ret.root.find("Persons")
    children = list(persons) if persons is not None else []
    first = next((c for c in children if c.tag == "Person"), None)
    kept = [c for c in children if c is first or c.tag != "Person" or len(c)]
    if all(c.tag == "Person" for c in children):
        persons[:] = kept  # only the first person matters to <Persons>' own content model
    out = []
    for err in schema.iter_errors(ET.ElementTree(ret.root)):
        path = err.path or ""
        if prefix and (path == prefix or path.startswith((prefix + "/", prefix + "["))):
            continue
        elem = err.elem
        reason = _scrub(str(err.reason or "does not follow the schema"), elem, err.obj)
        out.append(StructureError(path, ret.line_of(elem) if elem is not None else None, None, reason, error_kind(err)))
    if persons is not None:
        persons[:] = kept  # the stand-ins are not kept
    return out


def parse_return(path: str | Path, *, check: bool = True) -> Sen2Return:
    """Read the return in one streaming pass (a ``DataError`` when it is not well-formed XML):
    its frames and, with ``check`` (default), its XSD errors (:func:`check_structure`)."""
    path = Path(path)
    ret, year = _stream(path, None, check)
    if check and schema_path(year)[1] != ret.schema_year:
        ret, _ = _stream(path, year, check)  # the header names another year: read again against it
    return ret


def check_structure(ret: Sen2Return) -> tuple[list[StructureError], int]:
    """Every XSD violation in the return (year's schema, else the nearest): (errors, schema year).

    The errors were found while reading (:func:`parse_return`); a return read with
    ``check=False`` is read again."""
    if ret.structure_errors is None or ret.schema_year is None:
        again = parse_return(ret.path, check=True)
        ret.structure_errors, ret.schema_year = again.structure_errors, again.schema_year
    return list(ret.structure_errors or []), int(ret.schema_year or schema_path(ret.year)[1])


# -- the whole-tree reference --------------------------------------------------------------------


def reference_parse(path: str | Path) -> tuple[dict[str, str], dict[str, pd.DataFrame], list[StructureError], int]:
    """The plain reading: the whole tree held, the whole document given to ``xmlschema``.

    Slow (tens of seconds and gigabytes for the largest returns): the reference the tests hold
    :func:`parse_return` to. Returns (header, frames, XSD errors, schema year)."""
    path = Path(path)
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
    parser.Parse(path.read_bytes(), True)
    root = builder.close()
    header = _header(root)
    rows = _new_rows()
    persons = root.find("Persons")
    for p_pos, person in enumerate(persons.findall("Person") if persons is not None else [], start=1):
        _person_rows(person, p_pos, lambda e: lines.get(id(e)), rows)
    schema, used = load_schema(_year_of(header))
    errors = []
    for err in schema.iter_errors(ET.ElementTree(root)):
        elem = err.elem
        p = err.path or ""
        m = re.search(r"/Person(?:\[(\d+)\])?/", p + "/")
        person = (int(m.group(1)) if m.group(1) else 1) if m else None
        reason = _scrub(str(err.reason or "does not follow the schema"), elem, err.obj)
        errors.append(
            StructureError(p, lines.get(id(elem)) if elem is not None else None, person, reason, error_kind(err))
        )
    return header, _frames(rows), errors, used
