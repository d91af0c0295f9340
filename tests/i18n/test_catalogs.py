"""The Spanish and German catalogs are complete, current and correctly compiled.

makemessages runs over a copy of the tree with the Makefile's own arguments, so a
string added to the code or a template without a translation fails here."""

from __future__ import annotations

import gettext
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from tests.i18n.catalog import Entry, read_po

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ["es", "de"]

pytestmark = pytest.mark.skipif(
    shutil.which("msgfmt") is None or shutil.which("xgettext") is None,
    reason="GNU gettext is missing (scripts/ensure_gettext.sh installs it)",
)


def makefile_messages_args() -> list[str]:
    """MESSAGES_ARGS from the Makefile: the test extracts as `make messages` does."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(r"^MESSAGES_ARGS := (.*)$", text, re.M)
    assert match, "the Makefile has no MESSAGES_ARGS line"
    return shlex.split(match.group(1))


def po_path(root: Path, lang: str) -> Path:
    return root / "locale" / lang / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="module")
def fresh_root(tmp_path_factory) -> Path:
    """A copy of the code, templates and catalogs with makemessages run over it."""
    root = tmp_path_factory.mktemp("tree")
    for name in ("workbench", "templates", "locale"):
        shutil.copytree(
            ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "manage.py", root / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", *makefile_messages_args()],
        cwd=root,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "PYTHONPATH": str(root)},
    )
    return root


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_string_in_the_code_is_translated(fresh_root, lang):
    """After makemessages, no entry is new, untranslated or fuzzy."""
    entries = read_po(po_path(fresh_root, lang))[1:]
    assert len(entries) > 900
    untranslated = [e.msgid for e in entries if not e.translated]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert untranslated == [], f"{lang}: {len(untranslated)} untranslated"
    assert fuzzy == [], f"{lang}: {len(fuzzy)} fuzzy"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_catalog_matches_the_code(fresh_root, lang):
    """The committed .po has exactly the strings the code has, with the same
    translations: nothing stale, nothing missing."""
    committed = {e.key: e.msgstr for e in read_po(po_path(ROOT, lang))[1:]}
    fresh = {e.key: e.msgstr for e in read_po(po_path(fresh_root, lang))[1:]}
    assert sorted(set(fresh) - set(committed)) == []
    assert sorted(set(committed) - set(fresh)) == []
    assert committed == fresh


@pytest.mark.parametrize("lang", LANGUAGES)
def test_committed_mo_is_compiled_from_the_committed_po(tmp_path, lang):
    po = po_path(ROOT, lang)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `make messages`"
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(po)], check=True)
    with mo.open("rb") as committed, compiled.open("rb") as fresh:
        assert (
            gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
            == gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        ), f"{mo} is out of date: run `make messages`"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_header_declares_language_and_plural_forms(lang):
    header = read_po(po_path(ROOT, lang))[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert f"Language: {lang}\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]


PYTHON_FORMAT = re.compile(
    r"%(?:\((?P<name>[^)]+)\))?[-#0 +]*\d*(?:\.\d+)?(?P<conv>[diouxXeEfFgGcrsa%])"
)
BRACE = re.compile(r"\{(\w+)\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def placeholders(text: str, python_format: bool) -> Counter[str]:
    found: Counter[str] = Counter(f"{{{name}}}" for name in BRACE.findall(text))
    found.update(TAG.findall(text))
    if python_format:
        for match in PYTHON_FORMAT.finditer(text):
            if match["conv"] != "%":
                found[match.group(0)] += 1
    return found


def pairs(entry: Entry) -> list[tuple[str, str]]:
    if entry.msgid_plural is None:
        return [(entry.msgid, entry.msgstr[0])]
    return [(entry.msgid, entry.msgstr[0]), (entry.msgid_plural, entry.msgstr[1])]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_every_placeholder_and_tag(lang):
    """%(name)s, %s, {name} and HTML tags appear in a translation exactly as in
    its source string."""
    problems = []
    for entry in read_po(po_path(ROOT, lang))[1:]:
        python_format = "python-format" in entry.flags
        for source, translation in pairs(entry):
            if placeholders(source, python_format) != placeholders(
                translation, python_format
            ):
                problems.append((source, translation))
    assert problems == []


def test_msgfmt_accepts_both_catalogs():
    """msgfmt --check also checks the python-format directives against msgid."""
    for lang in LANGUAGES:
        subprocess.run(
            ["msgfmt", "--check", "-o", "/dev/null", str(po_path(ROOT, lang))],
            check=True,
        )
