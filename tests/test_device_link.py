"""The core's device link (antrian/adapters/link.py) on a real Mosquitto: a device's
retained status, its problems, saying offline on a clean close, and following the
dispatcher's retained status -- what the kiosk, the board and the panel are built on."""

from __future__ import annotations

import threading

import pytest

from antrian import protocol
from antrian.adapters.link import NOTICES, DeviceLink, DispatcherView, DispatcherWatch
from antrian.site import load

SITE = "buton"
STATUS = protocol.status(SITE, "board1")
DISPATCHER = protocol.status(SITE, "dispatcher")


def dispatcher_status(online=True, problems=()):
    if not online:
        return protocol.device_will("dispatcher", "dispatcher")
    return protocol.device_status("dispatcher", "dispatcher", True, list(problems), "test", "2026-11-23T09:00:00+08:00")


@pytest.fixture
def link(site_file, broker):
    made = []

    def make(**options) -> DeviceLink:
        made.append(DeviceLink(load(site_file), "board1", "display", **options))
        made[-1].start(broker.host, broker.port)
        assert made[-1].connection.wait_connected(5)
        return made[-1]

    yield make
    for one in made:
        one.close()


def test_status_on_connect_on_every_change_and_offline_on_a_clean_close(link, mqtt_client):
    watcher = mqtt_client(topics=[STATUS])
    board = link()
    first = watcher.wait_for(STATUS, lambda m: m.json().get("online") is True).json()
    assert first["device"] == "board1" and first["role"] == "display" and first["problems"] == []
    assert set(first) == {"device", "role", "online", "problems", "version", "at"}

    board.set_problem("audio_error")
    board.set_problem("audio_error")  # no change, no message
    board.set_problems(["audio_error", "speech_error"])
    board.set_problem("audio_error", False)
    watcher.wait_for(STATUS, lambda m: m.json().get("problems") == ["speech_error"])
    problems = [m.json()["problems"] for m in watcher.messages if m.topic == STATUS]
    assert problems == [[], ["audio_error"], ["audio_error", "speech_error"], ["speech_error"]]

    board.close()
    last = watcher.wait_for(STATUS, lambda m: m.json().get("online") is False).json()
    assert last == {"device": "board1", "role": "display", "online": False}
    # Retained: a monitor that starts now still sees it offline.
    late = mqtt_client(topics=[STATUS])
    assert late.wait_for(STATUS).json() == last


def test_a_retained_dispatcher_status_is_followed_in_words(link, mqtt_client):
    publisher = mqtt_client(topics=[])
    publisher.publish_json(DISPATCHER, dispatcher_status(problems=["clock_behind"]), retain=True).wait_for_publish(5)
    seen: list[DispatcherView] = []
    changed = threading.Event()

    def on_dispatcher(view):
        seen.append(view)
        changed.set()

    board = link(on_dispatcher=on_dispatcher)
    assert changed.wait(5), "the retained status reached the device"
    assert board.dispatcher == DispatcherView(True, ("clock_behind",))
    assert board.dispatcher.notice == NOTICES["clock_behind"] == "Jam server tertinggal — hubungi teknisi"

    for payload, online, notice in [(dispatcher_status(problems=["database_error"]), True, ""),
                                    (dispatcher_status(online=False), False, ""),
                                    (dispatcher_status(problems=["rate_limited:kiosk/kiosk1", "clock_behind"]),
                                     True, NOTICES["clock_behind"]),
                                    (dispatcher_status(), True, "")]:
        changed.clear()
        publisher.publish_json(DISPATCHER, payload, retain=True)
        assert changed.wait(5)
        assert (board.dispatcher.online, board.dispatcher.notice) == (online, notice)

    # Junk and an emptied retained topic change nothing.
    count = len(seen)
    changed.clear()
    publisher.client.publish(DISPATCHER, b"not json", qos=1).wait_for_publish(5)
    publisher.client.publish(DISPATCHER, b"", qos=1, retain=True).wait_for_publish(5)
    publisher.publish_json(DISPATCHER, dispatcher_status(problems=["clock_behind"])).wait_for_publish(5)
    assert changed.wait(5)
    assert len(seen) == count + 1 and board.dispatcher.notice == NOTICES["clock_behind"]


def test_the_view_of_several_dispatchers():
    watch = DispatcherWatch(["server1", "server2"])
    assert watch.view == DispatcherView(None, ()) and watch.view.notice == ""
    assert watch.update("server1", {"online": True, "problems": ["clock_behind"]}).notice == NOTICES["clock_behind"]
    # One that says it is offline makes the view offline; its stale problems do not count.
    view = watch.update("server2", {"online": False, "problems": ["database_error"]})
    assert view == DispatcherView(False, ("clock_behind",))
    assert watch.update("server2", {"online": True, "problems": ["clock_behind", 7]}).problems == ("clock_behind",)
    assert watch.update("server1", {"problems": "clock_behind"}) == DispatcherView(True, ("clock_behind",))
    assert DispatcherView(True, ("x",)).as_dict() == {"online": True, "problems": ["x"], "notice": ""}
