"""The opinion map renderer: valid SVG, one marker per participant, escaped text,
and no crash on degenerate input."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.deliberation.analysis_fixtures import HOSTILE, fabricated_result
from workbench.deliberation.opinion_map import (
    opinion_group_styles,
    render_opinion_map,
    short_label,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314  our own output, not untrusted XML


def markers(root: ET.Element) -> list[ET.Element]:
    return [
        use
        for group in root.iter(SVG + "g")
        if group.get("class") == "participants"
        for use in group.findall(SVG + "use")
    ]


def test_renders_one_marker_per_participant():
    root = parse(render_opinion_map(fabricated_result()))
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    assert len(markers(root)) == 8
    assert root.find(SVG + "title").text == "Opinion map"
    assert "8 participants and 3 principles." in root.find(SVG + "desc").text


def test_groups_differ_in_shape_not_only_colour():
    styles = opinion_group_styles(fabricated_result())
    assert len({s.shape for s in styles.values()}) == len(styles) == 2
    assert len({s.colour for s in styles.values()}) == 2
    root = parse(render_opinion_map(fabricated_result()))
    hrefs = {
        group.get("data-group"): {use.get("href") for use in group}
        for group in root.iter(SVG + "g")
        if group.get("class") == "participants"
    }
    assert hrefs["0"] != hrefs["1"]


def test_principle_text_is_escaped():
    svg = render_opinion_map(fabricated_result())
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    titles = [t.text for t in parse(svg).iter(SVG + "title")]
    assert any(HOSTILE in (t or "") for t in titles)


def test_hostile_ids_and_group_names_are_escaped():
    result = fabricated_result(
        [(1, '"><script>1</script>', HOSTILE)],
        participant_groups=(HOSTILE, "<i>b</i>"),
        participants=['"><img src=x onerror=alert(1)>', "p2"],
    )
    for grouping in ("opinion", "participant"):
        svg = render_opinion_map(
            result,
            grouping=grouping,
            highlight_participant='"><img src=x onerror=alert(1)>',
        )
        parse(svg)
        assert "<script>" not in svg
        assert "<img" not in svg
        assert "<i>" not in svg


def test_highlighted_participant_is_labelled():
    root = parse(render_opinion_map(fabricated_result(), highlight_participant="p5"))
    you = [g for g in root.iter(SVG + "g") if g.get("class") == "you"]
    assert len(you) == 1
    assert you[0].find(SVG + "text").text == "You are here"
    assert "You are in Opinion group B." in root.find(SVG + "desc").text


def test_unknown_highlight_draws_no_label():
    svg = render_opinion_map(fabricated_result(), highlight_participant="nobody")
    assert "You are here" not in svg


def test_participant_grouping_uses_the_workshops_groups():
    svg = render_opinion_map(fabricated_result(), grouping="participant")
    root = parse(svg)
    assert {
        g.get("data-group")
        for g in root.iter(SVG + "g")
        if g.get("class") == "participants"
    } == {"Nurses", "Teachers"}
    assert len(markers(root)) == 8


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"map": None, "groups": None},
        {"map": {"participants": [], "principles": []}, "groups": {}},
        {
            "groups": {"0": 3},
            "map": {
                "participants": [
                    {"id": i, "x": 0.0, "y": 0.0, "group": 0} for i in range(3)
                ],
                "principles": [{"external_id": "1", "x": 0, "y": 0}],
            },
        },
        {
            "groups": {},
            "map": {
                "participants": [
                    {"id": "a", "x": float("nan"), "y": 1, "group": None},
                    {"id": "b", "x": "bad", "y": None, "group": None},
                    {"id": "c", "x": 2, "y": -1, "group": 7},
                ],
                "principles": [{"external_id": "", "x": None, "y": 1}],
            },
        },
    ],
    ids=["empty", "nulls", "no-participants", "all-equal-one-group", "unplaceable"],
)
def test_degenerate_input_gives_a_valid_map(result):
    root = parse(render_opinion_map(result, highlight_participant="a"))
    assert root.get("viewBox")


def test_participants_outside_any_group_get_their_own_legend_entry():
    result = fabricated_result()
    result["map"]["participants"][0]["group"] = None
    svg = render_opinion_map(result)
    assert "Not in a group (1)" in svg
    assert len(markers(parse(svg))) == 8


def test_two_maps_on_a_page_have_distinct_ids():
    first = render_opinion_map(fabricated_result(), id_prefix="a")
    second = render_opinion_map(fabricated_result(), id_prefix="b")
    ids = [e.get("id") for e in parse(first).iter() if e.get("id")]
    ids += [e.get("id") for e in parse(second).iter() if e.get("id")]
    assert len(ids) == len(set(ids))


def test_long_external_ids_are_shortened():
    assert short_label("abc") == "abc"
    assert short_label("x" * 30) == "x" * 9 + "…"
