"""The data-quality gate: Great Expectations suites built from :mod:`sendlib.core.schema` plus hand rules.

Nothing downstream may run on data that fails here. The gate has two layers:

1. :mod:`sendlib.data.loaders` loaders refuse files that cannot be parsed at all (missing file or column,
   impossible date, money written as text, wrong encoding, empty table) with a ``DataError``.
2. Great Expectations (GX 1.x) validates the coerced tables against one suite per table,
   declared here (:func:`declare_rules`) and committed as a GX file project in ``expectations/``
   (:func:`build_project`; ``python -m sendlib.quality build``). :func:`validate_tables` runs the
   committed suites in one in-memory GX context and returns a :class:`ValidationReport`.

Rules that need values known only at run time (the extract date, the configured localities,
other tables, the volume band) are computed in pandas into boolean ``chk__*`` columns of the
validated frame (or of the ``volume`` frame: one row per table x quarter) and checked with
``ExpectColumnValuesToBeInSet([True])``, so the committed suites never depend on the data.

Privacy: every frame carries a synthetic ``_row`` column (1-based data row, header excluded) and
GX reports unexpected rows by it; values of identifying columns (``Column.identifying``) are
scrubbed from every result before it is stored or rendered into Data Docs.
"""
