"""A --scheduler that cannot be reached or is no dask scheduler (issue 23): one line, in
bounded time."""

from __future__ import annotations

import socket
import threading
import time

import dask
import pytest

from irrigation.errors import InputError
from irrigation.scenario import run as scenario_run


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(scenario_run, "SCHEDULER_TIMEOUT_S", 2.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _garbage_server() -> int:
    """A TCP service that answers every connection with bytes dask cannot read."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def serve():
        while True:
            conn, _ = srv.accept()
            conn.sendall(b"\xff" * 64 + b"HTTP/1.1 400 Bad Request\r\n\r\n")
            time.sleep(0.5)
            conn.close()
    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1]


@pytest.mark.parametrize("address", [
    lambda: f"tcp://127.0.0.1:{_free_port()}",  # nothing listening
    lambda: f"tcp://127.0.0.1:{_garbage_server()}",  # not a dask scheduler
    lambda: "not an address",
])
def test_an_unreachable_scheduler_is_one_line_in_bounded_time(quick, address):
    t0 = time.monotonic()
    with pytest.raises(InputError) as err:
        scenario_run.connect_scheduler(address())
    assert time.monotonic() - t0 < 20
    msg = str(err.value)
    assert "'--scheduler'" in msg and "\n" not in msg
    assert dask.config.get("scheduler", None) is None  # nothing left for later computations


def test_a_scheduler_without_workers_is_one_line(quick):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        with pytest.raises(InputError, match="has no worker"):
            scenario_run.connect_scheduler(cluster.scheduler_address)
    assert dask.config.get("scheduler", None) is None
