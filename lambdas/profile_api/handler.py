"""AWS Lambda entry point: Mangum over the FastAPI app, for Function URL (payload v2.0) events.

Settings come from the ``PROFILES_*`` environment (behaviour_profiles.settings.ProfileSettings).
On AWS the Function URL answers CORS (an IAM-signed URL gets unsigned preflights, which only the
URL can answer), so the deployment leaves PROFILES_ALLOWED_ORIGINS empty and the app adds no CORS
headers; locally (uvicorn, `copilot dev up`) the app answers CORS from that setting. One place each.
"""

from __future__ import annotations

from mangum import Mangum

from copilot.api.app import create_app

app = create_app()
# problem+json is text: without this Mangum would base64-encode error bodies.
handler = Mangum(app, lifespan="off", text_mime_types=["application/json", "application/problem+json", "text/"])
