"""The lifespan under real servers: shutdown on SIGTERM, and a startup that fails.

Each test starts its own server process (``server_kind`` fixture), since it ends it.
"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from .conftest import APP
from .serverapp import FAIL_STARTUP_ENV, SHUTDOWN_MARKER_ENV
from .servers import STARTUP_TIMEOUT, ServerProcess

EXIT_TIMEOUT = 15.0

# uvicorn shuts down gracefully on SIGTERM and then re-raises the signal, so that its parent sees
# "killed by SIGTERM"; hypercorn's parent process exits with 0.
CLEAN_EXIT_CODES = {
    "uvicorn": -signal.SIGTERM,
    "hypercorn-asyncio": 0,
    "hypercorn-trio": 0,
}
SHUTDOWN_LOG = {
    "uvicorn": ["Application shutdown complete.", "Finished server process"],
    "hypercorn-asyncio": [],
    "hypercorn-trio": [],
}


def test_sigterm_runs_lifespan_shutdown(server_kind: str, tmp_path: Path) -> None:
    marker = tmp_path / "shutdown-ran"
    with ServerProcess.start(
        server_kind,
        APP,
        log_path=tmp_path / "server.log",
        env={SHUTDOWN_MARKER_ENV: str(marker)},
        ready_path="/health",
    ) as server:
        response = httpx.get(f"{server.url}/state", timeout=5.0)
        assert response.status_code == 200
        assert not marker.exists()

        server.terminate()
        code = server.wait_exit(EXIT_TIMEOUT)
        output = server.output()
        assert code is not None, f"{server_kind} still running {EXIT_TIMEOUT}s after SIGTERM"
        assert code == CLEAN_EXIT_CODES[server_kind], output
        assert marker.exists(), f"lifespan shutdown did not run:\n{output}"
        assert marker.read_text().startswith("shutdown ran in ")
        assert "Traceback" not in output
        for line in SHUTDOWN_LOG[server_kind]:
            assert line in output


def start_failing(kind: str, tmp_path: Path, extra_args: tuple[str, ...] = ()) -> ServerProcess:
    """A server whose app's lifespan startup raises RuntimeError(STARTUP_ERROR)."""
    return ServerProcess(
        kind,
        APP,
        log_path=tmp_path / "server.log",
        env={FAIL_STARTUP_ENV: STARTUP_ERROR},
        extra_args=extra_args,
    )


STARTUP_ERROR = "database unreachable (deliberate startup failure)"


def test_startup_failure_under_uvicorn(tmp_path: Path) -> None:
    with start_failing("uvicorn", tmp_path) as server:
        code = server.wait_exit(STARTUP_TIMEOUT)
        output = server.output()
        assert code == 3, output  # uvicorn's exit code for a failed startup
        assert "Application startup failed. Exiting." in output
        assert f"RuntimeError: {STARTUP_ERROR}" in output
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/health", timeout=2.0)


@pytest.mark.parametrize("kind", ["hypercorn-asyncio", "hypercorn-trio"])
def test_startup_failure_under_hypercorn_in_process(kind: str, tmp_path: Path) -> None:
    # Without worker processes (--workers 0) the failure ends hypercorn's own process.
    with start_failing(kind, tmp_path, extra_args=("--workers", "0")) as server:
        code = server.wait_exit(STARTUP_TIMEOUT)
        output = server.output()
        assert code == 1, output
        assert "Lifespan failure in startup" in output
        assert f"RuntimeError: {STARTUP_ERROR}" in output
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/health", timeout=2.0)


@pytest.mark.parametrize("kind", ["hypercorn-asyncio", "hypercorn-trio"])
def test_startup_failure_under_hypercorn_with_a_worker(kind: str, tmp_path: Path) -> None:
    # With a worker process, the worker dies with the error and hypercorn's parent exits too.
    # Its exit code is not checked: hypercorn 0.18 reports 0 there (its run() asks an emptied
    # list of workers for their exit codes a second time), a bug of the server, not of the app.
    with start_failing(kind, tmp_path) as server:
        code = server.wait_exit(STARTUP_TIMEOUT)
        output = server.output()
        assert code is not None, f"{kind} kept running after a failed startup:\n{output}"
        assert "Lifespan failure in startup" in output
        assert f"RuntimeError: {STARTUP_ERROR}" in output
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/health", timeout=2.0)
