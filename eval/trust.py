"""Each code's trust verdict: can the machine code it alone, with review, or not at all?

The rule is fixed in advance, not tuned on any dataset, and reads the evaluation's per-code
kappa (machine against the humans) and its 95% interval over transcripts:

- ``too few examples``: fewer than ``MIN_HUMAN_UNITS`` units the humans gave the code, or no
  kappa (the evaluation cannot tell);
- ``trust``: the interval's low end reaches 0.61, "substantial" agreement in Landis and Koch's
  terms (the published study's two human coders reached 0.71);
- ``review``: kappa reaches 0.41 ("moderate"): use the suggestions, check each one;
- ``code by hand``: below that.
"""

from __future__ import annotations

from typing import Literal

from eval.report_model import CodeRow, MethodResult, Report
from models.data_warnings import MIN_CODED_PER_CODE

Verdict = Literal["trust", "review", "code by hand", "too few examples"]
MIN_HUMAN_UNITS = MIN_CODED_PER_CODE  # the floor suggestions warn under, too
TRUST_LOW_KAPPA = 0.61
REVIEW_KAPPA = 0.41


def code_verdict(row: CodeRow) -> Verdict:
    """The verdict for one code's row of an evaluation report."""
    if row.n_true < MIN_HUMAN_UNITS or row.kappa is None:
        return "too few examples"
    low = row.kappa_ci.low if row.kappa_ci is not None else None
    if low is not None and low >= TRUST_LOW_KAPPA:
        return "trust"
    if row.kappa >= REVIEW_KAPPA:
        return "review"
    return "code by hand"


def trust_verdicts(report: Report, method: str) -> dict[str, Verdict] | None:
    """Each code's verdict for ``method``; None when the report did not evaluate that method
    (another method's verdicts would say nothing about this one's suggestions)."""
    chosen: MethodResult | None = next(
        (result for result in report.methods if result.method == method), None
    )
    if chosen is None:
        return None
    return {row.code: code_verdict(row) for row in chosen.per_code}
