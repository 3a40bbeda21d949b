"""A project's coder: the one way from coded exemplars and new units to suggestions.

It owns the encoder, the head (a suggester of the chosen method), the head's calibration, the
cold start, the speaker choice, and how it learns from a change to the exemplars. The command
line, the service, the evaluation harness and the REFI-QDA export all build a
``ProjectCoder(encoder, method)``, so the same units and exemplars give the same suggestions
everywhere (a model from ``intercoder train`` is simply its encoder). One difference remains by
design: the service's heads search the project's index, which turns approximate (HNSW) above
10,000 exemplars, where the evidence of a few units can differ from an exact search.

Learning from a change (an accepted, rejected or recoded suggestion) does not recalibrate: the
head is refitted on the new exemplars with its calibrated thresholds kept (``update``), which
is what makes learning interactive. Thresholds are recalibrated by a full fit once the
exemplars calibrated on and the current ones differ by more than ``recalibrate_after_share``
of the former (added, removed and recoded exemplars all count: a recode is a new exemplar id),
when the codebook changes, or when the coder leaves the cold start.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from codebook.model import Codebook
from codebook.speakers import select_sentences
from models.calibration import NEVER
from models.cold_start import DEFAULT_BACKGROUND_K, ColdStartSuggester
from models.context import UnitContext, encode_units
from models.data_warnings import CodeCoverage, DataWarning, batch_warnings, coverage
from models.encoder import Embeddings, Encoder
from models.errors import NotFittedError
from models.exemplars import (
    Exemplars,
    cold_start_exemplars,
    exemplars_from_frame,
    with_codebook_fallback,
)
from models.index import ExemplarIndex
from models.methods import DEFAULT_K, DEFAULT_METHOD, DEFAULT_NEXT, SuggestOptions, method_params
from models.next_units import RankedUnit, rank_units, warm_after
from models.suggesters import BaseSuggester, Decisions, make_suggester
from models.suggesters.base import IndexKind
from models.suggesters.compact import CompactSuggestions
from models.suggesters.groups import exclusive_columns
from models.suggestions import UnitSuggestion

RECALIBRATE_AFTER_SHARE = 0.1
Embed = Callable[[Sequence[UnitContext]], Embeddings]


@dataclass(frozen=True)
class CoderState:
    """What a fitted coder stands on, for interfaces to report (never the estimator itself)."""

    method: str
    cold_start: bool
    exemplar_count: int
    calibrated_count: int
    codebook_version: str
    model_id: str
    coverage: tuple[CodeCoverage, ...]
    """Each codable code's count of exemplars carrying it (``models.data_warnings``)."""

    @property
    def thin_codes(self) -> tuple[CodeCoverage, ...]:
        """Codes with too few coded sentences for their suggestions to mean much."""
        return tuple(code for code in self.coverage if code.more_needed > 0)

    def warnings(self, suggestions: Sequence[UnitSuggestion] = ()) -> tuple[DataWarning, ...]:
        """What a user should know about the data behind these suggestions: the cold start,
        thin codes, a code suggested on most of them (``models.data_warnings``)."""
        return batch_warnings(self.cold_start, self.exemplar_count, self.coverage, suggestions)


class ProjectCoder:
    """Encoder + head + calibration for one codebook; ``method`` names the head.

    ``k`` is the neighbours voting in ``knn`` and ``blend``; ``index_kind`` the exemplar
    index's kind ("exact" reproduces figures exactly; "auto" switches to HNSW on large
    projects); ``recalibrate_after_share`` how far the exemplars may drift from those the
    thresholds were calibrated on before :meth:`learn` recalibrates; ``background_k`` how many
    background sentences the cold start compares a unit with (``models.cold_start``).
    """

    def __init__(
        self,
        encoder: Encoder,
        method: str = DEFAULT_METHOD,
        *,
        k: int = DEFAULT_K,
        index_kind: IndexKind = "auto",
        recalibrate_after_share: float = RECALIBRATE_AFTER_SHARE,
        background_k: int = DEFAULT_BACKGROUND_K,
    ) -> None:
        self.encoder = encoder
        self.method = method
        self.k = k
        self.index_kind = index_kind
        self.recalibrate_after_share = recalibrate_after_share
        self.background_k = background_k

    # -- learning -----------------------------------------------------------------------------

    def fit(
        self,
        exemplars: Exemplars | None,
        codebook: Codebook,
        *,
        index: ExemplarIndex | None = None,
    ) -> Self:
        """Learn from coded exemplars with a full calibration; none (or an empty set) gives
        the cold start: the prototype head over the codebook's own texts.

        ``index``: the project's own index over these exemplars (keyed by their ids), which
        the head then searches instead of building one (see ``models.suggesters.search``)."""
        self.cold_start_ = exemplars is None or len(exemplars) == 0
        if self.cold_start_:  # the prototype, able to say "no code" (models.cold_start)
            head: BaseSuggester = ColdStartSuggester(
                background_k=self.background_k, index_kind=self.index_kind
            ).fit_codebook(codebook, self.encoder)
            self.exemplar_count_ = 0
            self.coded_vectors_: Embeddings | None = None
        else:
            assert exemplars is not None
            head = self._new_head().fit(
                self._with_fallback(exemplars, codebook),
                codebook,
                index=self._shared(index),
            )
            self.exemplar_count_ = len(exemplars)
            self.coded_vectors_ = exemplars.vectors
        self.head_ = head
        self.codebook_ = codebook
        self.calibrated_ids_ = _sorted_ids(exemplars)
        self.coverage_ = coverage(() if exemplars is None else exemplars.codes, codebook)
        return self

    def fit_frame(self, coded: pd.DataFrame, codebook: Codebook) -> Self:
        """Learn from a coded-units table (one coding per unit), embedding it once."""
        exemplars = exemplars_from_frame(coded, self.encoder) if len(coded) else None
        return self.fit(exemplars, codebook)

    def learn(
        self,
        exemplars: Exemplars | None,
        codebook: Codebook,
        *,
        index: ExemplarIndex | None = None,
    ) -> Self:
        """Learn from the project's exemplars after a change (added, removed or recoded).

        Keeps the calibrated thresholds while the change is small; a new codebook, the first
        exemplars, or drift past ``recalibrate_after_share`` recalibrate in full.
        """
        self._check_fitted()
        count = 0 if exemplars is None else len(exemplars)
        # Exemplars in one set and not the other: a recode replaces an exemplar by a new id,
        # so it counts twice where a bare count would not see it at all.
        drift = len(np.setxor1d(self.calibrated_ids_, _sorted_ids(exemplars), assume_unique=True))
        if (
            exemplars is None
            or count == 0
            or self.cold_start_
            or codebook.version != self.codebook_.version
            or drift > self.recalibrate_after_share * max(len(self.calibrated_ids_), 1)
        ):
            return self.fit(exemplars, codebook, index=index)
        # A copy learns: whoever holds this coder's previous head keeps using it undisturbed.
        head = copy.copy(self.head_)
        self.head_ = head.update(
            self._with_fallback(exemplars, codebook), index=self._shared(index)
        )
        self.exemplar_count_ = count
        self.coded_vectors_ = exemplars.vectors
        self.coverage_ = coverage(exemplars.codes, codebook)
        return self

    # -- suggesting ---------------------------------------------------------------------------

    def suggest(
        self,
        units: Sequence[UnitContext],
        options: SuggestOptions | None = None,
        *,
        embed: Embed | None = None,
    ) -> list[UnitSuggestion]:
        """One suggestion per unit, in order. Units whose speaker is not coded (the codebook's
        speaker roles, or the options' choice) are answered ``skipped`` and never embedded.

        ``embed`` turns units into vectors (default: this coder's encoder, reading each unit
        with its speaker and previous unit where the model was trained so); the service
        passes its own, which runs on one thread and refuses unusable vectors.
        """
        options = options or SuggestOptions()
        coded = self.selected(units, options)
        chosen = [unit for unit, keep in zip(units, coded, strict=True) if keep]
        answers = iter(self._suggest_chosen(chosen, options, embed))
        return [
            next(answers) if keep else self._skipped(unit.text)
            for unit, keep in zip(units, coded, strict=True)
        ]

    def suggest_compact(
        self,
        units: Sequence[UnitContext],
        options: SuggestOptions | None = None,
        *,
        embed: Embed | None = None,
    ) -> CompactSuggestions:
        """What :meth:`suggest` answers, as columns: the decided and ranked codes, their
        scores and each decided code's nearest supporting exemplar id, without the answer
        objects; for coding many units (a batch run)."""
        options = options or SuggestOptions()
        coded = self.selected(units, options)
        chosen = [unit for unit, keep in zip(units, coded, strict=True) if keep]
        vectors = (embed or self.embed)(chosen) if chosen else None
        if vectors is None:
            return _NOTHING_CODED.spread(coded)
        return self._configured(options).suggest_compact(vectors).spread(coded)

    def selected(self, units: Sequence[UnitContext], options: SuggestOptions) -> list[bool]:
        """Which units :meth:`suggest` codes (and embeds) under these options: those whose
        speaker is coded; the others come back ``skipped``."""
        self._check_fitted()
        return select_sentences(
            [unit.speaker for unit in units],
            speakers=options.speakers,
            skip_speakers=options.skip_speakers,
            codebook=self.codebook_,
            # a batch may be one page of a transcript: the caller checks the choice against
            # the whole transcript (codebook.speakers.check_speaker_choice)
            check_present=False,
        )

    def embed(self, units: Sequence[UnitContext]) -> Embeddings:
        """The units' vectors as :meth:`suggest` embeds them by default (with the context the
        model was trained to read); a caller may embed ahead and pass them as ``embed``."""
        return encode_units(self.encoder, units)

    def decide_vectors(self, vectors: Embeddings) -> Decisions:
        """Decided codes, scores and confidence over the codebook's codable codes, for
        scoring many units at once (the evaluation harness)."""
        self._check_fitted()
        return self.head_.decide(vectors)

    def rank_for_coding(
        self, vectors: Embeddings, n: int = DEFAULT_NEXT, *, seed: int = 0
    ) -> tuple[RankedUnit, ...]:
        """Which of these uncoded units (their vectors, as :meth:`embed` gives them) coding
        would teach this coder most, at most ``n``, most informative first: its most uncertain
        units, spread over different kinds of doubt; by diversity alone until it has learnt
        from :func:`models.next_units.warm_after` coded units (``models.next_units``)."""
        self._check_fitted()
        code_ids = self.codebook_.codable_ids
        warm = not self.cold_start_ and self.exemplar_count_ >= warm_after(len(code_ids))
        exclusive = exclusive_columns(self.codebook_, code_ids)
        decisions = self.decide_vectors(vectors) if warm else None
        coded = vectors[:0] if self.coded_vectors_ is None else self.coded_vectors_
        return rank_units(vectors, coded, decisions, exclusive, n=n, seed=seed)

    @property
    def state(self) -> CoderState:
        self._check_fitted()
        return CoderState(
            method=self.head_.method,
            cold_start=self.cold_start_,
            exemplar_count=self.exemplar_count_,
            calibrated_count=len(self.calibrated_ids_),
            codebook_version=self.codebook_.version,
            model_id=self.encoder.model_id,
            coverage=self.coverage_,
        )

    # -- internals ----------------------------------------------------------------------------

    def _suggest_chosen(
        self, units: list[UnitContext], options: SuggestOptions, embed: Embed | None
    ) -> list[UnitSuggestion]:
        if not units:
            return []
        vectors = (embed or self.embed)(units)
        head = self._configured(options)
        return head.suggest(vectors, [unit.text for unit in units], self.encoder.model_id)

    def _skipped(self, text: str) -> UnitSuggestion:
        return UnitSuggestion.skipped_unit(
            text,
            method=self.head_.method,
            model_id=self.encoder.model_id,
            codebook_version=self.codebook_.version,
        )

    def _new_head(self) -> BaseSuggester:
        return make_suggester(
            self.method, index_kind=self.index_kind, **method_params(self.method, k=self.k)
        )

    def _shared(self, index: ExemplarIndex | None) -> ExemplarIndex | None:
        # The prototype's fallback adds the codebook's texts, which the project's index lacks.
        return None if self.method == "prototype" else index

    def _with_fallback(self, exemplars: Exemplars, codebook: Codebook) -> Exemplars:
        """The prototype head falls back to the codebook's texts for codes nobody coded."""
        if self.method != "prototype":
            return exemplars
        from_codebook = cold_start_exemplars(codebook, self.encoder, background=False)
        return with_codebook_fallback(exemplars, from_codebook)

    def _configured(self, options: SuggestOptions) -> BaseSuggester:
        """A per-call copy of the head with these options; the fitted head stays untouched.

        Shallow: the fitted scorer and evidence index are shared (their searches lock).
        """
        head = copy.copy(self.head_)
        head.top_n = options.top
        head.n_evidence = options.evidence
        head.abstain_below = options.abstain_below
        if options.threshold is not None:
            learned = self.head_.thresholds_
            # A code no exemplar carries keeps NEVER: its score is 0 and a threshold of 0
            # would suggest it for every sentence.
            head.thresholds_ = np.where(learned >= NEVER, NEVER, options.threshold)
        return head

    def _check_fitted(self) -> None:
        if not hasattr(self, "head_"):
            raise NotFittedError(
                "this ProjectCoder is not fitted yet: call fit(exemplars, codebook) (or "
                "fit(None, codebook) for the cold start) before suggesting"
            )


def _sorted_ids(exemplars: Exemplars | None) -> NDArray[np.int64]:
    if exemplars is None:
        return np.zeros(0, dtype=np.int64)
    return np.sort(exemplars.ids)


_NOTHING_CODED = CompactSuggestions([], [], [], [], [], [], [], [])
