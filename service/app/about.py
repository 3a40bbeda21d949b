"""Use case of ``intercoder info``: what is installed and where the data lives, found without
loading the model or importing torch (which alone takes seconds)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
from dataclasses import dataclass
from pathlib import Path

from models.encoder import BUNDLED_MODEL_NAME, BUNDLED_WEIGHTS_SHA256, bundled_model_dir
from models.encoder import weights_sha256 as folder_weights_sha256
from models.errors import ModelIntegrityError
from service.app.catalog import list_local_projects
from service.settings import Settings

# What can embed: torch runs the model; onnxruntime and ray (intercoder code --engine ray) are
# optional extras.
BACKENDS = ("torch", "onnxruntime", "ray")


@dataclass(frozen=True)
class ModelInfo:
    name: str
    folder: Path | None
    weights_sha256: str | None
    expected_sha256: str | None
    """The pinned (bundled) or configured (INTERCODER_MODEL_SHA256) hash; None: none set."""
    problem: str | None
    """Why the model cannot be used (missing folder, no weights), None when it can."""


@dataclass(frozen=True)
class Installation:
    version: str
    python: str
    model: ModelInfo
    data_dir: Path
    data_dir_exists: bool
    backends: dict[str, str | None]
    """Each backend's installed version, None where it is not installed."""
    projects: int


def describe_installation(settings: Settings) -> Installation:
    return Installation(
        version=_version("intercoder") or "unknown (not installed as a package)",
        python=f"{platform.python_version()} ({platform.python_implementation()})",
        model=describe_model(settings),
        data_dir=settings.data_dir.absolute(),
        data_dir_exists=settings.data_dir.is_dir(),
        backends={name: _backend_version(name) for name in BACKENDS},
        projects=len(list_local_projects(settings)),
    )


def describe_model(settings: Settings) -> ModelInfo:
    """The configured model (INTERCODER_MODEL_PATH) or the bundled one, with its weights'
    sha256 read from the file, as the encoder checks it when it loads."""
    if settings.test_encoder is not None:
        name = f"test encoder ({settings.test_encoder}; INTERCODER_TEST_ENCODER, never for use)"
        return ModelInfo(name, None, None, None, None)
    configured = settings.model_path
    name = BUNDLED_MODEL_NAME if configured is None else str(configured)
    expected = BUNDLED_WEIGHTS_SHA256 if configured is None else settings.model_sha256
    try:
        folder = bundled_model_dir() if configured is None else configured
        if not folder.is_dir():
            raise ModelIntegrityError(f"{folder} is not a folder")
        return ModelInfo(name, folder, folder_weights_sha256(folder), expected, None)
    except ModelIntegrityError as error:
        return ModelInfo(name, None, None, expected, str(error))


def _backend_version(module: str) -> str | None:
    """The installed version, found without importing the module (torch takes seconds)."""
    if importlib.util.find_spec(module) is None:
        return None
    return _version(module) or "installed"


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
