"""Charts in one house style. ``sendlib.publish.plots.style`` holds the style; one module per topic
(``kpi``, ``forecast``, ``sufficiency``, ``finance``, ``benchmark``) holds that topic's charts.
Every chart function takes data frames, returns a :class:`ChartResult` (figure + alt text), and
computes nothing beyond what it draws."""

from sendlib.publish.plots.style import PALETTE, RAG_COLOURS, ChartResult, apply_house_style, finish

__all__ = ["PALETTE", "RAG_COLOURS", "ChartResult", "apply_house_style", "finish"]
