#!/bin/sh
# Run a command trusting the optional build secret `extra_ca` on top of the image's CA bundle.
# The secret is mounted at /run/secrets/extra_ca for one RUN; the combined bundle goes to the tmpfs
# that RUN mounts at /run/extra-ca, so nothing of it is left in a layer. Without the secret the
# command runs unchanged.
set -eu
secret=/run/secrets/extra_ca
if [ -s "$secret" ]; then
  bundle=/run/extra-ca/ca-bundle.pem
  cat /etc/ssl/certs/ca-certificates.crt "$secret" > "$bundle" 2>/dev/null || cat "$secret" > "$bundle"
  export SSL_CERT_FILE="$bundle" PIP_CERT="$bundle" REQUESTS_CA_BUNDLE="$bundle"
fi
exec "$@"
