"""The faster report code computes exactly what the code it replaced did.

Each test compares a function with a plain reference implementation (the code as it was before,
kept here) on random and shipped inputs: places in force by year, designations available, the
K11 PAP counts, the published-series backtest, the benchmark comparison; and checks the reuse
added: ``compare_scenarios`` given the base assessment and the DfE file cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sendlib.core.quarters import Quarter
from sendlib.data import dfe
from sendlib.models import benchmark
from sendlib.models import sufficiency as suff
from sendlib.models.forecast.aggregate import forecast, latest_run
from sendlib.models.forecast.backtest import BacktestSettings, _add_intervals, run_backtest, summarise
from sendlib.models.pap import BRAG_ORDER, DELIVERED, action_status, progress_counts
from sendlib.models.projection import GROUP_COLUMNS, PlacementProjection

ROOT = Path(__file__).resolve().parents[2]
DFE = ROOT / "data" / "reference" / "dfe"


# ----- places in force and designations ----------------------------------------------------------


def _ref_places_by_year(capacity, years, by=suff.KEY, usable_places_pct=100.0):
    by = list(by)
    keys = capacity[by].drop_duplicates().sort_values(by).reset_index(drop=True)
    frames = []
    for y in years:
        m = suff.in_force(capacity, suff.census_day(y)).fillna(False).to_numpy()
        s = capacity[m].groupby(by, dropna=False)["places"].sum().astype(float).rename("places").reset_index()
        f = keys.merge(s, on=by, how="left")
        f["places"] = f["places"].fillna(0.0) * usable_places_pct / 100.0
        f.insert(0, "year", int(y))
        frames.append(f)
    if not frames:
        return pd.DataFrame(columns=["year", *by, "places"])
    return pd.concat(frames, ignore_index=True)


def _ref_designations_available(capacity, years):
    out: dict[str, set[str]] = {}
    for y in years:
        m = suff.in_force(capacity, suff.census_day(y)).fillna(False).to_numpy()
        for phase, des in capacity.loc[m, ["phase", "designation"]].itertuples(index=False):
            out.setdefault(str(phase), set()).add(str(des))
    return out


def _random_capacity(rng, n=40):
    rows = []
    for i in range(n):
        opened = pd.Timestamp("2012-09-01") + pd.Timedelta(days=int(rng.integers(0, 6000)))
        closed = opened + pd.Timedelta(days=int(rng.integers(200, 3000))) if rng.random() < 0.2 else pd.NaT
        rows.append(
            {
                "setting_id": f"S{i}",
                "name": f"School {i}",
                "setting_type": "special_maintained",
                "phase": str(rng.choice(["primary", "secondary", "post16"])),
                "designation": str(rng.choice(["ASD", "SEMH", "mixed"])),
                "locality": str(rng.choice(["city", "north", "vale"])),
                "places": int(rng.integers(0, 120)) if rng.random() > 0.05 else None,
                "open_date": opened,
                "close_date": closed,
                "status": str(rng.choice(["open", "pipeline", "proposed"])),
            }
        )
    return suff._as_capacity(pd.DataFrame(rows))


@pytest.mark.parametrize("seed", range(6))
def test_places_by_year_and_designations_identical(seed):
    rng = np.random.default_rng(seed)
    cap = _random_capacity(rng)
    years = [2020, 2024, 2026, 2027, 2028, 2031]
    for by, pct in ((suff.KEY, 100.0), (["phase"], 92.5), (["designation", "locality"], 87.0)):
        pd.testing.assert_frame_equal(
            suff.places_by_year(cap, years, by, pct), _ref_places_by_year(cap, years, by, pct), check_exact=True
        )
    pd.testing.assert_frame_equal(suff.places_by_year(cap, [], suff.KEY), _ref_places_by_year(cap, [], suff.KEY))
    pd.testing.assert_frame_equal(suff.places_by_year(cap.iloc[:0], years), _ref_places_by_year(cap.iloc[:0], years))
    got, ref = suff.designations_available(cap, years), _ref_designations_available(cap, years)
    assert list(got.items()) == list(ref.items())  # same sets, in the same order


# ----- compare_scenarios with the base assessment handed in -----------------------------------------


def _projection(seed=0, n_sims=30, years=(2026, 2027, 2028)):
    rng = np.random.default_rng(seed)
    settings = ["special_maintained", "special_academy", "inmss", "mainstream_maintained"]
    rows = {
        "setting_type": rng.choice(settings, 120),
        "phase": rng.choice(["primary", "secondary", "post16"], 120),
        "primary_need": rng.choice(["ASD", "SEMH", "SLCN"], 120),
        "locality": rng.choice(["city", "north", "vale"], 120),
        "age_group": rng.choice(["5_10", "11_15", "16_19"], 120),
    }
    groups = pd.DataFrame(rows).drop_duplicates().reset_index(drop=True)
    draws = rng.gamma(2.0, 4.0, size=(n_sims, len(years), len(groups))).astype(np.float32)
    history = pd.DataFrame(
        {
            "year": [min(years) - 1] * len(groups),
            **{c: groups[c] for c in GROUP_COLUMNS},
            "count": rng.integers(0, 20, len(groups)),
        }
    )
    return PlacementProjection(years=list(years), groups=groups, draws=draws, history=history, label="t")


def _scenario(name, **kw):
    return suff.SufficiencyScenario(
        name=name,
        phases=("primary", "secondary", "post16"),
        designation_map={"ASD": "ASD", "SEMH": "SEMH"},
        unmatched_designation="mixed",
        **kw,
    )


@pytest.mark.parametrize("by", [["phase"], None, list(suff.KEY)])
def test_compare_scenarios_with_base_result_identical(by):
    p = _projection(1)
    cap = _random_capacity(np.random.default_rng(11))
    base, whatif = _scenario("base"), _scenario("what-if", usable_places_pct=80.0, match_within="county")
    result = suff.assess(p, cap, base)
    pd.testing.assert_frame_equal(
        suff.compare_scenarios(p, cap, base, whatif, by=by, base_result=result),
        suff.compare_scenarios(p, cap, base, whatif, by=by),
        check_exact=True,
    )
    with pytest.raises(ValueError, match="base_result"):
        suff.compare_scenarios(p, cap, whatif, base, by=by, base_result=result)


# ----- K11 counts -------------------------------------------------------------------------------------


def _ref_progress_counts(pap, quarter):
    status = action_status(pap, quarter)
    counts = {b: int((status["brag"] == b).sum()) for b in BRAG_ORDER}
    counts["started"] = int((status["movement"] == "started").sum())
    counts["moved_up"] = int((status["movement"] == "up").sum())
    counts["moved_down"] = int((status["movement"] == "down").sum())
    counts["deteriorated"] = int(status["deteriorated"].sum())
    counts["overdue"] = int(status["is_overdue"].sum())
    counts["needs_attention"] = int(status["needs_attention"].sum())
    counts["total"] = int(len(status))
    return counts


def _random_pap(rng, n):
    fy = rng.integers(2023, 2026, n)
    return pd.DataFrame(
        {
            "ref": pd.array([f"{a}.{b}" for a, b in zip(rng.integers(1, 6, n), rng.integers(1, 5, n))], dtype="string"),
            "objective": "o",
            "theme": "t",
            "project": "p",
            "due": pd.Series(
                rng.choice(list(pd.date_range("2023-01-01", "2026-12-31", periods=40)) + [pd.NaT], n)
            ).astype("datetime64[ns]"),
            "quarter": pd.array(
                [f"{y}-{str(y + 1)[-2:]}Q{q}" for y, q in zip(fy, rng.integers(1, 5, n))], dtype="string"
            ),
            "brag": pd.array(rng.choice(["grey", "red", "amber", "green", "blue", None], n), dtype="string"),
            "comment": "c",
        }
    )


@pytest.mark.parametrize("seed", range(25))
def test_progress_counts_identical(seed):
    rng = np.random.default_rng(seed)
    pap = _random_pap(rng, int(rng.integers(0, 80)))
    for q in ("2023-24Q1", "2024-25Q3", "2025-26Q1", "2026-27Q2"):
        assert progress_counts(pap, Quarter.parse(q)) == _ref_progress_counts(pap, Quarter.parse(q))
    assert set(DELIVERED) <= set(BRAG_ORDER)


# ----- backtest ----------------------------------------------------------------------------------------


def _ref_add_select(cases, s):
    if "select" not in s.methods:
        return cases
    c = cases[cases["method"].isin(s.select_candidates)]
    ape = ((c["forecast"] - c["actual"]).abs() / c["actual"]).to_numpy()
    keyed = dict(cases.groupby(["method", "origin", "horizon"]).indices.items())
    picks = []
    pairs = cases.loc[cases["method"] == s.select_fallback, ["origin", "horizon"]].drop_duplicates()
    for origin, h in pairs.itertuples(index=False):
        past = ((c["horizon"] == h) & (c["target_year"] <= origin)).to_numpy()
        chosen = (
            pd.Series(ape[past]).groupby(c["method"].to_numpy()[past]).mean().idxmin()
            if past.any()
            else s.select_fallback
        )
        pick = cases.iloc[keyed[(chosen, origin, h)]].copy()
        pick["method"] = "select"
        pick["chosen"] = chosen
        picks.append(pick)
    return pd.concat([cases] + picks, ignore_index=True)


def _ref_run_backtest(stock, years, codes, new=None, settings=None):
    s = settings or BacktestSettings()
    stock = np.asarray(stock, float)
    years = np.asarray(years, int)
    codes = np.asarray(codes, dtype=object)
    H = int(s.horizons)
    base = [
        m for m in dict.fromkeys(list(s.methods) + list(s.select_candidates) + [s.select_fallback]) if m != "select"
    ]
    rows = []
    for j in range(1, len(years) - 1):
        if s.first_origin is not None and years[j] < s.first_origin:
            continue
        hist = latest_run(stock[:, : j + 1])
        ok_origin = (~np.isnan(hist)).sum(axis=1) >= 2
        if not ok_origin.any():
            continue
        steps = np.abs(np.diff(hist, axis=1))
        n_steps = (~np.isnan(steps)).sum(axis=1)
        scale = np.where(n_steps > 0, np.nansum(steps, axis=1) / np.maximum(n_steps, 1), np.nan)
        nh = new[:, : j + 1] if new is not None else None
        fc = {m: forecast(m, hist[ok_origin], H, None if nh is None else nh[ok_origin], s.aggregate) for m in base}
        for h in range(1, H + 1):
            if j + h >= len(years):
                break
            path = stock[ok_origin, j : j + h + 1]
            actual = stock[ok_origin, j + h]
            keep = ~np.isnan(path).any(axis=1)
            if not keep.any():
                continue
            for m in base:
                rows.append(
                    pd.DataFrame(
                        {
                            "method": m,
                            "old_la_code": codes[ok_origin][keep],
                            "origin": years[j],
                            "horizon": h,
                            "target_year": years[j + h],
                            "forecast": fc[m][keep, h - 1],
                            "actual": actual[keep],
                            "scale": scale[ok_origin][keep],
                        }
                    )
                )
    cases = pd.concat(rows, ignore_index=True)
    cases = _ref_add_select(cases, s)
    cases = _add_intervals(cases, s.min_errors)
    cases = cases[cases["method"].isin(list(s.methods) + (["select"] if "select" in s.methods else []))]
    return cases.reset_index(drop=True), summarise(cases)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "methods",
    [
        ("naive_growth", "mean_growth", "damped_ets", "flow", "ensemble", "select", "no_change"),
        ("ensemble", "no_change"),  # the ensemble's members are not asked for: computed by forecast
    ],
)
def test_run_backtest_identical(seed, methods):
    rng = np.random.default_rng(seed)
    n, T = 40, 12
    stock = np.cumprod(rng.uniform(0.95, 1.15, (n, T)), axis=1) * rng.uniform(200, 4000, (n, 1))
    stock[rng.random((n, T)) < 0.06] = np.nan  # gaps and broken runs
    new = stock * rng.uniform(0.08, 0.15, (n, T))
    new[rng.random((n, T)) < 0.1] = np.nan
    s = BacktestSettings(methods=methods, horizons=3, min_errors=20)
    codes = [f"{800 + i}" for i in range(n)]
    got = run_backtest(stock, list(range(2010, 2010 + T)), codes, new, s)
    cases, summary = _ref_run_backtest(stock, list(range(2010, 2010 + T)), codes, new, s)
    # ``vol`` (the authority's volatility, for scaled intervals) is newer than this reference
    pd.testing.assert_frame_equal(got.cases.drop(columns="vol"), cases, check_exact=True)
    pd.testing.assert_frame_equal(got.summary, summary, check_exact=True)


# ----- benchmark comparison ----------------------------------------------------------------------------


def _ref_compare(frame, la, indicators=None):
    code = benchmark.resolve_la(la, frame)
    names = indicators or [i.name for i in benchmark.INDICATORS if i.name in frame.columns]
    ranked = benchmark.rank_authorities(frame, names)
    mine = ranked[ranked["old_la_code"] == code]
    latest = mine.sort_values("year").iloc[-1]
    region_code, region_name, la_name = latest["region_code"], latest["region_name"], latest["la_name"]
    reg = frame[(frame["geographic_level"] == dfe.LEVEL_REGIONAL) & (frame["region_code"] == region_code)]
    eng = frame[frame["geographic_level"] == dfe.LEVEL_NATIONAL]
    rows = []
    for name in names:
        ind = benchmark._BY_NAME.get(name, benchmark.Indicator(name, name, "", "", "context"))
        for _, r in mine.sort_values("year").iterrows():
            y = r["year"]
            rv = reg.loc[reg["year"] == y, name]
            ev = eng.loc[eng["year"] == y, name]
            la_value = r[name]
            if pd.isna(la_value) and pd.isna(rv).all() and pd.isna(ev).all():
                continue
            reason = ""
            if pd.isna(la_value):
                bits = [p for p in str(r.get("reason", "")).split("; ") if p]
                reason = "; ".join(bits) or "not published for this authority"
            rows.append(
                {
                    "old_la_code": code,
                    "la_name": la_name,
                    "region_name": region_name,
                    "indicator": name,
                    "label": ind.label,
                    "unit": ind.unit,
                    "period": {"january": "January census", "calendar": "calendar year"}.get(ind.period, ""),
                    "year": int(y),
                    "la_value": la_value,
                    "region_value": rv.iloc[0] if len(rv) else np.nan,
                    "england_value": ev.iloc[0] if len(ev) else np.nan,
                    "rank": r[f"{name}_rank"],
                    "n_ranked": r[f"{name}_n"],
                    "better": ind.better,
                    "reason": reason,
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        out["rank"] = out["rank"].astype("Int64")
        out["n_ranked"] = out["n_ranked"].astype("Int64")
    return out


@pytest.mark.skipif(not DFE.is_dir(), reason="DfE SEN2 extract not present")
def test_benchmark_compare_identical_for_every_authority():
    frame = benchmark.indicator_frame(DFE)
    codes = sorted(set(frame.loc[frame["geographic_level"] == dfe.LEVEL_LA, "old_la_code"]))
    assert len(codes) > 150
    for code in codes:
        pd.testing.assert_frame_equal(benchmark.compare(frame, code), _ref_compare(frame, code), check_exact=True)
    subset = ["inmss_pct", "ehc_plans"]
    pd.testing.assert_frame_equal(benchmark.compare(frame, codes[3], subset), _ref_compare(frame, codes[3], subset))


# ----- DfE files read once per process -----------------------------------------------------------------


@pytest.mark.skipif(not DFE.is_dir(), reason="DfE SEN2 extract not present")
def test_read_file_cached_per_file_version_and_copied(tmp_path):
    folder = tmp_path / "dfe"
    shutil.copytree(DFE, folder)
    args = ("caseload", folder, ["ehc_plans"], True)
    first = dfe.read_file(*args)
    pd.testing.assert_frame_equal(
        first, dfe.read_ees(dfe.find_file("caseload", folder), ["ehc_plans"], True, table="caseload")
    )
    first.loc[:, "value"] = -1.0  # a caller changing its copy changes nothing for the next
    again = dfe.read_file(*args)
    assert (again["value"] != -1.0).any()
    pd.testing.assert_frame_equal(
        dfe.read_file("caseload", folder, ["ehc_plans"], False),
        dfe.read_ees(dfe.find_file("caseload", folder), ["ehc_plans"], False, table="caseload"),
    )
    path = dfe.find_file("caseload", folder)
    text = path.read_text(encoding="utf-8-sig")
    header, *lines = text.splitlines()
    path.write_text("\n".join([header] + lines[: len(lines) // 2]) + "\n", encoding="utf-8")  # a new version
    assert len(dfe.read_file(*args)) < len(again)
