"""`plughost routes check [FILES]`: validate route files offline, as the server would."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from host.gateway.policy import UpstreamPolicy
from host.gateway.table import APP_NAME, compile_table
from host.progress import Progress

__all__ = ("check_files",)


def check_files(
    paths: list[Path],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    policy: UpstreamPolicy | None = None,
) -> int:
    """Print `file:line:col: error: ...` for each problem; 0 when every file is valid, else 1."""
    failed = 0
    if not paths:
        print("no route files to check", file=err)
        return 1

    bar = Progress(paths, "checking", lambda p: p.name, minimum=10)
    for path in bar:
        app = path.name.removesuffix(".json").lower()
        try:
            raw = path.read_bytes()
        except OSError as exc:
            bar.write(f"{path}:1:1: error: cannot read ({exc.strerror})", err)
            failed += 1
            continue
        result = compile_table(app, raw, policy or UpstreamPolicy())
        errors = list(result.errors)
        if not APP_NAME.match(app) or not path.name.endswith(".json"):
            bar.write(f"{path}:1:1: error: the file name must be <app>.json (a-z, 0-9, _, -)", err)
            failed += 1
        for error in errors:
            bar.write(error.format(str(path)), err)
        for warning in result.warnings:
            bar.write(warning.format(str(path), "warning"), err)
        if errors:
            failed += 1
        elif result.table is not None:
            bar.write(f"{path}: ok ({len(result.table.routes)} routes)", out)
    return 1 if failed else 0


def files_to_check(given: list[str], routes_dir: Path) -> list[Path]:
    if given:
        return [Path(g) for g in given]
    return sorted(p for p in routes_dir.glob("*.json") if not p.name.startswith("."))
