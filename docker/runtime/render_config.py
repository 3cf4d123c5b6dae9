#!/usr/bin/env python3
"""Render the Temporal server config from the environment and start the server (runtime image).

This is the runtime image's entrypoint. It is one file with no dependency beyond the standard
library and PyYAML, because the Temporal server image carries no copy of the temporal-dsql package.

CLI
---
    render_config.py start
        The container entrypoint. In order: read SERVICES (history, matching, frontend, worker, or
        a comma-separated set for a single binary); name EVERY missing required variable at once;
        derive the broadcast address (TEMPORAL_BROADCAST_ADDRESS if set, else the ECS task
        metadata endpoint ${ECS_CONTAINER_METADATA_URI_V4}/task, else this host's address); render
        the template; check the YAML parses, that no placeholder is left and that numeric and
        boolean fields have their type; check the dynamic-config file is present; then exec
        `temporal-server --config-file <rendered> --allow-no-auth start --service <role>...`.
    render_config.py start COMMAND [ARG...]
        Pass-through: exec COMMAND as given, rendering nothing. A task definition that runs
        another program of this image (the refresher) without replacing the entrypoint gets
        ENTRYPOINT + its command, and this makes that work.
    render_config.py render [--template PATH] [--output PATH|-]
        Render and check only (no broadcast derivation: TEMPORAL_BROADCAST_ADDRESS must be set).
    render_config.py variables [--template PATH]
        Print the template's variables: `NAME required` or `NAME default=<value>`.
    render_config.py broadcast-address
        Print the address `start` would broadcast.
    render_config.py healthcheck --port N [--host 127.0.0.1] [--timeout 3]
        The ECS task health check of the server container: exit 0 when the port accepts a TCP
        connection, 1 (with the reason on stderr) otherwise.

Environment read by the program itself (all optional):
    TEMPORAL_PERSISTENCE_TEMPLATE   template path (default: DEFAULT_TEMPLATE below)
    TEMPORAL_RENDERED_CONFIG        where the rendered config is written (default: DEFAULT_OUTPUT)
    TEMPORAL_DYNAMIC_CONFIG_FILE    dynamic-config file that must exist before start
    TEMPORAL_SERVER_BIN             server executable (default: temporal-server)
    ECS_CONTAINER_METADATA_URI_V4   set by the ECS agent on every task
Everything else (TEMPORAL_SQL_*, TEMPORAL_ELASTICSEARCH_*, TEMPORAL_HISTORY_SHARDS, AWS_REGION,
DSQL_*) comes from the compiler's per-service env and the component; `variables` lists them.

Exit codes: 0 success (or exec), 2 bad configuration (the message says what to set), 1 other.
Errors carry field / allowed / suggestion like temporal_dsql_core.errors.InputError (which this file
cannot import: the image has no temporal-dsql package).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import yaml

__all__ = [
    "DEFAULT_DYNAMIC_CONFIG",
    "DEFAULT_OUTPUT",
    "DEFAULT_TEMPLATE",
    "ROLES",
    "BroadcastAddressError",
    "MissingVariablesError",
    "RenderError",
    "broadcast_address",
    "main",
    "parse_services",
    "render",
    "server_argv",
    "template_variables",
]

ROLES = ("history", "matching", "frontend", "worker")
DEFAULT_TEMPLATE = "/etc/temporal/config/persistence-dsql-opensearch.template.yaml"
DEFAULT_OUTPUT = "/etc/temporal/config/temporal.yaml"
DEFAULT_DYNAMIC_CONFIG = "/etc/temporal/config/dynamicconfig/dynamicconfig.yaml"
# Variables the temporal-server CLI would treat as flags (urfave/cli EnvVars); never pass them on.
SERVER_FLAG_VARIABLES = ("TEMPORAL_ENVIRONMENT", "TEMPORAL_ROOT", "TEMPORAL_CONFIG_DIR",
                         "TEMPORAL_AVAILABILITY_ZONE")
BROADCAST_VARIABLE = "TEMPORAL_BROADCAST_ADDRESS"

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# Anything that still looks like a substitution after rendering: ${...}, an unclosed ${, or $NAME.
_LEFTOVER = re.compile(r"\$\{[^}\n]*\}?|\$[A-Za-z_][A-Za-z0-9_]*")
# Characters that would break out of a quoted YAML scalar or start a new line.
_UNSAFE_VALUE = re.compile(r"[\"\\\n\r]|\$\{")

# (path in the rendered document, variable, kind): fields written unquoted must parse as this kind.
_TYPED_FIELDS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("persistence", "numHistoryShards"), "TEMPORAL_HISTORY_SHARDS", "positive integer"),
    (("persistence", "datastores", "dsql-default", "sql", "maxConns"), "TEMPORAL_SQL_MAX_CONNS",
     "positive integer"),
    (("persistence", "datastores", "dsql-default", "sql", "maxIdleConns"),
     "TEMPORAL_SQL_MAX_IDLE_CONNS", "positive integer"),
    (("persistence", "datastores", "dsql-default", "sql", "tls", "enabled"),
     "TEMPORAL_SQL_TLS_ENABLED", "boolean"),
    (("persistence", "datastores", "os-visibility", "elasticsearch", "aws-request-signing", "enabled"),
     "TEMPORAL_ELASTICSEARCH_AWS_SIGNING", "boolean"),
)


class RenderError(ValueError):
    """Bad configuration: names the field, the allowed values and a suggestion."""

    def __init__(self, message: str, *, field: str | None = None,
                 allowed: Sequence[object] | None = None, suggestion: str | None = None) -> None:
        self.message = message
        self.field = field
        self.allowed = list(allowed) if allowed is not None else None
        self.suggestion = suggestion
        parts = [message]
        if self.allowed:
            parts.append("Allowed: " + ", ".join(str(a) for a in self.allowed) + ".")
        if suggestion:
            parts.append(suggestion)
        super().__init__(" ".join(parts))


class MissingVariablesError(RenderError):
    """Required variables are unset or empty; `names` lists every one of them."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = sorted(set(names))
        super().__init__(
            f"missing required environment variables: {', '.join(self.names)}",
            field=self.names[0] if self.names else None,
            suggestion="Set them in the task definition (the config compiler emits the TEMPORAL_SQL_* "
                       "and DSQL_* variables per service; the component adds the endpoint, "
                       "OpenSearch and region).",
        )


class BroadcastAddressError(RenderError):
    """The address other cluster members reach this one at could not be derived."""


# --- the template -------------------------------------------------------------------------------

def _without_comment_lines(template: str) -> str:
    """The template minus whole-line comments, which may mention ${NAME} as documentation."""
    return "".join(line for line in template.splitlines(keepends=True) if not line.lstrip().startswith("#"))


def template_variables(template: str) -> dict[str, str | None]:
    """Variable -> its default, or None when the variable is required."""
    variables: dict[str, str | None] = {}
    required: set[str] = set()
    for match in _PLACEHOLDER.finditer(_without_comment_lines(template)):
        name, default = match.group(1), match.group(2)
        variables.setdefault(name, default)
        if default is None:
            required.add(name)
    return {name: (None if name in required else default) for name, default in variables.items()}


def missing_variables(template: str, env: Mapping[str, str]) -> list[str]:
    return sorted(name for name, default in template_variables(template).items()
                  if default is None and not env.get(name, "").strip())


def render(template: str, env: Mapping[str, str]) -> str:
    """The rendered config, checked: every required variable set, values safe, YAML parses,
    no placeholder left and typed fields of their type. Raises RenderError (all problems of one
    kind at once) and returns nothing partial."""
    missing = missing_variables(template, env)
    if missing:
        raise MissingVariablesError(missing)
    unsafe = sorted(name for name in template_variables(template)
                    if name in env and _UNSAFE_VALUE.search(env[name]))
    if unsafe:
        raise RenderError(
            f"values of {', '.join(unsafe)} contain a quote, backslash, newline or '${{'",
            field=unsafe[0], suggestion="These values are written into YAML strings; remove those characters.")

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name, "").strip()
        return value if value else (default or "")

    rendered = _PLACEHOLDER.sub(substitute, _without_comment_lines(template))
    check_rendered(rendered)
    return rendered


def check_rendered(rendered: str) -> dict[str, Any]:
    """Parse the rendered YAML and check it; the parsed document on success."""
    leftovers = sorted(set(_LEFTOVER.findall(_without_comment_lines(rendered))))
    if leftovers:
        raise RenderError(f"placeholders left after rendering: {', '.join(leftovers)}",
                          field=leftovers[0],
                          suggestion="Use ${NAME} or ${NAME:-default} in the template, and set NAME.")
    try:
        document = yaml.safe_load(rendered)
    except yaml.YAMLError as exc:
        raise RenderError(f"rendered config is not valid YAML: {exc}", field="template",
                          suggestion="Check the template and the values substituted into it.") from exc
    if not isinstance(document, dict):
        raise RenderError("rendered config is not a YAML mapping", field="template")
    problems: list[tuple[str, str]] = []
    for path, variable, kind in _TYPED_FIELDS:
        value: Any = document
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if kind == "boolean":
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        if not ok:
            problems.append((variable, f"{variable} must be a {kind}, got {value!r}"))
    if problems:
        raise RenderError("; ".join(message for _, message in problems), field=problems[0][0],
                          suggestion="Integers are plain digits; booleans are true or false.")
    return document


# --- roles, broadcast address, server command ---------------------------------------------------

def parse_services(value: str | None) -> list[str]:
    """SERVICES ("history", or "history,matching,frontend,worker" for one binary) -> roles."""
    names = [part.strip() for part in re.split(r"[,\s]+", value or "") if part.strip()]
    if not names:
        raise MissingVariablesError(["SERVICES"])
    unknown = [name for name in names if name not in ROLES]
    if unknown:
        raise RenderError(f"SERVICES names unknown roles: {', '.join(unknown)}", field="SERVICES",
                          allowed=ROLES, suggestion="Use one role per task, or a comma-separated set.")
    return list(dict.fromkeys(names))


def _valid_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def broadcast_address(env: Mapping[str, str], *, attempts: int = 5, timeout: float = 2.0,
                      backoff: float = 0.5) -> str:
    """TEMPORAL_BROADCAST_ADDRESS, else the task's IPv4 address from the ECS task metadata
    endpoint (v4, awsvpc: every container of the task shares it), else this host's address."""
    explicit = env.get(BROADCAST_VARIABLE, "").strip()
    if explicit:
        address = _valid_ip(explicit)
        if address is None:
            raise BroadcastAddressError(f"{BROADCAST_VARIABLE}={explicit!r} is not an IP address",
                                        field=BROADCAST_VARIABLE,
                                        suggestion="Give the IPv4 address other members reach this one at.")
        return address
    metadata_uri = env.get("ECS_CONTAINER_METADATA_URI_V4", "").strip()
    if metadata_uri:
        return _address_from_task_metadata(metadata_uri.rstrip("/") + "/task", attempts=attempts,
                                           timeout=timeout, backoff=backoff)
    try:
        address = socket.gethostbyname(socket.gethostname())
    except OSError as exc:
        raise BroadcastAddressError(f"cannot resolve this host's name: {exc}", field=BROADCAST_VARIABLE,
                                    suggestion=f"Set {BROADCAST_VARIABLE}.") from exc
    if ipaddress.ip_address(address).is_loopback:
        raise BroadcastAddressError(
            f"this host's name resolves to the loopback address {address}, which other members "
            "cannot reach", field=BROADCAST_VARIABLE,
            suggestion=f"Set {BROADCAST_VARIABLE} (ECS sets ECS_CONTAINER_METADATA_URI_V4 itself).")
    return address


def _address_from_task_metadata(url: str, *, attempts: int, timeout: float, backoff: float) -> str:
    last_error = "no attempt made"
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                task = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            log(f"task metadata attempt {attempt}/{attempts} failed: {last_error}")
            if attempt < attempts:
                time.sleep(backoff * attempt)
            continue
        for container in task.get("Containers", []) if isinstance(task, dict) else []:
            for network in container.get("Networks", []) or []:
                for candidate in network.get("IPv4Addresses", []) or []:
                    address = _valid_ip(str(candidate))
                    if address is not None:
                        return address
        raise BroadcastAddressError(
            f"the task metadata at {url} lists no container with a Networks[].IPv4Addresses entry",
            field="ECS_CONTAINER_METADATA_URI_V4",
            suggestion=f"Run the task in awsvpc network mode, or set {BROADCAST_VARIABLE}.")
    raise BroadcastAddressError(
        f"the task metadata endpoint {url} did not answer after {attempts} attempts ({last_error})",
        field="ECS_CONTAINER_METADATA_URI_V4", suggestion=f"Set {BROADCAST_VARIABLE} to bypass it.")


def server_argv(env: Mapping[str, str], config_file: str, services: Sequence[str]) -> list[str]:
    argv = [env.get("TEMPORAL_SERVER_BIN", "temporal-server"), "--config-file", config_file,
            "--allow-no-auth", "start"]
    for role in services:
        argv += ["--service", role]
    return argv


# --- commands -------------------------------------------------------------------------------------

def log(message: str) -> None:
    print(f"render_config: {message}", file=sys.stderr, flush=True)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def prepare(env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """Everything `start` does before exec: the server argv and the environment to exec it with."""
    template_path = Path(env.get("TEMPORAL_PERSISTENCE_TEMPLATE") or DEFAULT_TEMPLATE)
    output_path = Path(env.get("TEMPORAL_RENDERED_CONFIG") or DEFAULT_OUTPUT)
    template = template_path.read_text(encoding="utf-8")
    # Report every missing variable at once, SERVICES included, before any network call.
    missing = [name for name in missing_variables(template, env) if name != BROADCAST_VARIABLE]
    if not env.get("SERVICES", "").strip():
        missing.append("SERVICES")
    if missing:
        raise MissingVariablesError(missing)
    services = parse_services(env["SERVICES"])
    full_env = dict(env)
    full_env[BROADCAST_VARIABLE] = broadcast_address(env)
    log(f"broadcast address {full_env[BROADCAST_VARIABLE]}, services {','.join(services)}")
    rendered = render(template, full_env)
    dynamic_config = Path(env.get("TEMPORAL_DYNAMIC_CONFIG_FILE") or DEFAULT_DYNAMIC_CONFIG)
    if not dynamic_config.is_file():
        raise RenderError(f"dynamic config file {dynamic_config} does not exist",
                          field="TEMPORAL_DYNAMIC_CONFIG_FILE",
                          suggestion="Run dynconfig_refresher.py (init container) before the server, "
                                     "or mount a file there.")
    _write_atomically(output_path, rendered)
    log(f"rendered {template_path} -> {output_path}")
    for name in SERVER_FLAG_VARIABLES:
        full_env.pop(name, None)
    return server_argv(full_env, str(output_path), services), full_env


def _start(env: Mapping[str, str]) -> NoReturn:
    argv, exec_env = prepare(env)
    log("exec " + " ".join(argv))
    os.execvpe(argv[0], argv, exec_env)


def healthcheck(host: str, port: int, timeout: float) -> int:
    """What the ECS task health check runs (ECS ignores a Dockerfile HEALTHCHECK): 0 when the
    server's gRPC port accepts a TCP connection. Python, because this image is guaranteed to have
    python3 (the entrypoint needs it) but not an `nc` that supports `-z`."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return 0
    except OSError as exc:
        log(f"healthcheck: {host}:{port} not accepting connections: {exc}")
        return 1


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="render_config.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start_cmd = commands.add_parser("start", help="render, check and exec temporal-server (the entrypoint)")
    start_cmd.add_argument("passthrough", nargs=argparse.REMAINDER,
                           help="a command to exec instead (e.g. the refresher), nothing rendered")
    render_cmd = commands.add_parser("render", help="render and check only")
    variables_cmd = commands.add_parser("variables", help="list the template's variables")
    for sub in (render_cmd, variables_cmd):
        sub.add_argument("--template", default=None)
    render_cmd.add_argument("--output", default="-", help="path, or - for stdout")
    commands.add_parser("broadcast-address", help="print the derived broadcast address")
    health_cmd = commands.add_parser("healthcheck", help="exit 0 when the role's gRPC port accepts a connection")
    health_cmd.add_argument("--port", type=int, required=True)
    health_cmd.add_argument("--host", default="127.0.0.1")
    health_cmd.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    if args.command == "healthcheck":
        return healthcheck(args.host, args.port, args.timeout)
    environ: Mapping[str, str] = os.environ if env is None else env
    try:
        if args.command == "start":
            if args.passthrough:
                log("exec (pass-through) " + " ".join(args.passthrough))
                os.execvpe(args.passthrough[0], args.passthrough, dict(environ))
            _start(environ)
        template_path = Path(getattr(args, "template", None)
                             or environ.get("TEMPORAL_PERSISTENCE_TEMPLATE") or DEFAULT_TEMPLATE)
        if args.command == "variables":
            for name, default in sorted(template_variables(template_path.read_text("utf-8")).items()):
                print(f"{name} required" if default is None else f"{name} default={default}")
        elif args.command == "render":
            rendered = render(template_path.read_text("utf-8"), environ)
            if args.output == "-":
                sys.stdout.write(rendered)
            else:
                _write_atomically(Path(args.output), rendered)
        elif args.command == "broadcast-address":
            print(broadcast_address(environ))
    except RenderError as exc:
        log(f"error: {exc}")
        return 2
    except OSError as exc:
        log(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
