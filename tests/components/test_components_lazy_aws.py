"""The lazy pulumi_aws service packages (`lazy_aws`) answer every name exactly as the generated
eager packages do, find the members the stack uses without running the eager body, and a plan
imports only the modules of the resource types it declares."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import subprocess
import sys
import types

import pulumi_aws
import pytest

from pulumi_temporal_dsql.lazy_aws import LazyServiceFinder, installed, module_for
from pulumi_temporal_dsql.preview.plan import Plan


def _services(plans: dict[str, Plan]) -> list[str]:
    types_ = {r.type for plan in plans.values() for r in plan.resources if r.type.startswith("aws:")}
    modules = {t.split(":")[1].split("/")[0] for t in types_}
    return sorted("lambda_" if m == "lambda" else m for m in modules)


def _eager(service: str) -> types.ModuleType:
    """The generated package body run into a module of its own (not the one in sys.modules)."""
    spec = importlib.machinery.PathFinder.find_spec(f"pulumi_aws.{service}", pulumi_aws.__path__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lazy(service: str) -> types.ModuleType:
    spec = LazyServiceFinder().find_spec(f"pulumi_aws.{service}", pulumi_aws.__path__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_importing_the_components_makes_service_packages_lazy() -> None:
    assert installed()
    assert type(pulumi_aws.ec2.__spec__.loader).__name__ == "_LazyServiceLoader"
    assert pulumi_aws.ec2.Vpc.__module__ == "pulumi_aws.ec2.vpc"
    assert type(pulumi_aws.ec2).__name__ == "_LazyServicePackage"


def test_every_member_of_the_services_the_stack_uses_is_the_eager_packages_object(plans: dict[str, Plan]) -> None:
    services = _services(plans)
    assert {"ec2", "ecs", "iam", "lambda_", "s3"} <= set(services), services
    for service in services:
        eager, lazy = _eager(service), _lazy(service)
        names = [n for n, v in vars(eager).items()
                 if not n.startswith("_") and not (isinstance(v, types.ModuleType)
                                                   and not v.__name__.startswith(f"pulumi_aws.{service}."))]
        assert len(names) > 3, service
        for name in names:
            assert getattr(lazy, name) is getattr(eager, name), f"pulumi_aws.{service}.{name}"
        # Found by lookup: the eager body never ran (it would have turned the package into a plain module).
        assert type(lazy).__name__ == "_LazyServicePackage", f"pulumi_aws.{service} fell back to its eager body"


def test_a_name_the_lookup_cannot_place_falls_back_to_the_eager_body() -> None:
    lazy = _lazy("dsql")
    assert lazy.typing is __import__("typing")  # imported by the generated body, named by no module
    assert type(lazy) is types.ModuleType
    assert lazy.Cluster is _eager("dsql").Cluster
    with pytest.raises(AttributeError):
        _lazy("dsql").NoSuchResource  # noqa: B018


def test_star_import_gets_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec(compile("from pulumi_aws.amp import *", "<star>", "exec"), namespace)
    eager = _eager("amp")
    public = {n for n in vars(eager) if not n.startswith("_")}
    assert public <= namespace.keys()


@pytest.mark.parametrize(
    ("name", "home"),
    [("Vpc", "vpc"), ("VpcArgs", "vpc"), ("VpcArgsDict", "vpc"), ("VpcState", "vpc"),
     ("get_vpc", "get_vpc"), ("get_vpc_output", "get_vpc"), ("GetVpcResult", "get_vpc"),
     ("AwaitableGetVpcResult", "get_vpc"), ("BucketObjectv2", "bucket_objectv2"),
     ("SecurityGroupIngressArgs", None), ("typing", None)],
)
def test_module_for_names_the_generated_home(name: str, home: str | None) -> None:
    submodules = frozenset({"vpc", "get_vpc", "bucket_objectv2", "security_group", "_inputs"})
    assert module_for(name, submodules) == home


def test_a_cold_plan_imports_only_the_declared_resource_modules() -> None:
    script = ("import sys\nfrom pulumi_temporal_dsql.preview.plan import plan\nplan('mid-scale')\n"
              "print(sum(1 for m in sys.modules if m.startswith('pulumi_aws.')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    # ~320 with the lookup (the resource modules, their services' _inputs/outputs, and the
    # top-level data-source modules pulumi_aws imports anyway); the eager packages import ~770.
    assert int(done.stdout.strip().splitlines()[-1]) < 400, done.stdout
