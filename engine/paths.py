"""Where the repository's files are: the one definition of the repository root, the bundled sample data
(SIM_SAMPLE_DATA) and the models folder (SIM_MODELS_DIR, or the CLI's --models-dir for this process).

The environment is read when asked (not at import), so a test or a command can point elsewhere; nothing here
writes to os.environ.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
_models_dir_override: Path | None = None


def sample_data() -> Path:
    """The bundled sample series: $SIM_SAMPLE_DATA, else <repo>/data/sample.csv."""
    return Path(os.environ.get("SIM_SAMPLE_DATA") or REPO_ROOT / "data" / "sample.csv")


def models_dir() -> Path:
    """The trained models: the folder given by use_models_dir, else $SIM_MODELS_DIR, else <repo>/models."""
    if _models_dir_override is not None:
        return _models_dir_override
    return Path(os.environ.get("SIM_MODELS_DIR") or REPO_ROOT / "models")


def use_models_dir(path) -> None:
    """Point this process at another models folder (the CLI's --models-dir). A path that is not a folder is refused
    here, naming the option: otherwise every model in it reads as an unknown forecaster."""
    from engine.errors import ConfigError
    global _models_dir_override
    if not Path(path).is_dir():
        raise ConfigError(f"--models-dir {path}: {'is not a folder' if Path(path).exists() else 'does not exist'}",
                          field="models_dir", value=str(path))
    _models_dir_override = Path(path)
