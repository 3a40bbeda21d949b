"""The names of the methods an evaluation can compare, without importing them.

The command line's help lists these; importing :mod:`eval.methods` for that would pull in
scikit-learn and the suggesters, and make ``intercoder --help`` take seconds.
"""

from __future__ import annotations

from models.methods import METHOD_NAMES

BASELINE_NAMES = ("logreg", "tfidf-5nn", "majority")
FUSED_METHODS = ("linear+lexical", "blend+lexical")
TUNED_METHODS = ("tuned", "tuned-knn", "tuned-blend", "tuned+frozen")
ALL_METHODS = (*TUNED_METHODS, *METHOD_NAMES, *FUSED_METHODS, *BASELINE_NAMES)

# The default head, the previous default and the baselines: plain logistic regression on the same
# embeddings (every gain is read against it), the lexical one and the majority class. Fine-tuning
# per fold ("tuned") is on request: it did not yet hold on every dataset (eval/RESULTS.md) and
# takes minutes a fold.
DEFAULT_METHODS = ("linear", "knn", "logreg", "tfidf-5nn", "majority")
