"""tools/dev/quiet, the wrapper of `make build`/`make deploy`: one line on success, everything on failure, and
what to do when the local cloud cannot update a stack in place."""

from __future__ import annotations

import subprocess
from pathlib import Path

QUIET = Path(__file__).resolve().parents[2] / "tools" / "dev" / "quiet"


def _quiet(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(QUIET), "step", "bash", "-c", script], capture_output=True, text=True, check=False)


def test_a_success_is_one_line() -> None:
    run = _quiet("echo chatter; echo more chatter")
    assert run.returncode == 0
    assert run.stdout.startswith("step: ok (") and run.stdout.count("\n") == 1
    assert run.stderr == ""


def test_a_failure_shows_its_output_and_its_status() -> None:
    run = _quiet("echo what went wrong; exit 3")
    assert run.returncode == 3
    assert "what went wrong" in run.stderr
    assert "error: step failed with exit status 3" in run.stderr
    assert "hint:" not in run.stderr


def test_a_stack_the_local_cloud_cannot_update_gets_the_way_out() -> None:
    run = _quiet("echo 'Requested attribute QueueName does not exist in schema for AWS::SQS::Queue'; exit 1")
    assert run.returncode == 1
    assert "hint: the local cloud cannot update this stack in place" in run.stderr
    assert "`make reset`" in run.stderr
