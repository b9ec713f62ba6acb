"""The local cloud answers an invocation when its worker says it is done, not 50 ms after a silent one.

ministack 1.5.33 collects an invocation's log by waiting, after the answer, until no stderr line has come
for 5 ms, or for 50 ms when none came at all: every invocation of a function that logs nothing (the
stack's default level, WARNING) held its worker 50 ms longer than it ran. The launcher's mend has the
worker write a mark after each invocation's output, and the log is everything before the mark.
"""

from __future__ import annotations

import json
import queue
import subprocess
import time
from pathlib import Path

from tools.dev.localcloud_server import END_OF_INVOCATION, invocation_log, worker_script_marking_the_end

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venvs" / "ministack" / "bin" / "python"


def lines(*items: str) -> queue.Queue[str]:
    q: queue.Queue[str] = queue.Queue()
    for item in items:
        q.put(item)
    return q


def test_the_log_is_every_line_before_the_mark_and_the_lines_after_it_wait_for_the_next_invocation() -> None:
    q = lines("first", "second", END_OF_INVOCATION, "next")
    assert invocation_log(q, hard_cap=5.0) == "first\nsecond"
    assert q.get_nowait() == "next"


def test_a_silent_invocation_is_done_at_its_mark_without_waiting() -> None:
    started = time.monotonic()
    assert invocation_log(lines(END_OF_INVOCATION), hard_cap=30.0) == ""
    assert time.monotonic() - started < 5.0  # the cap is 30 s: only the mark can have ended it


def test_a_last_line_without_a_newline_is_kept_and_ends_at_the_mark() -> None:
    assert invocation_log(lines("a", "unterminated" + END_OF_INVOCATION), hard_cap=30.0) == "a\nunterminated"


def test_a_worker_that_dies_before_its_mark_gives_what_it_wrote_after_the_cap() -> None:
    assert invocation_log(lines("last words"), hard_cap=0.05) == "last words"


def test_the_mark_goes_after_the_answer_is_written_and_before_it_is_sent() -> None:
    script = 'def run():\n    if x:\n        _real_stdout.write("answer")\n        _real_stdout.flush()\n\nrun()\n'
    marked = worker_script_marking_the_end(script)
    assert marked.index('_real_stdout.write("answer")') < marked.index("sys.__stderr__.write") < marked.index("flush()")


DRIVER = r"""
import io, json, sys, zipfile
from tools.dev.localcloud_server import mend_log_drain
mend_log_drain()
from ministack.core.lambda_runtime import Worker

HANDLER = '''
import sys
def handler(event, context):
    if event == "loud":
        print("first")
        print("second")
    elif event == "unterminated":
        sys.stdout.write("no newline")
    return event
'''
package = io.BytesIO()
with zipfile.ZipFile(package, "w") as z:
    z.writestr("handler.py", HANDLER)
config = {
    "Runtime": "python3.13",
    "Handler": "handler.handler",
    "Timeout": 10,
    "FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:drain-probe",
}
worker = Worker("drain-probe", config, package.getvalue())
try:
    logs = []
    for n, event in enumerate(["loud", "quiet", "unterminated", "loud"]):
        answer = worker.invoke(event, f"request-{n}")
        logs.append({"result": answer.get("result"), "log": answer.get("log")})
    print(json.dumps(logs))
finally:
    worker.kill()
"""


def test_a_real_worker_gives_each_invocation_exactly_its_own_lines() -> None:
    command = [str(PYTHON), "-c", DRIVER]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    logs = json.loads(run.stdout.strip().splitlines()[-1])
    assert [entry["result"] for entry in logs] == ["loud", "quiet", "unterminated", "loud"]
    assert [entry["log"] for entry in logs] == ["first\nsecond", "", "no newline", "first\nsecond"]
