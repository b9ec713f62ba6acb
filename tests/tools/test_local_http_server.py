"""The local cloud is served by uvicorn (httptools, uvloop), and answers on the wire as ministack's hypercorn did.

ministack's own command serves its ASGI application with hypercorn, whose HTTP/1.1 (h11) is parsed in
Python in the one process that emulates every service; the launcher serves the same application with
uvicorn, about half the CPU a request (tools/dev/localcloud_server.py). These tests start the real local
cloud both ways, through `tools.dev.localcloud.start` as every command does, and hold what a client reads
to be the same: the status line's reason, header names spelt as the application gave them, one `Date`
and no `Server` header, a kept-alive connection, an AWS call through botocore, and a body sent after
`Expect: 100-continue`.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tools.dev import localcloud


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _loaded_libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


@pytest.fixture(params=["uvicorn", "hypercorn"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, int, int]]:
    """(server, port, pid) of a local cloud started with LOCAL_HTTP_SERVER unset (uvicorn) or hypercorn."""
    server = str(request.param)
    port = _free_port()
    extra = {"LOCAL_HTTP_SERVER": "hypercorn"} if server == "hypercorn" else {}
    started = localcloud.start(port, extra)
    try:
        assert "started" in started, started
        pid = int((localcloud.state_dir(port) / "ministack.pid").read_text())
        yield server, port, pid
    finally:
        localcloud.stop(port)


def test_the_default_server_is_uvicorn_and_hypercorn_stays_on_request(served: tuple[str, int, int]) -> None:
    server, _, pid = served
    libraries = _loaded_libraries(pid)
    assert ("httptools" in libraries and "uvloop" in libraries) is (server == "uvicorn")


def test_a_client_reads_the_same_answer_from_either_server(served: tuple[str, int, int]) -> None:
    _, port, _ = served
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for _ in range(2):  # the second on the same connection: kept alive
            connection.request("GET", "/_ministack/health")
            response = connection.getresponse()
            response.read()
            assert (response.status, response.reason) == (200, "OK")
            spelt = [name for name, _ in response.getheaders()]
            assert "Content-Type" in spelt  # as the application spelt it, as AWS sends it
            names = [name.lower() for name in spelt]
            assert names.count("date") == 1
            assert "server" not in names
        assert connection.sock is not None  # not closed by the server between the two
    finally:
        connection.close()


def test_an_aws_call_and_a_body_after_expect_100_continue_are_served(served: tuple[str, int, int]) -> None:
    _, port, _ = served
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    sqs = session.client("sqs", endpoint_url=localcloud.endpoint(port))
    queue_url = sqs.create_queue(QueueName="wire-check")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="sent")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue_url).get("Messages", [])] == ["sent"]

    s3 = session.client("s3", endpoint_url=localcloud.endpoint(port))
    s3.create_bucket(Bucket="wire-check")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = b"x" * 70_000
        connection.putrequest("PUT", "/wire-check/object")
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("Expect", "100-continue")
        connection.endheaders()
        connection.send(body)
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    finally:
        connection.close()
    assert s3.get_object(Bucket="wire-check", Key="object")["Body"].read() == body
