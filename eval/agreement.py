"""Agreement statistics, reported the way a methods section reports intercoder reliability.

Pure functions returning frozen dataclasses; no I/O. The work lives in ``eval.agreement_*``;
import from here.

- ``exclusive_agreement``: single-label schemes (Cohen's kappa, accuracy, macro F1, confusion).
- ``multilabel_agreement``: code sets (per-code, pooled and mean kappa, MASI alpha).
- ``krippendorff_alpha_masi``: any number of coders, missing codings allowed.
- ``pairwise_cohen``, ``pairwise_cohen_by_code``, ``fleiss``: human-human agreement.
- ``bootstrap_ci``: cluster bootstrap over transcripts, with fast ``*_statistic`` factories.

Undefined values (kappa or alpha 0/0 because nobody's ratings vary) are ``None``, never 1.0 or
nan; see ``eval.agreement_common``.
"""

from __future__ import annotations

from eval.agreement_bootstrap import (
    ConfidenceInterval,
    RowStatistic,
    bootstrap_ci,
    cohen_kappa_statistic,
    pooled_kappa_statistic,
    table_kappa,
)
from eval.agreement_coders import (
    CodePairwiseAgreement,
    CoderPairAgreement,
    FleissAgreement,
    PairwiseAgreement,
    fleiss,
    pairwise_cohen,
    pairwise_cohen_by_code,
)
from eval.agreement_common import NO_CODE
from eval.agreement_exclusive import ExclusiveAgreement, LabelAgreement, exclusive_agreement
from eval.agreement_multilabel import (
    CodeAgreement,
    MultiLabelAgreement,
    krippendorff_alpha_masi,
    masi_distance_empty_safe,
    multilabel_agreement,
    presence_matrix,
)

__all__ = [
    "NO_CODE",
    "CodeAgreement",
    "CodePairwiseAgreement",
    "CoderPairAgreement",
    "ConfidenceInterval",
    "ExclusiveAgreement",
    "FleissAgreement",
    "LabelAgreement",
    "MultiLabelAgreement",
    "PairwiseAgreement",
    "RowStatistic",
    "bootstrap_ci",
    "cohen_kappa_statistic",
    "exclusive_agreement",
    "fleiss",
    "krippendorff_alpha_masi",
    "masi_distance_empty_safe",
    "multilabel_agreement",
    "pairwise_cohen",
    "pairwise_cohen_by_code",
    "pooled_kappa_statistic",
    "presence_matrix",
    "table_kappa",
]
