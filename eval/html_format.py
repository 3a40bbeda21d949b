"""How the HTML report writes values: numbers, intervals, n/a, escaped text, tables, images.

Apart from the page's sections (:mod:`eval.html_report`) so that every section prints a kappa,
an interval or a missing value the same way, and escapes every string: codes, names and notes
come from users' codebooks and data.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

from eval.plots import known
from eval.report_model import Interval

NOT_AVAILABLE = "n/a"


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def number(value: float | None, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if known(value) else NOT_AVAILABLE


def percent(value: float | None) -> str:
    return f"{value:.1%}" if known(value) else NOT_AVAILABLE


def interval_text(interval: Interval | None) -> str:
    if interval is None or not (known(interval.low) and known(interval.high)):
        return NOT_AVAILABLE
    return f"[{interval.low:.3f}, {interval.high:.3f}]"


def kappa_with_interval(kappa: float | None, interval: Interval | None) -> str:
    if not known(kappa):
        return NOT_AVAILABLE
    bounds = interval_text(interval)
    return number(kappa) if bounds == NOT_AVAILABLE else f"{number(kappa)} {bounds}"


def seconds_text(seconds: float) -> str:
    # Baselines finish in a fraction of a second; "0.0" would read as "not measured".
    return f"{seconds:.1f}" if seconds >= 1 else f"{seconds:.2g}"


def image(png: bytes, alt: str) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{escape(alt)}">'


def html_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric_from: int = 1,
    css_class: str = "",
) -> str:
    """A table of already-escaped cells; columns from `numeric_from` on are right-aligned."""
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if index >= numeric_from else f"<td>{cell}</td>"
            for index, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    class_attribute = f' class="{css_class}"' if css_class else ""
    return f"<table{class_attribute}><tr>{head}</tr>{''.join(body)}</table>"
