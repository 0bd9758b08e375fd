"""The live page's JavaScript, inlined by page.py: vanilla JS, no build step.

It opens the ``/peristiwa`` event stream, keeps the state from the snapshot and the
updates, and draws every part of the page from it. Every element is built with
textContent, never innerHTML: names come from the site file and the broker, and must
not become markup. The words for the dispatcher's problems come from the core's device
link (antrian.adapters.link.NOTICES), the same words the board and the kiosk show.
"""

import json

from antrian.adapters.link import NOTICES

_JS = r"""
"use strict";
(function () {
  // live: null while the first connection is being made, then true/false.
  const S = {catalog: null, board: null, counters: {}, status: {}, tickets: [], broker: false, live: null,
             dispatcher: {online: null, problems: [], notice: ""}};
  const arrived = {};          // ticket number -> when this page saw it (for the highlight)
  const FRESH_MS = 10000;
  const HARI = ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"];
  const BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
                 "Oktober", "November", "Desember"];
  const ZONA = {"+07:00": "WIB", "+08:00": "WITA", "+09:00": "WIT"};
  const PERAN = {dispatcher: "Server antrean", kiosk: "Anjungan tiket", display: "Papan informasi",
                 panel: "Panel tombol loket"};
  const URUT_PERAN = {dispatcher: 0, kiosk: 1, display: 2, panel: 3};
  const MASALAH = {printer_offline: "Printer tidak tersambung", paper_out: "Kertas habis",
                   database_error: "Basis data bermasalah", ...@NOTICES@};
  // The dispatcher's device limits name the device after a colon (rate_limited:kiosk/kiosk1).
  const MASALAH_PERANGKAT = {rate_limited: "Permintaan terlalu sering dari",
                             expired: "Permintaan kedaluwarsa (jam perangkat?) dari"};
  function masalah(p) {
    const [kode, perangkat] = p.split(/:(.*)/s);
    if (perangkat && MASALAH_PERANGKAT[kode]) return `${MASALAH_PERANGKAT[kode]} ${perangkat}`;
    return MASALAH[p] || p;
  }
  const LOKET = {open: ["Buka", "ok"], paused: ["Istirahat", "warn"], closed: ["Tutup", "off"]};

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = String(v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }
  const byId = (id) => document.getElementById(id);
  const angka = (n) => (typeof n === "number" ? n.toLocaleString("id-ID") : "—");
  function jam(iso, detik) {   // "2026-11-22T09:15:02+08:00" -> "09.15" (site time, as sent)
    const m = /T(\d{2}):(\d{2}):(\d{2})/.exec(iso || "");
    return m ? (detik ? `${m[1]}.${m[2]}.${m[3]}` : `${m[1]}.${m[2]}`) : "";
  }
  function zona(iso) {
    const m = /([+-]\d{2}:\d{2})$/.exec(iso || "");
    return m ? (ZONA[m[1]] || "UTC" + m[1]) : "";
  }
  function hari(day) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || "");
    if (!m) return "";
    const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    return `${HARI[d.getUTCDay()]}, ${+m[3]} ${BULAN[+m[2] - 1]} ${m[1]}`;
  }
  function splitName(name) {   // "KTP Elektronik (perekaman, cetak)" -> ["KTP Elektronik", "perekaman, cetak"]
    const m = /^(.*?)\s*\((.*)\)\s*$/.exec(name || "");
    return m && m[1] ? [m[1], m[2]] : [name || "", ""];
  }
  const services = () => (S.catalog && S.catalog.agencies || []).flatMap((a) => a.services || []);
  const waitingOf = (code) => ((S.board && S.board.waiting) || {})[code] || 0;
  function priorityName(id) {
    const g = (S.catalog && S.catalog.priority_groups || []).find((x) => x.id === id);
    return g ? g.name : id;
  }

  function counterList() {
    const fromBoard = (S.board && S.board.counters) || [];
    const known = (S.catalog && S.catalog.counters) || [];
    const list = fromBoard.length ? fromBoard.map((c) => ({...c}))
                                  : known.map((c) => ({counter: c.counter, name: c.name, status: null}));
    for (const c of list) {
      const st = S.counters[c.counter];
      if (st) {
        c.status = st.status || c.status;
        c.reason = st.reason;
        c.waiting = st.waiting;
        c.recalls = st.recalls;
        if (st.serving) { c.serving = st.serving.number; c.service_name = st.serving.service_name; }
        else c.serving = null;
      }
      const k = known.find((x) => x.counter === c.counter);
      c.services = k ? k.services : [];
    }
    return list;
  }

  function deviceList() {
    const list = ((S.catalog && S.catalog.devices) || []).map((d) => ({...d}));
    for (const id of Object.keys(S.status)) {
      if (!list.some((d) => d.device === id)) list.push({device: id, role: S.status[id].role});
    }
    for (const d of list) d.st = S.status[d.device] || null;
    list.sort((a, b) => ((URUT_PERAN[a.role] ?? 9) - (URUT_PERAN[b.role] ?? 9)) || a.device.localeCompare(b.device));
    return list;
  }

  function tile(label, value, total, note) {
    return h("div", {class: "tile"}, h("div", {class: "label", text: label}),
             h("div", {class: "value"}, value, total === null ? null : h("small", {text: " dari " + total})),
             h("div", {class: "note", text: note}));
  }

  function renderHeader() {
    const day = S.board && S.board.business_day;
    byId("hari").textContent = day ? hari(day) : "Menunggu data…";
    const conn = byId("sambungan");
    const ok = S.live && S.broker;
    const dispatcher = Object.values(S.status).find((st) => st && st.role === "dispatcher");
    conn.className = "conn " + (ok ? "live" : (S.live === null ? "" : "down"));
    conn.textContent = ok ? "Langsung" : (S.live === null ? "Menyambung…" : (S.live ? "Broker terputus" : "Terputus"));
    const banner = byId("banner");
    let text = "";
    if (S.live === false) {
      text = "Sambungan ke server dasbor terputus. Menyambung ulang…";
    } else if (S.live && !S.broker) {
      text = "Sambungan ke broker antrean terputus: data di bawah mungkin tidak terbaru. Menyambung ulang…";
    } else if (S.live && dispatcher && dispatcher.online === false) {
      text = "Server antrean (dispatcher) luring: antrean tidak berjalan dan data tidak diperbarui.";
    } else if (S.live && S.dispatcher.notice) {
      text = S.dispatcher.notice;   // e.g. its clock is behind: the same words as the board's banner
    }
    banner.hidden = !text;
    banner.textContent = text;
    const at = S.board && S.board.updated_at;
    byId("diperbarui").textContent = at ? `Diperbarui pukul ${jam(at, true)} ${zona(at)}` : "";
  }

  function renderTiles() {
    const svc = services();
    const counters = counterList();
    const devices = deviceList();
    const waiting = svc.length ? svc.reduce((n, s) => n + waitingOf(s.code), 0)
                               : Object.values((S.board && S.board.waiting) || {}).reduce((a, b) => a + b, 0);
    const serving = counters.filter((c) => c.serving).length;
    const open = counters.filter((c) => c.status === "open").length;
    const svcOpen = svc.filter((s) => s.open).length;
    const online = devices.filter((d) => d.st && d.st.online).length;
    const problems = devices.filter((d) => d.st && d.st.online && (d.st.problems || []).length).length;
    byId("ringkasan").replaceChildren(
      tile("Menunggu", angka(waiting), null, "warga dalam antrean saat ini"),
      tile("Loket buka", angka(open), counters.length, `${serving} sedang melayani`),
      tile("Layanan buka", angka(svcOpen), svc.length, svc.length - svcOpen ? `${svc.length - svcOpen} tutup` : "semua buka"),
      tile("Perangkat daring", angka(online), devices.length, problems ? `${problems} perlu diperiksa` : "tidak ada masalah"));
  }

  function renderAgencies() {
    const box = byId("instansi");
    if (!S.catalog) {
      box.replaceChildren(h("div", {class: "card"}, h("p", {class: "empty", text: "Menunggu data layanan dari server antrean…"})));
      return;
    }
    box.replaceChildren(...(S.catalog.agencies || []).map((a) => {
      const list = a.services || [];
      const total = list.reduce((n, s) => n + waitingOf(s.code), 0);
      const rows = list.map((s) => {
        const w = waitingOf(s.code);
        const [name, more] = splitName(s.name);
        const left = (s.quota_left === null || s.quota_left === undefined) ? "tanpa batas" : angka(s.quota_left);
        return h("tr", {"data-service": s.code, class: s.open ? null : "closed"},
          h("td", null, h("span", {class: "prefix", text: s.prefix})),
          h("td", null, h("div", {class: "svc-name", text: name}), more ? h("div", {class: "svc-more", text: more}) : null),
          h("td", {class: "num waiting" + (w ? "" : " zero"), text: angka(w)}),
          h("td", {class: "num quota" + (s.quota_left === 0 ? " zero" : ""), text: left}),
          h("td", null, s.open ? h("span", {class: "pill ok", text: "Buka"}) : h("span", {class: "pill off", text: "Tutup"}),
            s.open || !s.closed_reason ? null : h("div", {class: "reason", text: s.closed_reason})));
      });
      const card = h("section", {class: "card agency", "data-agency": a.id},
        h("header", null,
          h("div", null, h("h3", {text: a.short_name || a.name}), h("div", {class: "sub", text: a.name})),
          h("div", {class: "agency-total"}, h("b", {text: angka(total)}), "menunggu")),
        h("table", null,
          h("colgroup", null, h("col", {class: "c-prefix"}), h("col"), h("col", {class: "c-num"}),
            h("col", {class: "c-num"}), h("col", {class: "c-status"})),
          h("thead", null, h("tr", null, h("th", {colspan: 2, text: "Layanan"}), h("th", {class: "num", text: "Menunggu"}),
                                          h("th", {class: "num", text: "Sisa kuota"}), h("th", {text: "Status"}))),
          h("tbody", null, rows)));
      if (/^#[0-9a-fA-F]{6}$/.test(a.color || "")) card.style.setProperty("--agency", a.color);
      return card;
    }));
  }

  function renderCounters() {
    const list = counterList();
    const box = byId("loket");
    if (!list.length) { box.replaceChildren(h("p", {class: "empty", text: "Belum ada data loket."})); return; }
    box.replaceChildren(h("table", null,
      h("colgroup", null, h("col", {class: "c-loket"}), h("col", {class: "c-state"}), h("col"), h("col", {class: "c-wait"})),
      h("thead", null, h("tr", null, h("th", {text: "Loket"}), h("th", {text: "Status"}),
                                      h("th", {text: "Sedang dilayani"}), h("th", {class: "num", text: "Menunggu"}))),
      h("tbody", null, list.map((c) => {
        const [label, cls] = LOKET[c.status] || ["—", "off"];
        return h("tr", {"data-counter": c.counter},
          h("td", null, h("div", {class: "svc-name", text: c.name}), h("div", {class: "codes", text: (c.services || []).join(" · ")})),
          h("td", null, h("span", {class: "pill " + cls, text: label}),
            c.status === "paused" && c.reason ? h("div", {class: "reason", text: c.reason}) : null),
          h("td", {class: "serving"}, c.serving
            ? [h("span", {class: "ticket", text: c.serving}),
               c.recalls ? h("span", {class: "tag", title: `Dipanggil ulang ${c.recalls} kali`, text: `ulang ${c.recalls}×`}) : null,
               h("div", {class: "svc-small", text: splitName(c.service_name)[0]})]
            : h("span", {class: "idle", text: "—"})),
          h("td", {class: "num" + (c.waiting ? "" : " zero"), text: c.waiting === undefined ? "—" : angka(c.waiting)}));
      }))));
  }

  function renderCalls() {
    const recent = (S.board && S.board.recent) || [];
    const box = byId("panggilan");
    if (!recent.length) { box.replaceChildren(h("li", {class: "empty", text: "Belum ada panggilan hari ini."})); return; }
    box.replaceChildren(...recent.slice(0, 8).map((c, i) => h("li", {class: i === 0 ? "latest" : null, "data-call": c.number},
      h("span", {class: "ticket", text: c.number}),
      h("div", {class: "what"}, h("div", null, h("b", {text: c.counter_name}), c.recall ? h("span", {class: "tag", text: "ulang"}) : null),
        h("div", {class: "svc-small", text: splitName(c.service_name)[0]})),
      h("span", {class: "time", text: jam(c.at)}))));
  }

  function renderTickets() {
    const box = byId("tiket");
    if (!S.tickets.length) {
      box.replaceChildren(h("li", {class: "empty", text: "Belum ada tiket baru sejak dasbor dibuka."}));
      return;
    }
    const now = Date.now();
    box.replaceChildren(...S.tickets.slice(0, 8).map((t) => h("li",
      {class: arrived[t.number] && now - arrived[t.number] < FRESH_MS ? "new" : null, "data-ticket": t.number},
      h("span", {class: "ticket", text: t.number}),
      h("div", {class: "what"}, h("div", {text: splitName(t.service_name)[0]}),
        h("div", {class: "svc-small", text: t.agency_name || ""})),
      h("div", {class: "right"}, h("span", {class: "time", text: jam(t.issued_at)}),
        t.priority ? h("span", {class: "tag", title: priorityName(t.priority), text: "prioritas"}) : null))));
  }

  function renderDevices() {
    const list = deviceList();
    const box = byId("perangkat");
    if (!list.length) { box.replaceChildren(h("p", {class: "empty", text: "Belum ada perangkat."})); return; }
    box.replaceChildren(h("div", {class: "devices"}, list.map((d) => {
      const st = d.st;
      const state = !st ? "unknown" : (st.online ? "online" : "offline");
      const text = !st ? "belum ada kabar" : (st.online ? "daring" : "luring");
      const problems = st && st.online ? (st.problems || []).map(masalah) : [];
      return h("div", {class: "device " + state, "data-device": d.device}, h("span", {class: "dot"}),
        h("div", null, h("div", {class: "name", text: d.device}),
          h("div", {class: "role", text: `${PERAN[d.role] || d.role || ""} · ${text}`}),
          problems.length ? h("div", {class: "problem", text: problems.join(", ")}) : null));
    })));
  }

  function render() {
    renderHeader(); renderTiles(); renderAgencies(); renderCounters(); renderCalls(); renderTickets(); renderDevices();
  }
  let queued = false;
  function schedule() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; render(); });
  }

  function apply(u) {
    switch (u.kind) {
      case "board": S.board = u.data; break;
      case "catalog": S.catalog = u.data; break;
      case "counter": if (u.data) S.counters[u.key] = u.data; else delete S.counters[u.key]; break;
      case "status": if (u.data) S.status[u.key] = u.data; else delete S.status[u.key]; break;
      case "broker": S.broker = !!(u.data && u.data.connected); break;
      case "dispatcher": S.dispatcher = u.data; break;
      case "tickets": S.tickets = u.data || []; break;
      case "ticket":
        S.tickets = [u.data, ...S.tickets.filter((t) => t.number !== u.data.number)].slice(0, 20);
        arrived[u.data.number] = Date.now();
        setTimeout(schedule, FRESH_MS + 50);
        break;
    }
  }

  function connect() {
    const es = new EventSource("/peristiwa");
    es.addEventListener("snapshot", (e) => {
      const snap = JSON.parse(e.data);
      S.catalog = snap.catalog; S.board = snap.board; S.counters = snap.counters || {};
      S.status = snap.status || {}; S.tickets = snap.tickets || []; S.broker = !!snap.broker; S.live = true;
      S.dispatcher = snap.dispatcher || S.dispatcher;
      schedule();
    });
    es.addEventListener("update", (e) => { apply(JSON.parse(e.data)); schedule(); });
    es.onopen = () => { S.live = true; schedule(); };
    es.onerror = () => {
      S.live = false; schedule();
      // Refused (logged out, session over, too many pages): reload, which leads to the login if needed.
      if (es.readyState === EventSource.CLOSED) setTimeout(() => location.reload(), 3000);
    };
  }
  render();
  connect();
})();
"""

# The problem words as a JS object literal (JSON is one); no "</script>" can come out of it.
JS = _JS.replace("@NOTICES@", json.dumps(NOTICES, ensure_ascii=False).replace("</", "<\\/"))
