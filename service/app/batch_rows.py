"""The coder of a batch run, and the rows it writes: one per sentence.

A :class:`CoderRecipe` holds everything a coder is built from (settings naming the encoder,
codebook, embedded exemplars, method, options), so the same coder can be rebuilt in another
process (a Ray worker) and answer exactly as the one in this process does: the exemplars travel
embedded, and every process fits :class:`models.project_coder.ProjectCoder` on them alike.
:func:`code_units` turns a table of units into the output rows; it is the one function both
the single-machine run and the Ray run map over the corpus.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from codebook.model import Codebook
from eval.report_model import TrustVerdict
from models.context import UnitContext, units_of
from models.encoder import Embeddings, Encoder
from models.exemplars import Exemplars
from models.methods import SuggestOptions
from models.project_coder import ProjectCoder
from models.suggesters.compact import CompactSuggestions
from service.app.runtime import build_encoder
from service.settings import Settings

OUTPUT_COLUMNS = (
    "transcript_id", "source", "sentence", "turn", "speaker", "start", "end", "text",
    "codes", "top_codes", "top_scores", "confidence", "no_code", "abstained", "skipped",
    "evidence_ids",
)  # fmt: skip
LIST_COLUMNS = ("codes", "top_codes", "top_scores", "evidence_ids")


@dataclass(frozen=True)
class CoderRecipe:
    """How to build a batch run's coder, anywhere: picklable, and the same coder every time.

    ``exemplars`` None means the cold start (the codebook's own definitions and examples).
    """

    settings: Settings
    model_path: Path | None
    codebook: Codebook
    exemplars: Exemplars | None
    method: str
    k: int
    options: SuggestOptions
    trust: dict[str, TrustVerdict]
    """Each codable code's trust verdict (``eval.trust``): from the project's last evaluation
    of ``method``, ``not_evaluated`` where none covers it (a coded table is never evaluated)."""

    def build(self, encoder: Encoder | None = None) -> ProjectCoder:
        """The fitted coder. Its encoder: ``encoder`` (the service's, already loaded), else
        one loaded without the embedding cache (a corpus is embedded once, and a million
        cached vectors would only fill the disk)."""
        if encoder is None:
            encoder = build_encoder(self.settings, model_path=self.model_path, cached=False)
        # Exact search: the evidence must not depend on how an approximate index was built.
        coder = ProjectCoder(encoder, self.method, k=self.k, index_kind="exact")
        return coder.fit(self.exemplars, self.codebook)

    def fingerprint(self, model_id: str) -> str:
        """Names what the rows depend on: a resumed run refuses to mix two coders' rows."""
        digest = hashlib.sha256()
        described = {
            "model": model_id,
            "codebook": self.codebook.version,
            "method": self.method,
            "k": self.k,
            "options": repr(self.options),
        }
        digest.update(json.dumps(described, sort_keys=True).encode())
        if self.exemplars is not None:
            digest.update(np.ascontiguousarray(self.exemplars.ids).tobytes())
            digest.update(np.ascontiguousarray(self.exemplars.vectors).tobytes())
            for codes in self.exemplars.codes:
                digest.update(("|".join(sorted(codes)) + "\n").encode())
        return digest.hexdigest()


def code_units(
    coder: ProjectCoder,
    options: SuggestOptions,
    units: pd.DataFrame,
    vectors: Embeddings | None = None,
) -> pd.DataFrame:
    """The output rows of a table of units (columns of ``batch_inputs.UNIT_COLUMNS``, plus
    ``previous_text`` and ``source``), in the same order, coded in one batch; ``vectors``:
    the units' embeddings from :func:`embed_units`, when embedded ahead."""
    contexts = _contexts(units)
    embed = None if vectors is None else _given(vectors)
    return rows_of(units, coder.suggest_compact(contexts, options, embed=embed))


def embed_units(coder: ProjectCoder, options: SuggestOptions, units: pd.DataFrame) -> Embeddings:
    """The vectors :func:`code_units` needs for these units: those of the units it codes."""
    contexts = _contexts(units)
    selected = coder.selected(contexts, options)
    chosen = [unit for unit, keep in zip(contexts, selected, strict=True) if keep]
    return coder.embed(chosen)


def _contexts(units: pd.DataFrame) -> list[UnitContext]:
    return units_of(
        units["text"].astype(str).tolist(),
        units["speaker"].astype(str).tolist(),
        units["previous_text"].astype(str).tolist(),
    )


def _given(vectors: Embeddings) -> Callable[[Sequence[UnitContext]], Embeddings]:
    def embed(chosen: Sequence[UnitContext]) -> Embeddings:
        if len(chosen) != len(vectors):
            raise ValueError(f"embedded {len(vectors)} units ahead, asked for {len(chosen)}")
        return vectors

    return embed


def rows_of(units: pd.DataFrame, answers: CompactSuggestions) -> pd.DataFrame:
    """The output table of coded units: their identity and each one's answer."""
    rows = units.reset_index(drop=True)
    return pd.DataFrame(
        {
            "transcript_id": rows["transcript_id"].astype(str),
            "source": rows["source"].astype(str),
            "sentence": rows["sentence"].astype("int64"),
            "turn": rows["turn"].astype("int64"),
            "speaker": rows["speaker"].astype(str),
            "start": rows["start"].astype("Int64"),
            "end": rows["end"].astype("Int64"),
            "text": rows["text"].astype(str),
            "codes": answers.suggested,
            "top_codes": answers.codes,
            "top_scores": [[round(score, 6) for score in scores] for scores in answers.scores],
            "confidence": [round(value, 6) for value in answers.confidence],
            "no_code": answers.no_code,
            "abstained": answers.abstained,
            "skipped": answers.skipped,
            "evidence_ids": answers.evidence_ids,
        },
        columns=list(OUTPUT_COLUMNS),
    )


def as_csv_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows with list columns joined by ";" (a CSV cell holds one value)."""
    flat = rows.copy()
    for name in LIST_COLUMNS:
        flat[name] = [";".join(str(value) for value in values) for values in rows[name]]
    return flat
