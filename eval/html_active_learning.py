"""The report's section on coding in intercoder next's order versus random order (present
when the evaluation ran the simulation, ``eval.active_learning``)."""

from __future__ import annotations

from eval import plots
from eval.html_format import NOT_AVAILABLE, escape, html_table, image, number, seconds_text
from eval.report_model import ActiveLearning, ActiveLearningCurve


def active_learning_section(simulation: ActiveLearning | None) -> str:
    if simulation is None or not simulation.curves:
        return ""
    png = plots.active_learning_png(simulation.curves, simulation.full_data_kappa)
    checkpoints = [point.n_coded for point in simulation.curves[0].points]
    rows = [_row(curve, len(checkpoints)) for curve in simulation.curves]
    if simulation.equivalents:
        needed = [_units(point.random_units) for point in simulation.equivalents]
        rows.append(["random order needs, for the suggested kappa", *needed, "", ""])
    headers = ["Order", *(f"{n:,} coded" for n in checkpoints), "Units to full-data kappa"]
    headers.append("Units to 95% of it")
    note = (
        f'<p class="muted">A simulated coder codes {simulation.batch} units a round, chosen '
        "by <code>intercoder next</code>'s ranking (suggested) or at random, starting from "
        f"nothing coded; {simulation.seeds} seed(s), {simulation.folds_used} of "
        f"{simulation.folds} grouped folds each, the held-out decisions pooled per seed; "
        f"kappa is the seeds' mean (range in the figure). Target: the {escape(simulation.method)} "
        f"head trained on every training unit (mean pool {simulation.mean_pool_units:,.0f} "
        f"units): kappa {number(simulation.full_data_kappa)}. Units to a target are "
        f"interpolated between checkpoints; {NOT_AVAILABLE}: not reached within them. "
        f"{seconds_text(simulation.seconds)} s.</p>"
    )
    return (
        "<h2>Code these next: suggested versus random order</h2>"
        + image(png, "Held-out kappa against units coded, suggested and random order")
        + html_table(headers, rows)
        + note
    )


def _row(curve: ActiveLearningCurve, width: int) -> list[str]:
    kappas = [number(point.kappa) for point in curve.points][:width]
    kappas += [NOT_AVAILABLE] * (width - len(kappas))
    return [
        escape(curve.order),
        *kappas,
        _units(curve.units_to_full_kappa),
        _units(curve.units_to_95_percent),
    ]


def _units(value: float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{value:,.0f}"
