"""Behaviour-profile goals: the Lambda handler's cold import (the bundle on Python 3.12 and the dev
environment, each beside a naive FastAPI + Mangum + boto3 app in the same run), the first request
after it, the 24 h create (time, batched-concurrent vs serial queries, peak RSS) and list latency
with 10,000 stored profiles. Runs its own stand-ins (PostgreSQL, moto, Prometheus)."""

from __future__ import annotations

import asyncio
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from whenever import Instant, TimeDelta

from benchmarks._table import BenchRow

__all__ = ["run"]

ROOT = Path(__file__).resolve().parents[1]
HANDLER_DIR = ROOT / "lambdas" / "profile_api"

# Wall time and CPU time (user + sys) of the import: on a shared 2-core machine the wall time
# mostly measures the other processes; the CPU time is what the import itself costs.
_IMPORT = """
import resource, sys, time
sys.path.insert(0, {path!r})
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t, c = time.perf_counter(), cpu()
import {module}
print(time.perf_counter() - t, cpu() - c)
"""
# The floor the goal is judged against: the app a new user writes from the FastAPI, Mangum and
# Lambda docs (boto3 imported and its client created at module level, "outside the handler").
_NAIVE_APP = """
import boto3
from fastapi import FastAPI
from mangum import Mangum

s3 = boto3.client("s3")
app = FastAPI()


@app.get("/profiles/")
async def list_profiles() -> dict[str, list[str]]:
    return {"items": []}


handler = Mangum(app, lifespan="off")
"""
COLD_RUNS = 10
COLD_GOAL_S = 0.35
COLD_GOAL_RATIO = 0.5

_FIRST_REQUEST = """
import json, sys, time
sys.path.insert(0, {path!r})
import {module} as entry
event = json.loads(sys.argv[1])
t = time.perf_counter()
response = entry.handler(event, None)
elapsed = time.perf_counter() - t
assert response["statusCode"] == 201, response
print(elapsed)
"""

_CREATE = """
import asyncio, json, os, sys, time
from whenever import Instant
from temporal_dsql_profiles.models import CreateProfileRequest
from temporal_dsql_profiles.settings import ProfileSettings
from temporal_dsql_profiles.telemetry import PrometheusClient, collect_telemetry
from temporal_dsql_copilot.api.app import build_profile_service

def prometheus_seconds(pid):
    # utime + stime of the Prometheus process (fields 14 and 15 of /proc/<pid>/stat, in ticks).
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

async def main():
    args = json.loads(sys.argv[1])
    settings = ProfileSettings()
    service = build_profile_service(settings)
    start, end = Instant.parse_iso(args["start"]), Instant.parse_iso(args["end"])
    request = CreateProfileRequest(name="bench", cluster_id="bench", time_window_start=start, time_window_end=end)
    # A warm invocation: one small create first pays the one-off costs (boto3 import, S3 client,
    # SigV4 credentials, pool and schema), which the cold rows measure separately.
    warm = CreateProfileRequest(name="warm", cluster_id="bench", time_window_start=start,
                                time_window_end=start.add(hours=1))
    await service.create(warm)
    creates = []
    for _ in range(5):
        t = time.perf_counter()
        await service.create(request)
        creates.append(time.perf_counter() - t)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec, so a child of a large parent
    # (the other benchmarks load pulumi_aws) would report the parent's peak instead of its own.
    with open("/proc/self/status") as status:
        rss_mb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    # "One by one" and "concurrent" run the same catalog queries through the same collect_telemetry
    # and must give the same summary; the concurrent client is the service's own (what create uses).
    serial_client = PrometheusClient(settings.amp_query_url, sigv4=settings.amp_sigv4, concurrency=1, batch=1)
    paths = {"serial": serial_client, "concurrent": service.telemetry}
    walls = {name: [] for name in paths}
    client_cpu = {name: [] for name in paths}
    prometheus_cpu = {name: [] for name in paths}
    summaries = {}
    for _ in range(5):  # interleaved, so both see the same neighbours
        for name, client in paths.items():
            p, c, t = prometheus_seconds(args["prometheus_pid"]), time.process_time(), time.perf_counter()
            summaries[name] = await collect_telemetry(client, start, end)
            walls[name].append(time.perf_counter() - t)
            client_cpu[name].append(time.process_time() - c)
            prometheus_cpu[name].append(prometheus_seconds(args["prometheus_pid"]) - p)
    assert summaries["serial"] == summaries["concurrent"], "one by one and concurrent disagree"
    await serial_client.aclose()
    await service.store.close()
    med = lambda d: {k: sorted(v)[len(v) // 2] for k, v in d.items()}
    print(json.dumps({"create": sorted(creates)[2], "rss_mb": rss_mb, "walls": med(walls),
                      "client_cpu": med(client_cpu), "prometheus_cpu": med(prometheus_cpu),
                      "queries": args["queries"]}))

asyncio.run(main())
"""


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1", **extra}


@dataclass(frozen=True)
class _Imports:
    walls: list[float]
    cpus: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def _side_by_side(python: str, env: dict[str, str], candidates: dict[str, tuple[str, str]],
                  runs: int = COLD_RUNS) -> dict[str, _Imports]:
    """Each candidate (module, sys.path entry) imported in ``runs`` fresh processes, the
    candidates interleaved run by run so that both see the same load from the neighbours."""
    out = {name: _Imports([], []) for name in candidates}
    for _ in range(runs):
        for name, (module, path) in candidates.items():
            done = subprocess.run([python, "-c", _IMPORT.format(path=path, module=module)],
                                  capture_output=True, text=True, env=env, check=True)
            wall, cpu = done.stdout.strip().splitlines()[-1].split()
            out[name].walls.append(float(wall))
            out[name].cpus.append(float(cpu))
    return out


@dataclass(frozen=True)
class _Bundle:
    python: str
    task: Path
    env: dict[str, str]


def _bundle_on_python312(scratch: Path) -> _Bundle | None:
    """The Lambda zip's x86_64 twin unpacked, plus boto3 as the runtime provides it (bytecode
    compiled, as in the runtime image). The same files Lambda imports (3.12 bytecode, no dev
    packages, no pydantic.v1); None without a Python 3.12 on this machine."""
    from pulumi_temporal_dsql.lambda_bundle import build_bundle, find_python312

    python312 = find_python312()
    if python312 is None:
        return None
    twin = build_bundle(scratch / "out", platform="x86_64-manylinux_2_28")
    zipfile.ZipFile(twin.path).extractall(scratch / "task")
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    subprocess.run([uv, "pip", "install", "--python-platform", "x86_64-manylinux_2_28", "--python-version", "3.12",
                    "--only-binary", ":all:", "--target", str(scratch / "runtime"), "boto3"],
                   check=True, capture_output=True)
    subprocess.run([str(python312), "-m", "compileall", "-q", "-j", "0", str(scratch / "runtime")],
                   check=True, capture_output=True)
    env = _env(PROFILES_DATABASE_DSN="postgresql://admin:pw@127.0.0.1:1/postgres",
               PYTHONPATH=f"{scratch / 'task'}{os.pathsep}{scratch / 'runtime'}")
    return _Bundle(str(python312), scratch / "task", env)


def _cold_rows(name: str, runs: dict[str, _Imports], *, judged: bool, where: str) -> list[BenchRow]:
    handler, naive, floor = runs["handler"], runs["naive"], runs["fastapi"]
    ratio = handler.median / naive.median
    floor_ratio = floor.median / naive.median
    fast_ok, ratio_ok = handler.median <= COLD_GOAL_S, ratio <= COLD_GOAL_RATIO
    how = (f"{len(handler.walls)} fresh processes each, interleaved run by run with the naive app (boto3 imported "
           "and its client created at module level, FastAPI, one route, Mangum) and with `import fastapi, "
           "mangum` alone; wall time of the import (median, max in brackets)")
    return [
        BenchRow(name, f"{handler.median:.2f} s (max {max(handler.walls):.2f})",
                 f"<= {COLD_GOAL_S} s" if judged else "reported", fast_ok or not judged,
                 "" if fast_ok or not judged else f"floor {floor.median:.2f} s",
                 f"{name}: import of the Lambda handler {where}; {how}. CPU medians: handler {handler.cpu:.3f} s, "
                 f"naive app {naive.cpu:.3f} s, fastapi+mangum {floor.cpu:.3f} s."),
        BenchRow(f"{name}/naive", f"{ratio:.2f}x of {naive.median:.2f} s",
                 f"<= {COLD_GOAL_RATIO}x" if judged else "reported", ratio_ok or not judged,
                 "" if ratio_ok or not judged else f"floor {floor_ratio:.2f}x",
                 f"{name}/naive: the handler's median import over the naive app's, same runs. The floor in the "
                 f"note is `import fastapi, mangum` alone over the naive app ({floor_ratio:.2f}x): FastAPI's own "
                 "import (its OpenAPI models, pydantic, starlette) is more than half of the naive app's, so no "
                 "handler that keeps FastAPI and Mangum can reach 0.5x on this interpreter."),
        BenchRow(f"{name} floor", f"{floor.median:.2f} s", "reported", True, "fastapi+mangum",
                 f"{name} floor: `import fastapi, mangum` alone, same runs and interpreter."),
    ]


def _cold_import(bundle: _Bundle | None, scratch: Path) -> list[BenchRow]:
    naive_dir = scratch / "naive"
    naive_dir.mkdir()
    (naive_dir / "naive_app.py").write_text(_NAIVE_APP)
    compileall.compile_dir(str(ROOT / "src"), quiet=1)
    compileall.compile_dir(str(HANDLER_DIR), quiet=1)
    compileall.compile_dir(str(naive_dir), quiet=1)
    rows: list[BenchRow] = []
    if bundle is None:
        rows.append(BenchRow("cold import", "no Python 3.12", f"<= {COLD_GOAL_S} s", False,
                             "no 3.12 here", "The bundle's cold import needs a Python 3.12 (pyenv)."))
    else:
        subprocess.run([bundle.python, "-m", "compileall", "-q", str(naive_dir)], check=True, capture_output=True)
        runs = _side_by_side(bundle.python, bundle.env, {
            "handler": ("profile_api.handler", str(bundle.task)),
            "naive": ("naive_app", str(naive_dir)),
            "fastapi": ("fastapi, mangum", str(bundle.task))})
        rows += _cold_rows("cold import", runs, judged=True, where="from the bundle (3.12 bytecode) on Python 3.12")
    env = _env(PROFILES_DATABASE_DSN="postgresql://admin:pw@127.0.0.1:1/postgres")
    dev = _side_by_side(sys.executable, env, {"handler": ("handler", str(HANDLER_DIR)),
                                              "naive": ("naive_app", str(naive_dir)),
                                              "fastapi": ("fastapi, mangum", str(HANDLER_DIR))})
    rows += _cold_rows("dev import", dev, judged=False,
                       where=f"from the dev environment (Python {sys.version_info[0]}.{sys.version_info[1]})")
    return rows


def _first_request(bundle: _Bundle | None, env: dict[str, str], event: dict[str, object],
                   runs: int = 5) -> BenchRow:
    """POST /profiles/ as a Function URL v2 event through Mangum, in a fresh process right after
    the import (what the cold import defers is paid here): Prometheus, moto S3, PostgreSQL."""
    if bundle is not None:
        python, path, module = bundle.python, str(bundle.task), "profile_api.handler"
        env = {**env, "PYTHONPATH": bundle.env["PYTHONPATH"]}
    else:
        python, path, module = sys.executable, str(HANDLER_DIR), "handler"
    samples = []
    for _ in range(runs):
        done = subprocess.run([python, "-c", _FIRST_REQUEST.format(path=path, module=module), json.dumps(event)],
                              capture_output=True, text=True, env=env, check=True)
        samples.append(float(done.stdout.strip().splitlines()[-1]))
    where = "the bundle on Python 3.12" if bundle is not None else "the dev environment"
    return BenchRow("first request", f"{statistics.median(samples):.2f} s (max {max(samples):.2f})", "reported",
                    True, "", f"first request: POST /profiles/ (1 h window) as a Function URL v2 event through "
                    f"Mangum, timed in a fresh process just after the import, {where}; it pays what the import "
                    "defers (the profiles router, boto3's S3 client, SigV4 credentials, the asyncpg pool and "
                    f"schema) against Prometheus, moto S3 and PostgreSQL; median (max) of {runs}.")


def _function_url_event(body: dict[str, object]) -> dict[str, object]:
    raw = json.dumps(body)
    context = {"accountId": "123456789012", "apiId": "bench", "domainName": "bench.lambda-url.us-east-1.on.aws",
               "http": {"method": "POST", "path": "/profiles/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                        "userAgent": "grafana"},
               "requestId": "bench", "routeKey": "$default", "stage": "$default",
               "time": "22/Nov/2026:13:00:00 +0000", "timeEpoch": 1795352400000}
    return {"version": "2.0", "routeKey": "$default", "rawPath": "/profiles/", "rawQueryString": "",
            "headers": {"host": "bench.lambda-url.us-east-1.on.aws", "content-type": "application/json"},
            "requestContext": context, "body": raw, "isBase64Encoded": False}


async def _seed_and_time_list(dsn: str, bucket: str, s3_endpoint: str) -> float:
    from pydantic import SecretStr

    from temporal_dsql_profiles.scale import seed_profiles
    from temporal_dsql_profiles.settings import ProfileSettings
    from temporal_dsql_profiles.storage import ListFilters, ProfileStore

    store = ProfileStore.from_settings(ProfileSettings(bucket=bucket, s3_endpoint_url=s3_endpoint,
                                                       database_dsn=SecretStr(dsn)))
    pool = await store._get_pool()
    async with pool.acquire() as conn:
        await seed_profiles(conn, first=0, count=10_000, now=Instant.now())
    queries = [ListFilters(), ListFilters(cluster="cluster-3"), ListFilters(cluster="cluster-3", label="label-2"),
               ListFilters(namespace="ns-1", start=Instant.now() - TimeDelta(hours=500))]
    latencies = []
    for i in range(400):
        t = time.perf_counter()
        page = await store.list(queries[i % len(queries)], limit=50)
        if i % 4 == 0 and page.next_cursor:
            await store.list(queries[0], limit=50, cursor=page.next_cursor)
        latencies.append(time.perf_counter() - t)
    await store.close()
    latencies.sort()
    return latencies[int(len(latencies) * 0.99) - 1]


CREATE_GOAL_S = 0.25
SPEEDUP_GOAL = 4.0


def run() -> list[BenchRow]:
    import boto3

    from temporal_dsql_core.metric_catalog import iter_queries
    from temporal_dsql_standins import (
        MotoServer,
        PostgresServer,
        ScenarioWindow,
        get_scenario,
        start_prometheus_with_scenarios,
    )

    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", "us-east-1")):
        os.environ.setdefault(key, value)  # dummy credentials for moto and the SigV4 signer
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        bundle = _bundle_on_python312(scratch)
        rows = _cold_import(bundle, scratch)
        end = Instant.now() - TimeDelta(minutes=5)
        start = end - TimeDelta(hours=24)
        prometheus = start_prometheus_with_scenarios(
            {"healthy-150wps": ScenarioWindow(get_scenario("healthy-150wps"), start, end, seed=7)},
            scrape_interval=TimeDelta(seconds=30))
        postgres = PostgresServer().start()
        moto = MotoServer().start()
        try:
            bucket = "bench-profiles"
            boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1").create_bucket(Bucket=bucket)
            env = _env(PROFILES_BUCKET=bucket, PROFILES_S3_ENDPOINT_URL=moto.endpoint_url,
                       PROFILES_DATABASE_DSN=postgres.dsn, PROFILES_AMP_QUERY_URL=prometheus.query_url,
                       PROFILES_AMP_SIGV4="true", PROFILES_CLUSTER_ID="bench")
            first_window = {"name": "first", "time_window_start": (end - TimeDelta(hours=1)).format_iso(),
                            "time_window_end": end.format_iso()}
            rows.append(_first_request(bundle, env, _function_url_event(first_window)))
            queries = len(list(iter_queries()))
            out = subprocess.run([sys.executable, "-c", _CREATE, json.dumps({"start": start.format_iso(),
                                                                              "end": end.format_iso(),
                                                                              "queries": queries,
                                                                              "prometheus_pid": prometheus.server.pid})],
                                 capture_output=True, text=True, env=env, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            walls, client_cpu, prom_cpu = result["walls"], result["client_cpu"], result["prometheus_cpu"]
            speedup = walls["serial"] / walls["concurrent"]
            cores = os.cpu_count() or 1
            # The best the concurrent path could do: all its CPU work (Prometheus' and the client's)
            # spread over every core of the machine, no neighbours, no waiting.
            floor = (prom_cpu["concurrent"] + client_cpu["concurrent"]) / cores
            ceiling = walls["serial"] / floor
            # Looser still: only the Prometheus work one query per request costs (no batching
            # overhead, a client that costs nothing), spread over every core.
            prometheus_ceiling = walls["serial"] / (prom_cpu["serial"] / cores)
            cpu_text = (f"CPU per collect, serial / concurrent: Prometheus {prom_cpu['serial'] * 1000:.0f} / "
                        f"{prom_cpu['concurrent'] * 1000:.0f} ms, client {client_cpu['serial'] * 1000:.0f} / "
                        f"{client_cpu['concurrent'] * 1000:.0f} ms")
            create_ok = result["create"] <= CREATE_GOAL_S
            rows += [
                BenchRow("create 24 h", f"{result['create']:.3f} s", f"<= {CREATE_GOAL_S} s", create_ok,
                         "" if create_ok else f"CPU floor {floor:.2f} s",
                         f"create 24 h: ProfileService.create (what POST /profiles/ runs) over a 24 h window, {queries} "
                         "catalog queries in batches against the local Prometheus (SigV4-signed), S3 on moto, "
                         "PostgreSQL; median of 5 after one warm create. The note's floor is the collect's CPU "
                         f"(Prometheus + client) over the machine's {cores} cores: {cpu_text}."),
                BenchRow("queries vs serial", f"{speedup:.1f}x", f">= {SPEEDUP_GOAL:g}x", speedup >= SPEEDUP_GOAL,
                         "" if speedup >= SPEEDUP_GOAL else f"ceiling {ceiling:.1f}x",
                         f"queries vs serial: collect_telemetry over 24 h with the service's client (batched "
                         f"and concurrent: {walls['concurrent']:.3f} s) against the same queries one per request, "
                         f"one at a time ({walls['serial']:.3f} s), both giving the same summary (asserted); medians "
                         f"of 5, interleaved. {cpu_text}. The ceiling in the note is the serial time over the "
                         f"concurrent path's CPU spread perfectly over all {cores} cores ({floor:.3f} s): no "
                         "scheduling of that work beats it, so a ceiling under the goal means no client reaches the goal "
                         "on this machine. Even a free "
                         "client and batching that cost Prometheus nothing would give at most the serial time over "
                         f"the serial path's Prometheus CPU over {cores} cores: {prometheus_ceiling:.1f}x. Batching "
                         "saves the per-request cost (HTTP, SigV4, JSON framing, parse and plan) but Prometheus "
                         "still evaluates every query (the histogram quantiles read ~100k samples each)."),
                BenchRow("create peak RSS", f"{result['rss_mb']:.0f} MB", "<= 150 MB", result["rss_mb"] <= 150, "",
                         "create peak RSS: VmHWM of the process that ran the creates."),
            ]
            p99 = asyncio.run(_seed_and_time_list(postgres.dsn, bucket, moto.endpoint_url))
            rows.append(BenchRow("list p99, 10k", f"{p99 * 1000:.1f} ms", "<= 20 ms", p99 <= 0.020, "",
                                 "list p99, 10k: GET /profiles/ store reads with 10,000 stored profiles "
                                 "(filters + keyset pages), 400 requests."))
        finally:
            moto.stop()
            postgres.stop()
            prometheus.stop()
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
