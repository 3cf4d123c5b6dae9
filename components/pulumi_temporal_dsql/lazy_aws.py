"""pulumi_aws service packages that import a member's module when the member is first used.

`import pulumi_aws` is lazy about its service packages, but a service package is not lazy about
its members: the first `aws.ec2.Vpc` runs `pulumi_aws/ec2/__init__.py`, which star-imports every
one of the ~190 EC2 resource and data-source modules. The stack declares ~45 resource types, yet a
fresh `temporal-dsql plan` imported ~500 pulumi_aws modules to reach them, most of its cold time.

`install()` puts a finder first on `sys.meta_path` that answers for `pulumi_aws.<service>`
packages only: the package module gets the real spec (`__path__`, `__file__`) and, instead of its
`__init__.py`, a `__getattr__` that finds the member where the generated package would have
star-imported it from and imports that one module, whose exports land on the package. The
generated layout makes that a lookup, not a search: a resource `BucketObjectv2` and its
`BucketObjectv2Args` live in `bucket_objectv2.py`, a data source `get_vpc`/`get_vpc_output`/
`GetVpcResult` in `get_vpc.py`, nested input types in `_inputs.py`, enums in `_enums.py`, and
`outputs`/`config` are submodules. A name whose module the lookup does not name (or whose module
does not export it) falls back to running the real `__init__.py` into the package, so the
package answers every name exactly as the eager one would, only later.

What the package `__init__.py` does besides importing members (nothing but `import typing` and
`from .. import _utilities` in the generated code) is irrelevant here: resource-module
registration for deserialising resource references is done once by `pulumi_aws/__init__.py` and
resolves classes through `getattr(package, ClassName)`, which this `__getattr__` answers.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import threading
import types
from collections.abc import Sequence
from typing import Any

__all__ = ["LazyServiceFinder", "install", "installed", "module_for"]

PACKAGE = "pulumi_aws"
_STARRED = re.compile(r"^from \.(\w+) import \*$", re.MULTILINE)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# A resource's own args are <R>InitArgs when a nested input type already took <R>Args.
_SUFFIXES = ("InitArgsDict", "InitArgs", "ArgsDict", "Args", "Result", "State")
# The generated __init__ star-imports _enums first, the resource and data-source modules next,
# _inputs last; a member defined nowhere else is looked for in that order.
_SHARED_MODULES = ("_enums", "_inputs")
_lock = threading.RLock()
_MISSING: Any = object()


def _snake(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def module_for(name: str, submodules: frozenset[str]) -> str | None:
    """The module of a service package that the generated `__init__` star-imports `name` from,
    when the name says so (`Vpc`, `VpcArgs` -> vpc; `get_vpc_output`, `GetVpcResult`,
    `AwaitableGetVpcResult` -> get_vpc), else None."""
    stem = name.removeprefix("Awaitable") if name.startswith("AwaitableGet") else name
    if stem[:1].islower():
        stem = stem.removesuffix("_output")
        return stem if stem in submodules else None
    for suffix in _SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            candidate = _snake(stem[: -len(suffix)])
            if candidate in submodules:
                return candidate
    candidate = _snake(stem)
    return candidate if candidate in submodules else None


def _exports(module: types.ModuleType, name: str) -> bool:
    exported: Sequence[str] | None = getattr(module, "__all__", None)
    return exported is not None and name in exported


class _LazyServicePackage(types.ModuleType):
    """A service package whose members are imported on first use.

    Two hooks reproduce what the generated `__init__` leaves in the package namespace:
    `__getattr__` imports the member's module on a miss, and `__setattr__` catches the import
    system binding a freshly imported submodule on its parent (`pkg.get_vpc = <module>`) and
    binds the submodule's exports the way `from .get_vpc import *` would, so `get_vpc` is the
    function, not the module, however the submodule came to be imported.
    """

    _lazy_submodules: frozenset[str]
    _lazy_starred: frozenset[str]
    _lazy_loader: importlib.machinery.SourceFileLoader

    def __setattr__(self, name: str, value: Any) -> None:
        if (isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}"
                and name in self._lazy_starred):
            self._bind_starred(name, value)
            return
        super().__setattr__(name, value)

    def _bind_starred(self, name: str, module: types.ModuleType) -> None:
        """What `from .<name> import *` leaves in the package: the submodule, then its exports."""
        namespace = self.__dict__
        namespace[name] = module
        for exported in getattr(module, "__all__", ()):
            namespace[exported] = getattr(module, exported)

    def __getattr__(self, name: str) -> Any:
        if name == "__all__":
            # `from pulumi_aws.<service> import *` asks for __all__ first: the generated package
            # has none, so the star import takes every public name; run the real body for them.
            self._run_init()
        if name.startswith("__") or type(self) is not _LazyServicePackage:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        # No lock of ours around the import: the import system's per-module locks already make a
        # concurrent first use import the module once, and holding ours across them could deadlock.
        found = self._find(name)
        if found is _MISSING:
            self._run_init()
            found = self.__dict__.get(name, _MISSING)
        if found is _MISSING:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        return found

    def _find(self, name: str) -> Any:
        """Import the module the generated `__init__` star-imports `name` from, if the name says
        which, and answer the member; _MISSING when it does not (the caller then runs the real
        `__init__`)."""
        submodules, starred = self._lazy_submodules, self._lazy_starred
        home = module_for(name, starred)
        if home is None and name in submodules:
            home = name  # outputs, config, _inputs: submodules imported as such
        if home is not None:
            module = importlib.import_module(f"{self.__name__}.{home}")  # binds its exports (__setattr__)
            if name not in self.__dict__ and home in starred and _exports(module, name):
                self._bind_starred(home, module)  # imported before this package existed
            if name in self.__dict__:
                return self.__dict__[name]
            if home == name:
                # Still executing (outputs.py runs `from . import outputs`): the import system binds
                # it on the package when it finishes; until then the eager package answers with
                # sys.modules' entry too.
                return module
        if name[:1].isupper():  # a nested input type or enum (TableReplicaArgs beside TableReplicaInitArgs)
            for shared in (m for m in _SHARED_MODULES if m in starred):
                module = importlib.import_module(f"{self.__name__}.{shared}")
                if _exports(module, name):
                    self.__dict__[name] = getattr(module, name)
                    return self.__dict__[name]
        return _MISSING

    def _run_init(self) -> None:
        """The real package body, in the package's own namespace: what an eager import does."""
        with _lock:
            if type(self) is _LazyServicePackage:
                self.__class__ = types.ModuleType  # type: ignore[assignment]
                self.__dict__["_lazy_loader"].exec_module(self)


class _LazyServiceLoader(importlib.abc.Loader):
    """Creates the package from its real spec without running its `__init__.py`."""

    def __init__(self, real: importlib.machinery.SourceFileLoader) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        package_dir = os.path.dirname(self.real.get_filename(module.__name__))
        submodules = frozenset(
            entry[:-3] if entry.endswith(".py") else entry
            for entry in os.listdir(package_dir)
            if (entry.endswith(".py") and entry != "__init__.py")
            or os.path.isfile(os.path.join(package_dir, entry, "__init__.py"))
        )
        # The modules the generated body star-imports (`from .vpc import *`), in its own words;
        # `outputs` is imported as a module, not starred, and its types are not package members.
        with open(self.real.get_filename(module.__name__), encoding="utf-8") as init:
            starred = frozenset(_STARRED.findall(init.read()))
        module.__dict__["_lazy_submodules"] = submodules
        module.__dict__["_lazy_starred"] = starred
        module.__dict__["_lazy_loader"] = self.real
        # Set here, not in create_module: pulumi's lazy_import wraps this loader in a LazyLoader
        # that swaps the module's class until first use and restores ModuleType before calling us.
        module.__class__ = _LazyServicePackage


def _is_service(fullname: str) -> bool:
    """`pulumi_aws.<service>`: not pulumi_aws itself, its private modules, config, or deeper."""
    head, dot, service = fullname.partition(".")
    return head == PACKAGE and bool(dot) and "." not in service and not service.startswith("_") and service != "config"


class LazyServiceFinder(importlib.abc.MetaPathFinder):
    """Answers for `pulumi_aws.<service>` packages (not their submodules, not pulumi_aws itself)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not _is_service(fullname):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.submodule_search_locations is None:
            return None
        if not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return None
        spec.loader = _LazyServiceLoader(spec.loader)
        return spec


_finder = LazyServiceFinder()


def install() -> None:
    """Make the pulumi_aws service packages imported from now on lazy about their members."""
    with _lock:
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
        # A program that imported pulumi_aws first holds its service packages as pulumi's
        # lazy_import placeholders, not loaded yet: their first use runs `__spec__.loader`, so
        # pointing that at our loader makes them lazy about their members too.
        for name, module in list(sys.modules.items()):
            head, _, service = name.partition(".")
            if head != PACKAGE or not service or "." in service or type(module).__name__ != "_LazyModule":
                continue
            spec = module.__spec__  # an introspection attribute: reading it does not load the module
            if (_is_service(name) and spec is not None and spec.submodule_search_locations is not None
                    and type(spec.loader) is importlib.machinery.SourceFileLoader):
                spec.loader = _LazyServiceLoader(spec.loader)


def installed() -> bool:
    return _finder in sys.meta_path
