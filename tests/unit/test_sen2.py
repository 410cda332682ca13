"""``sendlib sen2``: the SEN2 XML return checked (XSD and business rules) and imported.

The mock return is the project's shared reference file (test names, fake UPNs); the broken returns
are built here from one made-up valid return, one change per rule. No real child's data.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from sendlib.cli import main
from sendlib.data.sen2.reader import parse_return, schema_path
from sendlib.data.sen2.rules import RULES, upn_check_letter, upn_problem, validate_return

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO.parent / "shared" / "reference" / "sen2" / "sen2_sample_2024.xml"
if not SAMPLE.exists():  # a worktree sits beside main: the shared folder is one level up either way
    SAMPLE = Path("/work/shared/reference/sen2/sen2_sample_2024.xml")
needs_sample = pytest.mark.skipif(not SAMPLE.exists(), reason="the shared SEN2 reference folder is not here")


def _upn(body: str) -> str:
    return upn_check_letter("X" + body) + body


UPN1 = _upn("201123456789")
UPN2 = _upn("201987654321")
#: a wrong check letter for UPN1's body
UPN1_BAD = next(c for c in "ABCDEFGHJKLMNPQRTUVWXYZ" if c != UPN1[0]) + UPN1[1:]

VALID = f"""<?xml version="1.0" encoding="UTF-8"?>
<Message>
  <Header>
    <CollectionDetails><Collection>SEN2</Collection><Year>2025</Year><ReferenceDate>2025-01-16</ReferenceDate></CollectionDetails>
    <Source><SourceLevel>L</SourceLevel><LEA>201</LEA><SoftwareCode>Test</SoftwareCode><Release>1</Release>
      <SerialNo>001</SerialNo><DateTime>2025-01-20T10:00:00</DateTime><DMO>Y</DMO><DCO>Y</DCO></Source>
  </Header>
  <Persons>
    <Person>
      <Surname>Madeupfamily</Surname>
      <Forename>Madeupfirst</Forename>
      <PersonBirthDate>2015-03-04</PersonBirthDate>
      <Sex>F</Sex>
      <Ethnicity>WBRI</Ethnicity>
      <PostCode>ZZ99 1ZZ</PostCode>
      <UPN>{UPN1}</UPN>
      <Requests>
        <ReceivedDate>2024-03-01</ReceivedDate>
        <RYA>0</RYA>
        <RequestOutcomeDate>2024-04-10</RequestOutcomeDate>
        <RequestOutcome>Y</RequestOutcome>
        <RequestMediation>0</RequestMediation>
        <RequestTribunal>0</RequestTribunal>
        <Assessment>
          <AssessmentOutcome>Y</AssessmentOutcome>
          <AssessmentOutcomeDate>2024-07-05</AssessmentOutcomeDate>
          <Week20>0</Week20>
          <NamedPlan>
            <StartDate>2024-07-05</StartDate>
            <PlanDetail><URN>123456</URN><PlacementRank>1</PlacementRank></PlanDetail>
          </NamedPlan>
        </Assessment>
        <ActivePlans>
          <PlacementDetail><URN>123456</URN><PlacementRank>1</PlacementRank><EntryDate>2024-09-02</EntryDate></PlacementDetail>
          <SENneed><SENtype>ASD</SENtype><SENtypeRank>1</SENtypeRank></SENneed>
          <SENneed><SENtype>SLCN</SENtype><SENtypeRank>2</SENtypeRank></SENneed>
          <ReviewMeeting>2024-12-10</ReviewMeeting>
          <ReviewOutcome>M</ReviewOutcome>
        </ActivePlans>
      </Requests>
    </Person>
    <Person>
      <Surname>Othermadeup</Surname>
      <Forename>Secondfirst</Forename>
      <PersonBirthDate>2008-11-23</PersonBirthDate>
      <Sex>M</Sex>
      <Ethnicity>WBRI</Ethnicity>
      <PostCode>ZZ99 3ZZ</PostCode>
      <UPN>{UPN2}</UPN>
      <UniqueLearnerNumber>5012345678</UniqueLearnerNumber>
      <Requests>
        <ReceivedDate>2024-12-02</ReceivedDate>
        <RYA>0</RYA>
        <RequestOutcome>A</RequestOutcome>
        <RequestMediation>0</RequestMediation>
        <RequestTribunal>0</RequestTribunal>
      </Requests>
    </Person>
  </Persons>
</Message>
"""

NAMES = ("Madeupfamily", "Madeupfirst", "Othermadeup", "Secondfirst")
PERSONAL = (*NAMES, UPN1, UPN2, UPN1_BAD, "5012345678", "50123", "ZZ99 1ZZ", "ZZ99 3ZZ", "2015-03-04", "2008-11-23")


def _swap(text: str, old: str, new: str, count: int = 1) -> str:
    assert old in text, old
    return text.replace(old, new, count)


# rule id -> the change that breaks only (at least) that rule
BROKEN: dict[str, callable] = {
    "SEN2-XSD": lambda x: _swap(x, "<RYA>0</RYA>", "<RYA>maybe</RYA>"),
    "SEN2-P01": lambda x: _swap(x, UPN1, UPN1_BAD),
    "SEN2-P02": lambda x: _swap(x, "5012345678", "50123"),
    "SEN2-P03": lambda x: _swap(x, f"<UPN>{UPN2}</UPN>\n      <UniqueLearnerNumber>5012345678</UniqueLearnerNumber>", ""),
    "SEN2-P04": lambda x: _swap(x, "2008-11-23", "1990-11-23"),
    "SEN2-P05": lambda x: _swap(x, f"<UPN>{UPN2}</UPN>", f"<UPN>{UPN1}</UPN>"),
    "SEN2-P06": lambda x: _swap(
        _swap(_swap(x, "Othermadeup", "Madeupfamily"), "Secondfirst", "Madeupfirst"), "2008-11-23", "2015-03-04"
    ),
    "SEN2-R01": lambda x: _swap(x, "2024-12-02", "2025-02-01"),
    "SEN2-R02": lambda x: _swap(x, "<ReceivedDate>2024-03-01</ReceivedDate>", "<ReceivedDate>2024-05-01</ReceivedDate>"),
    "SEN2-R03": lambda x: _swap(x, "<RequestOutcomeDate>2024-04-10</RequestOutcomeDate>", ""),
    "SEN2-A01": lambda x: _swap(x, "<AssessmentOutcomeDate>2024-07-05</AssessmentOutcomeDate>", ""),
    "SEN2-A02": lambda x: _swap(
        x, "<AssessmentOutcomeDate>2024-07-05</AssessmentOutcomeDate>", "<AssessmentOutcomeDate>2024-02-01</AssessmentOutcomeDate>"
    ),
    "SEN2-N01": lambda x: _swap(
        x, "<PlacementRank>1</PlacementRank></PlanDetail>", "<PlacementRank>1</PlacementRank></PlanDetail><CeaseDate>2024-07-01</CeaseDate>"
    ),
    "SEN2-N02": lambda x: _swap(x, "<StartDate>2024-07-05</StartDate>", "<StartDate>2024-07-01</StartDate>"),
    "SEN2-N03": lambda x: _swap(x, "<PlanDetail><URN>123456</URN>", "<PlanDetail><URN>123456</URN><SENSetting>OTH</SENSetting>"),
    "SEN2-N04": lambda x: _swap(x, "<StartDate>2024-07-05</StartDate>", "<StartDate>2025-03-05</StartDate>"),
    "SEN2-AP01": lambda x: _swap(
        x,
        "<PlacementDetail><URN>123456</URN><PlacementRank>1</PlacementRank><EntryDate>2024-09-02</EntryDate></PlacementDetail>",
        "",
    ),
    "SEN2-AP02": lambda x: _swap(x, "<SENtype>ASD</SENtype><SENtypeRank>1</SENtypeRank>", "<SENtype>ASD</SENtype><SENtypeRank>2</SENtypeRank>"),
    "SEN2-PL01": lambda x: _swap(x, "<PlacementDetail><URN>123456</URN>", "<PlacementDetail>"),
    "SEN2-PL02": lambda x: _swap(x, "<EntryDate>2024-09-02</EntryDate>", "<EntryDate>2024-09-02</EntryDate><LeavingDate>2024-09-01</LeavingDate>"),
    "SEN2-PL03": lambda x: _swap(x, "<EntryDate>2024-09-02</EntryDate>", "<EntryDate>2025-02-02</EntryDate>"),
    # rules added with the move onto Great Expectations
    "SEN2-P07": lambda x: _swap(x, f"<UPN>{UPN1}</UPN>", f"<UPN>{UPN1}</UPN><UPNunknown>UN1</UPNunknown>"),
    "SEN2-R04": lambda x: _swap(x, "<RequestOutcomeDate>2024-04-10</RequestOutcomeDate>", "<RequestOutcomeDate>2025-02-01</RequestOutcomeDate>"),
    "SEN2-R05": lambda x: _swap(x, "<ReceivedDate>2024-12-02</ReceivedDate>", ""),
    "SEN2-R06": lambda x: _swap(
        x,
        "<RequestTribunal>0</RequestTribunal>\n      </Requests>",
        "<RequestTribunal>0</RequestTribunal>\n      </Requests><Requests><ReceivedDate>2024-12-02</ReceivedDate><RequestOutcome>A</RequestOutcome></Requests>",
    ),
    "SEN2-A03": lambda x: _swap(
        x, "<AssessmentOutcomeDate>2024-07-05</AssessmentOutcomeDate>", "<AssessmentOutcomeDate>2025-02-01</AssessmentOutcomeDate>"
    ),
    "SEN2-N05": lambda x: _swap(
        x, "<PlacementRank>1</PlacementRank></PlanDetail>", "<PlacementRank>1</PlacementRank></PlanDetail><CeaseDate>2024-12-01</CeaseDate>"
    ),
    "SEN2-N06": lambda x: _swap(
        x, "<PlacementRank>1</PlacementRank></PlanDetail>", "<PlacementRank>1</PlacementRank></PlanDetail><CeaseReason>1</CeaseReason>"
    ),
    "SEN2-N07": lambda x: _swap(
        x,
        "<PlacementRank>1</PlacementRank></PlanDetail>",
        "<PlacementRank>1</PlacementRank></PlanDetail><PlanDetail><URN>654321</URN><PlacementRank>1</PlacementRank></PlanDetail>",
    ),
    "SEN2-AP03": lambda x: _swap(x, "<ReviewMeeting>2024-12-10</ReviewMeeting>", "<ReviewMeeting>2025-02-10</ReviewMeeting>"),
    "SEN2-SN01": lambda x: _swap(x, "<SENtype>SLCN</SENtype>", "<SENtype>ASD</SENtype>"),
}  # fmt: skip


def _write(tmp_path: Path, text: str, name: str = "return.xml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _ids(path: Path) -> set[str]:
    findings, _ = validate_return(parse_return(path))
    return {f.rule_id for f in findings}


def test_upn_check_letter_known_value():
    # check letters computed by hand: weights 2..13 over characters 2-13, modulus 23
    assert upn_check_letter("A20112345678") is None  # too short
    total = sum(int(c) * w for c, w in zip("201123456789", range(2, 14)))
    assert UPN1[0] == "ABCDEFGHJKLMNPQRTUVWXYZ"[total % 23]
    assert upn_problem(UPN1) is None and upn_problem(UPN1_BAD) is not None
    temp = _upn("20112345678A")  # a temporary UPN ends in a letter
    assert upn_problem(temp) is None


def test_every_rule_has_a_broken_return():
    assert {r.id for r in RULES} | {"SEN2-XSD"} == set(BROKEN)
    assert {r.severity for r in RULES} <= {"error", "query"}


def test_valid_return_has_no_finding(tmp_path, capsys):
    path = _write(tmp_path, VALID)
    findings, used = validate_return(parse_return(path))
    assert used == 2025
    assert [f.message for f in findings] == []
    assert main(["sen2", "validate", str(path)]) == 0


@pytest.mark.parametrize("rule_id", sorted(BROKEN))
def test_broken_return_caught_by_its_rule(tmp_path, rule_id):
    path = _write(tmp_path, BROKEN[rule_id](VALID))
    assert rule_id in _ids(path)
    severity = "error" if rule_id == "SEN2-XSD" else next(r.severity for r in RULES if r.id == rule_id)
    expected_exit = 3 if severity == "error" else 0
    assert main(["sen2", "validate", str(path), "--format", "csv"]) == expected_exit


def test_messages_carry_no_personal_data(tmp_path, capsys):
    texts = []
    for rule_id, breaker in BROKEN.items():
        path = _write(tmp_path, breaker(VALID), f"{rule_id}.xml")
        for fmt in ("table", "json", "html"):
            main(["sen2", "validate", str(path), "--format", fmt, "--output-dir", str(tmp_path / rule_id)])
        texts.append(capsys.readouterr().out)
        texts += [p.read_text(encoding="utf-8") for p in (tmp_path / rule_id).iterdir()]
    blob = "\n".join(texts)
    assert "SEN2-P01" in blob and "SEN2-XSD" in blob
    for value in PERSONAL:
        assert value not in blob, value


@needs_sample
def test_mock_return_rules_named(capsys):
    """The mock return probes the schema: these are the rules it fails, and nothing else."""
    findings, used = validate_return(parse_return(SAMPLE))
    assert used == 2025  # a 2024 return: the nearest XSD shipped
    seen = {(f.rule_id, f.item) for f in findings}
    assert seen == {
        ("SEN2-XSD", "UPN"),  # 14 characters: X1234567898765
        ("SEN2-XSD", "ActivePlans"),  # LastReview after ReviewOutcome: 2025's order puts it before
        ("SEN2-P01", "UPN"),
        ("SEN2-N03", "URN/UKPRN/SENSetting"),  # named placements give URN, UKPRN and SENSetting together
        ("SEN2-PL01", "URN/UKPRN/SENSetting"),
    }
    xsd_lines = sorted(f.line for f in findings if f.rule_id == "SEN2-XSD")
    assert xsd_lines == [27, 72, 118]
    assert main(["sen2", "validate", str(SAMPLE)]) == 3
    out = capsys.readouterr().out
    text = SAMPLE.read_text(encoding="utf-8")
    personal = re.findall(r"<(?:Surname|Forename|PersonBirthDate|PostCode|UPN|UniqueLearnerNumber)>([^<]+)<", text)
    assert personal
    for value in personal:
        assert value not in out, value


@needs_sample
def test_mock_return_imports_without_personal_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SENDLIB_PSEUDONYM_KEY", "a-test-key")
    assert main(["sen2", "import", str(SAMPLE), "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    text = SAMPLE.read_text(encoding="utf-8")
    personal = re.findall(r"<(?:Surname|Forename|PersonBirthDate|PostCode|UPN|UniqueLearnerNumber)>([^<]+)<", text)
    written = out + "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("*.csv"))
    for value in personal:
        assert value not in written, value
    plans = pd.read_csv(tmp_path / "ehcp_plans.csv", dtype=str)
    assert plans["birth_month"].tolist() == ["2002-01"]
    requests = pd.read_csv(tmp_path / "ehcp_requests.csv", dtype=str)
    assert sorted(requests["outcome"]) == ["open", "plan_issued", "refused"]
    # the same key gives the same ids; another key other ids
    ids = set(requests["person_id"])
    assert main(["sen2", "import", str(SAMPLE), "--out-dir", str(tmp_path / "again")]) == 0
    assert set(pd.read_csv(tmp_path / "again" / "ehcp_requests.csv", dtype=str)["person_id"]) == ids
    monkeypatch.setenv("SENDLIB_PSEUDONYM_KEY", "another-key")
    assert main(["sen2", "import", str(SAMPLE), "--out-dir", str(tmp_path / "other")]) == 0
    assert not set(pd.read_csv(tmp_path / "other" / "ehcp_requests.csv", dtype=str)["person_id"]) & ids


@needs_sample
def test_import_strict_and_missing_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SENDLIB_PSEUDONYM_KEY", raising=False)
    assert main(["sen2", "import", str(SAMPLE), "--out-dir", str(tmp_path / "a")]) == 2
    monkeypatch.setenv("SENDLIB_PSEUDONYM_KEY", "k")
    assert main(["sen2", "import", str(SAMPLE), "--out-dir", str(tmp_path / "b"), "--strict"]) == 3
    assert not (tmp_path / "b").exists()


def test_import_valid_return_strict(tmp_path, monkeypatch):
    monkeypatch.setenv("SENDLIB_PSEUDONYM_KEY", "k")
    path = _write(tmp_path, VALID)
    assert main(["sen2", "import", str(path), "--out-dir", str(tmp_path / "out"), "--strict"]) == 0
    plans = pd.read_csv(tmp_path / "out" / "ehcp_plans.csv", dtype=str)
    assert plans[["primary_need", "plan_start_date", "birth_month"]].values.tolist() == [
        ["ASD", "2024-07-05", "2015-03"]
    ]
    place = pd.read_csv(tmp_path / "out" / "placements.csv", dtype=str)
    assert place["provider_id"].tolist() == ["123456"]


def test_not_well_formed_is_a_data_error(tmp_path):
    path = _write(tmp_path, VALID[:400])
    assert main(["sen2", "validate", str(path)]) == 3


def test_schema_year_nearest():
    assert schema_path(2025)[1] == 2025 and schema_path(2026)[1] == 2026
    assert schema_path(2024)[1] == 2025 and schema_path(2030)[1] == 2026


def test_schema_messages_never_echo_a_value(tmp_path, capsys):
    """A malformed date of birth, a name where a code belongs and an unknown element holding a name:
    the XSD findings name the item and the position, not the value."""
    text = _swap(
        VALID, "<PersonBirthDate>2015-03-04</PersonBirthDate>", "<PersonBirthDate>2015-13-04</PersonBirthDate>"
    )
    text = _swap(text, "<Sex>M</Sex>", "<Sex>Secondfirst</Sex>")
    text = _swap(
        text, "<Forename>Madeupfirst</Forename>", "<Forename>Madeupfirst</Forename><Nickname>Madeupfamily</Nickname>"
    )
    path = _write(tmp_path, text)
    findings, _ = validate_return(parse_return(path))
    assert {f.item for f in findings if f.rule_id == "SEN2-XSD"} >= {"PersonBirthDate", "Sex", "Person"}
    assert main(["sen2", "validate", str(path), "--format", "json"]) == 3
    out = capsys.readouterr().out
    for value in (*PERSONAL, "2015-13-04"):
        assert value not in out, value
