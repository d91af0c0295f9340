import re

from workbench.cards.render.markdown import cards_markdown, md_text
from workbench.cards.services.build import card_for_principle
from workbench.deliberation.services.principles import principle_seed

HOSTILE = "Be kind <script>alert(1)</script> | ![x](http://evil)\nsecond line"


def _cells(line):
    # Table cells split on pipes that are not backslash-escaped.
    return re.split(r"(?<!\\)\|", line.strip())[1:-1]


def test_participant_text_cannot_inject_markup(setup, owner):
    principle = principle_seed(workshop=setup.workshop, text=HOSTILE, actor=owner)

    md = cards_markdown([card_for_principle(principle=principle)])

    assert "<script>" not in md
    assert "&lt;script&gt;" in md
    assert "![x](" not in md
    assert "](http" not in md
    assert "http://evil" not in md
    version_row = next(line for line in md.splitlines() if line.startswith("| 1 |"))
    assert len(_cells(version_row)) == 4
    assert "second line" in version_row


def test_md_text_escapes_tables_and_links():
    assert md_text("a|b") == "a\\|b"
    assert md_text("[x](y)") == "\\[x\\]\\(y\\)"
    assert md_text("one\ntwo") == "one<br>two"
    assert md_text("<b>") == "&lt;b&gt;"


def test_the_document_has_a_heading_per_card_and_section(setup):
    md = cards_markdown([card_for_principle(principle=p) for p in setup.seeds])
    assert md.count("\n## Principle: ") == 3
    for section in (
        "Criteria",
        "Origin",
        "Measurement",
        "Aggregation",
        "Legitimacy",
        "Pluralism",
    ):
        assert md.count(f"\n### {section}\n") == 3
