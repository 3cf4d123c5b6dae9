"""Files the components need at deploy time, shipped inside the package (`_data/`).

    _data/profile_api/handler.py       the profile API Lambda's handler (lambdas/profile_api/)
    _data/lambda-requirements.txt      the Lambda bundle's pins with hashes, from uv.lock at build time
    _data/docker/runtime/...           the runtime image's Dockerfile and scripts (visibility set-up)
    _data/docker/copilot/...           the copilot image's Dockerfile and entry point

In a checkout the first, third and fourth are symlinks to the repository's files (the wheel build
follows them) and the second is written by the editable install's build hook, so a checkout and an
installed wheel read the same bytes from the same place: the package, never a repository root.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from pulumi_temporal_dsql.errors import ComponentInputError

__all__ = ["DATA_PACKAGE", "data_dir", "data_file", "dockerfile_dir"]

DATA_PACKAGE = "pulumi_temporal_dsql"


def data_dir() -> Path:
    """`pulumi_temporal_dsql/_data` of this installation (a directory on disk: wheels unpack)."""
    return Path(str(files(DATA_PACKAGE))) / "_data"


def data_file(*parts: str) -> Path:
    """One shipped file; a typed error naming it when the installation lacks it."""
    path = data_dir().joinpath(*parts)
    if not path.is_file():
        raise ComponentInputError(
            f"The installed temporal-dsql has no {'/'.join(parts)} (looked in {data_dir()}).",
            field="/".join(parts),
            suggestion="Reinstall the package (pip install --force-reinstall temporal-dsql); in a checkout run `uv sync`.",
        )
    return path


def dockerfile_dir(image: str) -> Path:
    """The build context of a shipped image: `runtime` or `copilot`."""
    return data_file("docker", image, "Dockerfile").parent
