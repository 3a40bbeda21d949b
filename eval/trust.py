"""Each code's trust verdict, in words a researcher can act on, with the thresholds in them.

The rule is fixed in advance, not tuned on any dataset. It reads the evaluation's per-code
kappa (machine against the humans, presence/absence per unit), its 95% interval from a
bootstrap over transcripts, and the evaluation's human level:

- **too few examples: code N more**: the humans gave the code to fewer than
  ``MIN_HUMAN_UNITS`` units; N is how many more such units reach that floor.
- **machine can code this alone at >= human level**: the interval's *low end* reaches the
  human level. The human level is the report's human reference kappa when the evaluation has
  one (the coders' own agreement on units several coded, or a published figure), never taken
  lower than ``SUGGEST_KAPPA`` (humans who barely agree are no standard for coding alone).
  Without one it is ``DEFAULT_HUMAN_KAPPA`` = 0.61, the low end of "substantial" on Landis and
  Koch's scale, the reading methods sections quote. We do not default to the 0.71 the study
  behind the default codebook reports: that figure belongs to that codebook and its coders,
  while 0.61 is the conventional bar for any codebook, and the low-end rule already asks for
  a point kappa near 0.7 on a typical interval.
- **suggest only**: kappa reaches ``SUGGEST_KAPPA`` = 0.41 ("moderate"): let the machine
  suggest, a human checks each suggestion.
- **code by hand**: kappa under 0.41, or no kappa at all (agreement could not be measured).

Where no evaluation covers a code (never evaluated, or not with the method suggesting), the
verdict is **not evaluated**, so every interface answers with the same shape either way.
Every sentence is worded here and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import get_args

from eval.report_model import (
    CodeRow,
    HumanReference,
    MethodResult,
    Report,
    TrustKind,
    TrustVerdict,
)
from models.data_warnings import MIN_CODED_PER_CODE

MIN_HUMAN_UNITS = MIN_CODED_PER_CODE  # the floor suggestions warn under, too
DEFAULT_HUMAN_KAPPA = 0.61
SUGGEST_KAPPA = 0.41
TRUST_KINDS: tuple[TrustKind, ...] = get_args(TrustKind)
"""Every verdict, most trusting first (the order summaries count them in)."""
HEADLINES: Mapping[TrustKind, str] = {
    "machine_alone": "machine can code this alone at >= human level",
    "suggest_only": "suggest only",
    "code_by_hand": "code by hand",
    "too_few_examples": "too few examples",
    "not_evaluated": "not evaluated",
}
"""Each verdict's first words, as tables and flags show it."""


@dataclass(frozen=True)
class HumanLevel:
    """The kappa the low end of a code's interval must reach for the machine to code alone."""

    kappa: float
    source: str


def human_level(reference: HumanReference | None) -> HumanLevel:
    """The report's human reference, floored at ``SUGGEST_KAPPA``; the default without one."""
    if reference is None:
        return HumanLevel(
            DEFAULT_HUMAN_KAPPA,
            f"no human agreement in this evaluation, so {_num(DEFAULT_HUMAN_KAPPA)}, "
            "'substantial' on Landis and Koch's scale",
        )
    if reference.kappa < SUGGEST_KAPPA:
        return HumanLevel(
            SUGGEST_KAPPA,
            f"the human reference, {_under(reference.kappa)} ({reference.source}), is under "
            f"{_num(SUGGEST_KAPPA)}, so that floor",
        )
    return HumanLevel(reference.kappa, f"the human reference: {reference.source}")


def code_verdict(row: CodeRow, level: HumanLevel) -> TrustVerdict:
    """The verdict for one code's row of an evaluation report."""
    if row.n_true < MIN_HUMAN_UNITS:
        more = MIN_HUMAN_UNITS - row.n_true
        return _verdict(
            "too_few_examples",
            f"code {more} more (the evaluation had {row.n_true} human-coded "
            f"unit{'' if row.n_true == 1 else 's'} with it; a verdict needs {MIN_HUMAN_UNITS})",
            more_needed=more,
        )
    if row.kappa is None:
        return _verdict(
            "code_by_hand",
            "the evaluation could not measure agreement on this code (kappa undefined: one "
            "side gave it to every unit or to none)",
        )
    low = row.kappa_ci.low if row.kappa_ci is not None else None
    high = row.kappa_ci.high if row.kappa_ci is not None else None
    if low is not None and low >= level.kappa:
        return _verdict(
            "machine_alone",
            f"kappa {_num(row.kappa)}, and the low end of its 95% interval ({_num(low)} to "
            f"{_num(high)}) reaches the human level {_num(level.kappa)} ({level.source})",
        )
    if row.kappa >= SUGGEST_KAPPA:
        where = (
            "it has no 95% interval" if low is None else f"its 95% interval starts at {_under(low)}"
        )
        return _verdict(
            "suggest_only",
            f"kappa {_num(row.kappa)} reaches {_num(SUGGEST_KAPPA)} (moderate agreement), but "
            f"{where}, under the human level {_bar(level.kappa)} ({level.source}); let the "
            "machine suggest and a human check each suggestion",
        )
    return _verdict(
        "code_by_hand",
        f"kappa {_under(row.kappa)} is under {_num(SUGGEST_KAPPA)} (moderate agreement), the least "
        "for suggestions worth checking",
    )


def rule_text(level: HumanLevel) -> str:
    """The rule in one paragraph, with this evaluation's thresholds, for a report's reader."""
    return (
        f"Verdicts: {HEADLINES['machine_alone']} when the low end of a code's 95% interval "
        f"reaches the human level, here {_num(level.kappa)} ({level.source}); "
        f"{HEADLINES['suggest_only']} when its kappa reaches {_num(SUGGEST_KAPPA)} (moderate); "
        f"{HEADLINES['code_by_hand']} below that; {HEADLINES['too_few_examples']} when the "
        f"humans gave it to fewer than {MIN_HUMAN_UNITS} units."
    )


def not_evaluated(method: str) -> TrustVerdict:
    """The verdict of a code no evaluation of ``method`` covers."""
    return _verdict(
        "not_evaluated",
        f"no evaluation of method {method!r} covers this code; evaluate with it to learn "
        "whether the machine can code it",
    )


def short_text(verdict: TrustVerdict) -> str:
    """The verdict in a table cell: its headline, with how many more units when too few."""
    if verdict.kind == "too_few_examples" and verdict.more_needed is not None:
        return f"{HEADLINES[verdict.kind]}: code {verdict.more_needed} more"
    return HEADLINES[verdict.kind]


def _verdict(kind: TrustKind, detail: str, more_needed: int | None = None) -> TrustVerdict:
    return TrustVerdict(kind=kind, says=f"{HEADLINES[kind]}: {detail}", more_needed=more_needed)


# Kappas are written with 3 decimals at most (2 at least). A value said to be under a bar is
# rounded down and the bar up, so the words never read "0.41 is under 0.41".
def _num(value: float | None, thousandths: float | None = None) -> str:
    if value is None:
        return "n/a"
    text = f"{(round(value * 1000) if thousandths is None else thousandths) / 1000:.3f}"
    return text[:-1] if text.endswith("0") else text


def _under(value: float) -> str:
    return _num(value, math.floor(round(value * 1000, 6)))


def _bar(value: float) -> str:
    return _num(value, math.ceil(round(value * 1000, 6)))


def with_verdicts(rows: Iterable[CodeRow], reference: HumanReference | None) -> list[CodeRow]:
    """The rows with their verdicts, as the harness writes them into a report."""
    level = human_level(reference)
    return [row.model_copy(update={"trust": code_verdict(row, level)}) for row in rows]


def trust_verdicts(report: Report, method: str) -> dict[str, TrustVerdict] | None:
    """Each evaluated code's verdict for ``method``, by the rule as it is now (a report kept
    from before keeps its figures, not its words); None when the report did not evaluate that
    method (another method's verdicts would say nothing about this one's suggestions)."""
    chosen: MethodResult | None = next(
        (result for result in report.methods if result.method == method), None
    )
    if chosen is None:
        return None
    level = human_level(report.human_reference)
    return {row.code: code_verdict(row, level) for row in chosen.per_code}


def verdicts_for(
    report: Report | None, method: str, code_ids: Sequence[str]
) -> dict[str, TrustVerdict]:
    """A verdict for each of ``code_ids`` (in order): the report's for ``method``, and
    ``not evaluated`` for any code it does not cover, so the answer has one shape."""
    known = {} if report is None else trust_verdicts(report, method) or {}
    missing = not_evaluated(method)
    return {code: known.get(code, missing) for code in code_ids}


def verdict_counts(kinds: Iterable[TrustKind]) -> dict[TrustKind, int]:
    """How many codes got each verdict, every verdict present (0 when none got it)."""
    counts = dict.fromkeys(TRUST_KINDS, 0)
    for kind in kinds:
        counts[kind] += 1
    return counts
