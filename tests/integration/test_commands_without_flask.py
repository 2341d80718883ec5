"""The worker and every `inventory` command but `serve` run on a machine where Flask cannot be imported:
they build their services from `inventory.bootstrap`, never through the web app.

Each command runs in its own Python process in which importing flask, werkzeug, any flask_ extension
or `inventory.web` raises ImportError, so a command that reaches for them fails here with a traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import openpyxl

from inventory.application import InventoryApplication
from tests.conftest import seed_catalog

# Runs one `inventory` command with the web stack made unimportable, then checks none of it was loaded.
RUNNER = """
import importlib.abc, sys

BLOCKED = ("flask", "werkzeug", "inventory.web")

class NoWeb(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.startswith("flask_") or any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"{name} is made unimportable by this test")
        return None

sys.meta_path.insert(0, NoWeb())
from inventory.cli import main
try:
    main(sys.argv[1:], prog_name="inventory")
except SystemExit as leaving:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("flask", "werkzeug") or m.startswith("inventory.web"))
    assert not loaded, f"loaded: {loaded}"
    raise
"""


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env.update(
        INVENTORY_ENV="development",
        INVENTORY_DATABASE_URL=f"sqlite:///{tmp_path / 'inventory.db'}",
        INVENTORY_INSTANCE_PATH=str(tmp_path / "instance"),
        INVENTORY_SECRET_KEY="tests-secret-key-not-for-production",
        INVENTORY_SEAL_KEY="tests-seal-key-not-for-production",
    )
    return env


def inventory(tmp_path: Path, *args: str, stdin: str | None = None) -> str:
    """Run `inventory ARGS` with the web stack unimportable; the command's output (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *args],
        env=environment(tmp_path),
        cwd=tmp_path,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"inventory {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def test_every_command_but_serve_runs_without_flask(tmp_path: Path) -> None:
    today = date.today()
    assert "the log holds 0 events" in inventory(tmp_path, "init")
    assert "Demo sign-in" in inventory(tmp_path, "demo", "--days", "2")
    assert "INVENTORY_SECRET_KEY" in inventory(tmp_path, "keys")

    assert "stock_on_hand" in inventory(tmp_path, "projections", "status")
    inventory(tmp_path, "projections", "rebuild")
    assert "OK: the log verifies" in inventory(tmp_path, "audit", "verify")
    inventory(tmp_path, "audit", "replay", "--as-of", today.isoformat(), "-o", str(tmp_path / "stock.csv"))
    assert (tmp_path / "stock.csv").read_text().startswith("site,sku,lot,expires_on,funding_source,quantity\n")

    period = ("--from", (today - timedelta(days=7)).isoformat(), "--to", today.isoformat())
    for report, args in (("grant-report", period), ("stock-report", ()), ("distribution-log", period)):
        target = tmp_path / f"{report}.xlsx"
        inventory(tmp_path, "export", report, *args, "-o", str(target))
        assert openpyxl.load_workbook(target, read_only=True).sheetnames

    created = inventory(
        tmp_path, "users", "create", "buyer@example.org", "--role", "purchasing", "--password", "a long pass phrase"
    )
    assert "Created buyer@example.org (purchasing)" in created
    token = inventory(tmp_path, "users", "token", "buyer@example.org").strip().splitlines()[-1]
    token_id = token.split("_")[2]
    assert f"Revoked API token {token_id}" in inventory(tmp_path, "users", "revoke-token", token_id)
    assert "Backed up sqlite" in inventory(tmp_path, "backup", str(tmp_path / "backup"))

    # The import template's example rows go into a program of their own (the demo's differ from them).
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    inventory(fresh, "init")
    inventory(fresh, "import-template", "-o", str(fresh / "template.xlsx"))
    assert "Imported" in inventory(fresh, "import", str(fresh / "template.xlsx"))
    restored = tmp_path / "restored"
    restored.mkdir()
    assert "Restored" in inventory(restored, "restore", str(tmp_path / "backup"))


def caught_up(status: str) -> bool:
    """Whether `projections status` shows every read model at a head past 0 and 0 behind."""
    rows = [line.split() for line in status.splitlines()[1:] if line.strip()]
    return bool(rows) and all(row[2] != "0" and row[3] == "0" for row in rows)


def test_the_worker_runs_without_flask(tmp_path: Path) -> None:
    inventory(tmp_path, "init")
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-c", RUNNER, "worker", "--interval", "0.2"],
            env=environment(tmp_path),
            cwd=tmp_path,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 60
        while "Worker running" not in log.read_text():
            assert worker.poll() is None, f"the worker exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"the worker did not start within a minute:\n{log.read_text()}"
            time.sleep(0.1)
        # Events written straight to the log (no read model touched) are projected by the worker alone.
        app = InventoryApplication(environment(tmp_path)["INVENTORY_DATABASE_URL"])
        try:
            seed_catalog(app)
        finally:
            app.close()
        deadline = time.monotonic() + 60
        while not caught_up(status := inventory(tmp_path, "projections", "status")):
            assert time.monotonic() < deadline, f"the worker did not catch up within a minute:\n{status}"
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert worker.returncode == 0, log.read_text()
    assert "made unimportable" not in log.read_text()


def test_serve_is_the_one_command_that_needs_flask(tmp_path: Path) -> None:
    """The blocker is real: `serve` imports Flask, and under the blocker it cannot start."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, "serve", "--port", "0"],
        env=environment(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "is made unimportable by this test" in done.stderr
