#!/usr/bin/env bash
# Make the Debian base image the project's Dockerfiles build FROM when no registry image can be
# pulled: `debootstrap --variant=minbase` from the Debian mirror apt already uses, then
# `docker import`. It carries Debian's Python 3.11 (+ venv, CA certificates), so it stands in for
# `python:3.11-slim-bookworm` (the copilot image) and is the base of the server stand-in.
#
#   scripts/base-image.sh [DOCKER]     prints the image tag on stdout (progress on stderr)
#
# The tag is a content tag, temporal-dsql-base:<suite>-<hash of this script>: an image with that
# tag is reused as is, so the 30-60 s debootstrap runs once per machine (and again only when this
# script changes). DEBIAN_MIRROR overrides the mirror (default: the first deb.debian.org-style URI
# apt is configured with, else http://deb.debian.org/debian).
set -euo pipefail
docker="${1:-docker}"
suite="bookworm"
packages="python3,python3-venv,ca-certificates"
here="$(cd "$(dirname "$0")" && pwd)"
digest="$(sha256sum "${here}/base-image.sh" | cut -c1-12)"
tag="temporal-dsql-base:${suite}-${digest}"
if "${docker}" image inspect "${tag}" >/dev/null 2>&1; then
  echo "${tag}"
  exit 0
fi
for tool in debootstrap tar; do
  if ! command -v "${tool}" >/dev/null 2>&1; then
    echo "error: ${tool} is not installed (scripts/ensure-system-deps.sh installs it)" >&2
    exit 1
  fi
done
if [[ "$(id -u)" -ne 0 ]]; then
  echo "error: debootstrap needs root to make ${tag}" >&2
  exit 1
fi
mirror="${DEBIAN_MIRROR:-}"
if [[ -z "${mirror}" ]]; then
  mirror="$( (grep -hs -E '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list || true) \
    | grep -o -E 'https?://[^ ]+/debian/?$' | head -1)"
  mirror="${mirror:-http://deb.debian.org/debian}"
fi
rootfs="$(mktemp -d /tmp/temporal-dsql-base.XXXXXX)"
trap 'rm -rf "${rootfs}"' EXIT
echo "==> debootstrap --variant=minbase ${suite} (${mirror}) for ${tag}" >&2
debootstrap --variant=minbase --include="${packages}" "${suite}" "${rootfs}" "${mirror}" >"${rootfs}.log" 2>&1 || {
  tail -20 "${rootfs}.log" >&2
  rm -f "${rootfs}.log"
  exit 1
}
rm -f "${rootfs}.log"
# Smaller and reproducible-ish: no apt lists or caches in the image.
rm -rf "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/cache/apt/*.bin "${rootfs}"/var/cache/apt/archives/*.deb
tar -C "${rootfs}" --numeric-owner -c . | "${docker}" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  --message "debootstrap --variant=minbase ${suite} +${packages}" - "${tag}" >/dev/null
echo "==> made ${tag}" >&2
echo "${tag}"
