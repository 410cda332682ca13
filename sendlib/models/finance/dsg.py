"""Tables shaped like the DfE DSG Management Plan template.

Placements by the template's seven placement categories and five age groups (whole years of age
on 31 August before the school year, so Reception is "under 5", as the projection's
``age_group``), and income and expenditure by year with the cumulative balance.

The category map is the template's classification of our setting types (a statutory code list,
not an assumption). Mitigations change placements by setting type; the change is spread over
that setting type's age groups in proportion to its projected age mix (a setting type with no
projected placements takes the age mix of all placements that year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sendlib.core.schema import HNB_LINE
from sendlib.models.finance.model import INCOME_ITEMS, FinanceBase, SimOutput
from sendlib.models.projection import AGE_GROUPS

#: DSG Management Plan template placement categories, in the template's order.
DSG_CATEGORIES = (
    "Mainstream schools or academies",
    "Resourced provision or SEN units",
    "Maintained special schools or special academies",
    "NMSS or independent",
    "Hospital schools or alternative provision",
    "Post-16 and further education",
    "Other placements or direct payments",
)
#: setting_type -> template category (DfE DSG Management Plan template, placement categories).
SETTING_TO_CATEGORY = {
    "mainstream_maintained": DSG_CATEGORIES[0],
    "mainstream_academy": DSG_CATEGORIES[0],
    "resourced_provision": DSG_CATEGORIES[1],
    "special_maintained": DSG_CATEGORIES[2],
    "special_academy": DSG_CATEGORIES[2],
    "inmss": DSG_CATEGORIES[3],
    "alternative_provision": DSG_CATEGORIES[4],
    "fe_college": DSG_CATEGORIES[5],
    "specialist_post16": DSG_CATEGORIES[5],
    "other_post16": DSG_CATEGORIES[5],
    "elective_home": DSG_CATEGORIES[6],
    "neet": DSG_CATEGORIES[6],
    "other": DSG_CATEGORIES[6],
}
AGE_GROUP_LABELS = {"under_5": "Under 5", "5_10": "5-10", "11_15": "11-15", "16_19": "16-19", "20_25": "20-25"}
AGE_CONVENTION = "Age groups: whole years of age on 31 August before the school year (Reception = under 5)."


def template_placements(base: FinanceBase, scenario_name: str, out: SimOutput, draw: int = 0) -> pd.DataFrame:
    """Placements by DSG template category x age group per financial year (long form, whole numbers).

    Columns: ``scenario``, ``financial_year``, ``census_year``, ``category``, ``age_group``,
    ``placements``.
    """
    T, S, A = len(base.years), len(base.settings), len(AGE_GROUPS)
    g = np.zeros((T, S, A))  # projected, before mitigations
    for k, r in base.group_keys.reset_index(drop=True).iterrows():
        s, ag = str(r["setting_type"]), str(r["age_group"])
        if s in base.settings and ag in AGE_GROUPS:
            g[:, base.settings.index(s), AGE_GROUPS.index(ag)] += base.group_counts[:, k]
    adjusted = out.counts[draw]  # (T, S) after mitigations
    res = np.zeros_like(g)
    for j in range(T):
        all_mix = g[j].sum(axis=0)
        all_mix = all_mix / all_mix.sum() if all_mix.sum() > 0 else np.full(A, 1.0 / A)
        for si in range(S):
            own = g[j, si]
            mix = own / own.sum() if own.sum() > 0 else all_mix
            res[j, si] = adjusted[j, si] * mix
    rows = []
    for j, fy in enumerate(base.labels):
        for si, s in enumerate(base.settings):
            for ai, ag in enumerate(AGE_GROUPS):
                rows.append(
                    {
                        "financial_year": fy,
                        "category": SETTING_TO_CATEGORY[s],
                        "age_group": AGE_GROUP_LABELS[ag],
                        "placements": res[j, si, ai],
                    }
                )
    df = pd.DataFrame(rows)
    full = pd.MultiIndex.from_product(
        [base.labels, list(DSG_CATEGORIES), [AGE_GROUP_LABELS[a] for a in AGE_GROUPS]],
        names=["financial_year", "category", "age_group"],
    )
    agg = df.groupby(["financial_year", "category", "age_group"])["placements"].sum().reindex(full, fill_value=0.0)
    agg = agg.reset_index()
    agg.insert(0, "scenario", scenario_name)
    agg.insert(2, "census_year", agg["financial_year"].str[:4].astype(int) + 1)
    agg["placements"] = agg["placements"].round(0).astype("int64")
    return agg


def template_wide(placements: pd.DataFrame, financial_year: str, scenario: str | None = None) -> pd.DataFrame:
    """One year's template table: categories as rows (template order), age groups as columns, totals.

    ``placements`` as from :func:`template_placements` (one scenario, or choose ``scenario``).
    """
    d = placements[placements["financial_year"] == financial_year]
    if scenario is not None:
        d = d[d["scenario"] == scenario]
    wide = d.pivot_table(index="category", columns="age_group", values="placements", aggfunc="sum", fill_value=0)
    wide = wide.reindex(index=list(DSG_CATEGORIES), columns=[AGE_GROUP_LABELS[a] for a in AGE_GROUPS], fill_value=0)
    wide["Total"] = wide.sum(axis=1)
    wide.loc["Total"] = wide.sum(axis=0)
    wide.columns.name = None
    return wide.reset_index().rename(columns={"index": "category"})


def template_finance(yearly: pd.DataFrame) -> pd.DataFrame:
    """Income and expenditure by year in the template's layout: rows are items, columns years."""
    items = [
        ("Funding: high needs block allocation", "income_hnb_allocation_gbp"),
        ("Funding: transfer from the schools block", "income_block_transfer_gbp"),
        ("Funding: other income", "income_other_gbp"),
        ("Total funding", "income_gbp"),
    ]
    items += [(f"Expenditure: {label}", f"expenditure_{line}_gbp") for line, label in HNB_LINE.items()]
    items += [
        ("Expenditure: mitigation investment", "expenditure_mitigation_investment_gbp"),
        ("Total expenditure", "expenditure_gbp"),
        ("In-year surplus (+) / deficit (-)", "in_year_balance_gbp"),
        ("Cumulative DSG balance brought forward", "opening_balance_gbp"),
        ("Cumulative DSG balance carried forward", "cumulative_balance_gbp"),
    ]
    out = pd.DataFrame({"item": [i for i, _ in items]})
    for _, r in yearly.iterrows():
        out[r["financial_year"]] = [int(r[c]) for _, c in items]
    return out


__all__ = [
    "DSG_CATEGORIES",
    "SETTING_TO_CATEGORY",
    "AGE_CONVENTION",
    "INCOME_ITEMS",
    "template_placements",
    "template_wide",
    "template_finance",
]
