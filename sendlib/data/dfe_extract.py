"""Rebuild the shipped DfE SEN2 extract (``data/reference/dfe``) from the full DfE downloads.

Usage::

    python -m sendlib.data.dfe_extract --source /path/to/dfe --out data/reference/dfe

``--source`` is a folder holding the explore-education-statistics downloads of "Education, health
and care plans" (the 2025 release files ``caseload.csv``, ``requests.csv``, ... and the 2022 release
files ``sen2_age_caseload.csv``, ``sen2_estab_caseload.csv``, ``sen2_mi.csv``; found by name
anywhere under the folder) and optionally ``lait2025_la_lookup.csv``.

The extract keeps the EES layout (same file names, release sub-folders, original column names and
symbols) so :mod:`sendlib.data.dfe` reads it exactly as it reads the downloads, but only:

* national, regional and local-authority rows;
* the total rows ("All ..."/"Total") of each file; from the 2022 establishment file, the
  all-establishments and special-school totals and the independent / non-maintained special rows
  that placement mix needs;
* the indicator columns the suite uses (:data:`KEEP`).

Files are written as UTF-8 without a byte-order mark, LF line ends. The few files that are not
explore-education-statistics tables (:data:`COPY`: the SEND Tribunal appeal-rate table) are copied
byte for byte as published. ``README.md`` and ``caveats.yaml`` in the output folder are hand-written
and left alone.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sendlib.data.dfe import ID_COLUMNS, KNOWN_FILTERS, LEVEL_LA, LEVEL_NATIONAL, LEVEL_REGIONAL, is_total_row

#: file -> (release sub-folder, indicator columns kept, row rule). Row rules: "totals" keeps the
#: total rows only; "all" keeps every row (sen2_mi has no filters); "estab" keeps the
#: all-establishments and special-school totals and the independent / non-maintained special rows.
KEEP: dict[str, tuple[str, tuple[str, ...], str]] = {
    "caseload.csv": (
        "dfe_ehcp_2025_release",
        (
            "ehcplans",
            "mainstream_total",
            "special_la_maintained",
            "special_academy_free",
            "special_independent",
            "special_non_maintained",
            "special_total",
            "ap_pru_total",
            "fe_total",
            "elective_home_education",
            "neet",
            "nm_early_years",
            "placement_unknown",
            # the England comparators' placement mix (sendlib.data.comparators)
            "general_fe_tertiary_colleges",
            "specialist_post_16_institutions",
            "mainstream_la_maintained_resourced_provision",
            "mainstream_la_maintained_senunit",
            "mainstream_academy_resourced_provision",
            "mainstream_academy_senunit",
            "mainstream_free_school_resourced_provision",
            "mainstream_free_school_senunit",
        ),
        "totals",
    ),
    "requests.csv": (
        "dfe_ehcp_2025_release",
        (
            "requests_received_in_year",
            "requests_decided_to_assess",
            "requests_decided_not_to_assess",
            "requests_decision_not_made",
            "requests_withdrawn",
            "request_not_assess_pc",
            "request_outcome_six_weeks",
            "request_outcome_over_6_weeks",
            "request_outcome_six_weeks_pc",
        ),
        "totals",
    ),
    "assessments.csv": ("dfe_ehcp_2025_release", ("assess_in_year", "assess_issued", "assess_not_issued"), "totals"),
    "timeliness_20_week.csv": (
        "dfe_ehcp_2025_release",
        (
            "plans_issued_den",
            "plans_issued_den_ex",
            "plans_issued_within_20_weeks",
            "plans_issued_20_weeks_ex",
            "pc_plans_issued_within_20_weeks",
            "PC_plans_issued_20_weeks_ex",
        ),
        "totals",
    ),
    "newplans.csv": ("dfe_ehcp_2025_release", ("new_ehc_plans",), "totals"),
    "ceased_plans.csv": ("dfe_ehcp_2025_release", ("total_ceased",), "totals"),
    "annual_reviews.csv": (
        "dfe_ehcp_2025_release",
        ("total_ehc_plans", "review_expected", "number_decsion_4weeks", "number_decision_gt_4weeks"),
        "totals",
    ),
    "sen_needs_all_plans.csv": (
        "dfe_ehcp_2025_release",
        (
            "ehc_plans",
            "number_asd",
            "number_hi",
            "number_mld",
            "number_msi",
            "number_oth",
            "number_pd",
            "number_pmld",
            "number_semh",
            "number_slcn",
            "number_sld",
            "number_spld",
            "number_vi",
            "number_need_unknown",
        ),
        "totals",
    ),
    "sen2_age_caseload.csv": ("dfe_ehcp_2022_release", ("Total_st", "Total_ehc", "Total_all"), "totals"),
    "sen2_age_new_plans.csv": (
        "dfe_ehcp_2022_release",
        ("Total_new_st", "Total_new_ehc", "Total_new_all"),
        "totals",
    ),
    "sen2_estab_caseload.csv": ("dfe_ehcp_2022_release", ("Total_st", "Total_ehc", "Total_all"), "estab"),
    "sen2_mi.csv": (
        "dfe_ehcp_2022_release",
        (
            "InreqEHC",
            "AssRefusedEHC",
            "NewallEHC",
            "AssnoneEHC",
            "TotIncExcEHC",
            "IncExc20weekEHC",
            "IncExc20weekRate",
            "TotNoExcEHC",
            "NoExc20weekEHC",
            "NoExc20weekRate",
        ),
        "all",
    ),
}

LOOKUP = "lait2025_la_lookup.csv"

#: files copied byte for byte, as published (not explore-education-statistics tidy files, so
#: :data:`KEEP`'s row and column rules do not apply; small): file -> release sub-folder.
#: ``sendlib.data.tribunals`` reads the appeal-rate table in its published layout.
COPY: dict[str, str] = {
    "SEND Tribunals and appeal rate 2014-2024.csv": "dfe_ehcp_2025_release",
}


def extract_file(src: Path, columns: Sequence[str], rule: str) -> pd.DataFrame:
    """The extract of one downloaded EES file (strings, symbols kept as published)."""
    df = pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.columns = [str(c).replace("\ufeff", "").strip() for c in df.columns]
    df = df.loc[:, ~pd.Index(df.columns).duplicated()]
    df = df[df["geographic_level"].isin([LEVEL_NATIONAL, LEVEL_REGIONAL, LEVEL_LA])]
    filters = [c for c in KNOWN_FILTERS if c in df.columns]
    if rule == "totals":
        df = df[is_total_row(df, filters)]
    elif rule == "estab":
        t = df["establishment_type"]
        g = df["establishment_group"]
        keep_groups = (t == "Total") & g.isin(["Total", "Special school"])
        df = df[keep_groups | t.isin(["Special - Independent", "Special - Non-maintained"])]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SystemExit(f"{src}: column(s) {missing} not found; has the DfE renamed them?")
    ids = [c for c in ID_COLUMNS if c in df.columns]
    return df[ids + filters + list(columns)]


def build(source: Path, out: Path) -> list[Path]:
    """Write the extract from ``source`` to ``out``; return the files written."""
    written = []
    for name, (folder, columns, rule) in KEEP.items():
        hits = sorted(source.rglob(name))
        if not hits:
            print(f"warning: {name} not found under {source}; skipped", file=sys.stderr)
            continue
        frame = extract_file(hits[-1], columns, rule)
        dest = out / folder / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(dest, index=False, lineterminator="\n", encoding="utf-8")
        written.append(dest)
    for name, folder in COPY.items():
        hits = sorted(source.rglob(name))
        if not hits:
            print(f"warning: {name} not found under {source}; skipped", file=sys.stderr)
            continue
        dest = out / folder / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(hits[-1], dest)
        written.append(dest)
    lookups = sorted(source.rglob(LOOKUP))
    if lookups:
        shutil.copyfile(lookups[-1], out / LOOKUP)
        written.append(out / LOOKUP)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sendlib.data.dfe_extract", description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="folder with the DfE downloads (searched recursively)")
    parser.add_argument("--out", default="data/reference/dfe", help="extract folder (default: data/reference/dfe)")
    args = parser.parse_args(argv)
    source, out = Path(args.source).expanduser().resolve(), Path(args.out).expanduser().resolve()
    if not source.is_dir():
        print(f"error: --source {source} is not a folder", file=sys.stderr)
        return 2
    written = build(source, out)
    total = sum(p.stat().st_size for p in written)
    for p in written:
        print(f"{p.stat().st_size:>10,d}  {p.relative_to(out)}")
    print(f"{total:>10,d}  bytes in {len(written)} files -> {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
