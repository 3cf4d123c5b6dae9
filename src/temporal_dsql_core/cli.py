"""The command-line grammar `temporal-dsql-config`, `temporal-dsql` and `copilot` share.

One place for what a user should find the same in every command (README: Command-line
conventions): the exit codes, ``--format text|json|yaml`` (``--json`` for short), how an error is
printed, ``--version``, and what happens off a terminal: tables are not cut to 80 columns, and a
reader that closes the pipe early (``| head``) ends the command quietly.

A new command takes ``FormatOption``/``JsonFlag`` and calls ``resolve_format`` and ``emit``; it
turns an ``InputError`` into exit 2 with ``fail`` (or lets ``run`` do it), a refusal into exit 3
(``Refused``) and an unreachable dependency into exit 4. The console script is ``run(app, prog)``.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections.abc import Callable, Iterable
from enum import IntEnum, StrEnum
from importlib import metadata
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from temporal_dsql_core.errors import InputError, TemporalDsqlError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "EXIT_CODE_TABLE",
    "ExitCode",
    "FormatOption",
    "JsonFlag",
    "OutputFormat",
    "Refused",
    "Unavailable",
    "add_version_option",
    "emit",
    "error_lines",
    "exit_code_for",
    "fail",
    "make_console",
    "print_error",
    "resolve_format",
    "run",
    "version_text",
]

DISTRIBUTION = "temporal-dsql"


class ExitCode(IntEnum):
    """Every command's exit status means the same thing (a refusal is not a bad input)."""

    OK = 0
    CHANGES = 1  # `temporal-dsql diff` only: the proposal changes something
    BAD_INPUT = 2  # the command line or an input file is wrong: fix it and run again
    REFUSED = 3  # valid input that is refused: a guard rail, a shard-count change, a failed check
    UNAVAILABLE = 4  # a dependency could not be reached, or the work failed at run time


EXIT_CODE_TABLE: dict[ExitCode, str] = {
    ExitCode.OK: "success (diff: no change)",
    ExitCode.CHANGES: "changes found (`temporal-dsql diff` only)",
    ExitCode.BAD_INPUT: "bad input: unknown name, invalid value, bad option; nothing was written",
    ExitCode.REFUSED: "refused: a guard rail, a history-shard change, drift or non-conformance found",
    ExitCode.UNAVAILABLE: "a dependency is unreachable (database, S3, Prometheus, Bedrock, Docker) or the work failed",
}


class Refused(TemporalDsqlError):
    """Valid input the tool refuses to act on (exit 3); the message says why and the way out."""

    def __init__(self, message: str, *, hints: Iterable[str] = ()) -> None:
        self.message = message
        self.hints = list(hints)
        super().__init__(message)


class Unavailable(TemporalDsqlError):
    """A dependency could not be reached (exit 4)."""

    def __init__(self, message: str, *, hints: Iterable[str] = ()) -> None:
        self.message = message
        self.hints = list(hints)
        super().__init__(message)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    yaml = "yaml"


FormatOption = Annotated[OutputFormat, typer.Option(
    "--format", case_sensitive=False, help="Output: text for people, json or yaml for programs (--json: json).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Short for --format json.")]


def resolve_format(fmt: OutputFormat, as_json: bool) -> OutputFormat:
    return OutputFormat.json if as_json else fmt


def _jsonable(document: Any) -> Any:
    """A pydantic model or a JSON string becomes plain data (so yaml and json print the same content)."""
    if hasattr(document, "model_dump"):
        return document.model_dump(mode="json")
    if isinstance(document, str):
        return json.loads(document)
    return document


def emit(document: Any, fmt: OutputFormat) -> None:
    """Write a document to stdout as JSON (indented, one trailing newline) or YAML (keys in order)."""
    data = _jsonable(document)
    if fmt is OutputFormat.yaml:
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# --- consoles ------------------------------------------------------------------------------------

# Off a terminal a line is as long as its content: a pipe or a file gets whole values (ids, URLs,
# paths), never a table cut at 80 columns or a value folded over two lines.
_PIPE_WIDTH = 100_000


def make_console(*, stderr: bool = False) -> Console:
    """A rich Console: the terminal's width on a terminal, unlimited off one. Colour follows rich's
    rules: none off a terminal, none with NO_COLOR set, FORCE_COLOR forces it."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else _PIPE_WIDTH)


# --- errors --------------------------------------------------------------------------------------


def error_lines(error: BaseException | str) -> list[str]:
    """`error: <message>` and then the hint lines: what is allowed, and how to fix it."""
    if isinstance(error, InputError):
        lines = [f"error: {error.message}"]
        allowed = error.allowed or []
        if allowed and len(allowed) <= 20:
            lines.append(f"  allowed: {', '.join(str(a) for a in allowed)}")
        elif allowed:
            lines.append(f"  allowed: one of {len(allowed)} names")
        if error.suggestion:
            lines.append(f"  hint: {error.suggestion}")
        return lines
    if isinstance(error, Refused | Unavailable):
        return [f"error: {error.message}", *(f"  hint: {hint}" for hint in error.hints)]
    return [f"error: {error}"]


def print_error(error: BaseException | str, *hints: str) -> None:
    lines = [*error_lines(error), *(f"  hint: {hint}" for hint in hints)]
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def exit_code_for(error: BaseException) -> ExitCode:
    if isinstance(error, Refused):
        return ExitCode.REFUSED
    if isinstance(error, InputError):
        return ExitCode.BAD_INPUT
    return ExitCode.UNAVAILABLE


def fail(error: BaseException | str, *hints: str, code: ExitCode | None = None) -> NoReturn:
    """Print the error the shared way and end the command with its exit code."""
    print_error(error, *hints)
    resolved = code if code is not None else (exit_code_for(error) if isinstance(error, BaseException)
                                               else ExitCode.BAD_INPUT)
    raise typer.Exit(int(resolved))


# --- version -------------------------------------------------------------------------------------


def version_text(prog: str) -> str:
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # a source tree without an install
        version = "unknown"
    return f"{prog} {version}"


def _show_version(ctx: typer.Context, value: bool) -> None:
    if value:
        typer.echo(version_text(ctx.find_root().info_name or DISTRIBUTION))
        raise typer.Exit()


def _version_callback(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """The root's options, for every command of the app."""


def add_version_option(app: typer.Typer, prog: str) -> None:
    """`PROG --version` prints the project's version (an eager option of the app's callback, so it
    works before any command); the name printed is the one the command was started as."""
    app.callback()(_version_callback)


# --- the console script ----------------------------------------------------------------------------


def _quiet_broken_pipe() -> NoReturn:
    """The reader went away (`| head`): stop writing, say nothing, and exit 0 like a finished reader."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    os._exit(0)


def _raise_broken_pipe(console: Any) -> None:
    # rich's own answer to a closed pipe is SystemExit(1), which `run` cannot tell from a real
    # exit 1 (`diff`: changes found); as an error it reaches `run`, which exits quietly with 0.
    console.quiet = True
    raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def _stdout_closed() -> bool:
    """Whether click saw the reader go away: it wraps stdout in its PacifyFlushWrapper then."""
    return type(sys.stdout).__name__ == "PacifyFlushWrapper"


def run(app: typer.Typer, prog: str, argv: list[str] | None = None) -> NoReturn:
    """Run a Typer app as the console script `prog`: usage errors and input errors print the shared
    way (exit 2), a closed pipe exits quietly, Ctrl-C exits 130."""
    try:  # typer >= 0.20 carries its own copy of click
        from typer._click.exceptions import NoArgsIsHelpError, UsageError
    except ImportError:  # pragma: no cover - older typer on click
        from click.exceptions import NoArgsIsHelpError, UsageError  # type: ignore[assignment,no-redef]

    from rich.console import Console

    # Every rich console of the process (ours and typer's help) reports a closed pipe as an error.
    Console.on_broken_pipe = _raise_broken_pipe  # type: ignore[method-assign,assignment]
    command: Callable[..., Any] = typer.main.get_command(app)
    try:
        try:
            code = command.main(args=argv, prog_name=prog, standalone_mode=False)  # type: ignore[attr-defined]
            sys.stdout.flush()
        except NoArgsIsHelpError as error:  # a bare `prog` or `prog group`: its help, as --help shows it
            typer.echo(error.ctx.get_help() if error.ctx is not None else "")
            code = ExitCode.OK
        except UsageError as error:
            where = error.ctx.command_path if error.ctx is not None else prog
            print_error(error.format_message().replace("Value error, ", ""), f"run `{where} --help` for the options")
            code = ExitCode.BAD_INPUT
        except (typer.Abort, KeyboardInterrupt):
            code = 130
        except (InputError, Refused, Unavailable) as error:
            print_error(error)
            code = exit_code_for(error)
    except SystemExit:
        # click ends a command whose stdout closed with sys.exit(1) after wrapping the streams.
        if _stdout_closed():
            _quiet_broken_pipe()
        raise
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as error:
        if error.errno == errno.EPIPE:
            _quiet_broken_pipe()
        raise
    if _stdout_closed():
        _quiet_broken_pipe()
    raise SystemExit(int(code or 0))
