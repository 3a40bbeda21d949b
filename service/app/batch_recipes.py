"""The coder a batch run uses: a stored project's, or one fitted on a coded-units table.

Either way the exemplars are embedded here, once, and travel inside the recipe, so that every
process coding the corpus (this one, or Ray workers) fits the very same coder.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from codebook.model import Codebook
from eval.trust import verdicts_for
from models.encoder import Encoder
from models.exemplars import exemplars_from_frame
from models.methods import DEFAULT_K, SuggestOptions
from service.app.batch_rows import CoderRecipe
from service.app.evaluating import code_trust
from service.app.workspace import Workspace
from service.settings import Settings


def recipe_from_project(
    workspace: Workspace,
    project_id: str,
    *,
    method: str,
    options: SuggestOptions,
    k: int = DEFAULT_K,
    model_path: Path | None = None,
) -> CoderRecipe:
    """The project's coder as it is now, with the trust verdicts of its last evaluation."""
    codebook, exemplars = workspace.engine.snapshot(project_id)
    return CoderRecipe(
        settings=workspace.settings,
        model_path=model_path,
        codebook=codebook,
        exemplars=exemplars,
        method=method,
        k=k,
        options=options,
        trust=code_trust(workspace, project_id, method, codebook.codable_ids),
    )


def recipe_from_coded(
    settings: Settings,
    encoder: Encoder,
    codebook: Codebook,
    coded: pd.DataFrame | None,
    *,
    method: str,
    options: SuggestOptions,
    k: int = DEFAULT_K,
    model_path: Path | None = None,
) -> CoderRecipe:
    """A coder fitted on a coded-units table (None or empty: the codebook's cold start); no
    evaluation covers it, so every code's verdict is ``not_evaluated``."""
    exemplars = exemplars_from_frame(coded, encoder) if coded is not None and len(coded) else None
    return CoderRecipe(
        settings=settings,
        model_path=model_path,
        codebook=codebook,
        exemplars=exemplars,
        method=method,
        k=k,
        options=options,
        trust=verdicts_for(None, method, codebook.codable_ids),
    )
