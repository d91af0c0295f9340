"""Researcher exports: every table of a workshop through pandas (docs/exports.md)."""

from workbench.cards.exports.tables import TABLE_NAMES, TABLES, workshop_tables
from workbench.cards.exports.writers import (
    FORMATS,
    export_archive,
    export_to_folder,
    export_write,
    neutralise_formula,
)

__all__ = [
    "FORMATS",
    "TABLES",
    "TABLE_NAMES",
    "export_archive",
    "export_to_folder",
    "export_write",
    "neutralise_formula",
    "workshop_tables",
]
