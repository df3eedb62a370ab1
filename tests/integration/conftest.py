"""Fixtures for integration tests: the test app served by real ASGI servers on 127.0.0.1.

- ``server`` (module scope, parametrised over :data:`servers.SERVER_KINDS`): ``serverapp:app``
  running under uvicorn, hypercorn (asyncio worker) and hypercorn (trio worker); each test module
  gets one process per server kind, stopped when the module is done, also after a failure.
- ``server_kind``: the same parametrisation without a running server, for tests that start
  their own process (``servers.ServerProcess``) to watch it start or stop.
- ``client``: an ``httpx.Client`` aimed at ``server``.

When a test that uses ``server`` fails, what the server printed during that test is added to the
report (section "server output").
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import httpx
import pytest

from .servers import SERVER_KINDS, ServerProcess

APP = "serverapp:app"


@pytest.fixture(scope="module", params=SERVER_KINDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    kind: str = request.param
    log_path = tmp_path_factory.mktemp(kind) / "server.log"
    with ServerProcess.start(kind, APP, log_path=log_path, ready_path="/health") as process:
        yield process


@pytest.fixture(params=SERVER_KINDS)
def server_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0) as http_client:
        yield http_client


@pytest.fixture(autouse=True)
def _server_log_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """Remember where the server log stood, so a failure report can show what came after."""
    if "server" not in request.fixturenames:
        yield
        return
    server: ServerProcess = request.getfixturevalue("server")
    request.node.server_log_start = (server, server.output_size())
    yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    start = getattr(item, "server_log_start", None)
    if start is not None and report.failed:
        server, offset = start
        report.sections.append((f"server output ({server.kind})", server.output_since(offset)))
    return report
