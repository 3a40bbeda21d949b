"""The coder a batch run uses: a stored project's, or one fitted on a coded-units table.

Either way the exemplars are embedded here, once, and travel inside the recipe, so that every
process coding the corpus (this one, or Ray workers) fits the very same coder.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from codebook.model import Codebook
from models.encoder import Encoder
from models.exemplars import exemplars_from_frame
from models.methods import DEFAULT_K, SuggestOptions
from service.app.batch_rows import CoderRecipe
from service.app.evaluating import last_trust_verdicts
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
        evaluated=last_trust_verdicts(workspace, project_id, method),
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
    """A coder fitted on a coded-units table (None or empty: the codebook's cold start)."""
    exemplars = exemplars_from_frame(coded, encoder) if coded is not None and len(coded) else None
    return CoderRecipe(
        settings=settings,
        model_path=model_path,
        codebook=codebook,
        exemplars=exemplars,
        method=method,
        k=k,
        options=options,
    )
