"""Reading the files a user names and writing the compiler's own, safely.

Input files (--env-file, --profile, a stack config) are UTF-8 without a byte-order mark: anything
else is an ``InputFileError`` naming the file, never a ``UnicodeDecodeError`` traceback. Env files
are read with python-dotenv's parser (the format docker compose's ``env_file`` shares) and written
so that both read back exactly the map written (``format_env_file``). Output files are written
atomically (a temporary file in the same directory, then ``os.replace``).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from temporal_dsql_config.errors import DsqlConfigError, InputErrors, InputFileError

__all__ = [
    "ENV_NAME",
    "atomic_write",
    "check_env_value",
    "format_env_file",
    "parse_env_text",
    "read_input_text",
]

_BOM = b"\xef\xbb\xbf"
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # a POSIX shell name: what compose and dotenv both read as a key
# Unquoted, these characters mean the same to python-dotenv and to compose (no spaces, quotes,
# '#', '$' or '\\'); anything else is quoted.
_PLAIN = re.compile(r"[A-Za-z0-9_./:,@+%=-]*")
_FORBIDDEN = {"\n": "a newline", "\r": "a carriage return", "\0": "a NUL byte"}


def read_input_text(path: Path, *, field: str) -> str:
    """The UTF-8 text of a file the user named; an InputFileError for every other case."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"No file at {path}.", field=field, suggestion="Check the path.") from None
    except IsADirectoryError:
        raise InputFileError(f"{path} is a directory, not a file.", field=field, suggestion="Name a file.") from None
    except OSError as error:
        raise InputFileError(f"Cannot read {path}: {error.strerror or error}.", field=field,
                             suggestion="Check the file's permissions.") from None
    if data.startswith(_BOM):
        raise InputFileError(f"{path} starts with a UTF-8 byte-order mark.", field=field, allowed=["UTF-8 without a BOM"],
                             suggestion="Save the file as UTF-8 without BOM (e.g. `sed -i '1s/^\\xEF\\xBB\\xBF//' FILE`).")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputFileError(f"{path} is not UTF-8: byte {data[error.start]:#04x} at offset {error.start} (line {line}).",
                             field=field, allowed=["UTF-8 text"],
                             suggestion="Convert it, e.g. `iconv -f latin1 -t utf-8 FILE`.") from None


def parse_env_text(text: str, *, field: str = "env_file") -> dict[str, str]:
    """KEY=VALUE lines as python-dotenv's parser reads them (quotes, ``export``, comments); every
    bad line and every repeated key is reported at once (InputErrors)."""
    from dotenv.parser import parse_stream

    env: dict[str, str] = {}
    first_line: dict[str, int] = {}
    errors: list[DsqlConfigError] = []
    for binding in parse_stream(io.StringIO(text)):
        number, raw = binding.original.line, binding.original.string.rstrip("\n")
        if binding.error or (binding.key is not None and binding.value is None):
            errors.append(DsqlConfigError(f"Line {number} of the env file is not KEY=VALUE: {raw!r}.", field=field,
                                          allowed=["KEY=VALUE", "KEY='quoted value'", "# comment"],
                                          suggestion="Write one KEY=VALUE per line."))
            continue
        if binding.key is None:
            continue  # a blank line or a comment
        assert binding.value is not None
        if binding.key in env:
            errors.append(DsqlConfigError(
                f"Line {number} of the env file sets {binding.key} again (first set on line {first_line[binding.key]}).",
                field=binding.key, suggestion="Keep one line per variable: docker compose and python-dotenv keep the last, "
                "the plugin's own readers may not."))
            continue
        env[binding.key] = binding.value
        first_line[binding.key] = number
    InputErrors.raise_all(errors)
    return env


def check_env_value(field: str, value: str) -> list[DsqlConfigError]:
    """A value that could not survive one KEY=VALUE line: a newline, carriage return or NUL
    would start another variable (or cut this one) in every reader of the file."""
    found = [what for char, what in _FORBIDDEN.items() if char in value]
    if not found:
        return []
    return [DsqlConfigError(f"The value of {field} contains {' and '.join(found)}: written to an env file it would "
                            "start another variable.", field=field, allowed=["one line of text without NUL"],
                            suggestion="Remove the line break; a value is one line.")]


def _quote(key: str, value: str) -> str:
    if _PLAIN.fullmatch(value):
        return value
    if "'" not in value and "\\" not in value:
        return f"'{value}'"  # single quotes: literal in python-dotenv and in compose
    if "$" not in value:
        # double quotes: both read \\ as \ and \" as "; '$' would interpolate in compose, so never here
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise DsqlConfigError(f"The value of {key} mixes a quote or backslash with '$': no env-file spelling reads back "
                          "the same in docker compose and python-dotenv.", field=key,
                          suggestion="Drop the '$' or the quote/backslash from the value.")


def format_env_file(env: Mapping[str, str]) -> str:
    """KEY=VALUE lines python-dotenv and docker compose's env_file both read back as ``env``;
    a key that is not a shell name (say with '=') or a multi-line value is refused, all at once."""
    errors: list[DsqlConfigError] = []
    lines = []
    for key, value in env.items():
        if not ENV_NAME.fullmatch(key):
            errors.append(DsqlConfigError(f"Env name {key!r} is not a variable name.", field=key,
                                          allowed=["letters, digits and '_', not starting with a digit"],
                                          suggestion="Rename the variable."))
            continue
        problems = check_env_value(key, value)
        if problems:
            errors += problems
            continue
        try:
            lines.append(f"{key}={_quote(key, value)}\n")
        except DsqlConfigError as error:
            errors.append(error)
    InputErrors.raise_all(errors)
    return "".join(lines)


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and os.replace:
    a reader sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
