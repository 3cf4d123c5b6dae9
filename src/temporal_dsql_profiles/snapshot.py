"""The config snapshot of a profile: the deployed artifacts plus what the request adds, redacted.

Sources, in order (later wins): the compiled artifacts the deployment stored under ``config/`` in
the profile bucket (``DeployedConfig``), then the request's ``dynamic_config`` /
``server_env_vars`` / versions.

Redaction removes a value when its NAME denotes a secret (password, secret, credentials, private
or API/access keys, auth/session tokens; ``DSQL_TOKEN_BUCKET_RATE`` is a rate, not a secret) or
when the VALUE looks like a credential (AWS access key ids and secret keys, presigned SigV4
URLs/DSQL tokens, PEM keys, JWTs, bearer tokens, URLs with a password, well-known token prefixes,
long mixed-case alphanumeric strings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue

if TYPE_CHECKING:
    from temporal_dsql_core.deployed_config import DeployedConfig

from temporal_dsql_core.linear_regex import compile_linear
from temporal_dsql_core.profile import ConfigProfile
from temporal_dsql_core.types import ParameterValue
from temporal_dsql_profiles.models import (
    ConfigSnapshot,
    CreateProfileRequest,
    DSQLPluginSnapshot,
    DynamicConfigEntry,
    EnvVarEntry,
    WorkerOptionsSnapshot,
)

__all__ = ["CREDENTIAL_PATTERNS", "REDACTED", "SnapshotVersions", "build_snapshot", "is_secret_name", "looks_like_credential",
           "redact"]

REDACTED = "<redacted>"

_SECRET_WORDS = {"PASSWORD", "PASSWD", "PASS", "PWD", "SECRET", "SECRETS", "CREDENTIAL", "CREDENTIALS",
                 "PASSPHRASE", "APIKEY", "PRIVATEKEY", "CLIENTSECRET", "COOKIE", "SIGNATURE"}
# Run-together names (PGPASSWORD, DBPASSWORD, MYSECRET) carry a secret word inside one word.
_SECRET_PARTS = ("PASSWORD", "PASSWD", "SECRET", "CREDENTIAL", "APIKEY", "PRIVATEKEY")
# Common names the reliability secrets property found unredacted: DB_PASS, SSH_KEY, TLS_KEY, ...
_KEY_QUALIFIERS = {"API", "ACCESS", "SECRET", "PRIVATE", "SIGNING", "MASTER", "LICENSE", "ENCRYPTION",
                   "SSH", "TLS", "SSL", "CLIENT", "HMAC", "JWT", "AUTH", "GPG", "PGP"}
_TOKEN_NOT_SECRET_NEXT = {"BUCKET", "DURATION", "TTL", "EXPIRY", "EXPIRES", "LIFETIME", "REFRESH",
                          "RATE", "CAPACITY", "ENABLED", "ENDPOINT", "URL", "FILE", "PATH", "TYPE"}

# RE2 (linear time, temporal_dsql_core.linear_regex): these run over client text, and a backtracking
# engine let one 128 KiB value hold the event loop for 15 s. No lookaround in RE2: a boundary is
# spelled (?:^|[^...]) / (?:[^...]|$).
CREDENTIAL_PATTERNS = [
    compile_linear(r"(?:^|[^A-Z0-9])(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}(?:[^A-Z0-9]|$)"),
    compile_linear(r"X-Amz-(Signature|Credential|Security-Token)=", ignore_case=True),
    compile_linear(r"-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----"),
    compile_linear(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    compile_linear(r"^\s*(Bearer|Basic)\s+\S+", ignore_case=True),
    compile_linear(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"),
    compile_linear(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})"),
    compile_linear(r"(?:^|[^A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?:[^A-Za-z0-9/+=]|$)"),  # AWS secret key shape
]
"""Every pattern redaction applies to a value (the tests assert each is linear-time)."""


def _is_lower_or_digit(char: str) -> bool:
    return "a" <= char <= "z" or "0" <= char <= "9"


def _words(name: str) -> list[str]:
    """Upper-cased ASCII alphanumeric words, split at camelCase humps (one pass each, no regex)."""
    spaced: list[str] = []
    previous = ""
    for char in name:
        if "A" <= char <= "Z" and _is_lower_or_digit(previous):  # camelCase -> camel_Case
            spaced.append("_")
        spaced.append(char)
        previous = char
    words: list[str] = []
    current: list[str] = []
    for char in "".join(spaced).upper():  # upper() first: "ß" becomes "SS", as before
        if char.isascii() and char.isalnum():
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def is_secret_name(name: str) -> bool:
    words = _words(name)
    for i, word in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else None
        if word in _SECRET_WORDS or any(part in word for part in _SECRET_PARTS):
            return True
        if word == "KEY" and i > 0 and words[i - 1] in _KEY_QUALIFIERS:
            return True
        if word in {"TOKEN", "TOKENS"} and (nxt is None or nxt not in _TOKEN_NOT_SECRET_NEXT):
            return True
    return False


def _high_entropy(value: str) -> bool:
    token = value.strip()
    return (len(token) >= 32 and not any(c.isspace() for c in token)
            and any(c.isupper() for c in token) and any(c.islower() for c in token)
            and any(c.isdigit() for c in token))


_GIT_SHA = compile_linear(r"[0-9a-f]{7,40}")


def looks_like_credential(value: str) -> bool:
    if not value or _GIT_SHA.fullmatch(value.strip()):
        return False
    if _high_entropy(value):
        return True
    return any(p.search(value) for p in CREDENTIAL_PATTERNS)


def redact(name: str, value: Any) -> tuple[Any, bool]:
    """(value or REDACTED, whether it was redacted); containers are searched recursively."""
    if is_secret_name(name) and value not in (None, "", False):
        return REDACTED, True
    if isinstance(value, str):
        return (REDACTED, True) if looks_like_credential(value) else (value, False)
    if isinstance(value, dict):
        out, hit = {}, False
        for k, v in value.items():
            out[k], was = redact(str(k), v)
            hit = hit or was
        return out, hit
    if isinstance(value, list):
        items = [redact(name, v) for v in value]
        return [v for v, _ in items], any(w for _, w in items)
    return value, False


@dataclass(frozen=True)
class SnapshotVersions:
    temporal_server_version: str | None
    dsql_plugin_version: str | None
    worker_code_sha: str | None


def _redacted_profile(profile: ConfigProfile) -> ConfigProfile:
    data = profile.model_dump(mode="json")
    for group in ("slo_params", "topology_params", "safety_params", "tuning_params"):
        for param in data[group]:
            param["value"], _ = redact(param["key"], param["value"])
    data["overrides"]["values"] = {k: redact(k, v)[0] for k, v in data["overrides"]["values"].items()}
    return ConfigProfile.model_validate(data)


def _split_known(raw: dict[str, ParameterValue | None], known: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    cleaned = {k: redact(k, v)[0] for k, v in raw.items()}
    return ({k: v for k, v in cleaned.items() if k in known},
            {k: v for k, v in cleaned.items() if k not in known})


def build_snapshot(deployed: DeployedConfig | None, request: CreateProfileRequest) -> tuple[ConfigSnapshot, SnapshotVersions]:
    sources: list[str] = []
    dynamic: dict[str, JsonValue] = {}
    env: dict[str, dict[str, str]] = {}
    worker = WorkerOptionsSnapshot()
    plugin = DSQLPluginSnapshot()
    profile: ConfigProfile | None = None
    server_v = plugin_v = sha = None
    if deployed is not None:
        sources.append("deployed:config/")
        dynamic.update(deployed.dynamic_config())  # type: ignore[arg-type]
        env = {svc: dict(values) for svc, values in deployed.env.items()}
        known, other = _split_known(deployed.worker_options, set(WorkerOptionsSnapshot.model_fields) - {"other"})
        worker = WorkerOptionsSnapshot.model_validate({**known, "other": other})
        known, other = _split_known(deployed.dsql_plugin_config, set(DSQLPluginSnapshot.model_fields) - {"other"})
        plugin = DSQLPluginSnapshot.model_validate({**known, "other": other})
        profile = _redacted_profile(deployed.profile)
        server_v = deployed.versions.temporal_server_version or str(deployed.profile.temporal_server_version)
        plugin_v = deployed.versions.dsql_plugin_version or str(deployed.profile.dsql_plugin_version)
        sha = deployed.versions.worker_code_sha
    if request.dynamic_config or request.server_env_vars:
        sources.append("request")
    dynamic.update(request.dynamic_config or {})
    for svc, values in (request.server_env_vars or {}).items():
        env.setdefault(svc, {}).update(values)
    entries = []
    for key in sorted(dynamic):
        value, _ = redact(key, dynamic[key])
        entries.append(DynamicConfigEntry(key=key, value=value))
    env_entries = []
    for svc in sorted(env):
        for name in sorted(env[svc]):
            value, hit = redact(name, env[svc][name])
            env_entries.append(EnvVarEntry(service=svc, name=name, value=str(value), redacted=hit))
    snapshot = ConfigSnapshot(dynamic_config=entries, server_env_vars=env_entries, worker_options=worker,
                              dsql_plugin_config=plugin, config_profile=profile, sources=sources)
    versions = SnapshotVersions(
        temporal_server_version=str(request.temporal_server_version) if request.temporal_server_version else server_v,
        dsql_plugin_version=str(request.dsql_plugin_version) if request.dsql_plugin_version else plugin_v,
        worker_code_sha=request.worker_code_sha or sha,
    )
    return snapshot, versions
