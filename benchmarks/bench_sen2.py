"""Benchmark: a SEN2 return the size of the largest authority's (about 25,000 persons), checked and
imported (targets from issue 21: under 20 s and under 1 GB of memory).

Writes a made-up return (invented names and UPNs, no real child) of N persons to a temporary file,
then, three times, times ``parse_return`` + ``validate_return`` (the streaming read, the XSD and the
business rules on Great Expectations) and ``build_tables`` (the import: read, check and tables
again), and prints the file size, the median seconds (wall clock and CPU) of each step and the
peak resident memory of the process (sampled every 20 ms with ``psutil`` when it is installed).
Not a timed test: run ``python benchmarks/bench_sen2.py [N]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
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


class PeakMemory:
    """The process's peak resident memory, sampled in a thread (``psutil``; None without it)."""

    def __init__(self, every: float = 0.02) -> None:
        try:
            import psutil
        except ImportError:
            self.process = None
        else:
            self.process = psutil.Process()
        self.every, self.peak, self._stop = every, 0, threading.Event()

    def __enter__(self) -> PeakMemory:
        if self.process is not None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.every)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.process is not None:
            self._thread.join()
            self.peak = max(self.peak, self.process.memory_info().rss)


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main(n: int = 25_000, runs: int = 3) -> None:
    with tempfile.TemporaryDirectory(prefix="sen2-bench-") as tmp:
        path = Path(tmp) / "large.xml"
        write_return(path, n)
        print(f"{n} persons, {path.stat().st_size / 1e6:.0f} MB, {runs} runs (median)")
        check, imp = [], []
        with PeakMemory() as mem:
            for _ in range(runs):
                (findings, _), w, c = _timed(lambda: validate_return(parse_return(path)))
                check.append((w, c))
                (frames, *_), w, c = _timed(lambda: build_tables(path, b"bench-key"))
                imp.append((w, c))
        for label, xs in (("check (read, XSD, rules)", check), ("import (read, XSD, rules, tables)", imp)):
            print(
                f"{label}: {statistics.median(x[0] for x in xs):.1f} s wall, "
                f"{statistics.median(x[1] for x in xs):.1f} s CPU (runs: {', '.join(f'{x[0]:.1f}' for x in xs)} s)"
            )
        print(f"{len(findings)} findings; rows { ({k: len(v) for k, v in frames.items()}) }")
        print(f"peak memory {mem.peak / 1e6:.0f} MB" if mem.peak else "peak memory: psutil not installed")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 25_000)
