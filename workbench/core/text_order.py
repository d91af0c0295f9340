"""Ordering text written in any script: group names, principle wordings.

The databases run with the C collation (byte order: "Zoe" before "apple", "Émile"
after "Zoe"), and Python's `sorted` compares code points the same way. These helpers
order text as a reader expects instead:

- in SQL, `text_order("name")` sorts through PostgreSQL's ICU root collation
  "und-x-icu" (the Unicode Collation Algorithm's default order, the same for every
  process and locale setting); on SQLite, which has no ICU, case-insensitively;
- in Python, `text_sort_key` is a documented simple approximation of the same order:
  compatibility-decomposed (NFKD), combining marks dropped, case-folded, with the
  NFC text as tie-breaker so the order is total and stable. `locale.strxfrm` is not
  used: it depends on the process-wide locale, which a web process must not change.
"""

from __future__ import annotations

import unicodedata

from django.db import connection
from django.db.models import F, Func, OrderBy
from django.db.models.functions import Collate, Lower

LINGUISTIC_COLLATION = "und-x-icu"


def text_sort_key(text: str) -> tuple[str, str]:
    """A sort key for `text` that ignores case and accents at the first level."""
    nfc = unicodedata.normalize("NFC", text)
    decomposed = unicodedata.normalize("NFKD", nfc)
    base = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return base.casefold(), nfc


def text_order(field: str, *, descending: bool = False) -> OrderBy:
    """An order_by() term sorting `field` linguistically (see the module doc)."""
    expression: Func = (
        Collate(F(field), LINGUISTIC_COLLATION)
        if connection.vendor == "postgresql"
        else Lower(field)
    )
    return OrderBy(expression, descending=descending)
