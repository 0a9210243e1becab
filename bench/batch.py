"""Batch API benchmark against a real `plughost serve` (SQLite in a temp data dir), in one run:

(a) 100 independent client creates as one batch vs the same 100 sent one by one over one
    keep-alive connection (goal: batch at least 5x faster); nine rounds, alternating the two,
    medians compared (the machine is shared: alternating spreads its load over both sides);
(b) a 10,000-item batch: wall time and the server's memory growth (VmRSS/VmHWM from /proc);
(c) a 100-item chain (each loan references the previous item's clientId).

Run: .venv/bin/python bench/batch.py [--quick: (a) only]   (part of `make bench`); BENCH_DB_URL=postgres://... to run
the same against PostgreSQL (use an empty database).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "bench-admin-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak so far) of a process, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            out[name] = int(value.split()[0])
    return out


def create_item(request_id: int) -> dict[str, Any]:
    body = {"firstname": "Bench", "lastname": f"N{request_id}"}
    return {
        "requestId": request_id,
        "method": "POST",
        "relativeUrl": "clients",
        "body": json.dumps(body),
    }


async def wait_ready(
    session: aiohttp.ClientSession, base: str, proc: subprocess.Popen[bytes]
) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            async with session.get(f"{base}/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("server did not start in 30 s")


async def post_batch(
    session: aiohttp.ClientSession, base: str, items: list[dict[str, Any]], query: str = ""
) -> tuple[float, list[dict[str, Any]]]:
    started = time.perf_counter()
    async with session.post(f"{base}/api/v1/batches{query}", json=items) as resp:
        answer = await resp.json()
        assert resp.status == 200, answer
    return time.perf_counter() - started, answer


async def bench(base: str, pid: int) -> dict[str, float]:
    connector = aiohttp.TCPConnector(limit=1)  # one keep-alive connection for everything
    async with aiohttp.ClientSession(connector=connector) as session:
        await wait_ready(session, base, SERVER)
        async with session.post(
            f"{base}/api/v1/authentication", json={"username": "admin", "password": PASSWORD}
        ) as resp:
            token = (await resp.json())["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"

        # warm-up: both paths once
        await post_batch(session, base, [create_item(i) for i in range(20)])
        for i in range(20):
            async with session.post(
                f"{base}/api/v1/clients", json={"firstname": "W", "lastname": str(i)}
            ) as r:
                await r.read()

        # (a) 100 sequential vs one batch of 100; the median of ROUNDS alternating rounds each
        sequential_runs, batch_runs = [], []
        for round_ in range(ROUNDS):  # alternating: one by one, then the batch
            started = time.perf_counter()
            for i in range(100):
                payload = {"firstname": "Bench", "lastname": f"S{round_}-{i}"}
                async with session.post(f"{base}/api/v1/clients", json=payload) as resp:
                    assert resp.status == 201, await resp.text()
                    await resp.read()
            sequential_runs.append(time.perf_counter() - started)
            took, answer = await post_batch(session, base, [create_item(i) for i in range(100)])
            assert all(a["statusCode"] == 201 for a in answer)
            batch_runs.append(took)
        sequential, batched = statistics.median(sequential_runs), statistics.median(batch_runs)
        enclosed_runs = []
        for _ in range(ROUNDS):
            took, answer = await post_batch(
                session, base, [create_item(i) for i in range(100)], "?enclosingTransaction=true"
            )
            assert all(a["statusCode"] == 201 for a in answer)
            enclosed_runs.append(took)
        enclosed = statistics.median(enclosed_runs)

        if QUICK:
            return {
                "sequential_100_s": sequential,
                "batch_100_s": batched,
                "speedup": sequential / batched,
                "enclosed_100_s": enclosed,
                "enclosed_speedup": sequential / enclosed,
            }

        # (b) 10,000 items
        before = memory_kb(pid)
        big, answer = await post_batch(session, base, [create_item(i) for i in range(10_000)])
        after = memory_kb(pid)
        assert len(answer) == 10_000 and all(a["statusCode"] == 201 for a in answer)

        # (c) a 100-item chain: client, then 99 loans each referencing the previous answer
        chain: list[dict[str, Any]] = [create_item(0)]
        chain += [
            {
                "requestId": i,
                "method": "POST",
                "relativeUrl": "loans",
                "reference": i - 1,
                "body": json.dumps({"clientId": "$.clientId", "productId": 1}),
            }
            for i in range(1, 100)
        ]
        chained, answer = await post_batch(session, base, chain)
        assert all(a["statusCode"] == 201 for a in answer), answer[:3]
        independent_loans = [
            {
                **item,
                "reference": None,
                "body": json.dumps({"clientId": first_id(answer), "productId": 1}),
            }
            for item in chain[1:]
        ]
        flat, _ = await post_batch(session, base, independent_loans)

    return {
        "sequential_100_s": sequential,
        "batch_100_s": batched,
        "speedup": sequential / batched,
        "enclosed_100_s": enclosed,
        "enclosed_speedup": sequential / enclosed,
        "batch_10k_s": big,
        "batch_10k_items_per_s": 10_000 / big,
        "rss_before_mb": before["VmRSS"] / 1024,
        "rss_after_mb": after["VmRSS"] / 1024,
        "peak_growth_mb": max(0, after["VmHWM"] - before["VmRSS"]) / 1024,
        "chain_100_s": chained,
        "independent_99_loans_s": flat,
        "chain_vs_independent": chained / flat,
    }


def first_id(answer: list[dict[str, Any]]) -> int:
    return int(json.loads(answer[0]["body"])["clientId"])


SERVER: subprocess.Popen[bytes]
QUICK = "--quick" in sys.argv  # (a) only
ROUNDS = 9


def main() -> int:
    global SERVER
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="plughost-bench-") as tmp:
        env = {
            **os.environ,
            "PLUGHOST_DATA_DIR": f"{tmp}/var",
            "PLUGHOST_ROUTES_DIR": f"{tmp}/routes.d",
            "PLUGHOST_PLUGINS_DIR": str(REPO / "plugins"),
            "PLUGHOST_ADMIN_PASSWORD": PASSWORD,
            "PLUGHOST_SECRET_KEY": "bench-secret-key-0123456789-0123456789",
            "PLUGHOST_LOG_LEVEL": "WARNING",
            "PLUGHOST_DB_URL": os.environ.get("BENCH_DB_URL", ""),
            "PLUGHOST_BROKER_URL": "",
        }
        plughost = Path(sys.executable).with_name("plughost")
        SERVER = subprocess.Popen(
            [str(plughost), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            r = asyncio.run(bench(f"http://127.0.0.1:{port}", SERVER.pid))
        finally:
            SERVER.terminate()
            try:
                SERVER.wait(10)
            except subprocess.TimeoutExpired:
                SERVER.kill()
                SERVER.wait()
    db = "PostgreSQL" if os.environ.get("BENCH_DB_URL", "").startswith("postgres") else "SQLite"
    print(f"batch API ({db}, one server process, default PLUGHOST_BATCH_CONCURRENCY)")
    print(
        f"(a) 100 creates: one by one {r['sequential_100_s'] * 1000:.0f} ms "
        f"({r['sequential_100_s'] * 10:.2f} ms/request), one batch {r['batch_100_s'] * 1000:.0f} ms "
        f"({r['batch_100_s'] * 10:.2f} ms/item) -> batch {r['speedup']:.1f}x faster (goal >= 5x)"
    )
    print(
        f"    with enclosingTransaction=true (one commit): {r['enclosed_100_s'] * 1000:.0f} ms "
        f"-> {r['enclosed_speedup']:.1f}x faster than one by one"
    )
    if QUICK:
        return 0
    print(
        f"(b) 10,000-item batch: {r['batch_10k_s']:.1f} s ({r['batch_10k_items_per_s']:.0f} items/s); "
        f"server RSS {r['rss_before_mb']:.0f} -> {r['rss_after_mb']:.0f} MB, "
        f"peak growth {r['peak_growth_mb']:.0f} MB (goal < 300 MB)"
    )
    print(
        f"(c) 100-item chain: {r['chain_100_s'] * 1000:.0f} ms "
        f"({r['chain_100_s'] * 10:.1f} ms/item); the same 99 loans independent: "
        f"{r['independent_99_loans_s'] * 1000:.0f} ms -> chain/independent {r['chain_vs_independent']:.2f}"
    )
    goals = {"(a) >= 5x": r["speedup"] >= 5, "(b) < 300 MB": r["peak_growth_mb"] < 300}
    print("goals: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in goals.items()))
    return 0  # a benchmark reports; it never stops `make bench`


if __name__ == "__main__":
    raise SystemExit(main())
