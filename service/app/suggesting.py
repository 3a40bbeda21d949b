"""Use cases: suggest codes for units of a stored project, or for a transcript file.

The HTTP routes, the REFI-QDA export and the review page call :func:`suggest_for_units`; the
project's coder comes from the engine, up to date with every committed change. The command
line calls :func:`suggest_offline`, which fits the same coder on a coded-units table. Both
answer with the coder's data warnings (``models.data_warnings``): the cold start, codes with
too few coded sentences, a code suggested on most of the units; and with each code's trust
verdict (``eval.trust``) from the last evaluation of the method that answered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from codebook.model import Codebook
from codebook.speakers import check_speaker_choice
from codebook.transcripts import Sentence
from eval.report_model import TrustVerdict
from eval.trust import verdicts_for
from models.context import UnitContext, preceding_texts, units_of
from models.data_warnings import DataWarning
from models.encoder import Encoder
from models.methods import DEFAULT_K, DEFAULT_METHOD, SuggestOptions
from models.project_coder import CoderState, ProjectCoder
from models.suggestions import UnitSuggestion
from service.app.evaluating import code_trust
from service.app.workspace import Workspace


@dataclass(frozen=True)
class SuggestionBatch:
    """Suggestions for a batch of units and the fitted coder they came from."""

    method: str
    agent: str
    codebook_version: str
    cold_start: bool
    exemplar_count: int
    units: list[UnitSuggestion]
    warnings: tuple[DataWarning, ...]
    trust: dict[str, TrustVerdict]
    """Each codable code's trust verdict for the method that answered (``eval.trust``):
    from the project's last evaluation, ``not_evaluated`` where none covers it."""


def suggest_for_units(
    workspace: Workspace,
    project_id: str,
    units: Sequence[UnitContext],
    *,
    method: str = DEFAULT_METHOD,
    k: int = DEFAULT_K,
    options: SuggestOptions | None = None,
    present_speakers: Sequence[str] | None = None,
) -> SuggestionBatch:
    """One suggestion per unit (same order), each unit read with its speaker and previous
    unit where the model reads context; the units are embedded once, refused if unusable;
    units of speakers not coded come back ``skipped``. The speaker choice is checked first,
    against ``present_speakers`` (the whole transcript's; default: the units')."""
    if options is not None:
        check_speaker_choice(
            [unit.speaker for unit in units] if present_speakers is None else present_speakers,
            speakers=options.speakers,
            skip_speakers=options.skip_speakers,
        )
    coder = workspace.engine.coder(project_id, method, k)
    state = coder.state
    results = coder.suggest(units, options, embed=workspace.embed_units)
    coded = sum(not result.skipped for result in results)
    workspace.metrics.suggestions.labels(method=state.method).inc(coded)
    trust = code_trust(workspace, project_id, state.method, _code_ids(state))
    return _batch(state, results, trust)


def suggest_offline(
    encoder: Encoder,
    codebook: Codebook,
    sentences: Sequence[Sentence],
    coded: pd.DataFrame | None,
    *,
    method: str = DEFAULT_METHOD,
    options: SuggestOptions | None = None,
    progress: Callable[[str], None] = lambda _: None,
    trust: dict[str, TrustVerdict] | None = None,
) -> SuggestionBatch:
    """Suggestions for a transcript's sentences from a coded-units table (or, without one,
    the codebook's cold start), with no store: ``intercoder suggest``. ``progress`` is told
    each step as it starts (embedding and fitting take seconds each on a large table).
    ``trust``: each code's verdict from an evaluation report (:func:`trust_from_report_file`);
    None: every code ``not_evaluated``."""
    coder = ProjectCoder(encoder, method)
    if coded is None:
        progress("embedding the codebook's definitions and examples")
        coder.fit(None, codebook)
    else:
        progress(f"embedding {len(coded):,} exemplars and fitting {method}")
        coder.fit_frame(coded, codebook)
    texts = [sentence.text for sentence in sentences]
    speakers = [sentence.speaker for sentence in sentences]
    progress(f"embedding and scoring {len(texts):,} sentences")
    results = coder.suggest(units_of(texts, speakers, preceding_texts(texts)), options)
    state = coder.state
    return _batch(state, results, trust or verdicts_for(None, state.method, _code_ids(state)))


def _code_ids(state: CoderState) -> list[str]:
    return [code.code for code in state.coverage]


def _batch(
    state: CoderState, results: list[UnitSuggestion], trust: dict[str, TrustVerdict]
) -> SuggestionBatch:
    return SuggestionBatch(
        method=state.method,
        agent=state.model_id,
        codebook_version=state.codebook_version,
        cold_start=state.cold_start,
        exemplar_count=state.exemplar_count,
        units=results,
        warnings=state.warnings(results),
        trust=trust,
    )
