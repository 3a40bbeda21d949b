"""The names of the methods an evaluation can compare, without importing them.

The command line's help lists these; importing :mod:`eval.methods` for that would pull in
scikit-learn and the suggesters, and make ``intercoder --help`` take seconds.
"""

from __future__ import annotations

from models.methods import METHOD_NAMES

BASELINE_NAMES = ("tfidf-5nn", "majority")
FUSED_METHODS = ("linear+lexical", "blend+lexical")
TUNED_METHODS = ("tuned", "tuned-knn", "tuned-blend", "tuned+frozen")
ALL_METHODS = (*TUNED_METHODS, *METHOD_NAMES, *FUSED_METHODS, *BASELINE_NAMES)

# The default head, the previous default and the two baselines. Fine-tuning per fold ("tuned")
# is on request: it did not yet hold on every dataset (eval/RESULTS.md) and takes minutes a fold.
DEFAULT_METHODS = ("linear", "knn", "tfidf-5nn", "majority")
