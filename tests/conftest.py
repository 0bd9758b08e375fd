"""Shared fixtures: a real Mosquitto per test and recording MQTT clients."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from antrian.broker import LocalBroker
from antrian.mqtt import parse_address
from helpers import Recorder


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A started broker on a free loopback port, stopped after the test.

    Its data dir (config, log, persistence) is under tmp_path, so pytest keeps
    the broker log of a failed test for a look afterwards.
    """
    local = LocalBroker(data_dir=tmp_path / "broker")
    try:
        local.start()
        yield local
    finally:
        local.stop()


@pytest.fixture
def mqtt_client(broker: LocalBroker) -> Iterator[Callable[..., Recorder]]:
    """Factory: ``mqtt_client(client_id=None, topics=("#",), address=None, **make_client_options)``
    returns a connected, subscribed :class:`Recorder` (on the ``broker`` fixture
    unless *address* is given); all are closed after the test."""
    made: list[Recorder] = []
    numbers = itertools.count(1)

    def make(client_id: str | None = None, *, topics: Any = ("#",), address: str | None = None, **options: Any) -> Recorder:
        recorder = Recorder(client_id or f"test-client-{next(numbers)}", topics=topics, **options)
        made.append(recorder)
        host, port = parse_address(address) if address else (broker.host, broker.port)
        return recorder.start(host, port)

    try:
        yield make
    finally:
        for recorder in made:
            recorder.close()
