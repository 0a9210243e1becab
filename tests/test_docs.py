"""Docs that run: every code block in docs/ is executed here, or says it is a fragment.

A block's info string decides (```` ```python file=plugins/tags/__init__.py ````):
- `fragment` anywhere: an excerpt or a sketch, not run (shell sessions against a live server,
  diagrams, pieces of larger files);
- `json`, `toml`: parsed; a routes.d document (it has `routes`) must also compile without errors;
- `python file=PATH`: one file of a project the document builds; docs/plugins.md's project (the
  worked example plugin and its test) is written into a temp folder, migrated offline and its test
  run with pytest from inside the plugin's folder;
- `python`: run as a script (it must stand alone);
- `console`: each `$ command` runs in a temp copy of the repository's routes.d, and what follows
  it, up to the next `$`, must be exactly what it prints;
- `sh served`: a shell session against `make run`: it runs with `bash -e -o pipefail` against a
  fresh `plughost serve` (demo plugins, a copy of routes.d, the generated admin password in
  var/admin-password), its `make run` line left out and `localhost:8080` pointed at that server;
  it must succeed and print no problem+json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import pytest

from host.gateway.table import compile_table

REPO = Path(__file__).resolve().parent.parent
DOCS = sorted((REPO / "docs").glob("*.md"))
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>.*)$")


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int
    info: str
    text: str

    @property
    def words(self) -> list[str]:
        return self.info.split()

    @property
    def lang(self) -> str:
        return self.words[0] if self.words else ""

    @property
    def file(self) -> str | None:
        return next((w[5:] for w in self.words if w.startswith("file=")), None)

    def __str__(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}"


def blocks(doc: Path) -> list[Block]:
    found: list[Block] = []
    lines = doc.read_text().split("\n")
    opened: tuple[int, str, str] | None = None
    body: list[str] = []
    for number, line in enumerate(lines, 1):
        fence = FENCE.match(line)
        if fence is None:
            if opened is not None:
                body.append(line)
            continue
        if opened is None:
            opened, body = (number, fence["indent"], fence["info"].strip()), []
        else:
            found.append(Block(doc, opened[0], opened[2], dedent("\n".join(body)) + "\n"))
            opened = None
    assert opened is None, f"{doc}: a code block opened at line {opened[0]} is never closed"
    return found


ALL = [b for doc in DOCS for b in blocks(doc)]
RUNNABLE = [b for b in ALL if "fragment" not in b.words]


def test_every_block_says_what_it_is() -> None:
    runners = {"json", "toml", "python", "console", "sh served"}
    unclear = [
        f"{b} [{b.info}]" for b in RUNNABLE if b.lang not in runners and b.info not in runners
    ]
    assert not unclear, "run these blocks (json, toml, python, console) or mark them fragment"
    assert len(RUNNABLE) >= 8  # the docs keep examples that run


@pytest.mark.parametrize("block", [b for b in RUNNABLE if b.lang in {"json", "toml"}], ids=str)
def test_data_blocks_parse(block: Block) -> None:
    if block.lang == "toml":
        tomllib.loads(block.text)
        return
    document = json.loads(block.text)
    if isinstance(document, dict) and "routes" in document:
        result = compile_table("docs", block.text)
        assert result.ok, [e.format(str(block)) for e in result.errors]


@pytest.mark.parametrize(
    "block", [b for b in RUNNABLE if b.lang == "python" and not b.file], ids=str
)
def test_python_blocks_run(block: Block, tmp_path: Path) -> None:
    script = tmp_path / "block.py"
    script.write_text(block.text)
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLUGHOST_")}
    env["PATH"] = f"{REPO / '.venv' / 'bin'}:{env.get('PATH', '')}"
    env.update(PLUGHOST_DATA_DIR=str(tmp / "var"), PLUGHOST_LOG_LEVEL="WARNING")
    return env


@pytest.mark.parametrize("block", [b for b in RUNNABLE if b.lang == "console"], ids=str)
def test_console_sessions_print_what_they_show(block: Block, tmp_path: Path) -> None:
    shutil.copytree(REPO / "routes.d", tmp_path / "routes.d")
    session: list[tuple[str, list[str]]] = []
    for line in block.text.rstrip("\n").split("\n"):
        if line.startswith("$ "):
            session.append((line[2:], []))
        else:
            session[-1][1].append(line)
    status = 0
    for command, expected in session:
        command = re.sub(r"\s+#.*$", "", command).replace("$?", str(status))
        proc = subprocess.run(
            ["bash", "-c", command + " 2>&1"],
            cwd=tmp_path,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        status = proc.returncode
        printed = proc.stdout.rstrip("\n")
        assert (printed.split("\n") if printed else []) == expected, f"{block}: $ {command}"


def test_plugins_md_worked_example_runs(tmp_path: Path) -> None:
    """The worked example: ≤ 40 lines, migrated with no server, its documented test passes when
    run from inside the plugin's folder, outside this repository (no repo pytest settings)."""
    files = [b for b in RUNNABLE if b.doc.name == "plugins.md" and b.file]
    assert {b.file for b in files} == {
        "plugins/tags/__init__.py",
        "plugins/tags/tests/test_tags.py",
    }
    for needed in ("mifos", "clients"):  # the example's requirement, and the library it needs
        shutil.copytree(REPO / "plugins" / needed, tmp_path / "plugins" / needed)
    for block in files:
        assert block.file is not None
        path = tmp_path / block.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.text)
    plugin = tmp_path / "plugins" / "tags" / "__init__.py"
    assert len(plugin.read_text().rstrip("\n").split("\n")) <= 40
    env = {**_env(tmp_path), "PLUGHOST_PLUGINS_DIR": str(tmp_path / "plugins")}
    made = subprocess.run(
        ["plughost", "makemigrations", "tags"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.count("tags: wrote ") == 2
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=plugin.parent,
        env={k: v for k, v in env.items() if not k.startswith("PLUGHOST_")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout


@pytest.mark.parametrize("block", [b for b in RUNNABLE if b.info == "sh served"], ids=str)
def test_shell_sessions_against_a_server_succeed(block: Block, tmp_path: Path) -> None:
    shutil.copytree(REPO / "routes.d", tmp_path / "routes.d")
    env = {
        **_env(tmp_path),
        "PLUGHOST_DATA_DIR": "var",
        "PLUGHOST_ROUTES_DIR": "routes.d",
        "PLUGHOST_PLUGINS_DIR": str(REPO / "plugins"),
    }
    with subprocess.Popen(
        ["plughost", "serve", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    ) as server:
        assert server.stderr is not None
        try:
            for line in server.stderr:
                if "serving on" in line:
                    break
            else:
                pytest.fail(f"the server exited ({server.wait()}) without serving")
            base = line.split("serving on http://", 1)[1].split()[0]
            script = "\n".join(
                line for line in block.text.split("\n") if not line.startswith("make run")
            ).replace("localhost:8080", base)
            proc = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", script],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
        finally:
            server.terminate()
            server.communicate(timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() and "/problems/" not in proc.stdout, proc.stdout
