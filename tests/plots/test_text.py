"""plots.text and plots.text_html: what is drawn is what was computed. Each token's box has the
diverging colour map's colour at its score normalised by the row's max |score| (padding left
out), tokens read in order and do not overlap, the colour bar spans +-max|score|; the HTML's
spans carry the same colours and the scores, escape tokens, and render in headless Chromium
(tests/chromium.py: without Chromium that test fails, as the report's browser tests do)."""

from __future__ import annotations

import html
import itertools
import re
from html.parser import HTMLParser

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex, to_rgba

import glassbox as gb
from chromium import open_page
from plots.conftest import render

TOKENS = [
    ["[CLS]", "the", "<b>", "film", "was", "$x$", "dull", "&", "[PAD]", "[PAD]"],
    ["[CLS]", "a", "truly", "wonderful", "and", "moving", "story", "of", "hope", "<pad>"],
]


def token_explanation(D=3, seed=0):
    """(2, 10, D) values (an embedding's attributions) with tokens; pads get large scores so
    that leaving them out of the colour scale shows."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(2, 10, D))
    values[0, 8:] = 50.0
    values[1, 9] = -50.0
    exp = gb.Explanation(values=values, data=np.zeros((2, 10)), method="layer_ig")
    return exp.with_tokens(TOKENS)


def expected(exp, row, pads=("[PAD]", "<pad>")):
    """The tokens shown, their scores and colours, and the colour scale's limit, by hand."""
    scores = np.asarray(exp.values[row], dtype=np.float64).sum(-1)
    keep = [j for j, token in enumerate(exp.tokens[row]) if token not in pads]
    scores = scores[keep]
    limit = np.abs(scores).max()
    colours = matplotlib.colormaps["RdBu_r"]((scores / limit + 1) / 2)
    return [exp.tokens[row][j] for j in keep], scores, colours, limit


def colour_bar_axes(ax):
    [other] = [a for a in ax.figure.axes if a is not ax]
    return other


@pytest.mark.parametrize("row", [0, 1])
def test_boxes_have_the_colour_of_their_scores(row):
    exp = token_explanation()
    ax = gb.plots.text(exp, row=row, width=24)
    tokens, scores, colours, limit = expected(exp, row)
    assert [t.get_text() for t in ax.texts] == tokens
    for text, colour in zip(ax.texts, colours, strict=True):
        np.testing.assert_allclose(text.get_bbox_patch().get_facecolor(), colour, atol=1e-12)
    np.testing.assert_allclose(colour_bar_axes(ax).get_xlim(), (-limit, limit), rtol=1e-12)
    # the largest |score| is an end of the map
    end = np.argmax(np.abs(scores))
    end_colour = matplotlib.colormaps["RdBu_r"](1.0 if scores[end] > 0 else 0.0)
    np.testing.assert_allclose(ax.texts[end].get_bbox_patch().get_facecolor(), end_colour)
    pixels = render(ax)
    assert pixels.shape[1] > pixels.shape[0]  # a line of text is wide


def test_tokens_read_in_order_wrap_and_do_not_overlap():
    exp = token_explanation()
    ax = gb.plots.text(exp, row=1, width=20)
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    places = [t.get_position() for t in ax.texts]
    lines = sorted({y for _, y in places})
    assert len(lines) > 1  # 55 characters in lines of 20
    assert places == sorted(places, key=lambda p: (p[1], p[0]))  # left to right, top down
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in ax.texts]
    area = ax.get_window_extent(renderer)
    for (_, y), box, (_, y2), box2 in zip(places, boxes, places[1:], boxes[1:], strict=False):
        if y == y2:
            assert box.x1 <= box2.x0 + 0.5, "boxes on one line overlap"
        else:
            assert box2.y1 <= box.y0 + 0.5, "a line overlaps the one above"
    assert all(area.x0 - 2 <= b.x0 and b.x1 <= area.x1 + 2 for b in boxes), "text leaves the axes"


def test_dollar_signs_are_text_not_mathtext():
    ax = gb.plots.text(token_explanation(), row=0)
    [dollar] = [t for t in ax.texts if "$" in t.get_text()]
    assert dollar.get_text() == "$x$" and not dollar.get_parse_math()


def test_single_row_skip_and_plot():
    exp = token_explanation(D=1)[0]
    ax = gb.plots.text(exp, skip=set())  # nothing skipped: the pads are drawn too
    assert [t.get_text() for t in ax.texts] == TOKENS[0]
    np.testing.assert_allclose(colour_bar_axes(ax).get_xlim(), (-50, 50))
    plt.close("all")
    skipping = exp.with_tokens(TOKENS[0], skip={"[PAD]", "<b>", "&"})
    drawn = [t.get_text() for t in gb.plots.plot(skipping).texts]
    assert drawn == ["[CLS]", "the", "film", "was", "$x$", "dull"]
    _, axes = plt.subplots()
    assert gb.plots.plot(token_explanation(), ax=axes) is axes  # plot() picks text


def test_scores_per_token_without_an_embedding_axis():
    values = np.array([[0.5, -2.0, 1.0, 0.0]])
    exp = gb.Explanation(values=values, data=np.zeros((1, 4))).with_tokens(["a", "b", "c", "d"])
    ax = gb.plots.text(exp)
    cmap = matplotlib.colormaps["RdBu_r"]
    for text, score in zip(ax.texts, values[0], strict=True):
        np.testing.assert_allclose(text.get_bbox_patch().get_facecolor(), cmap(score / 4 + 0.5))
    np.testing.assert_allclose(colour_bar_axes(ax).get_xlim(), (-2.0, 2.0))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda e: gb.plots.text(e.values), TypeError, "Explanation"),
        (lambda e: gb.plots.text(gb.Explanation(e.values, e.data)), ValueError, "with_tokens"),
        (lambda e: gb.plots.text(e, row=2), IndexError, "row"),
        (lambda e: gb.plots.text(e, row=1.0), TypeError, "row"),
        (lambda e: gb.plots.text(e, width=0), ValueError, "width"),
        (lambda e: gb.plots.text(e, ax="axes"), TypeError, "ax"),
        (lambda e: gb.plots.text_html(e, rows=[3]), IndexError, "row"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(token_explanation())


class Spans(HTMLParser):
    """Per row div: its spans as (text, style, title)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[dict]] = []
        self.tags: list[str] = []
        self.span: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "div" and "data-row" in attrs:
            self.rows.append([])
        elif tag == "span":
            self.span = {**attrs, "text": ""}
            self.rows[-1].append(self.span)

    def handle_endtag(self, tag):
        if tag == "span":
            self.span = None

    def handle_data(self, data):
        if self.span is not None:
            self.span["text"] += data


def background(style):
    return re.search(r"background-color:(#[0-9a-f]{6})", style).group(1)


def test_html_spans_carry_the_colours_and_scores():
    exp = token_explanation()
    fragment = gb.plots.text_html(exp)
    parser = Spans()
    parser.feed(fragment)
    parser.close()
    assert len(parser.rows) == 2
    assert set(parser.tags) == {"div", "span"}  # no script, no link, no image
    assert "<script" not in fragment and "url(" not in fragment and "http" not in fragment
    for row, spans in enumerate(parser.rows):
        tokens, scores, colours, _ = expected(exp, row)
        assert [s["text"] for s in spans] == tokens
        assert [background(s["style"]) for s in spans] == [to_hex(c) for c in colours]
        np.testing.assert_allclose([float(s["title"]) for s in spans], scores, rtol=1e-5)
    # the same colours as the matplotlib boxes
    ax = gb.plots.text(exp, row=1)
    assert [to_hex(t.get_bbox_patch().get_facecolor()) for t in ax.texts] == [
        background(s["style"]) for s in parser.rows[1]
    ]


def test_html_escapes_tokens():
    exp = gb.Explanation(values=np.array([[1.0, -1.0, 0.5]]), data=np.zeros((1, 3)))
    evil = ["<b>bold</b>", '"><script>alert(1)</script>', "a&b"]
    fragment = gb.plots.text_html(exp.with_tokens(evil))
    assert "<b>" not in fragment and "<script>" not in fragment
    assert html.escape(evil[1]) in fragment and "a&amp;b" in fragment
    parser = Spans()
    parser.feed(fragment)
    assert [s["text"] for s in parser.rows[0]] == evil
    assert set(parser.tags) == {"div", "span"}
    shown = gb.plots.text_html(exp.with_tokens(evil), rows=[0])
    assert shown == fragment
    assert exp.with_tokens(evil)._repr_html_() == fragment
    assert exp._repr_html_() is None  # no tokens: the plain repr


PAGE = """(() => [...document.querySelectorAll('div.gb-row')].map(row =>
  [...row.querySelectorAll('span')].map(span => {
    const box = span.getBoundingClientRect();
    return {text: span.textContent, title: span.title,
            colour: getComputedStyle(span).backgroundColor,
            x: box.left, y: box.top, width: box.width, height: box.height};
  })))()"""


def test_html_renders_in_chromium(tmp_path):
    exp = token_explanation()
    path = tmp_path / "tokens.html"
    document = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>tokens</title></head>'
        f'<body style="margin:8px;background:#ffffff">{gb.plots.text_html(exp)}</body></html>'
    )
    path.write_text(document, encoding="utf-8")
    page = open_page(path, PAGE)
    url = path.resolve().as_uri()
    assert [r for r in page.requests if r != url] == [], "the fragment requested something"
    assert page.dialogs == [] and page.console == []
    rows = page.value
    assert len(rows) == 2
    for row, spans in enumerate(rows):
        tokens, scores, colours, _ = expected(exp, row)
        assert [s["text"] for s in spans] == tokens
        np.testing.assert_allclose([float(s["title"]) for s in spans], scores, rtol=1e-5)
        for span, colour in zip(spans, colours, strict=True):
            rgb = tuple(round(255 * c) for c in to_rgba(colour)[:3])
            assert span["colour"] == f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})"
            assert span["width"] > 0 and span["height"] > 0, f"{span['text']!r} is not shown"
            # the screenshot has the colour in the span's left padding (no glyph there)
            x, y = int(span["x"]) + 1, int(span["y"] + span["height"] / 2)
            seen = np.round(page.pixels[y, x, :3] * 255)
            np.testing.assert_allclose(seen, rgb, atol=3, err_msg=span["text"])
        assert all(a["y"] <= b["y"] + 0.5 for a, b in itertools.pairwise(spans))  # in order
    assert rows[1][0]["y"] > rows[0][0]["y"]  # a line per row
