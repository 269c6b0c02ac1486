"""`truceline serve` for real: a uvicorn process on loopback, tokens issued by the CLI, HTTP from outside."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import typer
from typer.testing import CliRunner

from tests.conftest import observation_dict
from truceline.cli import serve_cmd

LAUNCH = (
    "import typer; from truceline.cli.serve_cmd import serve; "
    "app = typer.Typer(); app.command()(serve); app.command('x')(lambda: None); app()"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def issue(tokens: Path, participant: str, *roles: str) -> str:
    app = typer.Typer()
    app.add_typer(serve_cmd.token_app, name="token")
    args = ["token", "issue", participant, "--subject", "ops", "--tokens", str(tokens)]
    for role in roles:
        args += ["--role", role]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_serve_stores_posted_reports_in_the_sqlite_file_and_serves_them_by_markings(tmp_path: Path) -> None:
    tokens, audit, db = tmp_path / "tokens.sqlite", tmp_path / "audit.sqlite", tmp_path / "t.db"
    usa = issue(tokens, "USA", "analyst")
    fra = issue(tokens, "FRA", "observer")
    port = free_port()
    args = ["--database", str(db), "--port", str(port), "--tokens", str(tokens), "--audit", str(audit)]
    env = {**os.environ, "TRUCELINE_LEDGER_KEY": str(tmp_path / "ledger.key")}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", LAUNCH, "serve", *args], env=env, stdout=out, stderr=out)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.2)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
        body = "\n".join(json.dumps(observation_dict(i, time=now)) for i in range(3))
        posted = httpx.post(
            f"{base}/v1/observations",
            content=body,
            headers={"Authorization": f"Bearer {usa}", "content-type": "application/x-ndjson"},
            timeout=30,
        )
        assert posted.json()["stored"] == 3, posted.text
        assert httpx.get(f"{base}/v1/observations", headers={"Authorization": f"Bearer {fra}"}).json()["items"] == []
        mine = httpx.get(f"{base}/v1/observations", headers={"Authorization": f"Bearer {usa}"}).json()["items"]
        assert len(mine) == 3
        assert httpx.get(f"{base}/v1/observations", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert "/v1/incidents" in httpx.get(f"{base}/openapi.json").json()["paths"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert db.exists() and audit.exists()
