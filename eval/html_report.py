"""The evaluation report as one self-contained HTML page, fit for a methods appendix.

Self-contained because the page is archived beside a paper and opened years later, offline:
styles are inline and figures are base64 PNGs, so nothing is fetched. Every string from the
report is escaped: codes, names and notes come from users' codebooks and data. The page's
sections are here; how each value is written is in :mod:`eval.html_format`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from eval import plots
from eval.html_active_learning import active_learning_section
from eval.html_format import (
    NOT_AVAILABLE,
    escape,
    html_table,
    image,
    interval_text,
    kappa_with_interval,
    number,
    percent,
    seconds_text,
)
from eval.plots import known
from eval.report_model import (
    CodeRow,
    HumanAgreement,
    HumanReference,
    LearningCurve,
    MethodResult,
    Report,
    TrustVerdict,
)
from eval.trust import HumanLevel, code_verdict, human_level, rule_text

__all__ = ["NOT_AVAILABLE", "render_html", "write_report"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.best td { background: #eef7ee; }
td.method { min-width: 13em; }
.badge { font-size: 0.75em; background: #2e7d32; color: white; border-radius: 3px;
         padding: 0.05em 0.4em; margin-left: 0.4em; white-space: nowrap; }
.muted { color: #666; font-size: 0.9em; }
table.small { font-size: 0.82em; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 0.15em 1em; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
code { font-size: 0.9em; word-break: break-all; }
details { border: 1px solid #ddd; border-radius: 4px; padding: 0.4em 0.8em; margin: 0.8em 0; }
summary { cursor: pointer; font-weight: 600; }
img { max-width: 100%; height: auto; display: block; margin: 0.6em 0; }
.legend td { font-size: 0.85em; }
.verdict.machine_alone { color: #2e7d32; }
.verdict.code_by_hand { color: #b71c1c; }
"""

# Landis & Koch (1977), the scale most methods sections quote when reading kappa.
_KAPPA_SCALE = (
    ("< 0", "poor"),
    ("0.00-0.20", "slight"),
    ("0.21-0.40", "fair"),
    ("0.41-0.60", "moderate"),
    ("0.61-0.80", "substantial"),
    ("0.81-1.00", "almost perfect"),
)


def _reference_kappa(report: Report) -> float | None:
    return report.human_reference.kappa if report.human_reference is not None else None


# --- header -------------------------------------------------------------------------------


def _header(report: Report) -> str:
    dataset, folds = report.dataset, report.folds
    fold_scheme = (
        f"leave one {escape(folds.grouping)} out"
        if folds.leave_one_group_out
        else f"{folds.k}-fold, grouped by {escape(folds.grouping)}"
    )
    facts = [
        ("Codebook", f"{escape(report.codebook_name)} (version {escape(report.codebook_version)})"),
        ("Scheme", escape(report.kind)),
        ("Model", f"<code>{escape(report.model_id)}</code>"),
        ("Dataset", escape(dataset.name)),
        ("Dataset SHA-256", f"<code>{escape(dataset.sha256)}</code>"),
        (
            "Size",
            f"{dataset.n_units} units, {dataset.n_transcripts} transcripts, "
            f"{dataset.n_groups} groups",
        ),
        ("Subsample", escape(dataset.subsample) if dataset.subsample else "none (all units)"),
        ("Folds", f"{fold_scheme}, seed {folds.seed}"),
        ("Created", escape(report.created)),
        ("intercoder", escape(report.intercoder_version)),
    ]
    meta = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in facts)
    title = f"Machine-vs-human agreement: {escape(report.codebook_name)}"
    parts = [f"<h1>{title}</h1>", f'<dl class="meta">{meta}</dl>']
    if report.package_versions:
        versions = sorted(report.package_versions.items())
        rows = [(escape(name), escape(version)) for name, version in versions]
        parts.append(html_table(["Package", "Version"], rows, numeric_from=2, css_class="small"))
    if report.notes:
        items = "".join(f"<li>{escape(note)}</li>" for note in report.notes)
        parts.append(f"<h3>Notes</h3><ul>{items}</ul>")
    return "\n".join(parts)


def _kappa_legend() -> str:
    rows = [(escape(span), escape(reading)) for span, reading in _KAPPA_SCALE]
    table = html_table(["Kappa", "Agreement"], rows, numeric_from=2, css_class="legend small")
    return f'<p class="muted">Reading kappa (Landis &amp; Koch, 1977):</p>{table}'


# --- human agreement ----------------------------------------------------------------------


def _human_agreement(agreement: HumanAgreement | None, reference: HumanReference | None) -> str:
    if agreement is None and reference is None:
        return ""
    parts = ["<h2>Human agreement</h2>"]
    if agreement is not None:
        parts.append(
            f"<p>{agreement.n_coders} coders on {agreement.n_units} units that several coded.</p>"
        )
        summary = [
            ("Fleiss' kappa", number(agreement.fleiss_kappa)),
            ("Pairwise Cohen's kappa, mean", number(agreement.pairwise_mean)),
            ("Pairwise Cohen's kappa, min", number(agreement.pairwise_min)),
            ("Pairwise Cohen's kappa, max", number(agreement.pairwise_max)),
        ]
        parts.append(html_table(["Statistic", "Value"], summary))
        pairs = [
            (escape(pair.coder_a), escape(pair.coder_b), str(pair.n_units), number(pair.kappa))
            for pair in agreement.pairs
        ]
        if pairs:
            # Ten coders make 45 pairs: folded, so the methods table stays near the top.
            parts.append(
                f"<details><summary>Every pair of coders ({len(pairs)})</summary>"
                + html_table(["Coder A", "Coder B", "Units", "Cohen's kappa"], pairs, 2)
                + "</details>"
            )
    if reference is not None:
        parts.append(
            f"<p><strong>Human reference kappa: {number(reference.kappa)}</strong> "
            f'<span class="muted">(source: {escape(reference.source)})</span></p>'
        )
    return "\n".join(parts)


# --- methods side by side -----------------------------------------------------------------


def _best_kappa(methods: Sequence[MethodResult]) -> float | None:
    kappas = [method.kappa for method in methods if known(method.kappa)]
    return max(kappas) if kappas else None


def _comparison_row(method: MethodResult, single_label: bool, is_best: bool) -> str:
    badge = '<span class="badge">best kappa</span>' if is_best else ""
    name = f"<strong>{escape(method.method)}</strong>{badge}<br>"
    name += f'<span class="muted">{escape(method.description)}</span>'
    scores = (
        [number(method.accuracy), number(method.macro_f1)]
        if single_label
        else [number(method.mean_kappa), number(method.macro_f1), number(method.alpha_masi)]
    )
    humans = method.vs_humans
    cells = [
        name,
        kappa_with_interval(method.kappa, method.kappa_ci),
        *scores,
        percent(method.coverage_at_human_level),
        number(humans.vs_majority) if humans else NOT_AVAILABLE,
        number(humans.vs_each_coder_mean) if humans else NOT_AVAILABLE,
        str(humans.n_units) if humans else NOT_AVAILABLE,
        seconds_text(method.seconds),
    ]
    row_class = ' class="best"' if is_best else ""
    tds = [
        f'<td class="method">{cells[0]}</td>',
        *(f'<td class="num">{cell}</td>' for cell in cells[1:]),
    ]
    return f"<tr{row_class}>{''.join(tds)}</tr>"


def _methods_side_by_side(report: Report) -> str:
    single_label = report.kind == "single-label"
    score_headers = (
        ["Accuracy", "Macro-F1"]
        if single_label
        else ["Mean per-code kappa", "Macro-F1", "Krippendorff's alpha (MASI)"]
    )
    headers = [
        "Method",
        "Kappa [95% CI]",
        *score_headers,
        "Coverage at human level",
        "Machine vs majority",
        "Machine vs each coder (mean)",
        "Multi-coded units",
        "Seconds",
    ]
    best = _best_kappa(report.methods)
    rows = [
        _comparison_row(method, single_label, known(method.kappa) and method.kappa == best)
        for method in report.methods
    ]
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    note = (
        '<p class="muted">Kappa: Cohen\'s kappa over labels (single-label) or pooled over '
        "unit &times; code decisions (multi-label); intervals from a bootstrap over transcripts. "
        "Macro-F1 counts &ldquo;no code&rdquo; as one more label. "
        "Machine vs majority / each coder: on the units several humans coded.</p>"
    )
    return f"<h2>Methods side by side</h2><table><tr>{head}</tr>{''.join(rows)}</table>{note}"


# --- per method ---------------------------------------------------------------------------


def _per_code_table(rows: Sequence[CodeRow], level: HumanLevel) -> str:
    cells = [
        (
            f"<code>{escape(row.code)}</code>",
            escape(row.name),
            _verdict_cell(row.trust or code_verdict(row, level)),
            percent(row.prevalence),
            str(row.n_true),
            str(row.n_predicted),
            number(row.kappa),
            interval_text(row.kappa_ci),
        )
        for row in rows
    ]
    headers = ["Code", "Name", "Verdict", "Prevalence", "n human", "n machine", "Kappa", "95% CI"]
    table = html_table(headers, cells, numeric_from=3)
    return f'{table}<p class="muted">{escape(rule_text(level))}</p>'


def _verdict_cell(verdict: TrustVerdict) -> str:
    return f'<span class="verdict {verdict.kind}">{escape(verdict.says)}</span>'


def _vs_each_coder(method: MethodResult) -> str:
    humans = method.vs_humans
    if humans is None or not humans.vs_each_coder:
        return ""
    rows = [(escape(coder), number(kappa)) for coder, kappa in sorted(humans.vs_each_coder.items())]
    table = html_table(["Coder", "Machine vs coder kappa"], rows, css_class="small")
    return f"<h3>Machine against each coder ({humans.n_units} multi-coded units)</h3>{table}"


def _method_figures(method: MethodResult, reference_kappa: float | None) -> list[str]:
    parts = []
    if method.per_code:
        png = plots.per_code_kappa_png(method.per_code, reference_kappa)
        parts.append(image(png, f"Per-code kappa, {method.method}"))
    if method.confusion is not None and method.confusion.labels:
        parts.append("<h3>Confusion matrix (rows: human, columns: machine)</h3>")
        png = plots.confusion_png(method.confusion)
        parts.append(image(png, f"Confusion matrix, {method.method}"))
    if plots.has_coverage_curve(method.coverage_curve):
        parts.append("<h3>Kappa against coverage</h3>")
        png = plots.coverage_png(
            method.coverage_curve, reference_kappa, method.coverage_at_human_level
        )
        parts.append(image(png, f"Coverage curve, {method.method}"))
    return parts


def _method_details(method: MethodResult, report: Report, is_open: bool) -> str:
    reference_kappa = _reference_kappa(report)
    level = human_level(report.human_reference)
    summary = (
        f"{escape(method.method)} &mdash; kappa "
        f"{kappa_with_interval(method.kappa, method.kappa_ci)}"
    )
    parts = [
        f"<summary>{summary}</summary>",
        f'<p class="muted">{escape(method.description)}</p>',
        "<h3>Per-code agreement</h3>",
        _per_code_table(method.per_code, level) if method.per_code else f"<p>{NOT_AVAILABLE}</p>",
        *_method_figures(method, reference_kappa),
        _vs_each_coder(method),
    ]
    open_attribute = " open" if is_open else ""
    return f"<details{open_attribute}>{''.join(parts)}</details>"


def _per_method(report: Report) -> str:
    sections = [
        _method_details(method, report, is_open=index == 0)
        for index, method in enumerate(report.methods)
    ]
    return "<h2>Per method</h2>" + "\n".join(sections)


# --- combined figures ---------------------------------------------------------------------


def _combined_figures(report: Report) -> str:
    reference_kappa = _reference_kappa(report)
    curves = [
        (method.method, method.coverage_curve)
        for method in report.methods
        if plots.has_coverage_curve(method.coverage_curve)
    ]
    parts = []
    if curves:
        png = plots.combined_coverage_png(curves, reference_kappa)
        parts += ["<h3>Coverage curves, all methods</h3>", image(png, "Coverage, all methods")]
    parts.append(_learning_curve(report.learning_curve, reference_kappa))
    body = "".join(parts)
    return f"<h2>Comparisons</h2>{body}" if body else ""


def _learning_curve(curve: LearningCurve | None, reference_kappa: float | None) -> str:
    if curve is None or not plots.has_learning_curve(curve.points):
        return ""
    png = plots.learning_png(curve.method, curve.points, reference_kappa)
    title = f"<h3>Learning curve: {escape(curve.method)}</h3>"
    return title + image(png, f"Learning curve, {curve.method}")


# --- page ---------------------------------------------------------------------------------


def render_html(report: Report) -> str:
    """The whole report as one HTML page with no external resources."""
    sections = [
        _header(report),
        _kappa_legend(),
        _human_agreement(report.human_agreement, report.human_reference),
        _methods_side_by_side(report),
        _per_method(report),
        _combined_figures(report),
        active_learning_section(report.active_learning),
    ]
    body = "\n".join(section for section in sections if section)
    title = f"intercoder report: {escape(report.codebook_name)} {escape(report.codebook_version)}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _write_atomically(path: Path, text: str) -> None:
    """Readers (a browser, a CI artefact upload) never see half a file.

    The temporary file is made with mode 0666 less the umask, as ``open`` makes any file:
    ``tempfile.mkstemp`` would make it 0600, and the report would keep that mode after the
    rename, unreadable to the colleagues it is written for.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_report(report: Report, out_dir: Path) -> tuple[Path, Path]:
    """Write report.json and report.html into out_dir; returns their paths (json, html)."""
    # Rendered before anything is written, so a failing plot leaves no JSON without its page.
    page = render_html(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    _write_atomically(json_path, report.model_dump_json(indent=2))
    _write_atomically(html_path, page)
    return json_path, html_path
