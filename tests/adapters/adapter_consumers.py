"""The real consumers the rendered artifacts are checked against.

- Go: ``gofmt -l`` (the file parses and is formatted as gofmt would), and ``go build`` of every
  snippet against a stand-in ``go.temporal.io/sdk/worker`` package generated from the
  worker.Options field table (tests/data/go_sdk_worker_options.tsv): each field set must exist
  and the value must have the field's Go type.
- Compose: the Compose Specification JSON schema (tests/data/compose-spec.json) with checkers for
  its custom ``duration`` and ``ports`` formats.
- ECS: botocore's own ParamValidator against the ecs service model's input shapes, plus the
  model's enum values (ParamValidator itself does not check enums).
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data"
GO_FIELDS_TSV = DATA / "go_sdk_worker_options.tsv"
COMPOSE_SCHEMA = DATA / "compose-spec.json"


# -- Go ------------------------------------------------------------------------------------------


def go_worker_fields() -> dict[str, str]:
    """worker.Options field -> Go type, from the committed table."""
    fields: dict[str, str] = {}
    for line in GO_FIELDS_TSV.read_text().splitlines():
        if not line or line.startswith("#") or line.startswith("field\t"):
            continue
        name, go_type = line.split("\t")
        fields[name] = go_type
    return fields


def gofmt_unformatted(files: Sequence[Path]) -> tuple[str, str, int]:
    """(stdout, stderr, returncode) of ``gofmt -l``: stdout lists files gofmt would change."""
    proc = subprocess.run(["gofmt", "-l", *map(str, files)], capture_output=True, text=True, timeout=60)
    return proc.stdout, proc.stderr, proc.returncode


_BUILTIN_GO = {"int", "float64", "bool", "string", "time.Duration", "context.Context", "func(error)", "*int"}


def _stub_worker_package(fields: Mapping[str, str]) -> str:
    declared: set[str] = set()
    extra: list[str] = []
    for go_type in fields.values():
        base = go_type.removeprefix("[]")
        if go_type in _BUILTIN_GO or base in _BUILTIN_GO or base in declared or base == "PollerBehavior":
            continue
        declared.add(base)
        extra.append(f"type {base} interface{{}}")
    struct_fields = "\n".join(f"\t{name} {go_type}" for name, go_type in fields.items())
    return textwrap.dedent("""\
        // Stand-in for go.temporal.io/sdk/worker generated from the worker.Options field table.
        package worker

        import (
        \t"context"
        \t"time"
        )

        var _ context.Context
        var _ time.Duration

        type PollerBehavior interface{ isPollerBehavior() }

        type pollerBehavior struct{}

        func (pollerBehavior) isPollerBehavior() {}

        type PollerBehaviorSimpleMaximumOptions struct {
        \tMaximumNumberOfPollers int
        }

        type PollerBehaviorAutoscalingOptions struct {
        \tInitialNumberOfPollers int
        \tMinimumNumberOfPollers int
        \tMaximumNumberOfPollers int
        }

        func NewPollerBehaviorSimpleMaximum(options PollerBehaviorSimpleMaximumOptions) PollerBehavior {
        \treturn pollerBehavior{}
        }

        func NewPollerBehaviorAutoscaling(options PollerBehaviorAutoscalingOptions) PollerBehavior {
        \treturn pollerBehavior{}
        }

        func SetStickyWorkflowCacheSize(cacheSize int) {}

        """) + "\n".join(extra) + "\n\ntype Options struct {\n" + struct_fields + "\n}\n"


def go_build(sources: Mapping[str, str], workdir: Path) -> subprocess.CompletedProcess[str]:
    """``go build ./...`` of each source (package dir name -> Go file) against the stand-in SDK."""
    sdk = workdir / "sdk"
    (sdk / "worker").mkdir(parents=True, exist_ok=True)
    (sdk / "go.mod").write_text("module go.temporal.io/sdk\n\ngo 1.19\n")
    (sdk / "worker" / "options.go").write_text(_stub_worker_package(go_worker_fields()))
    app = workdir / "app"
    app.mkdir(exist_ok=True)
    (app / "go.mod").write_text(
        "module example.com/check\n\ngo 1.19\n\nrequire go.temporal.io/sdk v0.0.0\n\n"
        "replace go.temporal.io/sdk => ../sdk\n"
    )
    for package_dir, source in sources.items():
        (app / package_dir).mkdir(exist_ok=True)
        (app / package_dir / "worker_options.go").write_text(source)
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOTOOLCHAIN": "local", "GO111MODULE": "on",
           "GOPATH": str(workdir / "gopath"), "GOSUMDB": "off"}
    return subprocess.run(["go", "build", "./..."], cwd=app, capture_output=True, text=True, env=env, timeout=300)


# -- Compose -------------------------------------------------------------------------------------

_GO_DURATION = re.compile(r"^[+-]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$")
_PORTS = re.compile(
    r"^(?:(?:(?:\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:/(?:tcp|udp|sctp))?$"
)


def compose_validator() -> Any:
    import jsonschema

    schema = json.loads(COMPOSE_SCHEMA.read_text())
    checker = jsonschema.FormatChecker()

    @checker.checks("duration")
    def _duration(value: object) -> bool:
        return not isinstance(value, str) or value == "0" or bool(_GO_DURATION.match(value))

    @checker.checks("ports")
    def _ports(value: object) -> bool:
        return isinstance(value, int) or (isinstance(value, str) and bool(_PORTS.match(value)))

    # The file says draft 2019-09 as "http://json-schema.org/draft/2019-09/schema#" (trailing "#"),
    # which jsonschema does not look up; name the draft explicitly.
    assert schema["$schema"].startswith("http://json-schema.org/draft/2019-09/schema")
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema, format_checker=checker)


# -- ECS -----------------------------------------------------------------------------------------


def _enum_errors(shape: Any, value: Any, path: str) -> list[str]:
    errors: list[str] = []
    if getattr(shape, "enum", None) and isinstance(value, str) and value not in shape.enum:
        errors.append(f"{path}: {value!r} not in {shape.enum}")
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                errors += _enum_errors(member, value[name], f"{path}.{name}")
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            errors += _enum_errors(shape.member, item, f"{path}[{i}]")
    return errors


@functools.cache
def _ecs_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("ecs")


def ecs_validation_errors(operation: str, params: Mapping[str, Any]) -> list[str]:
    """Errors botocore reports for ``params`` as the input of ECS ``operation`` (empty: valid)."""
    from botocore.validate import ParamValidator

    shape = _ecs_model().operation_model(operation).input_shape
    report = ParamValidator().validate(dict(params), shape)
    errors = [report.generate_report()] if report.has_errors() else []
    return errors + _enum_errors(shape, params, operation)
