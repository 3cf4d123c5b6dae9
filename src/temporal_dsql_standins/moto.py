"""moto_server (S3, DynamoDB, DSQL/AMP control planes) from this environment, on 127.0.0.1."""

from __future__ import annotations

import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from temporal_dsql_standins._process import ManagedProcess, StandinError, free_port

__all__ = ["MotoServer", "moto_server_binary"]


def moto_server_binary() -> Path:
    path = Path(sys.executable).parent / "moto_server"
    if not path.exists():
        raise StandinError(f"moto_server not found next to {sys.executable}; install moto[server] "
                           "(`uv sync` does, from the dev group)")
    return path


@dataclass
class MotoServer:
    """A moto_server process; ``endpoint_url`` goes to boto3 clients (dummy credentials suffice)."""

    port: int = 0
    workdir: Path | None = None
    process: ManagedProcess | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise StandinError("moto_server is not started")
        return self.process.pid

    def start(self, *, ready_timeout: float = 30.0) -> MotoServer:
        if not self.port:
            self.port = free_port()
        self.workdir = self.workdir or Path(tempfile.mkdtemp(prefix="moto-standin-"))
        self.process = ManagedProcess(
            name="moto_server",
            argv=[str(moto_server_binary()), "-H", "127.0.0.1", "-p", str(self.port)],
            port=self.port, log_file=self.workdir / "moto.log",
            env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"},
        ).start(ready_timeout=ready_timeout, healthy=self.check_services)
        return self

    def check_services(self) -> bool:
        """One S3 and one DynamoDB call through boto3, the clients the product uses."""
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                        region_name="us-east-1")
        session.client("s3", endpoint_url=self.endpoint_url, config=config).list_buckets()
        session.client("dynamodb", endpoint_url=self.endpoint_url, config=config).list_tables(Limit=1)
        return True

    def reset(self) -> None:
        """Wipe every bucket, table and resource (POST /moto-api/reset)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
