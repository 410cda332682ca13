"""The Great Expectations engine, shared by the input gate (:mod:`sendlib.quality`) and the SEN2
return's business rules (:mod:`sendlib.data.sen2.rules`): importing GX quietly, an in-memory
project configuration, and the row numbers of failing rows in a validation result.

Domain-free glue only: what to check lives with each caller.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

#: the column every validated frame carries with its 1-based row number (reported in failures)
ROW = "_row"


def import_gx() -> Any:
    """Import Great Expectations quietly (no analytics) and faster.

    Before the first import, :func:`sendlib.skip_slow_optional_imports` keeps jsonschema's
    optional IRI-format helper out (~2 s of CPU that neither GX nor sendlib needs).
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if "great_expectations" not in sys.modules:
        from sendlib import skip_slow_optional_imports

        skip_slow_optional_imports()
    import great_expectations as gx

    return gx


def project_config(docs_dir: Path | None, in_memory: bool) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        sites["local_site"] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            # validation pages only: each lists its suite's expectations, so suite pages would
            # repeat them (and double the build time)
            "site_section_builders": {"expectations": "0", "profiling": "0"},
        }
    kwargs: dict[str, Any] = {
        "analytics_enabled": False,
        "progress_bars": ProgressBarsConfig(globally=False, metric_calculations=False),
        "data_docs_sites": sites,
    }
    if in_memory:
        kwargs["store_backend_defaults"] = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    return DataContextConfig(**kwargs)


def rows_of(index_list: Any) -> list[int]:
    """Row numbers from a GX unexpected-index list: ``[{"_row": 3}, ...]`` or, with
    ``exclude_unexpected_values``, ``[{"_row": [3, 7, ...]}]``."""
    rows: list[int] = []
    for x in index_list or []:
        if isinstance(x, dict) and ROW in x:
            v = x[ROW]
            rows.extend(int(r) for r in (v if isinstance(v, (list, tuple)) else [v]))
    return rows
