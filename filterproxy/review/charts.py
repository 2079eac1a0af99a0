"""Charts of the review as inline SVG (matplotlib, headless Agg backend).

SVG keeps text sharp on screen and on paper; the palette is colour-blind safe (Okabe-Ito,
extended with hatching so a black-and-white print still separates the series).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000",
           "#999999", "#882255", "#44AA99", "#117733")
HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "--", "++", "**", "||", "OO", "")

plt.rcParams.update({"svg.hashsalt": "filterproxy-review", "svg.fonttype": "none", "font.size": 9})


def stacked_bars(
    series: Mapping[str, Sequence[float]], labels: Sequence[str], title: str, ylabel: str
) -> str:
    """A stacked bar chart (one bar per label, one segment per series) as an SVG string."""
    fig, ax = plt.subplots(figsize=(9, 3.8))
    bottoms = [0.0] * len(labels)
    for n, (name, values) in enumerate(series.items()):
        heights = [float(v) for v in values]
        ax.bar(labels, heights, bottom=bottoms, label=name, color=PALETTE[n % len(PALETTE)],
               hatch=HATCHES[n % len(HATCHES)], edgecolor="white", linewidth=0.5)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelrotation=45)
    ax.spines[["top", "right"]].set_visible(False)
    if series:
        ax.legend(fontsize=8, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    return _svg(fig)


def horizontal_bars(values: Mapping[str, float], title: str, xlabel: str) -> str:
    fig, ax = plt.subplots(figsize=(7, 0.4 * max(3, len(values)) + 0.8))
    names = list(values)[::-1]
    ax.barh(names, [values[n] for n in names], color=PALETTE[4])
    for y, name in enumerate(names):
        ax.text(values[name], y, f" {values[name]:g}", va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _svg(fig: Figure) -> str:
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG goes inline in HTML
