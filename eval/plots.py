"""The report's figures, each returned as PNG bytes so the page can inline them.

Every function draws on its own figure and closes it before returning: a long-running service
renders many reports, and pyplot keeps every unclosed figure alive.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeGuard

import matplotlib

# Headless rendering: no display on servers, and the choice must precede importing pyplot.
matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from eval.report_model import ActiveLearningCurve, CodeRow, Confusion, CoveragePoint, LearningPoint

# pyplot's figure registry is global state; the service may render reports from worker threads.
_PYPLOT_LOCK = threading.Lock()

_DPI = 100
_WIDTH_IN = 7.0
_REFERENCE_COLOUR = "tab:red"
# Beyond this ratio of largest to smallest training size, equal steps on a linear axis crowd
# the small sizes, where the curve changes most, into one corner.
_LOG_X_RATIO = 10.0


def known(value: float | None) -> TypeGuard[float]:
    """A figure that can be drawn or printed: present and finite."""
    return value is not None and math.isfinite(value)


def plain_text(text: str) -> str:
    """Stop matplotlib reading a user's `$` as the start of mathtext (it may not even parse)."""
    return text.replace("$", r"\$")


@contextmanager
def _figure(height_in: float, width_in: float = _WIDTH_IN) -> Iterator[tuple[Figure, Axes]]:
    with _PYPLOT_LOCK:
        fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=_DPI)
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # No "Software" metadata: the same report should give the same bytes on every machine.
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def _reference_label(reference_kappa: float) -> str:
    return f"human reference ({reference_kappa:.2f})"


def _reference_hline(ax: Axes, reference_kappa: float | None) -> None:
    if known(reference_kappa):
        ax.axhline(
            reference_kappa,
            color=_REFERENCE_COLOUR,
            linestyle="--",
            label=_reference_label(reference_kappa),
        )


def per_code_kappa_png(rows: Sequence[CodeRow], reference_kappa: float | None) -> bytes:
    """Horizontal bars of each code's kappa with its bootstrap interval, first code on top."""
    height = max(2.0, 0.32 * len(rows) + 1.2)
    with _figure(height) as (fig, ax):
        positions = list(range(len(rows)))
        kappas = [row.kappa if known(row.kappa) else 0.0 for row in rows]
        ax.barh(positions, kappas, color="tab:blue", alpha=0.75, height=0.6)
        lows: list[float] = [min(kappas, default=0.0)]
        for position, row in zip(positions, rows, strict=True):
            if not known(row.kappa):
                ax.text(0.01, position, "n/a", va="center", fontsize=8, color="grey")
            interval = row.kappa_ci
            if interval is not None and known(interval.low) and known(interval.high):
                # Drawn as a segment, not errorbar(): a percentile interval need not contain
                # the point estimate, and errorbar() cannot show that.
                ax.plot(
                    [interval.low, interval.high],
                    [position, position],
                    color="black",
                    marker="|",
                    markersize=9,
                    linewidth=1.2,
                )
                lows.append(interval.low)
        if known(reference_kappa):
            ax.axvline(
                reference_kappa,
                color=_REFERENCE_COLOUR,
                linestyle="--",
                label=_reference_label(reference_kappa),
            )
            ax.legend(loc="lower right", fontsize=8)
        ax.set_yticks(positions, [plain_text(row.code) for row in rows], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(min(0.0, *lows) - 0.05, 1.05)
        ax.axvline(0.0, color="grey", linewidth=0.8)
        ax.set_xlabel("Cohen's kappa, machine vs human (bars: 95% bootstrap interval)")
        ax.grid(axis="x", alpha=0.3)
        return _png(fig)


def confusion_png(confusion: Confusion) -> bytes:
    """Heat map of human (rows) against machine (columns) labels, every cell annotated."""
    size = max(3.0, 0.5 * len(confusion.labels) + 2.0)
    with _figure(size, width_in=size + 1.0) as (fig, ax):
        image = ax.imshow(confusion.matrix, cmap="Blues", aspect="auto")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        largest = max((max(row, default=0) for row in confusion.matrix), default=0)
        for row_index, row in enumerate(confusion.matrix):
            for column_index, count in enumerate(row):
                # White on the dark cells, black on the light ones, so every count stays legible.
                colour = "white" if count > largest / 2 else "black"
                ax.text(
                    column_index,
                    row_index,
                    str(count),
                    ha="center",
                    va="center",
                    color=colour,
                    fontsize=8,
                )
        ticks = list(range(len(confusion.labels)))
        labels = [plain_text(label) for label in confusion.labels]
        ax.set_xticks(ticks, labels, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(ticks, labels, fontsize=8)
        ax.set_xlabel("machine label")
        ax.set_ylabel("human label")
        return _png(fig)


def _drawable(points: Sequence[CoveragePoint]) -> tuple[list[float], list[float]]:
    """The points with a kappa, by coverage (a None kappa would break the line silently)."""
    kept = sorted((point.coverage, point.kappa) for point in points if known(point.kappa))
    return [coverage for coverage, _ in kept], [kappa for _, kappa in kept]


def has_coverage_curve(points: Sequence[CoveragePoint]) -> bool:
    return any(known(point.kappa) for point in points)


def _coverage_axes(ax: Axes, reference_kappa: float | None) -> None:
    _reference_hline(ax, reference_kappa)
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("coverage (share of units the machine codes, most confident first)")
    ax.set_ylabel("kappa on the covered units")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)


def coverage_png(
    points: Sequence[CoveragePoint], reference_kappa: float | None, at_human_level: float | None
) -> bytes:
    """One method's kappa as it codes more units, least confident last."""
    with _figure(3.5) as (fig, ax):
        coverages, kappas = _drawable(points)
        ax.plot(coverages, kappas, marker="o", markersize=3, color="tab:blue", label="machine")
        if known(at_human_level):
            ax.axvline(
                at_human_level,
                color="grey",
                linestyle=":",
                label=f"coverage at human level ({at_human_level:.0%})",
            )
        _coverage_axes(ax, reference_kappa)
        return _png(fig)


def combined_coverage_png(
    curves: Sequence[tuple[str, Sequence[CoveragePoint]]], reference_kappa: float | None
) -> bytes:
    """Every method's coverage curve on one set of axes, for comparison."""
    with _figure(4.0) as (fig, ax):
        for method, points in curves:
            coverages, kappas = _drawable(points)
            ax.plot(coverages, kappas, marker="o", markersize=3, label=plain_text(method))
        _coverage_axes(ax, reference_kappa)
        return _png(fig)


def has_learning_curve(points: Sequence[LearningPoint]) -> bool:
    return any(known(point.kappa) for point in points)


def learning_png(
    method: str, points: Sequence[LearningPoint], reference_kappa: float | None
) -> bytes:
    """Headline kappa against the mean number of training transcripts per fold."""
    kept = sorted((point.n_transcripts, point.kappa) for point in points if known(point.kappa))
    sizes = [size for size, _ in kept]
    kappas = [kappa for _, kappa in kept]
    with _figure(3.5) as (fig, ax):
        ax.plot(sizes, kappas, marker="o", color="tab:green", label=plain_text(method))
        if sizes and min(sizes) > 0 and max(sizes) / min(sizes) >= _LOG_X_RATIO:
            ax.set_xscale("log")
            # Ticks at the measured sizes: "3.2" reads better than a log axis' "3 x 10^0".
            ax.minorticks_off()
            ax.set_xticks(sizes, [f"{size:.3g}" for size in sizes])
        _reference_hline(ax, reference_kappa)
        ax.set_xlabel("mean number of training transcripts per fold")
        ax.set_ylabel("kappa over all test folds")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
        return _png(fig)


_ORDER_COLOURS = {"suggested": "tab:blue", "random": "tab:grey"}


def active_learning_png(curves: Sequence[ActiveLearningCurve], full_kappa: float | None) -> bytes:
    """Held-out kappa against units coded, one line per order (the seeds' mean, their range
    shaded), and the full-data kappa they are measured against."""
    with _figure(3.8) as (fig, ax):
        for curve in curves:
            colour = _ORDER_COLOURS.get(curve.order, "tab:green")
            sizes, means, low, high = _seed_range(curve)
            ax.plot(sizes, means, marker="o", color=colour, label=f"{curve.order} order")
            ax.fill_between(sizes, low, high, color=colour, alpha=0.15)
        if known(full_kappa):
            ax.axhline(
                full_kappa,
                color=_REFERENCE_COLOUR,
                linestyle="--",
                label=f"all training units ({full_kappa:.2f})",
            )
        sizes = sorted({point.n_coded for curve in curves for point in curve.points})
        if sizes and sizes[-1] / sizes[0] >= _LOG_X_RATIO:
            ax.set_xscale("log")
            ax.minorticks_off()
            ax.set_xticks(sizes, [f"{size:,}" for size in sizes])
        ax.set_xlabel("units coded (simulated coder)")
        ax.set_ylabel("kappa on held-out transcripts")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
        return _png(fig)


def _seed_range(
    curve: ActiveLearningCurve,
) -> tuple[list[int], list[float], list[float], list[float]]:
    """The drawable points: units coded, the seeds' mean kappa, lowest and highest."""
    sizes, means, low, high = [], [], [], []
    for point in curve.points:
        if not known(point.kappa):
            continue
        sizes.append(point.n_coded)
        means.append(point.kappa)
        low.append(point.kappa_min if known(point.kappa_min) else point.kappa)
        high.append(point.kappa_max if known(point.kappa_max) else point.kappa)
    return sizes, means, low, high
