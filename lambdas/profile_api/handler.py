"""AWS Lambda entry point: Mangum over the FastAPI app, for Function URL (payload v2.0) events.

Settings come from the ``PROFILES_*`` environment (behaviour_profiles.settings.ProfileSettings).
CORS is answered by the app, so the Function URL must not configure CORS as well.
"""

from __future__ import annotations

from mangum import Mangum

from copilot.api.app import create_app

app = create_app()
# problem+json is text: without this Mangum would base64-encode error bodies.
handler = Mangum(app, lifespan="off", text_mime_types=["application/json", "application/problem+json", "text/"])
