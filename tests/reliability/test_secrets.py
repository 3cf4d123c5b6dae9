"""Item 4 (profile path): secret values never leave the request that carried them.

Hypothesis builds create requests whose ``server_env_vars`` and ``dynamic_config`` hold secret
values: plain secret-shaped strings under secret names (the words redaction knows, and common
names such as ``DB_PASS`` or ``SSH_KEY``), and credential-shaped values (DSNs with a password, AWS
keys, JWTs, bearer tokens) under any name. After the create, the secret appears in no API answer
(create, get, list), not in the S3 document, not in the index row, and not in any log line.
The LLM side (prompts and tool results of the copilot's explainer) is test_secrets_llm.py.
"""

from __future__ import annotations

import logging
import uuid

import asyncpg
import boto3
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_results import ReliabilityRow, budget  # type: ignore[import-not-found]

from temporal_dsql_standins import ScenarioPrometheus

pytestmark = pytest.mark.standins

SECRET_NAMES = ["DB_PASSWORD", "PGPASSWORD", "MYSQL_PWD", "DB_PASS", "SMTP_PASS", "API_KEY", "apiKey", "X_API_KEY",
                "AUTH_TOKEN", "GITHUB_TOKEN", "SESSION_TOKEN", "CLIENT_SECRET", "AWS_SECRET_ACCESS_KEY",
                "PRIVATE_KEY", "SSH_KEY", "SIGNING_KEY", "ENCRYPTION_KEY", "TEMPORAL_TLS_KEY", "SASL_PASSWORD",
                "credentials", "frontend.auth.password", "history.secretToken"]
ANY_NAME = st.one_of(st.sampled_from(SECRET_NAMES), st.from_regex(r"[A-Z][A-Z_]{2,20}", fullmatch=True))
SECRET = st.text(alphabet="abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%", min_size=12, max_size=32)


def _credential(secret: str) -> st.SearchStrategy[str]:
    """Values whose shape says credential, embedding ``secret``."""
    return st.sampled_from([
        f"postgresql://admin:{secret}@db.internal:5432/temporal",
        f"Bearer {secret}",
        f"AKIA{(secret.upper() + 'X' * 16)[:16].translate(str.maketrans('!#%', 'QRS'))}",
    ])


def draw_secret_config(data: st.DataObject, other_names: st.SearchStrategy[str]) -> tuple[dict[str, str], list[str]]:
    """A config of 1-3 values under names the registry marks secret plus one credential-shaped value
    (DSN, bearer token, key) under a name drawn from ``other_names``; and the secret values in it."""
    secrets_: list[str] = []
    config: dict[str, str] = {}
    for name in data.draw(st.lists(st.sampled_from(SECRET_NAMES), min_size=1, max_size=3, unique=True)):
        config[name] = secret = data.draw(SECRET)
        secrets_.append(secret)
    credential_secret = data.draw(SECRET)
    credential = data.draw(_credential(credential_secret))
    config[data.draw(other_names.filter(lambda n: n not in config))] = credential
    secrets_.append(credential_secret if "://" in credential or "Bearer" in credential else credential)
    return config, secrets_


_SEEN = {"creates": 0, "secrets": 0}


async def _row_text(dsn: str, profile_id: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT * FROM behaviour_profiles WHERE id = $1", uuid.UUID(profile_id))
        return repr(dict(row)) if row is not None else ""
    finally:
        await conn.close()


@settings(max_examples=budget(ci=8, full=60), deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_secrets_never_leave_the_request(data: st.DataObject, api_client: httpx.AsyncClient,
                                               reliability_env: dict[str, str],
                                               prometheus_with_scenarios: ScenarioPrometheus,
                                               caplog: pytest.LogCaptureFixture) -> None:
    env, secrets_ = draw_secret_config(data, ANY_NAME)
    dynamic = {data.draw(st.sampled_from(SECRET_NAMES)): [{"value": (dyn := data.draw(SECRET))}]}
    secrets_.append(dyn)

    window = prometheus_with_scenarios.windows["healthy-150wps"]
    body = {"name": "secrets", "namespace": "secrets", "time_window_start": window.start.format_iso(),
            "time_window_end": window.end.format_iso(), "server_env_vars": {"history": env},
            "dynamic_config": dynamic}
    with caplog.at_level(logging.DEBUG):
        created = await api_client.post("/profiles/", json=body)
        assert created.status_code == 201, created.text
        profile_id = created.json()["id"]
        fetched = await api_client.get(f"/profiles/{profile_id}")
        listed = await api_client.get("/profiles/", params={"namespace": "secrets"})
    s3 = boto3.client("s3", endpoint_url=reliability_env["PROFILES_S3_ENDPOINT_URL"], region_name="us-east-1")
    document = s3.get_object(Bucket=reliability_env["PROFILES_BUCKET"],
                             Key=f"profiles/{profile_id}.json")["Body"].read().decode()
    row = await _row_text(reliability_env["PROFILES_DATABASE_DSN"], profile_id)
    places = {"create response": created.text, "get response": fetched.text, "list response": listed.text,
              "S3 document": document, "index row": row, "log lines": caplog.text}
    _SEEN["creates"] += 1
    _SEEN["secrets"] += len(secrets_)
    for secret in secrets_:
        leaks = [where for where, text in places.items() if secret in text]
        assert not leaks, f"secret {secret!r} ({env}) found in {leaks}"
    assert "<redacted>" in fetched.text


def test_secrets_summary(reliability: ReliabilityRow) -> None:
    """Runs after the property: its row for the table."""
    reliability.test = "secrets never stored or answered"
    reliability.load = f"{_SEEN['creates']} creates carrying {_SEEN['secrets']} secrets"
    reliability.faults = "secret names + credential-shaped values"
    assert _SEEN["creates"] > 0
