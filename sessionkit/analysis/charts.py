"""Charts of the study report as inline SVG (matplotlib's object API, no pyplot state, text as paths).

Each function returns an ``<svg …>`` element (no XML prolog) that renders without fonts or network.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

#: Colour-blind-safe palette (Okabe & Ito 2008), cycled over readers.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def roc_chart(title: str, curves: Mapping[str, tuple[Sequence[float], Sequence[float], float]]) -> str:
    """Empirical ROC curves, one line per reader: ``{reader: (fpr, tpr, auc)}``."""
    figure = Figure(figsize=(4.2, 4.2))
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], color="#999999", linewidth=0.8, linestyle="--")
    for n, (reader, (fpr, tpr, auc)) in enumerate(curves.items()):
        axes.plot(fpr, tpr, marker="o", markersize=3, color=PALETTE[n % len(PALETTE)], label=f"{reader} ({auc:.3f})")
    axes.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="1 − specificity (FPF)", ylabel="sensitivity (TPF)", title=title)
    axes.set_aspect("equal")
    axes.legend(loc="lower right", fontsize=7, title="reader (AUC)", title_fontsize=7)
    return _svg(figure)


def distribution_chart(title: str, counts: Mapping[str, Mapping[str, int]]) -> str:
    """Grouped bars: how often each reader gave each answer, ``{reader: {answer: count}}``."""
    answers = list(dict.fromkeys(a for per_reader in counts.values() for a in per_reader))  # in the given order
    figure = Figure(figsize=(max(3.5, 0.6 * len(answers) * max(1, len(counts)) / 2 + 2), 2.8))
    axes = figure.subplots()
    width = 0.8 / max(1, len(counts))
    for n, (reader, per_answer) in enumerate(counts.items()):
        xs = [i + n * width for i in range(len(answers))]
        axes.bar(xs, [per_answer.get(a, 0) for a in answers], width, label=reader, color=PALETTE[n % len(PALETTE)])
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(answers))], [a or "(none)" for a in answers], fontsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set(ylabel="answers", title=title)
    axes.legend(fontsize=7)
    return _svg(figure)


def box_chart(title: str, values: Mapping[str, Sequence[float]], ylabel: str) -> str:
    """Box plots per reader (median, quartiles, 1.5 IQR whiskers), e.g. reading time per case."""
    figure = Figure(figsize=(max(3.5, 0.8 * len(values) + 1.5), 2.8))
    axes = figure.subplots()
    axes.boxplot(list(values.values()), tick_labels=list(values))
    axes.ticklabel_format(axis="y", useOffset=False)
    axes.set(ylabel=ylabel, title=title)
    return _svg(figure)
