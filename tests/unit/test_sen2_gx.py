"""SEN2 rules on Great Expectations, XSD errors classed nesting / value, and the streaming read.

``sen2_rules_before_gx.json`` holds the messages the rules gave as pandas functions, before they
moved onto Great Expectations (the valid return, each hand-built broken return of
``test_sen2.BROKEN`` and the shared mock return): the GX rules must give exactly these for the
rule ids that existed then.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from test_sen2 import BROKEN, SAMPLE, UPN1, UPN1_BAD, VALID, _swap, needs_sample

from sendlib.data.sen2.reader import NESTING, VALUE, parse_return, reference_parse
from sendlib.data.sen2.rules import (
    RULES,
    age_at,
    count_per_plan,
    first_occurrence,
    provider_count,
    run_rules,
    sen2_suites,
    upn_valid,
)

BEFORE = json.loads((Path(__file__).parent / "sen2_rules_before_gx.json").read_text(encoding="utf-8"))


def _write(tmp_path: Path, text: str, name: str = "return.xml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# -- helper columns -------------------------------------------------------------------------------


def test_upn_valid():
    s = pd.Series([UPN1, UPN1_BAD, None, "X1"], dtype="string")
    assert upn_valid(s).tolist() == [True, False, pd.NA, False]


def test_first_occurrence_marks_repeats_only():
    keys = pd.DataFrame({"a": ["x", "y", "x", None, None]}, dtype="string")
    assert first_occurrence(keys).tolist() == [True, True, False, pd.NA, pd.NA]


def test_age_at_reference():
    dob = pd.to_datetime(pd.Series(["2000-01-16", "2000-01-17", None]))
    assert age_at(dob, pd.Timestamp("2025-01-16")).tolist() == [25, 24, pd.NA]
    assert age_at(dob, None).isna().all()


def test_provider_count_and_count_per_plan():
    d = pd.DataFrame({"URN": ["1", None, "3"], "UKPRN": [None, None, "4"]}, dtype="string")
    assert provider_count(d).tolist() == [1, 0, 2]
    plans = pd.DataFrame({"person_pos": [1, 1, 2], "request_pos": [1, 2, 1]})
    rows = pd.DataFrame({"person_pos": [1, 1, 2], "request_pos": [1, 1, 1]})
    assert count_per_plan(plans, rows).tolist() == [2, 0, 1]
    assert count_per_plan(plans, rows.iloc[0:0]).tolist() == [0, 0, 0]


# -- the suites -----------------------------------------------------------------------------------


def test_suites_carry_rule_meta():
    suites = sen2_suites()
    seen = set()
    for frame, suite in suites.items():
        assert suite.name == f"sen2_{frame}"
        for exp in suite.expectations:
            meta = exp.meta
            rule = next(r for r in RULES if r.id == meta["rule_id"])
            assert (meta["severity"], meta["item"], rule.frame) == (rule.severity, rule.item, frame)
            assert meta["module"].split(" ", 1)[1] in {"Person", "Requests", "Assessment", "NamedPlan", "PlanDetail",
                                                       "ActivePlans", "PlacementDetail", "SENneed"}  # fmt: skip
            seen.add(meta["rule_id"])
    assert seen == {r.id for r in RULES}
    assert len({r.id for r in RULES}) == len(RULES)


# -- the same findings as the pandas rules gave ----------------------------------------------------


def _old_messages(ret) -> list[str]:
    old = set(BEFORE["rule_ids"])
    return [f.message for f in run_rules(ret) if f.rule_id in old]


@pytest.mark.parametrize("case", ["valid", *sorted(BROKEN)])
def test_gx_rules_give_the_findings_of_before(tmp_path, case):
    text = VALID if case == "valid" else BROKEN[case](VALID)
    ret = parse_return(_write(tmp_path, text))
    assert _old_messages(ret) == BEFORE["messages"][case]


@needs_sample
def test_gx_rules_on_the_mock_return():
    assert _old_messages(parse_return(SAMPLE)) == BEFORE["messages"]["mock"]


def test_new_rules_each_caught_alone(tmp_path):
    """Each broken return made for a new rule is caught by it (test_sen2 checks the exit codes)."""
    new = {r.id for r in RULES} - set(BEFORE["rule_ids"])
    assert new == {"SEN2-P07", "SEN2-R04", "SEN2-R05", "SEN2-R06", "SEN2-A03", "SEN2-N05", "SEN2-N06",
                   "SEN2-N07", "SEN2-AP03", "SEN2-SN01"}  # fmt: skip
    for rule_id in sorted(new):
        found = run_rules(parse_return(_write(tmp_path, BROKEN[rule_id](VALID), f"{rule_id}.xml")))
        assert rule_id in {f.rule_id for f in found}, rule_id


def test_historical_request_needs_no_received_date(tmp_path):
    text = _swap(VALID, "<ReceivedDate>2024-12-02</ReceivedDate>", "")
    text = _swap(text, "<RequestOutcome>A</RequestOutcome>", "<RequestOutcome>H</RequestOutcome>")
    assert "SEN2-R05" not in {f.rule_id for f in run_rules(parse_return(_write(tmp_path, text)))}


def test_no_reference_date_no_date_rule(tmp_path):
    text = _swap(VALID, "<ReferenceDate>2025-01-16</ReferenceDate>", "")
    text = _swap(text, "<EntryDate>2024-09-02</EntryDate>", "<EntryDate>2099-02-02</EntryDate>")
    ids = {f.rule_id for f in run_rules(parse_return(_write(tmp_path, text)))}
    assert not ids & {"SEN2-PL03", "SEN2-P04", "SEN2-R01"}


# -- structure errors: nesting or value ------------------------------------------------------------

#: change -> the kinds of XSD error it gives
KINDS = {
    "bad date": (("<PersonBirthDate>2015-03-04</PersonBirthDate>", "<PersonBirthDate>2015-13-04</PersonBirthDate>"), {VALUE}),
    "enumeration": (("<Sex>M</Sex>", "<Sex>Q</Sex>"), {VALUE}),
    "pattern": ((f"<UPN>{UPN1}</UPN>", "<UPN>X12</UPN>"), {VALUE}),
    "empty code": (("<PlacementRank>1</PlacementRank><EntryDate>", "<PlacementRank></PlacementRank><EntryDate>"), {VALUE}),
    "header value": (("<LEA>201</LEA>", "<LEA>2011</LEA>"), {VALUE}),
    "header date-time": (("<DateTime>2025-01-20T10:00:00</DateTime>", "<DateTime>yesterday</DateTime>"), {VALUE}),
    "unknown element": (("<Forename>Madeupfirst</Forename>", "<Forename>Madeupfirst</Forename><Nickname>x</Nickname>"), {NESTING}),
    "missing element": (("<Sex>M</Sex>", ""), {NESTING}),
    "wrong order": (("<RYA>0</RYA>\n        <RequestOutcomeDate>2024-04-10</RequestOutcomeDate>",
                     "<RequestOutcomeDate>2024-04-10</RequestOutcomeDate><RYA>0</RYA>"), {NESTING}),
    "repeated element": (("<Sex>M</Sex>", "<Sex>M</Sex><Sex>M</Sex>"), {NESTING}),
    "text in a module": (("<Assessment>", "<Assessment>hello"), {NESTING}),
    "child in an item": (("<Sex>M</Sex>", "<Sex>M<X/></Sex>"), {NESTING}),
    "attribute": (("<Sex>M</Sex>", '<Sex a="1">M</Sex>'), {NESTING}),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(KINDS))
def test_structure_error_kind(tmp_path, case):
    (old, new), kinds = KINDS[case]
    path = _write(tmp_path, _swap(VALID, old, new))
    ret = parse_return(path)
    assert {e.kind for e in ret.structure_errors} == kinds
    assert all(e.is_nesting == (e.kind == NESTING) for e in ret.structure_errors)
    # the same as the whole document given to xmlschema
    assert {e.kind for e in reference_parse(path)[2]} == kinds


# -- the streaming read equals the whole-tree reading ------------------------------------------------


def _same(path: Path) -> None:
    ret = parse_return(path)
    header, frames, errors, year = reference_parse(path)
    assert ret.header == header and ret.schema_year == year
    assert set(ret.tables) == set(frames)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(ret.tables[name], frame)

    def key(e):
        return (e.path, e.line, e.person_pos, e.reason, e.kind)

    assert sorted(map(key, ret.structure_errors)) == sorted(map(key, errors))


@needs_sample
def test_streaming_equals_whole_tree_on_mock():
    _same(SAMPLE)


def _persons(text: str) -> tuple[str, str]:
    start = text.index("<Person>")
    end = text.index("</Person>") + len("</Person>")
    return text[:start], text[start:end]


def test_streaming_equals_whole_tree_on_broken_returns(tmp_path):
    """Every broken return, the structure cases, and persons repeating a skeleton with other values
    (the cached checks must report each person's own errors, at its own path and line)."""
    texts = {k: f(VALID) for k, f in BROKEN.items()}
    texts |= {k: _swap(VALID, *change) for k, (change, _) in KINDS.items()}
    _, p1 = _persons(VALID)
    texts["repeats"] = VALID.replace(
        p1,
        p1
        + p1.replace("2015-03-04", "2015-02-30")
        + p1.replace("<Sex>F</Sex>", "<Sex>X</Sex>")
        + p1
        + p1.replace("<RYA>0</RYA>", "<RYA>0</RYA><RYA>1</RYA>") * 2,
    )
    texts["one person"] = VALID[: VALID.index("<Person>", VALID.index("</Person>"))] + "</Persons></Message>"
    texts["no person"] = VALID[: VALID.index("<Person>")] + "</Persons></Message>"
    texts["junk in Persons"] = VALID.replace("</Persons>", "<Junk/></Persons>")
    texts["2026"] = VALID.replace("<Year>2025</Year>", "<Year>2026</Year>")
    texts["root"] = VALID.replace("<Message>", "<Msg>").replace("</Message>", "</Msg>")
    for name, text in texts.items():
        _same(_write(tmp_path, text, f"{name}.xml"))


def test_streaming_equals_whole_tree_on_exported_county(tmp_path):
    from sendlib.data.loaders import load_tables
    from sendlib.data.sen2.exporter import export_return

    path = tmp_path / "county.xml"
    export_return(load_tables(None, ["ehcp_requests", "ehcp_plans", "placements"]), 2025, path)
    _same(path)
