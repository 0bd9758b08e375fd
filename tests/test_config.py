"""Tests for antrian.site: the example site file loads into frozen objects, and every
kind of mistake a technician can make is reported with its path, all at once."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from antrian import site as config
from antrian.site import ConfigError
from antrian.site.sections import SERVICE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "buton.yaml"
SOURCE = "buton.yaml"


@pytest.fixture(scope="module")
def cfg() -> config.Config:
    return config.load(EXAMPLE)


@pytest.fixture(scope="module")
def raw_example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def raw(raw_example) -> dict:
    return copy.deepcopy(raw_example)


def problems_of(raw: dict) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        config.build(raw, SOURCE)
    assert info.value.source == SOURCE
    return info.value.problems


# --- the example loads ----------------------------------------------------------


def test_example_loads_from_its_path(cfg):
    assert cfg.source == str(EXAMPLE)
    assert cfg.site.id == "buton"
    assert cfg.site.name == "Mal Pelayanan Publik Kabupaten Buton"
    assert cfg.site.address == ("Gedung D Lt. I, Kompleks Perkantoran Pemkab Buton, Takawa, Pasarwajo, "
                                "Kabupaten Buton, Sulawesi Tenggara")


def test_example_builds_from_its_dict_too(raw):
    built = config.build(raw, SOURCE)
    assert built.source == SOURCE
    assert list(built.services) == list(config.load(EXAMPLE).services)


def test_time_zone_is_wita(cfg):
    assert cfg.site.timezone == "Asia/Makassar"
    assert cfg.tz == ZoneInfo("Asia/Makassar")
    assert dt.datetime(2026, 11, 22, 9, 15, tzinfo=cfg.tz).utcoffset() == dt.timedelta(hours=8)


def test_running_text_is_indonesian_with_kbbi_spelling(cfg):
    text = cfg.site.running_text
    assert "antrean" in text and "ilakan" in text
    assert not re.search(r"antrian|silahkan", text, re.IGNORECASE)


@pytest.mark.parametrize("get", [
    lambda c: c,
    lambda c: c.site,
    lambda c: c.broker,
    lambda c: c.queue,
    lambda c: c.announcement,
    lambda c: c.priority_groups[0],
    lambda c: c.schedules["reguler"],
    lambda c: c.holidays[dt.date(2026, 8, 17)],
    lambda c: c.agencies[0],
    lambda c: c.services["KTP"],
    lambda c: c.counters["loket6"],
    lambda c: c.devices["kiosk1"],
], ids=["config", "site", "broker", "queue", "announcement", "priority_group", "schedule", "holiday",
        "agency", "service", "counter", "device"])
def test_objects_are_frozen(cfg, get):
    obj = get(cfg)
    for field in dataclasses.fields(obj):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field.name, None)


@pytest.mark.parametrize("get, key", [
    (lambda c: c.schedules, "reguler"),
    (lambda c: c.holidays, dt.date(2026, 1, 1)),
    (lambda c: c.services, "KTP"),
    (lambda c: c.counters, "loket1"),
    (lambda c: c.devices, "kiosk1"),
    (lambda c: c.devices["kiosk1"].options, "printer"),
], ids=["schedules", "holidays", "services", "counters", "devices", "device_options"])
def test_mappings_are_read_only(cfg, get, key):
    mapping = get(cfg)
    with pytest.raises(TypeError):
        mapping[key] = None
    with pytest.raises(TypeError):
        del mapping[key]
    with pytest.raises(TypeError):
        mapping["new"] = None
    assert key in mapping


def test_sequences_are_tuples(cfg):
    assert isinstance(cfg.agencies, tuple)
    assert isinstance(cfg.priority_groups, tuple)
    assert all(isinstance(a.services, tuple) for a in cfg.agencies)
    assert all(isinstance(c.services, tuple) for c in cfg.counters.values())
    assert all(isinstance(s.requirements, tuple) for s in cfg.services.values())
    assert all(isinstance(day, tuple) for s in cfg.schedules.values() for day in s.days)


def test_four_agencies_and_their_services(cfg):
    assert {a.id: a.services for a in cfg.agencies} == {
        "disdukcapil": ("KTP", "KK", "AKTA", "PINDAH", "KIA"),
        "bank_sultra": ("TAB", "BAYAR"),
        "bapenda": ("PBB", "BPHTB"),
        "dpmptsp": ("NIB", "PBG", "IZIN"),
    }
    assert cfg.agency("bapenda").name == "Badan Pendapatan Daerah"
    assert cfg.agency("dpmptsp").short_name == "DPMPTSP"
    for agency in cfg.agencies:
        assert all(cfg.services[code].agency == agency.id for code in agency.services)


def test_prefixes_and_codes_are_unique(cfg):
    prefixes = [s.prefix for s in cfg.services.values()]
    assert len(prefixes) == len(set(prefixes)) == len(cfg.services) == 12
    assert all(s.code == code for code, s in cfg.services.items())
    # I and O are kept off the board: they read as 1 and 0.
    assert not {"I", "O"} & set(prefixes)


def test_a_counter_serves_three_services_of_one_agency(cfg):
    three = [c for c in cfg.counters.values() if len(c.services) == 3]
    assert [c.id for c in three] == ["loket6"]
    loket6 = three[0]
    assert loket6.name == "Loket 6"
    assert loket6.services == ("NIB", "PBG", "IZIN")
    assert {cfg.services[code].agency for code in loket6.services} == {loket6.agency} == {"dpmptsp"}


def test_counters(cfg):
    assert list(cfg.counters) == [f"loket{n}" for n in range(1, 9)] + ["daring1"]
    assert [c.name for c in cfg.counters.values()] == [f"Loket {n}" for n in range(1, 9)] + ["Daring 1"]
    disdukcapil = [c for c in cfg.counters.values() if c.agency == "disdukcapil"]
    assert len(disdukcapil) == 4 and all(len(c.services) >= 2 for c in disdukcapil)
    served = {code for c in cfg.counters.values() for code in c.services}
    assert served == set(cfg.services)
    assert cfg.counters["loket8"].open_at_start is False
    assert cfg.counters["loket1"].open_at_start is True
    # DPMPTSP relays another office's service by video call (issue 14, item 7).
    daring = cfg.counters["daring1"]
    assert (daring.remote, daring.location, daring.meeting_url) == (
        True, "Bilik Layanan Daring", "https://meet.butonkab.go.id/dpmptsp-izin")
    assert not any(c.remote or c.location or c.meeting_url for c in cfg.counters.values() if c.id != "daring1")


def test_published_service_standard(cfg):
    ktp = cfg.services["KTP"]
    assert (ktp.prefix, ktp.quota, ktp.schedule, ktp.completion) == ("A", 60, "reguler", "Selesai di tempat")
    assert ktp.target_wait_min == 30 and ktp.service_min == 8.0
    assert "Fotokopi Kartu Keluarga (KK)" in ktp.requirements
    # Adminduk is free by law.
    assert {cfg.services[c].fee for c in cfg.agency("disdukcapil").services} == {"Gratis"}
    assert cfg.services["BPHTB"].fee == "Sesuai ketetapan"
    assert cfg.services["PBB"].completion == "3 hari kerja"
    assert "Fotokopi SPPT PBB tahun terakhir" in cfg.services["PBB"].requirements
    assert any("pengantar RT/RW" in r for r in cfg.services["KK"].requirements)
    for svc in cfg.services.values():
        assert svc.requirements and svc.completion and svc.fee
        assert svc.quota is not None and svc.quota >= 1


def test_schedules(cfg):
    reguler = cfg.schedules["reguler"]
    t = dt.time
    assert reguler.spans(dt.date(2026, 11, 23)) == ((t(8), t(12)), (t(13), t(15)))  # Senin
    assert reguler.spans(dt.date(2026, 11, 26)) == ((t(8), t(12)), (t(13), t(15)))  # Kamis
    assert reguler.spans(dt.date(2026, 11, 27)) == ((t(8), t(11, 30)), (t(13, 30), t(15)))  # Jumat
    assert reguler.spans(dt.date(2026, 11, 28)) == ()  # Sabtu
    assert reguler.spans(dt.date(2026, 11, 29)) == ()  # Minggu
    assert cfg.schedules["bank"].spans(dt.date(2026, 11, 23)) == ((t(8), t(14)),)
    assert {s.schedule for s in cfg.services.values() if s.agency == "bank_sultra"} == {"bank"}


def test_fixed_date_holidays(cfg):
    expected = {(m, d) for m, d in [(1, 1), (5, 1), (6, 1), (8, 17), (12, 25)]}
    for year in (2026, 2027):
        assert {(d.month, d.day) for d in cfg.holidays if d.year == year} == expected
    assert cfg.holidays[dt.date(2027, 6, 1)].name == "Hari Lahir Pancasila"
    assert all(h.date == d for d, h in cfg.holidays.items())


def test_priority_groups(cfg):
    assert [(g.id, g.name) for g in cfg.priority_groups] == [
        ("lansia", "Lansia (60 tahun ke atas)"),
        ("disabilitas", "Penyandang disabilitas"),
        ("ibu_hamil", "Ibu hamil"),
        ("anak", "Ibu membawa anak balita"),
    ]


def test_devices(cfg):
    roles = {}
    for dev in cfg.devices.values():
        roles.setdefault(dev.role, []).append(dev.id)
    assert roles == {"dispatcher": ["dispatcher"], "kiosk": ["kiosk1", "kiosk2"],
                     "display": ["board1", "board2", "board3"], "panel": ["panel1", "panel2"], "web": ["web1", "publik1"]}
    assert cfg.device("kiosk1", "kiosk").options["printer"] == {
        "connection": "network", "host": "127.0.0.1", "port": 9100, "profile": "TM-T20II"}
    assert cfg.device("kiosk2").options["printer"]["path"] == "/tmp/antrian-kiosk2.bin"
    with pytest.raises(ConfigError) as info:
        cfg.device("board1", "kiosk")
    assert info.value.problems == [("devices", "no kiosk device 'board1' (known: kiosk1, kiosk2)")]


# BCM numbers on the 40-pin header, without 0/1 (ID EEPROM), 2/3 (I2C) and 14/15 (serial).
FREE_BCM = set(range(4, 28)) - {14, 15}


@pytest.mark.parametrize("panel", ["panel1", "panel2"])
def test_panel_pin_maps(cfg, panel):
    options = cfg.device(panel, "panel").options
    pins = [b["pin"] for b in options["buttons"]] + [led["pin"] for led in options["leds"]]
    assert len(pins) == len(set(pins)), "a pin used twice on one panel"
    assert set(pins) <= FREE_BCM
    counters = {b["counter"] for b in options["buttons"]}
    assert counters == {led["counter"] for led in options["leds"]}
    assert counters <= set(cfg.counters)
    for counter in counters:
        actions = {(b["press"], b.get("hold")) for b in options["buttons"] if b["counter"] == counter}
        expected = {("call_next", "no_show"), ("recall", None)}
        if counter == "loket8":  # it starts the day closed: opened (and, held, closed) from its desk
            expected.add(("open", "close"))
        assert actions == expected


def test_ids_are_lower_case(cfg):
    ids = ([cfg.site.id] + [a.id for a in cfg.agencies] + list(cfg.counters) + list(cfg.devices)
           + [g.id for g in cfg.priority_groups])
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]*", i) for i in ids), ids


# --- broken variants ----------------------------------------------------------------
# Each case changes one thing in the example, addressed with the same path syntax the
# problems use, and lists the exact problems expected.


def _locate(raw: dict, path: str):
    keys = [int(t[1:-1]) if t.startswith("[") else t for t in re.findall(r"\[\d+\]|[^.\[\]]+", path)]
    node = raw
    for key in keys[:-1]:
        node = node[key]
    return node, keys[-1]


def put(path, value):
    def change(raw):
        node, key = _locate(raw, path)
        node[key] = value
    return change


def drop(path):
    def change(raw):
        node, key = _locate(raw, path)
        del node[key]
    return change


def rename(path, new_key):
    def change(raw):
        node, key = _locate(raw, path)
        node[new_key] = node.pop(key)
    return change


def both(*changes):
    def change(raw):
        for c in changes:
            c(raw)
    return change


def add_pbb_twice(raw):
    extra = copy.deepcopy(raw["agencies"][2]["services"][0])
    assert extra["code"] == "PBB"
    extra["prefix"] = "P"
    raw["agencies"][2]["services"].append(extra)


# Every key of a service, as the problem lists them (services grow keys: read them from the schema).
SERVICE_KEYS = ", ".join(sorted(SERVICE.fields))
TOP_KEYS = "agencies, announcement, broker, counters, devices, holidays, limits, priority_groups, queue, schedules, site"
ID_HINT = "lower-case letters, digits, '-' or '_'"

CASES = [
    ("unknown_service_in_counter", put("counters[2].services[0]", "KTX"),
     [("counters[2].services[0]", "unknown service 'KTX'")]),
    ("service_listed_twice_on_counter", put("counters[0].services[1]", "KTP"),
     [("counters[0].services[1]", "service 'KTP' listed twice"),
      ("counters", "no counter serves service 'KIA'")]),
    ("list_instead_of_service_code", put("counters[1].services[1]", ["KK"]),
     [("counters[1].services[1]", "unknown service ['KK']")]),
    ("duplicate_prefix", put("agencies[2].services[1].prefix", "A"),
     [("agencies[2].services[1].prefix", "prefix 'A' is already used by service 'KTP'")]),
    ("lower_case_prefix", put("agencies[0].services[0].prefix", "a"),
     [("agencies[0].services[0].prefix", "'a' is not valid: 1 or 2 capital letters")]),
    ("duplicate_service_code", add_pbb_twice,
     [("agencies[2].services[2].code", "duplicate service code 'PBB'")]),
    ("unknown_schedule", put("agencies[1].services[0].schedule", "malam"),
     [("agencies[1].services[0].schedule", "unknown schedule 'malam' (known: reguler, bank)")]),
    ("span_with_dots", put("schedules.reguler.senin[0]", "08.00-12.00"),
     [("schedules.reguler.senin[0]", "'08.00-12.00' is not a span like '08:00-12:00'")]),
    ("span_not_text", put("schedules.reguler.selasa[1]", 1300),
     [("schedules.reguler.selasa[1]", "1300 is not a span like '08:00-12:00'")]),
    ("hour_out_of_range", put("schedules.bank.kamis[0]", "08:00-25:00"),
     [("schedules.bank.kamis[0]", "'08:00-25:00' is not a valid time of day")]),
    ("minute_out_of_range", put("schedules.bank.senin[0]", "08:60-14:00"),
     [("schedules.bank.senin[0]", "'08:60-14:00' is not a valid time of day")]),
    ("overlapping_spans", put("schedules.reguler.jumat[1]", "11:00-15:00"),
     [("schedules.reguler.jumat[1]", "'11:00-15:00' overlaps or comes before the previous span")]),
    ("end_before_start", put("schedules.reguler.rabu[1]", "15:00-13:00"),
     [("schedules.reguler.rabu[1]", "'15:00-13:00' ends before it starts")]),
    ("misspelt_weekday", rename("schedules.reguler.jumat", "jumaat"),
     [("schedules.reguler.jumaat", "unknown key (allowed: jumat, kamis, minggu, rabu, sabtu, selasa, senin)")]),
    ("unknown_time_zone", put("site.timezone", "Asia/Makasar"),
     [("site.timezone", "unknown time zone 'Asia/Makasar' (e.g. Asia/Jakarta, Asia/Makassar, Asia/Jayapura)")]),
    ("time_zone_abbreviation", put("site.timezone", "WITA"),
     [("site.timezone", "unknown time zone 'WITA' (e.g. Asia/Jakarta, Asia/Makassar, Asia/Jayapura)")]),
    ("misspelt_key_qouta", rename("agencies[0].services[0].quota", "qouta"),
     [("agencies[0].services[0].qouta", f"unknown key (allowed: {SERVICE_KEYS})"),
      # KTP takes bookings (examples/buton.yaml): without its quota, they have no share
      ("agencies[0].services[0].booking", "a service without a quota cannot take bookings: share is a share of the quota")]),
    ("misspelt_top_level_key", rename("counters", "loket"),
     [("loket", f"unknown key (allowed: {TOP_KEYS})"), ("counters", "required")]),
    ("quota_as_text", put("agencies[0].services[0].quota", "banyak"),
     [("agencies[0].services[0].quota", "must be a whole number, not the text 'banyak'")]),
    ("quota_as_fraction", put("agencies[0].services[1].quota", 99.5),
     [("agencies[0].services[1].quota", "must be a whole number, not float 99.5")]),
    ("quota_zero", put("agencies[0].services[0].quota", 0),
     [("agencies[0].services[0].quota", "0 is out of range 1..9999")]),
    ("port_out_of_range", put("broker.port", 70000),
     [("broker.port", "70000 is out of range 1..65535")]),
    ("service_min_out_of_range", put("agencies[3].services[1].service_min", 0),
     [("agencies[3].services[1].service_min", "0 is out of range 0.5..480")]),
    ("max_recalls_out_of_range", put("queue.max_recalls", 50),
     [("queue.max_recalls", "50 is out of range 0..20")]),
    ("flag_as_text", put("counters[7].open_at_start", "tidak"),
     [("counters[7].open_at_start", "must be true or false, not the text 'tidak'")]),
    ("service_no_counter_serves", both(put("counters[2].services", ["KK"]), put("counters[3].services", ["PINDAH"])),
     [("counters", "no counter serves service 'AKTA'")]),
    ("counter_without_services", put("counters[4].services", []),
     [("counters[4].services", "a counter must serve at least one service"),
      ("counters", "no counter serves service 'PBB'"),
      ("counters", "no counter serves service 'BPHTB'")]),
    ("impossible_holiday_date", put("holidays[2].date", "2026-06-31"),
     [("holidays[2].date", "'2026-06-31' is not a date like 2026-12-25")]),
    ("holiday_date_in_local_format", put("holidays[4].date", "25-12-2026"),
     [("holidays[4].date", "'25-12-2026' is not a date like 2026-12-25")]),
    ("missing_service_field", drop("agencies[0].services[0].completion"),
     [("agencies[0].services[0].completion", "required")]),
    ("missing_site_name", drop("site.name"),
     [("site.name", "required")]),
    ("missing_holiday_name", drop("holidays[3].name"),
     [("holidays[3].name", "required")]),
    ("empty_requirement", put("agencies[2].services[0].requirements[1]", ""),
     [("agencies[2].services[0].requirements[1]", "must be a non-empty text, not the text ''")]),
    ("unknown_device_role", put("devices[3].role", "tv"),
     [("devices[3].role", "'tv' is not one of dispatcher, display, kiosk, panel, web")]),
    ("missing_device_role", drop("devices[0].role"),
     [("devices[0].role", "required")]),
    ("duplicate_device", put("devices[2].id", "kiosk1"),
     [("devices[2].id", "duplicate device 'kiosk1'")]),
    ("duplicate_counter", put("counters[7].id", "loket7"),
     [("counters[7].id", "duplicate counter 'loket7'")]),
    ("upper_case_counter_id", put("counters[0].id", "Loket1"),
     [("counters[0].id", f"'Loket1' is not valid: {ID_HINT}")]),
    ("unknown_counter_agency", put("counters[4].agency", "bpjs"),
     [("counters[4].agency", "unknown agency 'bpjs'")]),
    ("mapping_as_counter_agency", put("counters[0].agency", {"id": "disdukcapil"}),
     [("counters[0].agency", "unknown agency {'id': 'disdukcapil'}")]),
    ("bad_colour", put("agencies[1].color", "hijau"),
     [("agencies[1].color", "'hijau' is not valid: a colour like '#1E88E5'")]),
    ("duplicate_priority_group", put("priority_groups[3].id", "lansia"),
     [("priority_groups[3].id", "duplicate priority group 'lansia'")]),
    ("template_without_counter", put("announcement.template", "Nomor antrean {huruf}, {angka}."),
     [("announcement.template", "template must say the counter: include {loket}")]),
    # Remote counters (issue 14, item 7): counters[8] is daring1.
    ("remote_counter_without_location", drop("counters[8].location"),
     [("counters[8].location", "required when remote is true (where the citizen goes, e.g. Bilik Layanan Daring)")]),
    ("location_on_a_counter_in_the_building", put("counters[0].location", "Lantai 2"),
     [("counters[0].location", "only for a remote counter (remote: true)")]),
    ("meeting_url_on_a_counter_in_the_building", put("counters[0].meeting_url", "https://meet.example.go.id/x"),
     [("counters[0].meeting_url", "only for a remote counter (remote: true)")]),
    ("meeting_url_not_a_web_address", put("counters[8].meeting_url", "javascript:alert(1)"),
     [("counters[8].meeting_url", "'javascript:alert(1)' must start with https:// (or http://)")]),
    ("meeting_url_with_a_password", put("counters[8].meeting_url", "https://petugas:rahasia@meet.example.go.id/x"),
     [("counters[8].meeting_url", "'https://petugas:rahasia@meet.example.go.id/x' must name a host, without a user "
                                  "name or password")]),
    ("meeting_url_with_a_space", put("counters[8].meeting_url", "https://meet.example.go.id/a b"),
     [("counters[8].meeting_url", "'https://meet.example.go.id/a b' is not a web address (no spaces, at most 500 "
                                  "characters)")]),
    ("remote_as_text", put("counters[8].remote", "ya"),
     [("counters[8].remote", "must be true or false, not the text 'ya'")]),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_variant(raw, change, expected):
    change(raw)
    assert problems_of(raw) == expected


def test_variant_paths_point_where_the_cases_think(raw_example):
    # If the example is reordered, the table above must follow; this says so plainly.
    r = raw_example
    assert [c["id"] for c in r["counters"]] == [f"loket{n}" for n in range(1, 9)] + ["daring1"]
    assert [a["id"] for a in r["agencies"]] == ["disdukcapil", "bank_sultra", "bapenda", "dpmptsp"]
    assert [s["code"] for s in r["agencies"][0]["services"]][:2] == ["KTP", "KK"]
    assert [s["code"] for s in r["agencies"][2]["services"]] == ["PBB", "BPHTB"]
    assert [d["id"] for d in r["devices"]][:4] == ["dispatcher", "kiosk1", "kiosk2", "board1"]


def test_all_problems_reported_at_once(raw):
    for change in [put("site.timezone", "WITA"),
                   rename("agencies[0].services[0].quota", "qouta"),
                   put("agencies[3].services[2].fee", 1.5),
                   put("schedules.reguler.senin[1]", "11:00-15:00"),
                   put("holidays[0].date", "2026-13-01"),
                   put("counters[2].services[0]", "KTX"),
                   put("devices[5].role", "tombol")]:
        change(raw)
    expected = [
        ("site.timezone", "unknown time zone 'WITA' (e.g. Asia/Jakarta, Asia/Makassar, Asia/Jayapura)"),
        ("schedules.reguler.senin[1]", "'11:00-15:00' overlaps or comes before the previous span"),
        ("holidays[0].date", "'2026-13-01' is not a date like 2026-12-25"),
        ("agencies[0].services[0].qouta", f"unknown key (allowed: {SERVICE_KEYS})"),
        ("agencies[0].services[0].booking", "a service without a quota cannot take bookings: share is a share of the quota"),
        ("agencies[3].services[2].fee", "must be a non-empty text, not float 1.5"),
        ("counters[2].services[0]", "unknown service 'KTX'"),
        ("devices[5].role", "'tombol' is not one of dispatcher, display, kiosk, panel, web"),
    ]
    with pytest.raises(ConfigError) as info:
        config.build(raw, SOURCE)
    assert info.value.problems == expected
    assert str(info.value).splitlines() == [f"{SOURCE}: {p}: {m}" for p, m in expected]


def test_odd_values_anywhere_give_problems_not_crashes(raw):
    """A technician's typo can put any YAML value anywhere: the answer is always a
    ConfigError naming it, never a TypeError or KeyError from inside the reader."""
    def nodes(node, path=()):
        if isinstance(node, dict):
            items = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            return
        for key, value in items:
            yield node, key
            yield from nodes(value, path + (key,))

    odd_values = [None, "", 1.5, [], {}, [{"x": 1}]]
    for parent, key in list(nodes(raw)):
        original = parent[key]
        for value in odd_values:
            parent[key] = value
            try:
                config.build(raw, SOURCE)
            except ConfigError as exc:
                assert exc.problems, (key, value)
            finally:
                parent[key] = original


# --- reading the file ----------------------------------------------------------------


def test_bad_yaml_syntax_names_line_and_column():
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    n = lines.index("  timezone: Asia/Makassar")
    lines[n] = "\ttimezone: Asia/Makassar"  # a tab: the classic copy-paste mistake
    with pytest.raises(ConfigError) as info:
        config.parse("\n".join(lines), SOURCE)
    assert info.value.problems == [
        (f"line {n + 1}, column 1", "not valid YAML: found character '\\t' that cannot start any token")]


def test_unclosed_list_names_where_yaml_noticed():
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    n = lines.index("    services: [KTP, KIA]")
    lines[n] = "    services: [KTP, KIA"
    with pytest.raises(ConfigError) as info:
        config.parse("\n".join(lines), SOURCE)
    column = lines[n + 1].index(":") + 1
    assert info.value.problems == [
        (f"line {n + 2}, column {column}", "not valid YAML: expected ',' or ']', but got ':'")]


def test_impossible_date_in_yaml_text_is_a_problem_not_a_crash():
    text = EXAMPLE.read_text(encoding="utf-8").replace("date: 2026-06-01,", "date: 2026-06-31,", 1)
    with pytest.raises(ConfigError) as info:
        config.parse(text, SOURCE)
    assert info.value.problems == [("holidays[2].date", "'2026-06-31' is not a date like 2026-12-25")]


def test_empty_file():
    with pytest.raises(ConfigError) as info:
        config.parse("", SOURCE)
    assert info.value.problems[0] == ("", "must be a mapping, not empty")


def test_missing_file():
    path = ROOT / "examples" / "tidak-ada.yaml"
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert info.value.source == str(path)
    assert info.value.problems == [("", "cannot read the file: No such file or directory")]
    assert str(info.value) == f"{path}: cannot read the file: No such file or directory"


def test_file_not_utf8(tmp_path):
    path = tmp_path / "site.yaml"
    path.write_bytes(EXAMPLE.read_text(encoding="utf-8").replace("Takawa", "Takawa\xe9").encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert info.value.problems == [("", "the file is not UTF-8 text")]


def test_a_holiday_listed_twice_is_reported(raw):
    raw["holidays"].append({"date": raw["holidays"][0]["date"], "name": "Lagi"})
    i = len(raw["holidays"]) - 1
    [(path, message)] = problems_of(raw)
    assert path == f"holidays[{i}].date" and "listed twice" in message


def test_device_options_are_read_only_all_the_way_down(cfg):
    panel = next(d for d in cfg.devices.values() if d.role == "panel")
    with pytest.raises(TypeError):
        panel.options["buttons"][0]["pin"] = 4
    with pytest.raises(AttributeError):
        panel.options["buttons"].append({})
