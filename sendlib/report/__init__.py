"""The report layer: runs the notebooks and shares results between them.

:mod:`sendlib.report.runner` (``run_report``: gate, warm kernels, export, checks, manifest, atomic
publish), :mod:`~sendlib.report.kernel_pool`, :mod:`~sendlib.report.export`,
:mod:`~sendlib.report.checks`, :mod:`~sendlib.report.provenance`, :mod:`~sendlib.report.outputs`
(lock, atomic replace), :mod:`~sendlib.report.logs`, :mod:`~sendlib.report.runcache` (the run's
cache and the private reuse store) and :mod:`~sendlib.report.safe_store` (their pickle-free format).
:mod:`sendlib.notebook` (what a notebook's first cell calls; ``ctx.projection`` shares one
projection between the sections of a run) belongs to this layer too. Nothing under ``sendlib.data``,
``sendlib.quality`` or ``sendlib.models`` imports it (``tests/unit/test_layers.py``).
"""
