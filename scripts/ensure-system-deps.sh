#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/system-deps.txt whose binary is missing.
# As root it runs apt-get; otherwise it prints the exact command to run and fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
missing=()
while read -r binary package; do
  [[ -z "${binary}" || "${binary}" == \#* ]] && continue
  if ! command -v "${binary}" >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/"${binary}" >/dev/null 2>&1; then
    missing+=("${package}")
  fi
done < "${here}/system-deps.txt"
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "==> installing Debian packages: ${missing[*]}"
if [[ "$(id -u)" -ne 0 ]]; then
  echo "error: these packages are missing and this user cannot install them:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "==> installed ${missing[*]}"
