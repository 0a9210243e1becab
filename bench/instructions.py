"""Instructions per request, counted by callgrind: what the host adds to aiohttp, without noise.

wrk's req/s and even CPU time per request move with whatever else the machine runs; an instruction
count does not (docs/performance.md, "Counting instructions"). This runs aiohttp's request handling
(`Application._handle`: routing, middlewares, the handler, the response object; not the socket)
in-process, under `valgrind --tool=callgrind`, N and 2N times, and prints the difference per request
for the main thread:

    bare      a bare aiohttp app, `web.json_response({"pong": True})` (as bench/host_overhead.py)
    plughost  `create_app` with the bench plugin's public GET /api/v1/ping (bench/plugins/benchping)

    .venv/bin/python bench/instructions.py [--n 1000] [--cases bare,plughost]

The figure still includes aiohttp's own per-request work (the same on both sides) and start-up noise
of about 2%; it does not include the HTTP parser, the socket or the event loop. Prints SKIP and
exits 0 when valgrind is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


async def _loop(case: str, n: int) -> None:
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    if case == "bare":

        async def ping(request: web.Request) -> web.Response:
            return web.json_response({"pong": True})

        app = web.Application()
        app.router.add_get("/api/v1/ping", ping)
    else:
        from host.app import create_app
        from host.config import load_settings

        app = create_app(load_settings())
    runner = web.AppRunner(app)
    await runner.setup()
    request = make_mocked_request("GET", "/api/v1/ping", app=app)
    for _ in range(200 + n):  # 200 to warm up, the same in both runs
        response = await app._handle(request)
        assert response.status == 200, response.status
    await runner.cleanup()


def _count(case: str, n: int, env: dict[str, str], tmp: Path) -> int:
    out = tmp / f"{case}-{n}.out"
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--separate-threads=yes",  # the loop's thread only: not aiosqlite's or the broker's
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--inner",
            case,
            str(n),
        ],
        env=env,
        cwd=tmp,
        check=True,
        capture_output=True,
    )
    main_thread = Path(f"{out}-01")
    found = re.search(r"^(?:summary|totals): (\d+)", main_thread.read_text(), re.M)
    assert found, f"no total in {main_thread}"
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="requests per run (default 1000)")
    parser.add_argument("--cases", default="bare,plughost")
    parser.add_argument("--inner", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        asyncio.run(_loop(args.inner[0], int(args.inner[1])))
        return
    if shutil.which("valgrind") is None:
        print("SKIP: valgrind is not installed (Debian's package valgrind)")
        return
    with tempfile.TemporaryDirectory(prefix="plughost-instr-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "routes.d").mkdir()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")},
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "PYTHONMALLOC": "malloc",  # valgrind sees each allocation (pymalloc confuses it)
            "PLUGHOST_DATA_DIR": str(tmp / "data"),
            "PLUGHOST_ROUTES_DIR": str(tmp / "routes.d"),
            "PLUGHOST_PLUGINS_DIR": str(REPO / "plugins"),
            "PLUGHOST_PLUGIN_PATH": str(BENCH / "plugins"),
            "PLUGHOST_ADMIN_PASSWORD": "bench-admin-password",
            "PLUGHOST_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
            "PLUGHOST_LOG_LEVEL": "WARNING",
            "PLUGHOST_BROKER_URL": "",
        }
        subprocess.run(  # migrate once, outside the counted runs
            [sys.executable, __file__, "--inner", "plughost", "1"], env=env, cwd=tmp, check=True
        )
        per: dict[str, int] = {}
        for case in args.cases.split(","):
            once, twice = _count(case, args.n, env, tmp), _count(case, 2 * args.n, env, tmp)
            per[case] = (twice - once) // args.n
            print(f"{case:9s} {per[case]:>9,} instructions per request (callgrind, main thread)")
        if "bare" in per and "plughost" in per:
            print(f"plughost / bare: {per['plughost'] / per['bare']:.2f}x the instructions")


if __name__ == "__main__":
    main()
