"""AWS Lambda entry point: Mangum over the FastAPI app, for Function URL (payload v2.0) events.

Settings come from the ``PROFILES_*`` environment (temporal_dsql_profiles.settings.ProfileSettings).
On AWS the Function URL answers CORS (an IAM-signed URL gets unsigned preflights, which only the
URL can answer), so the deployment leaves PROFILES_ALLOWED_ORIGINS empty and the app adds no CORS
headers; locally (uvicorn, `copilot dev up`) the app answers CORS from that setting. One place each.
"""

from __future__ import annotations

from typing import Any

from mangum import Mangum

from temporal_dsql_copilot.api.app import create_app

app = create_app()
# problem+json is text: without this Mangum would base64-encode error bodies.
http_handler = Mangum(app, lifespan="off", text_mime_types=["application/json", "application/problem+json", "text/"])


def handler(event: Any, context: Any) -> Any:
    """Function URL events go to the app; ``{"temporal_dsql": ...}`` events are the schema set-ups
    (the profile store's and the copilot state store's) and the scheduled stale-pending sweep
    (temporal_dsql_profiles.jobs, temporal_dsql_copilot.store.db_roles, imported only for them)."""
    if isinstance(event, dict) and "temporal_dsql" in event:
        from temporal_dsql_copilot.store.db_roles import is_setup_job, run_setup_job
        from temporal_dsql_profiles.jobs import is_job, run_job

        if is_setup_job(event):
            return run_setup_job(event)
        if is_job(event):
            return run_job(event)
    return http_handler(event, context)
