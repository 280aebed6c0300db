"""A round-robin TCP proxy: one loopback port in front of several backend workers,
each new connection going to the next worker, as an L4 load balancer does.

Used by scripts/cluster for a single entry URL. Bytes pass through untouched (no
X-Forwarded-For: on loopback every client is 127.0.0.1 anyway; a real balancer in
front of the workers sets it, see the README's "Running in production"). A worker
that refuses the connection is skipped for that connection, so stopping one worker
does not break the entry URL. Standard library only, so it runs on any python3.

Usage: python3 scripts/lib/rrproxy.py --listen 127.0.0.1:8000 127.0.0.1:8001 127.0.0.1:8002
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys

CHUNK = 64 * 1024


def host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or "127.0.0.1", int(port)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until EOF, then pass the half-close on (HTTP clients may shut down
    their sending side and still wait for the answer)."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        # The other side went away; closing both ends (below) is all there is to do.
        pass


class Proxy:
    def __init__(self, upstreams: list[tuple[str, int]]) -> None:
        self.upstreams = upstreams
        self._next = itertools.cycle(range(len(upstreams)))

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        # Round-robin start; on a refused connection try the following workers once.
        first = next(self._next)
        for i in range(len(self.upstreams)):
            host, port = self.upstreams[(first + i) % len(self.upstreams)]
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port), timeout=5)
            except (TimeoutError, OSError):
                continue
        return None

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:
            client_w.close()
            return
        up_r, up_w = upstream
        try:
            await asyncio.gather(pipe(client_r, up_w), pipe(up_r, client_w))
        finally:
            for w in (up_w, client_w):
                w.close()
                try:
                    await w.wait_closed()
                except (ConnectionError, OSError):
                    pass


async def serve(listen: tuple[str, int], upstreams: list[tuple[str, int]]) -> None:
    proxy = Proxy(upstreams)
    server = await asyncio.start_server(proxy.handle, *listen, backlog=512)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", required=True, help="host:port to accept on (loopback)")
    parser.add_argument("upstream", nargs="+", help="host:port of each worker")
    args = parser.parse_args()
    asyncio.run(serve(host_port(args.listen), [host_port(u) for u in args.upstream]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
