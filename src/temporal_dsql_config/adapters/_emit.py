"""Small, fast emitters for the documents adapters write (YAML block style and indented JSON).

PyYAML's emitter and ``json.dumps(indent=...)`` (the pure-Python encoder) dominated compile time;
these produce the same kind of output for the plain trees adapters build (dicts, lists, str, int,
float, bool, None). A string is written bare only when YAML cannot read it as anything but that
string; otherwise as a JSON string, which is also a valid YAML double-quoted scalar, so no value
can be misread (``"true"``, ``"8080:8080"``, ``"0.5"``, ``"10"``).
"""

from __future__ import annotations

import functools
import json
import re
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

__all__ = ["to_json", "to_yaml"]

_quote = encode_basestring_ascii  # the C string encoder json.dumps uses, without its per-call setup


def _scalar(value: Any) -> str:
    """JSON text of a scalar, exactly as json.dumps writes it."""
    if isinstance(value, str):
        return _quote(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return json.dumps(value)
    raise TypeError(f"cannot emit {type(value).__name__}")
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n"})


# An escaped backslash (consumed, so alignment holds) or a surrogate-pair escape.
_ESCAPES = re.compile(r"\\(\\|u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2}))")


def _astral(match: re.Match[str]) -> str:
    if match.group(2) is None:
        return match.group(0)
    high, low = int(match.group(2), 16), int(match.group(3), 16)
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"


@functools.lru_cache(maxsize=8192)  # env names and values repeat across services and compiles
def _yaml_str(text: str) -> str:
    if _BARE.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    # JSON's ASCII escapes are YAML escapes too, except that YAML writes astral characters as
    # \UXXXXXXXX rather than a surrogate pair.
    quoted = _quote(text)
    return _ESCAPES.sub(_astral, quoted) if "\\ud" in quoted else quoted


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _yaml_str(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        # YAML 1.1 (PyYAML) reads a float only with a "." in the mantissa: 5e-324 -> 5.0e-324.
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text
    raise TypeError(f"cannot emit {type(value).__name__} as YAML")


def _yaml_lines(value: Any, indent: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            name = _yaml_str(str(key))
            if isinstance(item, dict) and item:
                out.append(f"{indent}{name}:")
                _yaml_lines(item, indent + "  ", out)
            elif isinstance(item, list) and item:
                out.append(f"{indent}{name}:")
                _yaml_lines(item, indent, out)  # block sequences sit at the key's indentation
            elif isinstance(item, _SCALARS):
                out.append(indent + _yaml_pair(name, item))
            else:
                out.append(f"{indent}{name}: {_yaml_empty(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list) and item:
                inner: list[str] = []
                _yaml_lines(item, indent + "  ", inner)
                out.append(f"{indent}- {inner[0].lstrip()}")
                out.extend(inner[1:])
            else:
                out.append(f"{indent}- {_yaml_empty(item)}")
    else:
        out.append(indent + _yaml_scalar(value))


# typed: 1, 1.0 and True are equal as dict keys but are written differently.
@functools.lru_cache(maxsize=8192, typed=True)  # "NAME: value" env lines recur across services and compiles
def _yaml_pair(name: str, value: Any) -> str:
    return f"{name}: {_yaml_scalar(value)}"


def _yaml_empty(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _yaml_scalar(value)


def to_yaml(document: dict[str, Any]) -> str:
    out: list[str] = []
    _yaml_lines(document, "", out)
    return "\n".join(out) + "\n"


_SCALARS = (str, int, float, bool, type(None))


@functools.lru_cache(maxsize=8192)  # the same env entries recur in every compile
def _flat_object(items: tuple[tuple[str, type, Any], ...]) -> str:
    # Each value travels with its type: 1, 1.0 and True are equal keys but are written differently.
    return "{" + ", ".join(f"{_quote(str(k))}: {_scalar(v)}" for k, _, v in sorted(items, key=lambda i: i[0])) + "}"


def _is_flat(value: dict[Any, Any]) -> bool:
    if not 0 < len(value) <= 4:
        return False
    return all(isinstance(v, _SCALARS) for v in value.values())


def _json_lines(value: Any, indent: str, out: list[str], prefix: str, suffix: str) -> None:
    if isinstance(value, dict) and _is_flat(value):
        # Small flat objects (env entries, port mappings) on one line.
        out.append(f"{indent}{prefix}{_flat_object(tuple((k, type(v), v) for k, v in value.items()))}{suffix}")
    elif isinstance(value, dict) and value:
        out.append(f"{indent}{prefix}{{")
        items = sorted(value.items())
        for i, (key, item) in enumerate(items):
            _json_lines(item, indent + "  ", out, f"{_scalar(str(key))}: ", "," if i < len(items) - 1 else "")
        out.append(f"{indent}}}{suffix}")
    elif isinstance(value, list) and value:
        out.append(f"{indent}{prefix}[")
        for i, item in enumerate(value):
            _json_lines(item, indent + "  ", out, "", "," if i < len(value) - 1 else "")
        out.append(f"{indent}]{suffix}")
    elif isinstance(value, dict | list):
        out.append(f"{indent}{prefix}{'{}' if isinstance(value, dict) else '[]'}{suffix}")
    else:
        out.append(f"{indent}{prefix}{_scalar(value)}{suffix}")


def to_json(document: dict[str, Any]) -> str:
    """``json.dumps(document, indent=2, sort_keys=True)``, but small flat objects on one line."""
    out: list[str] = []
    _json_lines(document, "", out, "", "")
    return "\n".join(out) + "\n"
