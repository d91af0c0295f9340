"""The axe-core accessibility audit, injected into a Playwright page.

axe-core comes from the npm registry (pinned in package-lock.json; `make test` runs
scripts/ensure_axe.sh, which runs `npm ci` when it is missing). The audit checks the
WCAG 2.0 and 2.1 A and AA rules; a serious or critical violation fails the test and
is listed with the selectors of the elements that break the rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules/axe-core/axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

_RUN = """tags => axe.run(document, {
  runOnly: {type: "tag", values: tags},
  resultTypes: ["violations"],
})"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every WCAG 2.1 A/AA violation axe finds on the page as it is now."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run scripts/ensure_axe.sh")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    result: dict[str, Any] = page.evaluate(_RUN, WCAG_TAGS)
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]], where: str = "") -> str:
    """One line per rule, then the selectors of (up to five of) its elements."""
    lines = []
    for violation in violations:
        lines.append(
            f"{where}{violation['id']} ({violation['impact']}): {violation['help']}"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str = "") -> None:
    """Fails listing every serious or critical violation on the page."""
    found = blocking(axe_violations(page))
    assert not found, "axe-core found serious or critical violations:\n" + describe(
        found, where
    )
