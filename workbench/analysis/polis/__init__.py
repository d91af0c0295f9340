"""Polis-compatible opinion analysis: PCA, opinion groups, repness, consensus and
priorities, as pure numpy functions (no ORM). Entry point: `analyze`."""

from __future__ import annotations

from workbench.analysis.polis.pipeline import (
    AnalysisResult,
    GroupFigures,
    Shortfall,
    analyze,
    group_figures,
    labels_from_mapping,
)

__all__ = [
    "AnalysisResult",
    "GroupFigures",
    "Shortfall",
    "analyze",
    "group_figures",
    "labels_from_mapping",
]
