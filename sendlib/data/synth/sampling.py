"""Random streams, categorical draws and lookups of yearly parameters.

Determinism: each part of the county draws from its own ``numpy.random.default_rng([seed, k])``
stream (:func:`_rng`, ``k`` in :data:`STREAMS`), so a change in one part never shifts the draws of
another, and the same seed, end date and parameters give byte-identical files
(docs/synthetic-county.md, "Regenerating"). Within a part, the order of the draws is part of the
output: reordering two draws changes the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: the stream number ``k`` of each part of the county
STREAMS = {
    "population": 10,
    "requests_and_plans": 20,  # requests, plans in force at the start, ceasing
    "placements": 30,  # settings, providers, costs
    "annual_reviews": 40,
    "transitions": 50,
    "exclusions": 60,
    "health_waits": 70,
    "finance": 80,
    "pap": 90,
    # appended after the county was calibrated: new streams never renumber the ones above
    "phase_transfers": 100,
    "tribunal_appeals": 110,
}


def _rng(seed: int, k: int) -> np.random.Generator:
    """The random stream ``k`` of a seed."""
    return np.random.default_rng([int(seed), int(k)])


def _norm(w: Any) -> np.ndarray:
    """Weights scaled to sum to 1."""
    a = np.asarray(w, dtype=float)
    return a / a.sum()


def _choice_rows(r: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = r.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    """Sequence-number identifiers ``<prefix>000001`` ... (they carry no information)."""
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _band(age: np.ndarray, bands: Mapping) -> np.ndarray:
    """Index of the "lo-hi" band (keys in the given order) containing each age."""
    out = np.full(len(age), len(bands) - 1)
    for i, key in reversed(list(enumerate(bands))):
        lo, hi = (int(x) for x in str(key).split("-"))
        out[(age >= lo) & (age <= hi)] = i
    return out


def _by_year(table: Mapping, years: np.ndarray) -> np.ndarray:
    """Look up a {year: value} table, holding the first/last value outside its range."""
    keys = sorted(int(k) for k in table)
    vals = np.array([float(table[k]) for k in keys])
    full = np.interp(np.arange(keys[0], keys[-1] + 1), keys, vals)
    idx = np.clip(np.asarray(years, np.int64) - keys[0], 0, len(full) - 1)
    return full[idx]


def _interp_year(table: Mapping, frac_years: np.ndarray) -> np.ndarray:
    """Interpolate a {year: value} table at fractional years (values sit at mid-year)."""
    keys = sorted(int(k) for k in table)
    vals = np.array([float(table[k]) for k in keys])
    return np.interp(np.asarray(frac_years, float), np.array(keys) + 0.5, vals)
