"""Deliberately broken copies of the synthetic county, one kind of breakage each.

Each breaker edits the CSV text of a copy of ``data/raw`` (never the original) and returns what
the gate's message must name: the table and the column, or the file.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sendlib.core.config import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "data" / "raw"


@dataclass(frozen=True)
class Breakage:
    kind: str
    table: str
    column: str | None  # None: the message names the file instead
    stage: str  # "loader" (DataError) or "gx" (a failed expectation)
    apply: Callable[[Path], None]


def copy_shipped(dst: Path) -> Path:
    """Copy the shipped synthetic county to ``dst`` (skip the test run when it is not there)."""
    shutil.copytree(SHIPPED, dst)
    return dst


def _read(d: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)


def _write(df: pd.DataFrame, d: Path, table: str, encoding: str = "utf-8") -> None:
    df.to_csv(d / f"{table}.csv", index=False, lineterminator="\n", encoding=encoding)


def _set(table: str, column: str, row: int, value: str) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        df = _read(d, table)
        df.loc[row, column] = value
        _write(df, d, table)

    return apply


def _missing_column(d: Path) -> None:
    df = _read(d, "ehcp_plans")
    _write(df.drop(columns=["primary_need"]), d, "ehcp_plans")


def _duplicate_key(d: Path) -> None:
    df = _read(d, "health_waits")
    _write(pd.concat([df, df.iloc[[10]]], ignore_index=True), d, "health_waits")


def _plan_before_request(d: Path) -> None:
    df = _read(d, "ehcp_requests")
    i = df.index[df["plan_issued_date"] != ""][3]
    df.loc[i, "plan_issued_date"] = (pd.Timestamp(df.loc[i, "request_date"]) - pd.Timedelta(days=30)).strftime(
        "%Y-%m-%d"
    )
    _write(df, d, "ehcp_requests")


def _future_date(d: Path) -> None:
    import yaml

    extract = pd.Timestamp(yaml.safe_load((d / "metadata.yaml").read_text())["extract_date"])
    _set("exclusions", "start_date", 7, (extract + pd.Timedelta(days=30)).strftime("%Y-%m-%d"))(d)


def _empty_table(d: Path) -> None:
    df = _read(d, "dsg_income")
    _write(df.iloc[0:0], d, "dsg_income")


def _missing_file(d: Path) -> None:
    (d / "transitions.csv").unlink()


def _wrong_encoding(d: Path) -> None:
    df = _read(d, "pap_actions")
    df.loc[2, "comment"] = "Spend £12k on training – agreed"
    _write(df, d, "pap_actions", encoding="cp1252")


def _appeal_before_decision(d: Path) -> None:
    df = _read(d, "tribunal_appeals")
    df.loc[4, "registered_date"] = (pd.Timestamp(df.loc[4, "decision_date"]) - pd.Timedelta(days=3)).strftime(
        "%Y-%m-%d"
    )
    _write(df, d, "tribunal_appeals")


def _transfer_deadline_not_statutory(d: Path) -> None:
    df = _read(d, "phase_transfers")
    df.loc[6, "due_date"] = (pd.Timestamp(df.loc[6, "due_date"]) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    _write(df, d, "phase_transfers")


BREAKAGES: list[Breakage] = [
    Breakage("missing_column", "ehcp_plans", "primary_need", "loader", _missing_column),
    Breakage(
        "unknown_code", "placements", "setting_type", "gx", _set("placements", "setting_type", 3, "boarding_school")
    ),
    Breakage("negative_cost", "placements", "annual_cost", "gx", _set("placements", "annual_cost", 5, "-1200")),
    Breakage("duplicate_key", "health_waits", "referral_id", "gx", _duplicate_key),
    Breakage("plan_issued_before_request", "ehcp_requests", "plan_issued_date", "gx", _plan_before_request),
    Breakage("future_date", "exclusions", "start_date", "gx", _future_date),
    Breakage(
        "impossible_date",
        "health_waits",
        "referral_date",
        "loader",
        _set("health_waits", "referral_date", 4, "2023-02-30"),
    ),
    Breakage("negative_places", "capacity", "places", "gx", _set("capacity", "places", 2, "-8")),
    Breakage("empty_table", "dsg_income", None, "loader", _empty_table),
    Breakage("money_as_text", "hnb_budget", "budget", "loader", _set("hnb_budget", "budget", 1, "£1,200,000")),
    Breakage("missing_file", "transitions", None, "loader", _missing_file),
    Breakage("wrong_encoding", "pap_actions", None, "loader", _wrong_encoding),
    Breakage(
        "unknown_appeal_outcome", "tribunal_appeals", "outcome", "gx", _set("tribunal_appeals", "outcome", 2, "won")
    ),
    Breakage("appeal_before_decision", "tribunal_appeals", "registered_date", "gx", _appeal_before_decision),
    Breakage("transfer_deadline_not_statutory", "phase_transfers", "due_date", "gx", _transfer_deadline_not_statutory),
]
