"""Benchmark: a SEN2 return the size of the largest authority's (about 25,000 persons), checked and
imported (targets from issue 21: under 20 s and under 1 GB of memory).

Writes a made-up return (invented names and UPNs, no real child) of N persons to a temporary file,
then times ``parse_return`` + ``validate_return`` (XSD and rules) and ``build_tables`` (the import),
and prints the file size, the seconds of each step and the peak resident memory of the process.
Not a timed test: run ``python benchmarks/bench_sen2.py [N]``.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from sendlib.data.sen2.importer import build_tables
from sendlib.data.sen2.reader import parse_return
from sendlib.data.sen2.rules import upn_check_letter, validate_return

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<Message><Header><CollectionDetails><Collection>SEN2</Collection><Year>2025</Year><ReferenceDate>2025-01-16</ReferenceDate></CollectionDetails>
<Source><SourceLevel>L</SourceLevel><LEA>201</LEA><SoftwareCode>Bench</SoftwareCode><Release>1</Release><SerialNo>001</SerialNo><DateTime>2025-01-20T10:00:00</DateTime><DMO>Y</DMO><DCO>Y</DCO></Source></Header>
<Persons>
"""
PERSON = """<Person><Surname>Benchfamily{i}</Surname><Forename>Benchfirst{i}</Forename><PersonBirthDate>{dob}</PersonBirthDate><Sex>F</Sex><Ethnicity>WBRI</Ethnicity><PostCode>ZZ99 1ZZ</PostCode><UPN>{upn}</UPN>
<Requests><ReceivedDate>2024-03-01</ReceivedDate><RYA>0</RYA><RequestOutcomeDate>2024-04-10</RequestOutcomeDate><RequestOutcome>Y</RequestOutcome><RequestMediation>0</RequestMediation><RequestTribunal>0</RequestTribunal>
<Assessment><AssessmentOutcome>Y</AssessmentOutcome><AssessmentOutcomeDate>2024-07-05</AssessmentOutcomeDate><AssessmentMediation>0</AssessmentMediation><AssessmentTribunal>0</AssessmentTribunal><OtherMediation>0</OtherMediation><OtherTribunal>0</OtherTribunal><Week20>0</Week20>
<NamedPlan><StartDate>2024-07-05</StartDate><PlanDetail><URN>123456</URN><PlacementRank>1</PlacementRank><SENunitIndicator>0</SENunitIndicator><ResourcedProvisionIndicator>0</ResourcedProvisionIndicator></PlanDetail><PlanRes>A</PlanRes><PB>0</PB><OA>0</OA></NamedPlan></Assessment>
<ActivePlans><PlacementDetail><URN>123456</URN><PlacementRank>1</PlacementRank><EntryDate>2024-09-02</EntryDate><SENunitIndicator>0</SENunitIndicator><ResourcedProvisionIndicator>0</ResourcedProvisionIndicator></PlacementDetail>
<SENneed><SENtype>ASD</SENtype><SENtypeRank>1</SENtypeRank></SENneed><SENneed><SENtype>SLCN</SENtype><SENtypeRank>2</SENtypeRank></SENneed><ReviewMeeting>2024-12-10</ReviewMeeting><ReviewOutcome>M</ReviewOutcome></ActivePlans></Requests>
</Person>
"""


def write_return(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(n):
            body = f"{900000000000 + i:012d}"
            upn = upn_check_letter("X" + body) + body
            dob = f"{2005 + i % 18}-{1 + i % 12:02d}-{1 + i % 28:02d}"
            fh.write(PERSON.format(i=i, upn=upn, dob=dob))
        fh.write("</Persons></Message>\n")


def main(n: int = 25_000) -> None:
    with tempfile.TemporaryDirectory(prefix="sen2-bench-") as tmp:
        path = Path(tmp) / "large.xml"
        write_return(path, n)
        print(f"{n} persons, {path.stat().st_size / 1e6:.0f} MB")
        t0 = time.perf_counter()
        ret = parse_return(path)
        t1 = time.perf_counter()
        findings, _ = validate_return(ret)
        t2 = time.perf_counter()
        del ret
        frames, *_ = build_tables(path, b"bench-key")
        t3 = time.perf_counter()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"parse + flatten {t1 - t0:.1f} s; XSD + rules {t2 - t1:.1f} s ({len(findings)} findings)")
        print(f"import (parse, rules, tables) {t3 - t2:.1f} s; rows { ({k: len(v) for k, v in frames.items()}) }")
        print(f"peak memory {peak_mb:.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 25_000)
