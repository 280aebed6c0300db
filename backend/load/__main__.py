"""A bounded load run against a running backend on loopback (scripts/load):

1. reads: N concurrent clients (one keep-alive connection each) for S seconds on
   GET /auth/me and GET /notes with real bearer tokens -> every answer 2xx, none
   5xx; throughput, p50/p99 latency, and the client's own CPU use;
2. sign-in under load: N clients posting /auth/login (argon2 at its configured
   strength) for S/2 seconds -> the rate limiter answers 429, never a 5xx.

Usage: python -m backend.load BASE[,BASE...] [--clients 50] [--seconds 30] [--summary FILE]
Several bases (workers of one cluster): client i talks to base i mod n, as behind an
L4 balancer that pins each keep-alive connection to one worker.
Prints the figures (and writes them as JSON to --summary); exits 1 when any 5xx (or a
transport error) was seen."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import time
from collections import Counter

import httpx


def cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine from /proc/stat (Linux), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


async def sign_up(client: httpx.AsyncClient, base: str) -> tuple[str, str]:
    email = f"load-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(12)
    r = await client.post(f"{base}/auth/register", json={"email": email, "password": password})
    r.raise_for_status()
    return email, r.json()["access_token"]


# Sign-ups stay under the default per-IP limit (10 a minute) for both phases.
READ_ACCOUNTS = 5


class Connection:
    """One keep-alive HTTP/1.1 connection for the read phase, on asyncio streams.

    Not httpx: measured here, httpx's async client spent 3.5-7 ms of CPU per request,
    as much as the worker serving it, and on a 2-core machine the client's CPU is
    taken from the workers being compared. This client sends GETs and reads answers
    with a Content-Length (all the backend sends), nothing more."""

    def __init__(self, base: str) -> None:
        url = httpx.URL(base)
        self.host, self.port = url.host, url.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        if self.reader is None:
            raise ConnectionError("no connection")
        try:
            self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{headers}\r\n".encode())
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout=30)
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = next((h.split(":", 1)[1] for h in lines[1:] if h.lower().startswith("content-length:")), None)
            if length is None:
                raise ValueError("an answer without Content-Length")
            await self.reader.readexactly(int(length))
            if any(h.lower() == "connection: close" for h in lines[1:]):
                self.close()
            return status
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def reads(bases: list[str], clients: int, seconds: float) -> tuple[Counter[int], list[float], int]:
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(timeout=30) as client:
        tokens = [(await sign_up(client, bases[0]))[1] for _ in range(min(clients, READ_ACCOUNTS))]
    deadline = time.monotonic() + seconds

    async def worker(i: int) -> None:
        nonlocal errors
        conn = Connection(bases[i % len(bases)])
        headers = f"Authorization: Bearer {tokens[i % len(tokens)]}\r\n"
        n = 0
        while time.monotonic() < deadline:
            path = "/auth/me" if n % 2 == 0 else "/notes"
            n += 1
            started = time.perf_counter()
            try:
                status = await conn.get(path, headers)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[status] += 1
        conn.close()

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return statuses, latencies, errors


async def logins(bases: list[str], clients: int, seconds: float) -> tuple[Counter[int], int]:
    statuses: Counter[int] = Counter()
    errors = 0
    async with httpx.AsyncClient(timeout=60) as client:
        email, _ = await sign_up(client, bases[0])
        deadline = time.monotonic() + seconds

        async def worker(i: int) -> None:
            nonlocal errors
            base = bases[i % len(bases)]
            while time.monotonic() < deadline:
                password = "wrong password" if i % 2 else "still wrong"
                try:
                    r = await client.post(f"{base}/auth/login", json={"email": email, "password": password})
                except httpx.HTTPError:
                    errors += 1
                    continue
                statuses[r.status_code] += 1

        await asyncio.gather(*(worker(i) for i in range(clients)))
    return statuses, errors


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.load")
    parser.add_argument("base", help="one URL, or several comma-separated (the workers)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--summary", help="write the read figures here as JSON")
    args = parser.parse_args()
    bases = [b for b in args.base.split(",") if b]

    # The load client shares the machine with the server: its own CPU use says how
    # much of the machine the server had (on 2 cores, one busy client caps a ratio).
    cpu0, wall0, machine0 = time.process_time(), time.monotonic(), cpu_times()
    statuses, latencies, read_errors = asyncio.run(reads(bases, args.clients, args.seconds))
    client_cpu = (time.process_time() - cpu0) / max(time.monotonic() - wall0, 1e-9)
    machine1 = cpu_times()
    # How busy all cores were: a ratio below the worker count with the machine near
    # 100% means the cores, not the design, are the limit.
    machine_busy = (
        (machine1[0] - machine0[0]) / max(machine1[1] - machine0[1], 1) if machine0 and machine1 else float("nan")
    )
    served = sum(statuses.values())
    summary = {
        "targets": len(bases),
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": served,
        "throughput": served / args.seconds,
        "p50_ms": quantile(latencies, 0.5),
        "p99_ms": quantile(latencies, 0.99),
        "status_5xx": sum(n for s, n in statuses.items() if s >= 500),
        "transport_errors": read_errors,
        "client_cpu": client_cpu,
        "machine_busy": machine_busy,
    }
    mean = statistics.fmean(latencies) if latencies else float("nan")
    print(
        f"load: reads, {args.clients} clients x {args.seconds:.0f} s on {len(bases)} target(s): {served} requests "
        f"({served / args.seconds:.0f}/s), statuses {dict(sorted(statuses.items()))}, "
        f"transport errors {read_errors}, p50 {quantile(latencies, 0.5):.1f} ms, "
        f"p99 {quantile(latencies, 0.99):.1f} ms, mean {mean:.1f} ms, "
        f"load client CPU {client_cpu:.0%} of a core, machine CPU busy {machine_busy:.0%}"
    )
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(summary, f)
    login_statuses, login_errors = asyncio.run(logins(bases, args.clients, max(args.seconds / 2, 1)))
    print(
        f"load: sign-in storm, {args.clients} clients x {max(args.seconds / 2, 1):.0f} s: "
        f"{sum(login_statuses.values())} requests, statuses {dict(sorted(login_statuses.items()))}, "
        f"transport errors {login_errors}"
    )
    failures = []
    if any(s >= 500 for s in statuses) or read_errors:
        failures.append("reads saw a 5xx or a transport error")
    if any(s not in (200,) for s in statuses):
        failures.append(f"reads answered other than 200: {dict(statuses)}")
    if any(s >= 500 for s in login_statuses) or login_errors:
        failures.append("sign-ins saw a 5xx or a transport error")
    if 429 not in login_statuses:
        failures.append("the sign-in storm was never rate limited")
    for failure in failures:
        print(f"load: FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
