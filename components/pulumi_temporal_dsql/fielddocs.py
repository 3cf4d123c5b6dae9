"""Field docs at run time: the attribute docstrings of an Args class, for help(), the README's
reference tables and the component provider's schema descriptions.

An attribute docstring (a string right after `name: type = default`) is what IDEs show on hover,
but Python drops it at run time; `documented` reads it back from the class source (as Pulumi's
component analyzer does) and appends a "Fields" section to the class docstring, so `help(MidScaleArgs)`
lists every field with its type, default and doc.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import sys
import textwrap
import typing
from typing import Any, TypeVar

__all__ = ["documented", "field_docs", "type_name"]

T = TypeVar("T", bound=type)


def _own_docs(cls: type) -> dict[str, str]:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body[0]
    docs: dict[str, str] = {}
    statements = body.body if isinstance(body, ast.ClassDef) else []
    for current, following in zip(statements, [*statements[1:], None], strict=True):
        if (
            isinstance(current, ast.AnnAssign)
            and isinstance(current.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[current.target.id] = inspect.cleandoc(following.value.value)
    return docs


def field_docs(cls: type) -> dict[str, str]:
    """Attribute name -> docstring, base classes first (a subclass's doc wins)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is not object:
            docs.update(_own_docs(klass))
    return docs


def type_name(annotation: Any, resolved: Any = None) -> str:
    """A readable type: a Literal (or an optional one) as its choices, otherwise the annotation as
    written (`pulumi.Input[str] | None`, not the Union Input expands to)."""
    choices = [resolved] if typing.get_origin(resolved) is typing.Literal else [
        arg for arg in typing.get_args(resolved) if typing.get_origin(arg) is typing.Literal
    ]
    if choices:
        values = [f'"{value}"' for value in typing.get_args(choices[0])]
        if type(None) in typing.get_args(resolved):
            values.append("None")
        return " | ".join(values)
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))


def _default(field: dataclasses.Field[Any]) -> str:
    if field.default is not dataclasses.MISSING:
        return repr(field.default)
    if field.default_factory is not dataclasses.MISSING:
        return repr(field.default_factory())
    return "required"


def _resolve(cls: type, annotation: Any) -> Any:
    """A string annotation evaluated in its class's module (None when it does not resolve)."""
    if not isinstance(annotation, str):
        return annotation
    for klass in cls.__mro__:
        module = sys.modules.get(klass.__module__)
        try:
            return eval(annotation, vars(module) if module else {})
        except Exception:
            continue
    return None


def documented(cls: T) -> T:
    """Append a "Fields" section (name, type, default, doc) to a dataclass's docstring."""
    docs = field_docs(cls)
    hints = {field.name: _resolve(cls, field.type) for field in dataclasses.fields(cls)}
    lines = [inspect.cleandoc(cls.__doc__ or ""), "", "Fields:"]
    for field in dataclasses.fields(cls):
        lines.append(f"    {field.name}: {type_name(field.type, hints.get(field.name))} = {_default(field)}")
        for doc_line in (docs.get(field.name) or "(undocumented)").splitlines():
            lines.append(f"        {doc_line}")
    cls.__doc__ = "\n".join(lines)
    return cls
