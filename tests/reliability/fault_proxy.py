"""A TCP proxy put in front of a stand-in to inject network faults for real: ``down()`` closes the
listening socket (clients get connection refused, as if the process had died), ``slow(seconds)``
holds every connection and every answer that long before forwarding, ``up()`` restores normal service on the
same port. It runs its own event loop in a daemon thread, so the code under test is untouched."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field

from temporal_dsql_standins import free_port

__all__ = ["FaultProxy"]


@dataclass
class FaultProxy:
    target_host: str
    target_port: int
    port: int = field(default_factory=free_port)
    delay: float = 0.0
    connections: int = 0
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop, repr=False)
    _server: asyncio.Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _open: set[asyncio.StreamWriter] = field(default_factory=set, repr=False)

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name=f"proxy-{self.port}")
        self._thread.start()
        self.up()
        return self

    def _run(self, coroutine: object) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)  # type: ignore[arg-type]

    def up(self) -> None:
        self.delay = 0.0
        if self._server is None:
            self._server = self._run(asyncio.start_server(self._handle, "127.0.0.1", self.port,  # type: ignore[assignment]
                                                          reuse_address=True))

    def down(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None

            async def close() -> None:
                server.close()
                for writer in list(self._open):  # pooled keep-alive connections die with the "process"
                    writer.transport.abort()
                self._open.clear()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(server.wait_closed(), timeout=2)

            self._run(close())

    def slow(self, seconds: float) -> None:
        self.up()
        self.delay = seconds

    def stop(self) -> None:
        self.down()

        async def cancel_connections() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self._run(cancel_connections())
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return
        self._open.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, answers: bool = False) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    if self._server is None:  # went down mid-connection: drop it
                        break
                    if answers and self.delay:  # slow: also on pooled keep-alive connections
                        await asyncio.sleep(self.delay)
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer, answers=True))
