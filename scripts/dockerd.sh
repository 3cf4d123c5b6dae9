#!/usr/bin/env bash
# Start or stop a Docker engine for this project's image builds and container tests.
#
#   scripts/dockerd.sh start PIDFILE   start dockerd when no engine answers; prints "started <pid>"
#                                      (PID written to PIDFILE) or "running" (left alone, no PIDFILE)
#   scripts/dockerd.sh stop PIDFILE    stop the dockerd whose PID is in PIDFILE (only that one)
#
# `start` exits 1, saying why on stderr, when the engine cannot start (not root, no dockerd binary,
# or it did not answer within 60 s). Its log goes next to PIDFILE (<PIDFILE>.log).
set -euo pipefail
command="${1:-}"
pidfile="${2:-}"
if [[ -z "${command}" || -z "${pidfile}" ]]; then
  echo "usage: $0 start|stop PIDFILE" >&2
  exit 2
fi
docker_cli="$(command -v docker || true)"

engine_answers() {
  [[ -n "${docker_cli}" ]] && timeout 10 "${docker_cli}" info --format '{{.ServerVersion}}' >/dev/null 2>&1
}

case "${command}" in
  start)
    if engine_answers; then
      echo "running"
      exit 0
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
      echo "dockerd is not installed (scripts/ensure-system-deps.sh installs docker.io)" >&2
      exit 1
    fi
    if [[ "$(id -u)" -ne 0 ]]; then
      echo "no Docker engine answers and only root can start dockerd" >&2
      exit 1
    fi
    if [[ -z "${docker_cli}" ]]; then
      echo "no docker CLI on PATH (scripts/ensure-system-deps.sh installs docker.io)" >&2
      exit 1
    fi
    mkdir -p "$(dirname "${pidfile}")"
    # dockerd writes its own /var/run/docker.pid; a stale one from a killed engine blocks the start.
    if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
      rm -f /var/run/docker.pid
    fi
    setsid dockerd --host unix:///var/run/docker.sock >"${pidfile}.log" 2>&1 < /dev/null &
    pid=$!
    echo "${pid}" > "${pidfile}"
    for _ in $(seq 1 120); do
      if engine_answers; then
        echo "started ${pid}"
        exit 0
      fi
      if ! kill -0 "${pid}" 2>/dev/null; then
        echo "dockerd exited at start; its log (${pidfile}.log) ends with:" >&2
        tail -5 "${pidfile}.log" >&2 || true
        rm -f "${pidfile}"
        exit 1
      fi
      sleep 0.5
    done
    echo "dockerd (pid ${pid}) did not answer within 60 s; stopping it. Log: ${pidfile}.log" >&2
    kill "${pid}" 2>/dev/null || true
    rm -f "${pidfile}"
    exit 1
    ;;
  stop)
    [[ -f "${pidfile}" ]] || exit 0
    pid="$(cat "${pidfile}")"
    if kill -0 "${pid}" 2>/dev/null; then
      kill -TERM "${pid}"
      # dockerd stops its containers first (up to their stop timeout): wait for it, bounded.
      for _ in $(seq 1 120); do
        kill -0 "${pid}" 2>/dev/null || break
        sleep 0.5
      done
      kill -0 "${pid}" 2>/dev/null && kill -KILL "${pid}" 2>/dev/null || true
    fi
    rm -f "${pidfile}"
    ;;
  *)
    echo "usage: $0 start|stop PIDFILE" >&2
    exit 2
    ;;
esac
