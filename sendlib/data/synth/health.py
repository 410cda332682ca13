"""Referrals to children's health services and the wait to first contact.

Four services: the neurodevelopmental (autism / ADHD assessment) pathway, whose median wait rises
from ~30 to ~60 weeks and leaves a growing list still waiting, and speech and language,
occupational therapy and physiotherapy (medians 8-17 weeks). Referrals are monthly Poisson counts;
waits are log-normal around the year's median (``health_waits`` in ``config/synth.yaml``, an
assumption; docs/synthetic-county.md). A first contact after the end date is missing: still waiting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.data.synth.calendar import NA, _frac_year, _month_start, _to_dates, _ym
from sendlib.data.synth.sampling import STREAMS, _ids, _interp_year, _rng
from sendlib.data.synth.state import County

SERVICES = ["neurodevelopmental", "speech_language", "occupational_therapy", "physiotherapy"]


def health_waits(c: County) -> None:
    """Build the ``health_waits`` table, sorted by referral date and service."""
    H = c.params["health_waits"]
    r = _rng(c.seed, STREAMS["health_waits"])
    months = np.arange(_ym(np.array([c.start]))[0], _ym(np.array([c.end]))[0] + 1)
    mstart = _month_start(months)
    mlen = _month_start(months + 1) - mstart
    frames = []
    for service in SERVICES:
        S = H[service]
        rate = _interp_year(S["referrals"], months / 12.0 + 1 / 24.0) / 12.0
        counts = r.poisson(rate)
        mi = np.repeat(np.arange(len(months)), counts)
        ref = mstart[mi] + np.floor(r.random(len(mi)) * mlen[mi]).astype(np.int64)
        ref = np.sort(ref[ref <= c.end], kind="stable")
        med = _interp_year(S["median_weeks"], _frac_year(ref))
        weeks = np.minimum(med * np.exp(r.normal(0.0, float(S["sd_log"]), len(ref))), float(H["max_weeks"]))
        first = ref + np.round(weeks * 7).astype(np.int64)
        first = np.where(first > c.end, NA, first)
        frames.append((service, ref, first))
    ref = np.concatenate([f[1] for f in frames])
    first = np.concatenate([f[2] for f in frames])
    service = np.concatenate([np.full(len(f[1]), f[0], dtype=object) for f in frames])
    order = np.lexsort((service, ref))
    c.tables["health_waits"] = pd.DataFrame(
        {
            "referral_id": _ids("H", len(ref), 6),
            "service": service[order],
            "referral_date": _to_dates(ref[order]),
            "first_contact_date": _to_dates(first[order]),
        }
    )
