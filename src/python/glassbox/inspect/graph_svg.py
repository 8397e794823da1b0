"""The layer graph of a ``Summary`` as a standalone SVG, laid out top to bottom (no graphviz).

The layout is a small layered (Sugiyama-style) one: each layer sits on the row one below the
deepest layer it reads; an edge spanning several rows passes through a thin placeholder on each
row in between (so a residual shortcut gets its own lane instead of crossing boxes); rows are
ordered by a few barycentre sweeps and each node is placed under the mean of what it reads.
"""

from __future__ import annotations

import itertools
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from glassbox.models.layers import LAYERS

ROW_HEIGHT, BOX_HEIGHT, GAP, LANE, MARGIN = 92, 54, 24, 18, 16
#: Fill of a box by the layer's category (the network input is white).
FILLS = {
    "affine": "#dbe9f6",
    "activation": "#fde2cf",
    "pooling": "#e2f0d9",
    "normalization": "#ede0f5",
    "shape": "#eeeeee",
    "graph": "#fff2b3",
    "recurrent": "#d9f2f2",
}


def _box_width(lines: list[str]) -> float:
    return max(120.0, 7.2 * max(len(line) for line in lines) + 20)


def _layout(
    preds: list[list[int]],
) -> tuple[list[int], list[list[int]], dict[tuple, list[int]], dict[int, list[int]]]:
    """The row of every node id (placeholders numbered after the real nodes), the rows of ids in
    order, the chain of ids each edge ``(source, target, port)`` runs through, and the ids right
    above each id on those chains."""
    n = len(preds)
    rank = [0] * n
    for v in range(1, n):
        rank[v] = 1 + max(rank[u] for u in preds[v])
    chains: dict[tuple, list[int]] = {}
    for v in range(1, n):
        for port, u in enumerate(preds[v]):
            chain = [u]
            for r in range(rank[u] + 1, rank[v]):
                chain.append(len(rank))
                rank.append(r)
            chains[(u, v, port)] = [*chain, v]
    rows: list[list[int]] = [[] for _ in range(max(rank) + 1)]
    for node, r in enumerate(rank):
        rows[r].append(node)
    up: dict[int, list[int]] = {}
    down: dict[int, list[int]] = {}
    for chain in chains.values():
        for a, b in itertools.pairwise(chain):
            up.setdefault(b, []).append(a)
            down.setdefault(a, []).append(b)
    for _ in range(4):  # barycentre sweeps, down then up: fewer crossings
        for order, neighbours in ((range(1, len(rows)), up), (range(len(rows) - 2, -1, -1), down)):
            for r in order:
                ref = {node: i for i, node in enumerate(rows[r - 1 if neighbours is up else r + 1])}
                key = {node: _mean(ref, neighbours.get(node), i) for i, node in enumerate(rows[r])}
                rows[r].sort(key=key.__getitem__)
    return rank, rows, chains, up


def _mean(position: Any, nodes: list[int] | None, default: float) -> float:
    """The mean of ``position[node]`` over ``nodes`` (``default`` when there are none)."""
    found = [position[node] for node in nodes or ()]
    return sum(found) / len(found) if found else default


def graph_svg(summary: Any) -> str:
    """``summary``'s layer graph as an SVG document (a string).

    One box per layer (class ``node layer``: its name, kind and output shape), one for the
    network input (class ``node input``), one arrow per tensor a layer reads (class ``edge``,
    with ``data-source`` / ``data-target``): a residual ``add`` or a ``concat`` is a box where
    two or more arrows arrive. Boxes are coloured by the layer's category.

    Examples
    --------
    >>> import numpy as np, glassbox as gb
    >>> from xml.etree import ElementTree
    >>> spec = gb.NetworkSpec(input_shape=(3,))
    >>> fc = spec.add("dense", "fc", weight=np.eye(3), bias=None)
    >>> _ = spec.add("relu", "relu")
    >>> _ = spec.add("add", "skip", inputs=[fc, 1])
    >>> svg = gb.inspect.summary(gb.build_network(spec)).graph_svg()
    >>> root = ElementTree.fromstring(svg)
    >>> len(root.findall(".//{*}path[@class='edge']"))  # input->fc, fc->relu, fc->skip, relu->skip
    4
    """
    labels = [["input", "network input", _dims(summary.input_shape)]]
    labels += [
        [name, kind, _dims(shape)]
        for name, kind, shape in zip(
            summary.layers, summary.kinds, summary.output_shapes, strict=True
        )
    ]
    preds = [[]] + [[j + 1 for j in inputs] for inputs in summary.inputs]
    rank, rows, chains, up = _layout(preds)
    n = len(labels)
    width = [_box_width(labels[v]) if v < n else LANE for v in range(len(rank))]
    x = [0.0] * len(rank)
    for row in rows:
        wanted = [_mean(x, up.get(v), 0.0) for v in row]
        placed = list(wanted)
        for i in range(1, len(row)):  # no overlaps: push right in row order
            least = placed[i - 1] + (width[row[i - 1]] + width[row[i]]) / 2 + GAP
            placed[i] = max(placed[i], least)
        shift = sum(w - p for w, p in zip(wanted, placed, strict=True)) / len(row)
        for v, p in zip(row, placed, strict=True):
            x[v] = p + shift
    left = min(x[v] - width[v] / 2 for v in range(len(rank)))
    x = [value - left + MARGIN for value in x]
    total_w = max(x[v] + width[v] / 2 for v in range(len(rank))) + MARGIN
    total_h = (len(rows) - 1) * ROW_HEIGHT + BOX_HEIGHT + 2 * MARGIN

    def top(v: int) -> float:
        return MARGIN + rank[v] * ROW_HEIGHT

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w:.0f}" height="{total_h:.0f}" '
        f'viewBox="0 0 {total_w:.0f} {total_h:.0f}" font-family="DejaVu Sans, Arial, sans-serif" '
        'font-size="12">',
        '<defs><marker id="gb-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        '<g class="edges" fill="none" stroke="#555" stroke-width="1.4">',
    ]
    for (u, v, _), chain in chains.items():
        points = [(x[u], top(u) + BOX_HEIGHT)]
        for d in chain[1:-1]:  # through the placeholders, straight down each row
            points += [(x[d], top(d)), (x[d], top(d) + BOX_HEIGHT)]
        points.append((x[v], top(v)))
        path = " L".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(
            f'<path class="edge" data-source={quoteattr(labels[u][0])} '
            f'data-target={quoteattr(labels[v][0])} d="M{path}" marker-end="url(#gb-arrow)"/>'
        )
    out.append("</g>")
    out.append('<g class="nodes">')
    for v in range(n):
        name, kind, shape = labels[v]
        w, y = width[v], top(v)
        fill = "#ffffff" if v == 0 else FILLS.get(LAYERS[kind].category, "#ffffff")
        cls = "node input" if v == 0 else "node layer"
        out.append(
            f'<g class="{cls}" data-layer={quoteattr(name)} data-kind={quoteattr(kind)}>'
            f"<title>{escape(f'{name} ({kind}) -> {shape}')}</title>"
            f'<rect x="{x[v] - w / 2:.1f}" y="{y:.1f}" width="{w:.1f}" height="{BOX_HEIGHT}" '
            f'rx="6" fill="{fill}" stroke="#333"/>'
            f'<text x="{x[v]:.1f}" y="{y + 17:.1f}" text-anchor="middle" font-weight="bold">'
            f"{escape(name)}</text>"
            f'<text x="{x[v]:.1f}" y="{y + 32:.1f}" text-anchor="middle">{escape(kind)}</text>'
            f'<text x="{x[v]:.1f}" y="{y + 47:.1f}" text-anchor="middle" fill="#444">'
            f"{escape(shape)}</text></g>"
        )
    out += ["</g>", "</svg>"]
    return "\n".join(out)


def _dims(shape: Any) -> str:
    return " x ".join(str(int(d)) for d in shape)
