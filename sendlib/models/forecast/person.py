"""Person-level stock-flow model of EHC plans, simulated.

State: children and young people with a plan at each January census (the SEN2 count point), by
single year of age 0-25, primary need and setting type. Each year, vectorised over simulations:

1. **ceasing** - each plan ceases with an age-specific probability (binomial draws); everyone
   aged 25 leaves (no plan continues past 25, Children and Families Act 2014 s.46);
2. **ageing** - the rest age on one year;
3. **moving** - they stay in their setting or move to another with shares by single year of age
   (the age they were), pooled toward their phase and toward all ages (Dirichlet pseudo-counts
   ``kappa_age``, ``kappa_band``) so no share is 0 or 1 by accident of small numbers; stay/move
   is a binomial draw and movers are spread by a multinomial draw;
4. **joining** - new plans = population x incidence by single year of age (binomial draws), with
   the joiners' need and setting mix by age, pooled the same way.

Primary need is held for each child (changes of need are not modelled). Incidence and ceasing
follow a trend (constant / linear / damped, from the scenario) of their overall level, with
rate-path uncertainty: each simulation adds a random walk of bootstrapped historical year-on-year
changes of the level. Locality is not simulated: counts are split over localities by the latest
census's shares within (age group, need, setting), pooled toward the overall shares.

Conventions
-----------
* Age is the age in whole years on 31 August before the census (the school-year age the DfE DSG
  template uses; Reception is "under 5"); from ``birth_month`` (YYYY-MM) only.
* Phase from age, as the placements and capacity tables record it: ``early_years`` under 4,
  ``primary`` 4-10 (Reception to Year 6), ``secondary`` 11-15, ``post16`` 16-18, ``post19``
  19-25. Age bands for pooling rates and for the DSG template stay the DfE's (under 5, 5-10,
  11-15, 16-18, 19-25).
* The census is the third Thursday of January; a plan is in force on the census day if it
  started on or before it and had not ended by it; the setting is the placement spell covering
  the census day (``other`` when none).
* Joiners at census ``Y`` are set against the population of mid-year ``Y - 1`` (age at 30 June
  ``Y - 1`` equals the school-year age at census ``Y`` for all but July-August births).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sendlib.core.errors import InsufficientData
from sendlib.core.quarters import third_thursday_of_january
from sendlib.core.schema import PRIMARY_NEED, SETTING_TYPE
from sendlib.models.forecast.scenario import PersonSettings, RateSpec
from sendlib.models.projection import PlacementProjection, age_group_of

MAX_AGE = 25
#: simulations per chunk (memory / speed only; results depend on it only through the draw order)
CHUNK = 50
AGES = np.arange(MAX_AGE + 1)
NEEDS = tuple(PRIMARY_NEED)
SETTINGS = tuple(SETTING_TYPE)
#: phase band of each single year of age (also the pooling band for shares)
#: Phase of education by school-year age, as the placements and capacity tables record it
#: (Reception, the school year a child is 4 on 31 August, is primary).
PHASE_BINS = ((0, 3, "early_years"), (4, 10, "primary"), (11, 15, "secondary"), (16, 18, "post16"), (19, 25, "post19"))


def phase_of(age: np.ndarray | pd.Series | int) -> np.ndarray:
    """Phase of education from the school-year age (see module notes)."""
    a = np.asarray(age)
    labels = np.array([b[2] for b in PHASE_BINS], dtype=object)
    return labels[np.searchsorted(np.array([b[0] for b in PHASE_BINS[1:]]), a, side="right")]


def _band_index(age: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array([5, 11, 16, 19]), np.asarray(age), side="right")


def school_year_age(birth_month: pd.Series, census_year: int | np.ndarray | pd.Series) -> np.ndarray:
    """Age in whole years on 31 August before the January census of ``census_year``."""
    bm = birth_month.astype(str)
    by = bm.str[:4].astype(int).to_numpy()
    mo = bm.str[5:7].astype(int).to_numpy()
    return np.asarray(census_year) - 1 - by - (mo > 8)


# ----- snapshots at each census -----------------------------------------------------------------


def coverage_start(plans: pd.DataFrame) -> pd.Timestamp:
    """First day the case history covers: the earliest start of a plan issued from a request in
    the extract (plans carried in from before, such as converted statements or plans transferred
    in, have no ``request_id``). Without any request ids, the earliest plan start."""
    start = pd.to_datetime(plans["plan_start_date"])
    from_request = plans["request_id"].notna() if "request_id" in plans else pd.Series(False, index=plans.index)
    return start[from_request].min() if from_request.any() else start.min()


def carried_in(plans: pd.DataFrame) -> pd.Series:
    """True for plans carried into the case history from before it starts (:func:`coverage_start`):
    no request in the extract and a start before the coverage start."""
    no_request = plans["request_id"].isna() if "request_id" in plans else pd.Series(True, index=plans.index)
    return no_request & (pd.to_datetime(plans["plan_start_date"]) < coverage_start(plans))


def census_years(
    plans: pd.DataFrame, placements: pd.DataFrame | None = None, as_of: pd.Timestamp | None = None
) -> list[int]:
    """January census years the data fully covers: from the first census on or after the
    :func:`coverage_start` of the case history to the latest census on or before ``as_of``
    (default: the latest date in the tables). A census before the coverage start would count
    only the plans carried in, not the children who had plans then, so it is never used."""
    dates = [plans["plan_start_date"].max(), plans["plan_end_date"].max()]
    if placements is not None and len(placements):
        dates += [placements["start_date"].max(), placements["end_date"].max()]
    last = pd.Timestamp(as_of) if as_of is not None else max(d for d in dates if pd.notna(d))
    first = coverage_start(plans)
    years = [y for y in range(first.year, last.year + 1) if first <= third_thursday_of_january(y) <= last]
    return years


def snapshots(plans: pd.DataFrame, placements: pd.DataFrame | None, years: list[int]) -> pd.DataFrame:
    """Who had a plan at each January census: ``person_id``, ``year``, ``age``, ``primary_need``,
    ``setting_type``, ``locality`` (person-level; never published)."""
    out = []
    pl = plans.sort_values("plan_start_date")
    for y in years:
        d = third_thursday_of_january(y)
        inforce = pl[(pl["plan_start_date"] <= d) & (pl["plan_end_date"].isna() | (pl["plan_end_date"] > d))]
        inforce = inforce.drop_duplicates("person_id", keep="last")
        snap = pd.DataFrame(
            {
                "person_id": inforce["person_id"].to_numpy(),
                "year": y,
                "age": school_year_age(inforce["birth_month"], y),
                "primary_need": inforce["primary_need"].astype(str).to_numpy(),
                "locality": inforce["locality"].astype(str).to_numpy(),
            }
        )
        if placements is not None and len(placements):
            pc = placements[
                (placements["start_date"] <= d) & (placements["end_date"].isna() | (placements["end_date"] >= d))
            ]
            pc = pc.sort_values("start_date").drop_duplicates("person_id", keep="last")
            snap = snap.merge(pc[["person_id", "setting_type"]], on="person_id", how="left")
            snap["setting_type"] = (
                snap["setting_type"].astype(object).where(snap["setting_type"].notna(), "other").astype(str)
            )
        else:
            snap["setting_type"] = "other"
        out.append(snap[(snap["age"] >= 0) & (snap["age"] <= MAX_AGE)])
    return pd.concat(out, ignore_index=True)


# ----- estimation -------------------------------------------------------------------------------


@dataclass
class Rates:
    """Rates estimated from the history (arrays over ages 0-25, needs, settings).

    ``cease[a]``             probability a plan held at age ``a`` ceases before the next census
    ``move[a, s, s2]``       share of those continuing from setting ``s`` at age ``a`` who are in
                             ``s2`` at the next census
    ``incidence[a]``         joiners aged ``a`` at census ``Y`` per resident of that age (mid-year ``Y-1``)
    ``mix[a, k, s]``         joiners' need x setting mix at age ``a`` (sums to 1 over k, s)
    ``incidence_level``      yearly overall incidence level (joiners / expected at the pooled profile)
    ``cease_level``          yearly overall ceasing level (ceased / expected at the pooled profile)
    ``locality_share``       DataFrame: age_group, primary_need, setting_type, locality, share
    """

    years: list[int]
    cease: np.ndarray
    move: np.ndarray
    incidence: np.ndarray
    mix: np.ndarray
    incidence_level: pd.Series
    cease_level: pd.Series
    locality_share: pd.DataFrame
    stock: np.ndarray  # latest census counts [age, need, setting]
    last_year: int


def _shrink(counts: np.ndarray, prior: np.ndarray, kappa: float) -> np.ndarray:
    """Dirichlet-posterior mean: ``(counts + kappa * prior) / (n + kappa)`` over the last axis."""
    n = counts.sum(axis=-1, keepdims=True)
    return (counts + kappa * prior) / (n + kappa)


def _pooled_shares(counts_age: np.ndarray, kappa_age: float, kappa_band: float) -> np.ndarray:
    """Shares over the last axis of ``counts_age[a, ..., c]``: single age -> phase band -> all ages."""
    band = _band_index(AGES)
    overall = counts_age.sum(axis=0)
    tot = overall.sum(axis=-1, keepdims=True)
    p_all = np.where(tot > 0, overall / np.maximum(tot, 1e-12), 1.0 / counts_age.shape[-1])
    out = np.empty_like(counts_age, dtype=float)
    for b in range(len(PHASE_BINS)):
        ages = band == b
        p_band = _shrink(counts_age[ages].sum(axis=0), p_all, kappa_band)
        out[ages] = _shrink(counts_age[ages], p_band[None], kappa_age)
    return out


def estimate_rates(
    plans: pd.DataFrame,
    placements: pd.DataFrame | None,
    population: pd.DataFrame,
    settings: PersonSettings | None = None,
    as_of: pd.Timestamp | None = None,
    snaps: pd.DataFrame | None = None,
) -> Rates:
    """Estimate ceasing, moving and incidence rates from consecutive census snapshots.

    Uses the latest ``settings.window_years`` transitions for the age profiles and shares, and all
    transitions for the yearly levels (the trend and its bootstrap).
    """
    s = settings or PersonSettings()
    if snaps is None:
        years = census_years(plans, placements, as_of)
        snaps = snapshots(plans, placements, years)
    years = sorted(snaps["year"].unique().tolist())
    if len(years) < 2:
        raise InsufficientData(
            "at least two January censuses of plans are needed to estimate rates (one SEN2 return holds one census)"
        )
    K, S = len(NEEDS), len(SETTINGS)
    need_ix = {k: i for i, k in enumerate(NEEDS)}
    set_ix = {k: i for i, k in enumerate(SETTINGS)}
    sn = snaps.assign(k=snaps["primary_need"].map(need_ix), s=snaps["setting_type"].map(set_ix))
    sn = sn.dropna(subset=["k", "s"]).astype({"k": int, "s": int})
    nxt = sn[["person_id", "year", "s"]].assign(year=sn["year"] - 1).rename(columns={"s": "s_next"})
    pair = sn[sn["year"] < years[-1]].merge(nxt, on=["person_id", "year"], how="left")
    pair["ceased"] = pair["s_next"].isna() & (pair["age"] < MAX_AGE)
    pair = pair[pair["age"] < MAX_AGE]
    window = years[-1 - s.window_years : -1] if len(years) > s.window_years else years[:-1]
    pw = pair[pair["year"].isin(window)]
    # ceasing by age (beta shrinkage toward the band rate, band toward all ages)
    at_risk = np.bincount(pw["age"], minlength=MAX_AGE + 1).astype(float)
    ceased = np.bincount(pw["age"], weights=pw["ceased"].astype(float), minlength=MAX_AGE + 1)
    cnt = np.stack([ceased, at_risk - ceased], axis=-1)
    cease = _pooled_shares(cnt, s.shrinkage.kappa_age, s.shrinkage.kappa_band)[:, 0]
    cease[MAX_AGE] = 1.0
    # moves among those continuing
    cont = pw[~pw["ceased"]].dropna(subset=["s_next"])
    mv = np.zeros((MAX_AGE + 1, S, S))
    np.add.at(mv, (cont["age"].to_numpy(), cont["s"].to_numpy(), cont["s_next"].astype(int).to_numpy()), 1.0)
    # prior toward staying where nothing is observed: seed the all-ages level with the identity
    mv_prior = mv + np.eye(S)[None] * 1e-3
    move = _pooled_shares(mv_prior, s.shrinkage.kappa_age, s.shrinkage.kappa_band)
    # joiners: in force at Y, not at Y-1 (Y after the first census)
    prev = sn[["person_id", "year"]].assign(year=sn["year"] + 1, was=True)
    j = sn[sn["year"] > years[0]].merge(prev, on=["person_id", "year"], how="left")
    j = j[j["was"].isna()]
    pop = population.set_index(["year", "age"])["population"].astype(float)
    jyears = years[1:]
    joiners = np.zeros((len(jyears), MAX_AGE + 1))
    popm = np.zeros((len(jyears), MAX_AGE + 1))
    for i, y in enumerate(jyears):
        jy = j[j["year"] == y]
        joiners[i] = np.bincount(jy["age"], minlength=MAX_AGE + 1)
        popm[i] = [pop.get((y - 1, a), np.nan) for a in AGES]
    wj = np.isin(jyears, [y + 1 for y in window])
    incidence = np.where(popm[wj].sum(0) > 0, joiners[wj].sum(0) / np.maximum(popm[wj].sum(0), 1), 0.0)
    incidence = np.nan_to_num(incidence)
    expected = (popm * incidence[None]).sum(axis=1)
    inc_level = pd.Series(
        np.where(expected > 0, joiners.sum(axis=1) / np.maximum(expected, 1e-12), np.nan), index=jyears
    )
    # yearly ceasing level against the pooled profile
    c_level = {}
    for y, g in pair.groupby("year"):
        exp_c = cease[g["age"].to_numpy()].sum()
        c_level[y] = g["ceased"].sum() / exp_c if exp_c > 0 else np.nan
    # joiners' mix
    jw = j[j["year"].isin([y + 1 for y in window])]
    mixc = np.zeros((MAX_AGE + 1, K * S))
    np.add.at(mixc, (jw["age"].to_numpy(), (jw["k"] * S + jw["s"]).to_numpy()), 1.0)
    mix = _pooled_shares(mixc + 1e-9, s.shrinkage.kappa_age, s.shrinkage.kappa_band).reshape(MAX_AGE + 1, K, S)
    mix = _sparsify(mix, mixc.reshape(MAX_AGE + 1, K, S))
    # latest stock
    last = sn[sn["year"] == years[-1]]
    stock = np.zeros((MAX_AGE + 1, K, S))
    np.add.at(stock, (last["age"].to_numpy(), last["k"].to_numpy(), last["s"].to_numpy()), 1.0)
    return Rates(
        years=years,
        cease=cease,
        move=move,
        incidence=incidence,
        mix=mix,
        incidence_level=inc_level,
        cease_level=pd.Series(c_level, dtype=float),
        locality_share=_locality_shares(last, s.shrinkage.kappa_band),
        stock=stock,
        last_year=years[-1],
    )


def _sparsify(mix: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Keep joiners' need x setting cells that were observed at some age (others cannot be told
    apart from structural zeros), renormalised per age."""
    seen = observed.sum(axis=0) > 0
    m = np.where(seen[None], mix, 0.0)
    tot = m.sum(axis=(1, 2), keepdims=True)
    return np.where(tot > 0, m / np.maximum(tot, 1e-300), 0.0)


def _locality_shares(last: pd.DataFrame, kappa: float) -> pd.DataFrame:
    g = last.assign(age_group=age_group_of(last["age"].to_numpy()))
    overall = g["locality"].value_counts(normalize=True)
    cnt = g.groupby(["age_group", "primary_need", "setting_type", "locality"]).size().rename("n").reset_index()
    keys = g[["age_group", "primary_need", "setting_type"]].drop_duplicates()
    full = keys.merge(pd.DataFrame({"locality": overall.index, "prior": overall.to_numpy()}), how="cross")
    # only localities where this need x setting is held at all (any age): keeps the groups few
    seen = g[["primary_need", "setting_type", "locality"]].drop_duplicates().assign(seen=True)
    full = full.merge(seen, on=["primary_need", "setting_type", "locality"], how="left")
    full = full[full["seen"].notna()].drop(columns="seen")
    full["prior"] = full["prior"] / full.groupby(["age_group", "primary_need", "setting_type"])["prior"].transform(
        "sum"
    )
    full = full.merge(cnt, on=["age_group", "primary_need", "setting_type", "locality"], how="left").fillna({"n": 0})
    tot = full.groupby(["age_group", "primary_need", "setting_type"])["n"].transform("sum")
    full["share"] = (full["n"] + kappa * full["prior"]) / (tot + kappa)
    return full[["age_group", "primary_need", "setting_type", "locality", "share"]]


# ----- trends and rate paths --------------------------------------------------------------------


def trend_path(level: pd.Series, horizon: int, spec: RateSpec, window: int) -> np.ndarray:
    """Projected overall level for the next ``horizon`` years (relative to the pooled profile).

    ``constant``: mean of the last ``window`` levels; ``linear``: least-squares line through them;
    ``damped``: the fitted line's last value with its slope damped by ``phi`` each year.
    Multiplied by ``spec.multiplier`` and floored at zero.
    """
    v = level.dropna().to_numpy(float)[-window:]
    if len(v) == 0:
        base = np.ones(horizon)
    elif spec.trend == "constant" or len(v) < 2:
        base = np.full(horizon, v.mean())
    else:
        t = np.arange(len(v), dtype=float)
        slope, icpt = np.polyfit(t, v, 1)
        last = icpt + slope * t[-1]
        if spec.trend == "linear":
            base = last + slope * np.arange(1, horizon + 1)
        else:
            base = last + slope * np.cumsum(spec.phi ** np.arange(1, horizon + 1))
    return np.maximum(base * spec.multiplier, 0.0)


def bootstrap_walk(
    level: pd.Series, horizon: int, n_sims: int, rng: np.random.Generator, scale: float = 1.0
) -> np.ndarray:
    """Multipliers ``(n_sims, horizon)``: exp of a random walk of resampled, demeaned historical
    year-on-year log changes of ``level`` (ones when fewer than two changes exist)."""
    v = level.dropna().to_numpy(float)
    v = v[v > 0]
    if len(v) < 3 or scale == 0:
        return np.ones((n_sims, horizon))
    d = np.diff(np.log(v))
    d = d - d.mean()
    steps = rng.choice(d, size=(n_sims, horizon), replace=True) * scale
    return np.exp(np.cumsum(steps, axis=1))


# ----- simulation ---------------------------------------------------------------------------------


def _population_for(population: pd.DataFrame, years: list[int]) -> np.ndarray:
    """Population ``[len(years), 26]`` of mid-year ``Y - 1`` for census ``Y`` (last known year
    carried forward beyond the table, with a warning-free fallback)."""
    pv = population.pivot_table(index="year", columns="age", values="population", aggfunc="sum")
    pv = pv.reindex(columns=AGES).ffill(axis=0)
    out = np.zeros((len(years), MAX_AGE + 1))
    for i, y in enumerate(years):
        yy = min(max(y - 1, pv.index.min()), pv.index.max())
        out[i] = pv.loc[yy].to_numpy(float)
    return np.nan_to_num(out)


def simulate(
    rates: Rates,
    population: pd.DataFrame,
    horizon: int,
    n_sims: int = 1000,
    seed: int | None = 0,
    settings: PersonSettings | None = None,
) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Simulate the stock ``horizon`` years ahead.

    Returns ``(years, cells, draws)``: ``cells`` is ``(n_cells, 3)`` of (age, need index, setting
    index) and ``draws`` is ``int32 (n_sims, horizon, n_cells)``.
    """
    s = settings or PersonSettings()
    rng = np.random.default_rng(seed)
    K, S = len(NEEDS), len(SETTINGS)
    A = MAX_AGE + 1
    years = [rates.last_year + h for h in range(1, horizon + 1)]
    # reachable cells: observed stock, joiners' mix, and where movers can go (by age)
    reach = (rates.stock > 0) | (rates.mix > 0)
    need_seen = reach.any(axis=(0, 2))
    for _ in range(A):
        nxt = np.zeros_like(reach)
        nxt[1:] = np.einsum("aks,ast->akt", reach[:-1].astype(float), (rates.move[:-1] > 1e-4).astype(float)) > 0
        new = reach | nxt
        if (new == reach).all():
            break
        reach = new
    reach &= need_seen[None, :, None]
    cells = np.argwhere(reach)  # (n_cells, 3): age, k, s
    n_cells = len(cells)
    cell_id = -np.ones((A, K, S), dtype=np.int64)
    cell_id[tuple(cells.T)] = np.arange(n_cells)
    age, kk, ss = cells.T
    # destinations of each cell by setting after ageing (-1 = leaves the state)
    dest = np.full((n_cells, S), -1, dtype=np.int64)
    ok = age < MAX_AGE
    dest[ok] = cell_id[age[ok] + 1, kk[ok]][:, :]
    pmove = rates.move[np.minimum(age, MAX_AGE - 1), ss]  # (n_cells, S)
    pmove = np.where(dest >= 0, pmove, 0.0)
    pmove = pmove / np.maximum(pmove.sum(axis=1, keepdims=True), 1e-300)
    p_stay = pmove[np.arange(n_cells), ss]
    stay_dest = dest[np.arange(n_cells), ss].astype(np.int32)
    other = pmove.copy()
    other[np.arange(n_cells), ss] = 0.0
    other_tot = other.sum(axis=1, keepdims=True)
    other = np.where(other_tot > 0, other / np.maximum(other_tot, 1e-300), 0.0)
    # joiners' destinations: (age, k*S+s) -> cell
    mix_flat = rates.mix.reshape(A, K * S)
    mix_cols = np.flatnonzero(mix_flat.sum(axis=0) > 0)
    mix_p = mix_flat[:, mix_cols]
    mix_p = mix_p / np.maximum(mix_p.sum(axis=1, keepdims=True), 1e-300)
    mix_dest = cell_id.reshape(A, K * S)[:, mix_cols]  # (A, n_mix)
    # rate paths
    inc_path = trend_path(rates.incidence_level, horizon, s.incidence, s.window_years)
    ces_path = trend_path(rates.cease_level, horizon, s.ceasing, s.window_years)
    if s.uncertainty.rate_paths == "bootstrap":
        inc_walk = bootstrap_walk(
            rates.incidence_level.iloc[-s.uncertainty.level_years :], horizon, n_sims, rng, s.uncertainty.scale
        )
        ces_walk = bootstrap_walk(
            rates.cease_level.iloc[-s.uncertainty.level_years :], horizon, n_sims, rng, s.uncertainty.scale
        )
    else:
        inc_walk = ces_walk = np.ones((n_sims, horizon))
    pop = _population_for(population, years)
    # individual-level arrays (one entry per child per simulation): a Bernoulli or categorical
    # draw per child sums, per cell, to exactly the binomial / multinomial draw, and is faster
    start = rates.stock[tuple(cells.T)].astype(np.int64)
    draws = np.empty((n_sims, horizon, n_cells), dtype=np.int32)
    # flattened cumulative shares with a row offset, so one 1-D searchsorted draws every category
    cum_other = (np.cumsum(other, axis=1) + np.arange(n_cells)[:, None]).ravel()
    cum_other[S - 1 :: S] = np.arange(1, n_cells + 1)  # guard against rounding at each row's end
    cum_mix = (np.cumsum(mix_p, axis=1) + np.arange(A)[:, None]).ravel() if mix_cols.size else None
    if cum_mix is not None:
        cum_mix[len(mix_cols) - 1 :: len(mix_cols)] = np.arange(1, A + 1)
    cease_cell = rates.cease[age].astype(np.float32)
    leaves = age == MAX_AGE
    cease_cell[leaves] = np.float32(1e30)  # certain to leave whatever the year's level
    p_stay = p_stay.astype(np.float32)
    # simulations run in chunks so the per-child arrays stay cache-sized (same draws for a seed)
    for c0 in range(0, n_sims, CHUNK):
        nc = min(CHUNK, n_sims - c0)
        cell = np.tile(np.repeat(np.arange(n_cells, dtype=np.int32), start), nc)
        sim = np.repeat(np.arange(nc, dtype=np.int32), int(start.sum()))
        for h in range(horizon):
            # 1. ceasing (everyone aged 25 leaves); 2-3. age on, stay or move. One uniform per
            # child: u < p_cease ceases; otherwise (u - p_cease) / (1 - p_cease) < p_stay stays.
            m = (ces_path[h] * ces_walk[c0 : c0 + nc, h]).astype(np.float32)
            pc = cease_cell[cell] * m[sim]
            u = rng.random(cell.size, dtype=np.float32)
            alive = u >= pc
            with np.errstate(divide="ignore", invalid="ignore"):
                v = (u - pc) / (1.0 - pc)
            cell, sim, v = cell[alive], sim[alive], v[alive]
            new_cell = stay_dest[cell]
            mv = np.flatnonzero(v >= p_stay[cell])
            if mv.size:
                src = cell[mv].astype(np.int64)
                w = rng.random(mv.size) + src
                k = np.minimum(np.searchsorted(cum_other, w, side="right") - src * S, S - 1)
                new_cell[mv] = dest[src, k]
            keep = new_cell >= 0
            cell, sim = new_cell[keep], sim[keep]
            # 4. joiners: binomial by age, need x setting mix by inverse CDF
            if cum_mix is not None:
                lam = rates.incidence[None, :] * (inc_path[h] * inc_walk[c0 : c0 + nc, h])[:, None]
                lam = np.where(mix_p.sum(axis=1)[None, :] > 0, lam, 0.0)
                n_new = rng.binomial(np.broadcast_to(pop[h].astype(np.int64), lam.shape), np.clip(lam, 0, 1))
                idx = np.repeat(np.arange(nc * A), n_new.ravel())
                ja = idx % A
                u = rng.random(idx.size) + ja
                cat = np.minimum(np.searchsorted(cum_mix, u, side="right") - ja * len(mix_cols), len(mix_cols) - 1)
                jc = mix_dest[ja, cat]
                ok_j = jc >= 0
                cell = np.concatenate([cell, jc[ok_j].astype(np.int32)])
                sim = np.concatenate([sim, (idx[ok_j] // A).astype(np.int32)])
            draws[c0 : c0 + nc, h] = np.bincount(sim * np.int32(n_cells) + cell, minlength=nc * n_cells).reshape(
                nc, n_cells
            )
    return years, cells, draws


# ----- the projection handed to sufficiency and finance -----------------------------------------


def _group_frame(cells: np.ndarray) -> pd.DataFrame:
    age = cells[:, 0]
    return pd.DataFrame(
        {
            "age": age,
            "age_group": age_group_of(age),
            "phase": phase_of(age),
            "primary_need": np.array(NEEDS, dtype=object)[cells[:, 1]],
            "setting_type": np.array(SETTINGS, dtype=object)[cells[:, 2]],
        }
    )


def to_projection(
    years: list[int],
    cells: np.ndarray,
    draws: np.ndarray,
    rates: Rates,
    snaps: pd.DataFrame | None = None,
    label: str = "",
    by_age: bool = False,
) -> PlacementProjection:
    """Collapse simulated cells to projection groups (setting_type, phase, primary_need,
    locality, age_group; plus single ``age`` when ``by_age``) and split by locality shares."""
    g = _group_frame(cells)
    keys = ["age_group", "phase", "primary_need", "setting_type"] + (["age"] if by_age else [])
    codes = g.groupby(keys, sort=True).ngroup().to_numpy()
    base = g[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    n_sims, H, _ = draws.shape
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(base)))
    agg = np.add.reduceat(draws[:, :, order].astype(np.float32), starts, axis=2)
    share = rates.locality_share
    loc_all = share.groupby("locality")["share"].mean()
    loc_all = loc_all / loc_all.sum()
    full = base.merge(pd.DataFrame({"locality": loc_all.index, "prior": loc_all.to_numpy()}), how="cross")
    full = full.merge(share, on=["age_group", "primary_need", "setting_type", "locality"], how="left")
    # keys never seen at the latest census (reached by ageing or joining) use the need x setting's
    # localities at any age, else all localities
    ns = share.groupby(["primary_need", "setting_type", "locality"])["share"].mean().rename("ns_share").reset_index()
    full = full.merge(ns, on=["primary_need", "setting_type", "locality"], how="left")
    has_key = full.groupby(keys)["share"].transform("count") > 0
    has_ns = full.groupby(keys)["ns_share"].transform("count") > 0
    full["share"] = np.where(
        has_key, full["share"].fillna(0.0), np.where(has_ns, full["ns_share"].fillna(0.0), full["prior"])
    )
    full["share"] = full["share"] / full.groupby(keys)["share"].transform("sum")
    bidx = full.merge(base.reset_index(), on=keys, how="left")["index"].to_numpy()
    share_f = full["share"].to_numpy(np.float32)
    # only groups that ever hold a child: a positive share of a key that is ever positive (counts
    # and shares are never negative), so the full keys x localities array is never built
    keep = (agg.max(axis=(0, 1))[bidx] > 0) & (share_f > 0)
    out = agg[:, :, bidx[keep]] * share_f[keep][None, None, :]
    groups = full[["setting_type", "phase", "primary_need", "locality", "age_group"] + (["age"] if by_age else [])]
    history = pd.DataFrame()
    if snaps is not None:
        h = snaps.assign(age_group=age_group_of(snaps["age"].to_numpy()), phase=phase_of(snaps["age"].to_numpy()))
        history = (
            h.groupby(["year", "setting_type", "phase", "primary_need", "locality", "age_group"])
            .size()
            .rename("count")
            .reset_index()
        )
    return PlacementProjection(
        years=list(years),
        groups=groups[keep].reset_index(drop=True),
        draws=np.ascontiguousarray(out),
        history=history,
        label=label,
    )


def project(
    tables: dict[str, pd.DataFrame],
    horizon: int,
    n_sims: int = 1000,
    seed: int | None = 0,
    settings: PersonSettings | None = None,
    label: str = "",
    as_of: pd.Timestamp | None = None,
) -> PlacementProjection:
    """Estimate from ``ehcp_plans``, ``placements`` and ``population`` and simulate: the
    :class:`~sendlib.models.projection.PlacementProjection` for the next ``horizon`` January censuses."""
    s = settings or PersonSettings()
    plans, placements, population = tables["ehcp_plans"], tables.get("placements"), tables["population"]
    years = census_years(plans, placements, as_of)
    snaps = snapshots(plans, placements, years)
    rates = estimate_rates(plans, placements, population, s, snaps=snaps)
    yrs, cells, draws = simulate(rates, population, horizon, n_sims, seed, s)
    return to_projection(yrs, cells, draws, rates, snaps, label=label)


def history_totals(projection: PlacementProjection, by: list[str] | None = None) -> pd.DataFrame:
    """Recorded counts at each January census from ``projection.history`` (``year``, ``by``
    columns, ``count``): the history line of a fan chart."""
    h = projection.history
    if h is None or not len(h):
        return pd.DataFrame(columns=["year", *(by or []), "count"])
    return h.groupby(["year", *(by or [])], as_index=False)["count"].sum()
