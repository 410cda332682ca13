"""axe-core in a page opened by headless Chromium: which accessibility rules a page breaks.

axe-core (Deque's open-source WCAG rule engine, https://github.com/dequelabs/axe-core) is pinned
in ``tests/e2e/axe/package.json`` / ``package-lock.json`` and installed with ``npm ci`` there
(``.ci/run`` does it); its ``axe.min.js`` is injected into the page over the DevTools protocol
and ``axe.run`` checks the rendered document. Nothing here installs anything.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from devtools import DevTools

AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"

#: The rule sets checked: WCAG 2.0, 2.1 and 2.2 levels A and AA, and axe's best practices
#: (heading order, landmarks, one main, a level-one heading), https://www.w3.org/TR/WCAG22/ .
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

#: Impacts that fail the check (axe's scale: minor, moderate, serious, critical).
FAILING_IMPACTS = frozenset({"serious", "critical"})

#: Rules that fail the check whatever axe's impact: the page structure a screen-reader user
#: navigates by (W3C WAI tutorials: page structure, headings; regions).
ALWAYS_FAILING = frozenset(
    {"heading-order", "page-has-heading-one", "landmark-one-main", "region", "html-has-lang", "document-title"}
)


def axe_missing() -> str | None:
    """Why the check cannot run here (axe-core not installed), or None when it can."""
    if AXE_JS.is_file():
        return None
    hint = "run `npm ci` in tests/e2e/axe" if shutil.which("npm") else "npm is not installed"
    return f"axe-core is not installed at tests/e2e/axe/node_modules ({hint})"


def run_axe(dt: DevTools, page: Path) -> list[dict[str, Any]]:
    """Open ``page`` (a local HTML file) and return axe's violations of :data:`TAGS`: one dict
    per rule with ``id``, ``impact``, ``help``, ``helpUrl`` and ``nodes`` (each with ``target``
    selectors and ``failureSummary``)."""
    dt.open(page.resolve().as_uri())
    dt.js(AXE_JS.read_text(encoding="utf-8") + "\n;void 0")
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    result = dt.js(
        f"axe.run(document, {json.dumps(options)}).then(r => r.violations.map(v => ({{"
        "id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, "
        "nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary}))"
        "})))"
    )
    return list(result or [])


def failing(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The violations that fail the check (:data:`FAILING_IMPACTS`, :data:`ALWAYS_FAILING`)."""
    return [v for v in violations if v.get("impact") in FAILING_IMPACTS or v.get("id") in ALWAYS_FAILING]


def describe(page: str, violations: list[dict[str, Any]], max_nodes: int = 5) -> str:
    """Violations as readable lines: page, rule id, impact, help, URL, then the target selectors."""
    lines = []
    for v in violations:
        lines.append(f"{page}: {v['id']} ({v.get('impact')}): {v.get('help')} <{v.get('helpUrl')}>")
        for node in v.get("nodes", [])[:max_nodes]:
            summary = " ".join((node.get("failureSummary") or "").split())[:300]
            lines.append(f"    {' > '.join(map(str, node.get('target', [])))}: {summary}")
        if len(v.get("nodes", [])) > max_nodes:
            lines.append(f"    ... and {len(v['nodes']) - max_nodes} more element(s)")
    return "\n".join(lines)
