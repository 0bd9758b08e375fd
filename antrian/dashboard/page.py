"""The dashboard's two pages (login and the live view), with their CSS and JS inlined:
the LAN has no internet, so nothing comes from a CDN. Vanilla JS, no build step.

The live page builds every element with textContent, never innerHTML: names come
from the site file and the broker, and must not become markup.
"""

from __future__ import annotations

import re
from html import escape

CSS = r"""
:root {
  --navy: #0f2a4a; --navy2: #1a3d66; --yellow: #ffd54f; --bg: #eef2f7; --card: #ffffff;
  --text: #1b2733; --muted: #607085; --line: #e1e7ef; --ok: #2e7d32; --okbg: #e6f4e7;
  --warn: #b45f06; --warnbg: #fff1dc; --off: #6b7785; --offbg: #eceff3; --bad: #c62828; --badbg: #fdeaea;
}
* { box-sizing: border-box; }
html, body { margin: 0; }
body { background: var(--bg); color: var(--text); font: 15px/1.4 "Segoe UI", Roboto, "Noto Sans", "Liberation Sans",
       Arial, "DejaVu Sans", sans-serif; font-variant-numeric: tabular-nums; }
h1, h2, h3 { margin: 0; }
button { font: inherit; cursor: pointer; }
.top { background: var(--navy); color: #fff; display: flex; align-items: center; justify-content: space-between;
       padding: 12px 24px; gap: 16px; }
.brand { display: flex; align-items: center; gap: 14px; min-width: 0; }
.logo { width: 46px; height: 46px; border-radius: 50%; background: var(--yellow); color: var(--navy);
        display: grid; place-items: center; font-weight: 700; font-size: 14px; flex: none;
        box-shadow: 0 0 0 3px rgba(255,255,255,.85); }
.top h1 { font-size: 21px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.top .sub { color: var(--yellow); font-size: 14px; }
.top-right { display: flex; align-items: center; gap: 14px; flex: none; }
.top-right form { margin: 0; }
.user { color: #c9d6e6; font-size: 14px; }
.logout { background: transparent; color: #fff; border: 1px solid rgba(255,255,255,.5); border-radius: 6px;
          padding: 5px 14px; }
.logout:hover { background: rgba(255,255,255,.12); }
.conn { display: inline-flex; align-items: center; gap: 7px; font-size: 13px; font-weight: 600; padding: 4px 11px;
        border-radius: 999px; background: rgba(255,255,255,.12); color: #fff; }
.conn::before { content: ""; width: 9px; height: 9px; border-radius: 50%; background: #9aa7b6; }
.conn.live::before { background: #4caf50; box-shadow: 0 0 0 3px rgba(76,175,80,.3); }
.conn.down::before { background: #ff5252; }
.banner { background: var(--badbg); color: var(--bad); border-bottom: 1px solid #f3c4c4; padding: 9px 24px;
          font-weight: 600; }
main { padding: 18px 24px 8px; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin-bottom: 18px; }
.tile { background: var(--card); border-radius: 10px; padding: 12px 16px; border: 1px solid var(--line);
        border-top: 4px solid var(--navy2); }
.tile .label { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
.tile .value { font-size: 30px; font-weight: 700; line-height: 1.2; }
.tile .value small { font-size: 16px; color: var(--muted); font-weight: 600; }
.tile .note { color: var(--muted); font-size: 13px; }
.grid { display: grid; grid-template-columns: minmax(0, 1.25fr) minmax(0, 1.05fr) minmax(0, .8fr); gap: 18px;
        align-items: start; }
.col { display: flex; flex-direction: column; gap: 14px; min-width: 0; }
.section-title { font-size: 15px; font-weight: 700; color: var(--navy); text-transform: uppercase;
                 letter-spacing: .04em; margin: 0 0 -4px; }
.card { background: var(--card); border-radius: 10px; border: 1px solid var(--line); overflow: hidden; }
.card > h2 { font-size: 15px; padding: 10px 14px; border-bottom: 1px solid var(--line); color: var(--navy); }
.agency { border-left: 5px solid var(--agency, var(--navy2)); }
.agency header { display: flex; justify-content: space-between; align-items: baseline; gap: 12px;
                 padding: 9px 14px 7px; border-bottom: 1px solid var(--line); }
.agency h3 { font-size: 17px; }
.agency .sub { color: var(--muted); font-size: 12.5px; }
.agency-total { white-space: nowrap; color: var(--muted); font-size: 14px; }
.agency-total b { color: var(--text); font-size: 20px; margin-right: 3px; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
col.c-prefix { width: 48px; } col.c-num { width: 86px; } col.c-status { width: 126px; }
col.c-loket { width: 100px; } col.c-state { width: 96px; } col.c-wait { width: 96px; }
th { text-align: left; color: var(--muted); font-size: 12px; font-weight: 600; text-transform: uppercase;
     letter-spacing: .03em; padding: 6px 10px; background: #f7f9fc; }
td { padding: 6px 10px; border-top: 1px solid var(--line); vertical-align: middle; }
.num { text-align: right; white-space: nowrap; }
td.num { font-size: 17px; font-weight: 600; }
td.zero { color: #a3adba; font-weight: 500; }
tr.closed td { color: var(--muted); }
.prefix { display: inline-grid; place-items: center; min-width: 30px; height: 28px; border-radius: 6px;
          background: var(--navy); color: var(--yellow); font-weight: 700; padding: 0 6px; }
.svc-name { font-weight: 600; }
.svc-more { color: var(--muted); font-size: 12.5px; }
.pill { display: inline-block; font-size: 12.5px; font-weight: 700; padding: 2px 10px; border-radius: 999px;
        white-space: nowrap; }
.pill.ok { background: var(--okbg); color: var(--ok); }
.pill.warn { background: var(--warnbg); color: var(--warn); }
.pill.off { background: var(--offbg); color: var(--off); }
.pill.bad { background: var(--badbg); color: var(--bad); }
.reason { color: var(--muted); font-size: 12px; margin-top: 2px; }
.ticket { font-size: 21px; font-weight: 800; color: var(--navy); letter-spacing: .02em; }
.idle { color: #a3adba; }
.svc-small { color: var(--muted); font-size: 12.5px; }
td.serving .svc-small { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.codes { color: var(--muted); font-size: 12px; }
.feed { list-style: none; margin: 0; padding: 0; }
.feed li { display: flex; align-items: center; gap: 10px; padding: 7px 14px; border-top: 1px solid var(--line); }
.feed li:first-child { border-top: 0; }
.feed .ticket { font-size: 18px; min-width: 64px; }
.feed .what { flex: 1; min-width: 0; }
.feed .what div { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.feed .time { color: var(--muted); font-size: 13px; white-space: nowrap; }
.feed li.new { box-shadow: inset 4px 0 0 var(--yellow); background: #fffbea; }
.feed .right { display: flex; flex-direction: column; align-items: flex-end; gap: 2px; }
.feed li.latest .ticket { color: #0b5394; }
.tag { font-size: 11.5px; font-weight: 700; padding: 1px 7px; border-radius: 999px; background: var(--warnbg);
       color: var(--warn); margin-left: 6px; }
.empty { color: var(--muted); padding: 12px 14px; margin: 0; font-style: italic; }
.devices { display: grid; grid-template-columns: 1fr 1fr; }
.device { display: flex; align-items: center; gap: 9px; padding: 7px 14px; border-top: 1px solid var(--line); }
.device .dot { width: 10px; height: 10px; border-radius: 50%; background: #b8c2cd; flex: none; }
.device.online .dot { background: #43a047; }
.device.offline .dot { background: var(--bad); }
.device .name { font-weight: 600; }
.device .role { color: var(--muted); font-size: 12.5px; }
.device .problem { color: var(--bad); font-size: 12.5px; font-weight: 600; }
.device > div { min-width: 0; }
footer { display: flex; justify-content: space-between; color: var(--muted); font-size: 13px; padding: 6px 24px 18px; }
/* login */
.login-wrap { min-height: 100vh; display: grid; place-items: center; padding: 24px;
              background: linear-gradient(160deg, var(--navy) 0 42%, var(--bg) 42%); }
.login { background: var(--card); width: 100%; max-width: 380px; border-radius: 12px; padding: 28px 30px;
         box-shadow: 0 12px 40px rgba(15,42,74,.25); }
.login .logo { margin-bottom: 12px; }
.login h1 { font-size: 20px; color: var(--navy); }
.login p.site { color: var(--muted); margin: 4px 0 18px; }
.login label { display: block; font-weight: 600; font-size: 14px; margin: 12px 0 4px; }
.login input { width: 100%; font: inherit; padding: 9px 11px; border: 1px solid #c5cfdb; border-radius: 7px; }
.login input:focus { outline: 2px solid #5b8fd6; border-color: transparent; }
.login button { width: 100%; margin-top: 20px; background: var(--navy); color: #fff; border: 0; border-radius: 7px;
                padding: 10px; font-weight: 700; }
.login button:hover { background: var(--navy2); }
.error { background: var(--badbg); color: var(--bad); border-radius: 7px; padding: 8px 11px; font-weight: 600;
         font-size: 14px; }
.hint { color: var(--muted); font-size: 12.5px; margin-top: 16px; }
@media (max-width: 1300px) {
  .grid { grid-template-columns: minmax(0, 1.3fr) minmax(0, 1fr); }
  .col.feeds { grid-column: 1 / -1; display: grid; grid-template-columns: 1fr 1fr; }
  .col.feeds .section-title { grid-column: 1 / -1; margin: 0; }
}
@media (max-width: 900px) {
  .grid, .col.feeds { grid-template-columns: 1fr; }
  .tiles { grid-template-columns: repeat(2, 1fr); }
}
@media (max-width: 640px) {
  .devices { grid-template-columns: 1fr; }
  .top { flex-wrap: wrap; }
}
"""

JS = r"""
"use strict";
(function () {
  // live: null while the first connection is being made, then true/false.
  const S = {catalog: null, board: null, counters: {}, status: {}, tickets: [], broker: false, live: null};
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
                   database_error: "Basis data bermasalah"};
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
      const problems = st && st.online ? (st.problems || []).map((p) => MASALAH[p] || p) : [];
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

_LOGIN = """<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Masuk · Dasbor Antrean</title>
<style nonce="@NONCE@">@CSS@</style>
</head>
<body>
<div class="login-wrap">
  <form class="login" method="post" action="/masuk">
    <div class="logo">MPP</div>
    <h1>Dasbor Antrean</h1>
    <p class="site">@SITE@</p>
    @ERROR@
    <label for="nama">Nama pengguna</label>
    <input id="nama" name="nama" autocomplete="username" required @FOCUSNAME@ value="@NAME@">
    <label for="sandi">Kata sandi</label>
    <input id="sandi" name="sandi" type="password" autocomplete="current-password" required @FOCUSPASS@>
    <button type="submit">Masuk</button>
    <p class="hint">Hanya untuk pimpinan dan petugas MPP. Akun dibuat oleh teknisi.</p>
  </form>
</div>
</body>
</html>
"""

_PAGE = """<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dasbor Antrean · @SITE@</title>
<style nonce="@NONCE@">@CSS@</style>
</head>
<body>
<header class="top">
  <div class="brand">
    <div class="logo">MPP</div>
    <div><h1>@SITE@</h1><div class="sub">Dasbor Antrean · <span id="hari">Menunggu data…</span></div></div>
  </div>
  <div class="top-right">
    <span id="sambungan" class="conn">Menyambung…</span>
    <span class="user">Masuk sebagai <b>@USER@</b></span>
    <form method="post" action="/keluar"><button class="logout" type="submit">Keluar</button></form>
  </div>
</header>
<div id="banner" class="banner" hidden></div>
<main>
  <div id="ringkasan" class="tiles"></div>
  <div class="grid">
    <div class="col">
      <h2 class="section-title">Antrean per instansi dan layanan</h2>
      <div id="instansi" class="col"></div>
    </div>
    <div class="col">
      <h2 class="section-title">Loket</h2>
      <section class="card" id="loket"></section>
      <h2 class="section-title">Perangkat</h2>
      <section class="card" id="perangkat"></section>
    </div>
    <div class="col feeds">
      <h2 class="section-title">Kejadian terakhir</h2>
      <section class="card"><h2>Panggilan terakhir</h2><ol id="panggilan" class="feed"></ol></section>
      <section class="card"><h2>Tiket terakhir diambil</h2><ol id="tiket" class="feed"></ol></section>
    </div>
  </div>
</main>
<footer><span id="diperbarui"></span><span>Hanya baca · data langsung dari server antrean</span></footer>
<script nonce="@NONCE@">@JS@</script>
</body>
</html>
"""


def _fill(template: str, **values: str) -> str:
    # One pass: text put in (a site name, the CSS) is never searched for placeholders.
    values = {**values, "CSS": CSS, "JS": JS}
    return re.sub(r"@([A-Z]+)@", lambda m: values.get(m.group(1), ""), template)


def login_html(site_name: str, nonce: str, *, error: str = "", name: str = "") -> str:
    box = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    # After a wrong password the name stays and the cursor waits in the password field.
    return _fill(_LOGIN, NONCE=nonce, SITE=escape(site_name), NAME=escape(name), ERROR=box,
                 FOCUSNAME="" if name else "autofocus", FOCUSPASS="autofocus" if name else "")


def dashboard_html(site_name: str, user: str, nonce: str) -> str:
    return _fill(_PAGE, NONCE=nonce, SITE=escape(site_name), USER=escape(user))
