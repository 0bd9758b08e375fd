/* The MPP head's live dashboard (web/dasbor.py): one EventSource on /dasbor/peristiwa,
   a snapshot and then updates; every part of the page is drawn from the state.

   Every value from the broker goes into the page through textContent (h() below),
   never as markup. A payload may have any shape (a device's "problems" may be 5, a
   name may be a list): the readers txt/arr/obj/num below turn anything into what the
   page needs, and a value of the wrong shape is shown as the text it is. Each part of
   the page is drawn on its own: one that cannot be drawn says so and the rest stays. */
"use strict";
(function () {
  const S = {catalog: null, board: null, stats: null, counters: {}, queues: {}, status: {}, tickets: [],
             devices: [], broker: false, live: null, dispatcher: {online: null, problems: [], notice: ""}};
  let offset = 0;                // this server's clock minus the browser's (ms)
  let today = "";                // this server's date (YYYY-MM-DD), from its latest "now"
  const arrived = {};            // ticket number -> when this page saw it (for the highlight)
  const FRESH_MS = 10000;
  const HARI = ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"];
  const BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
                 "Oktober", "November", "Desember"];
  const ZONA = {"+07:00": "WIB", "+08:00": "WITA", "+09:00": "WIT"};
  const PERAN = {dispatcher: "Server antrean", kiosk: "Anjungan tiket", display: "Papan informasi",
                 panel: "Panel tombol loket", web: "Aplikasi web", bridge: "Sambungan ke server pusat"};
  const URUT_PERAN = {dispatcher: 0, kiosk: 1, display: 2, panel: 3, web: 4, bridge: 5};
  const LOKET = {open: ["Buka", "ok"], paused: ["Istirahat", "warn"], closed: ["Tutup", "off"]};
  // The dispatcher's device limits name the device after a colon (rate_limited:kiosk/kiosk1).
  const MASALAH_PERANGKAT = {rate_limited: "Permintaan terlalu sering dari",
                             expired: "Permintaan kedaluwarsa (jam perangkat?) dari"};
  let MASALAH = {};

  // -- reading values of any shape ------------------------------------------------------
  const { txt, obj, num } = window.AntrianNilai;  // nilai.js
  const arr = (v) => (Array.isArray(v) ? v : (v === null || v === undefined ? [] : [v]));
  const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = txt(v);
      else el.setAttribute(k, v === true ? "" : txt(v));
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : document.createTextNode(txt(kid)));
    }
    return el;
  }
  const byId = (id) => document.getElementById(id);
  const angka = (n) => (num(n) !== null ? n.toLocaleString("id-ID") : "—");
  function jam(iso, detik) {   // "2026-11-22T09:15:02+08:00" -> "09.15" (site time, as sent)
    const m = /T(\d{2}):(\d{2}):(\d{2})/.exec(txt(iso));
    return m ? (detik ? `${m[1]}.${m[2]}.${m[3]}` : `${m[1]}.${m[2]}`) : "";
  }
  function zona(iso) {
    const m = /([+-]\d{2}:\d{2})$/.exec(txt(iso));
    return m ? (ZONA[m[1]] || "UTC" + m[1]) : "";
  }
  function hari(day) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(txt(day));
    if (!m) return "";
    const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    return `${HARI[d.getUTCDay()]}, ${+m[3]} ${BULAN[+m[2] - 1]} ${m[1]}`;
  }
  function menit(ms) {          // a duration in words: "4 menit", "1 jam 5 menit"
    if (ms === null) return "—";
    const m = Math.max(0, Math.floor(ms / 60000));
    return m < 60 ? `${m} menit` : `${Math.floor(m / 60)} jam ${m % 60} menit`;
  }
  function splitName(name) {   // "KTP Elektronik (perekaman, cetak)" -> ["KTP Elektronik", "perekaman, cetak"]
    const m = /^(.*?)\s*\((.*)\)\s*$/.exec(txt(name));
    return m && m[1] ? [m[1], m[2]] : [txt(name), ""];
  }
  function masalah(p) {
    const [kode, perangkat] = txt(p).split(/:(.*)/s);
    if (perangkat && own(MASALAH_PERANGKAT, kode)) return `${MASALAH_PERANGKAT[kode]} ${perangkat}`;
    return own(MASALAH, txt(p)) ? MASALAH[txt(p)] : txt(p);
  }

  // -- the state, read --------------------------------------------------------------------
  const agencies = () => arr(obj(S.catalog).agencies).map(obj);
  const services = () => agencies().flatMap((a) => arr(a.services).map(obj));
  const waitingOf = (code) => num(obj(obj(S.board).waiting)[code]) || 0;
  const statsOf = (code) => obj(obj(obj(S.stats).services)[code]);
  const serverNow = () => Date.now() + offset;
  function priorityName(id) {
    const g = arr(obj(S.catalog).priority_groups).map(obj).find((x) => x.id === id);
    return g ? txt(g.name) : txt(id);
  }
  // The waiting tickets of a service from its QueueList, each with how long it has waited.
  function waitingList(code) {
    const q = S.queues[code];
    if (!q) return null;
    const now = serverNow();
    return arr(obj(q).waiting).map(obj).map((t) => {
      const at = Date.parse(txt(t.issued_at));
      return {number: txt(t.number), waited: isNaN(at) ? null : Math.max(0, now - at)};
    });
  }
  function sameDay() {          // the Stats speak of the board's business day, or of none
    const s = obj(S.stats), b = obj(S.board);
    return S.stats && (!b.business_day || s.business_day === b.business_day);
  }

  function counterList() {
    const fromBoard = arr(obj(S.board).counters).map(obj);
    const known = arr(obj(S.catalog).counters).map(obj);
    const list = fromBoard.length ? fromBoard.map((c) => ({...c}))
                                  : known.map((c) => ({counter: c.counter, name: c.name, status: null}));
    for (const c of list) {
      const st = S.counters[txt(c.counter)];
      if (st) {
        const s = obj(st);
        c.status = s.status || c.status;
        c.reason = s.reason;
        c.waiting = s.waiting;
        c.recalls = s.recalls;
        const serving = obj(s.serving);
        if (s.serving) { c.serving = serving.number; c.service_name = serving.service_name; } else c.serving = null;
      }
      const k = known.find((x) => x.counter === c.counter);
      c.services = k ? arr(k.services) : [];
    }
    return list;
  }

  function deviceList() {
    const list = S.devices.map((d) => ({...d, st: S.status[d.device] ? obj(S.status[d.device]) : null}));
    list.sort((a, b) => ((URUT_PERAN[a.role] ?? 9) - (URUT_PERAN[b.role] ?? 9)) || a.device.localeCompare(b.device));
    return list;
  }

  // The day's totals; null where the wire has not said (yet).
  function totals() {
    const svc = services();
    const codes = svc.length ? svc.map((s) => txt(s.code)) : Object.keys(obj(obj(S.board).waiting));
    const t = {issued: null, served: null, no_show: null, waiting: 0, avg: null, longest: null,
               over: null, judged: null};
    if (sameDay()) {
      for (const k of ["issued", "served", "no_show"]) t[k] = codes.reduce((n, c) => n + (num(statsOf(c)[k]) || 0), 0);
    }
    let count = 0, sum = 0, listed = true;
    for (const c of codes) {
      t.waiting += waitingOf(c);
      const list = waitingList(c);
      if (list === null) { if (waitingOf(c)) listed = false; continue; }
      for (const w of list) {
        if (w.waited === null) continue;
        count += 1; sum += w.waited;
        t.longest = Math.max(t.longest || 0, w.waited);
      }
    }
    if (!listed) t.longest = null;
    else if (count) t.avg = sum / count;
    const share = overTarget(svc);
    t.over = share.over; t.judged = share.judged;
    return t;
  }
  // Over target: first calls after the target (Stats) plus tickets still waiting past it
  // (QueueList), out of the first calls plus those; a ticket waiting within its target
  // is not judged yet.
  function overTarget(list) {
    if (!sameDay()) return {over: null, judged: null};
    let over = 0, judged = 0;
    for (const s of list) {
      const st = statsOf(txt(s.code));
      over += num(st.over_target) || 0;
      judged += num(st.called) || 0;
      const target = num(s.target_wait_min);
      for (const w of waitingList(txt(s.code)) || []) {
        if (target !== null && w.waited !== null && w.waited > target * 60000) { over += 1; judged += 1; }
      }
    }
    return {over, judged};
  }
  const persen = (over, judged) => (judged ? `${Math.round((100 * over) / judged)}%` : "—");

  // -- drawing ------------------------------------------------------------------------------
  function tile(key, label, value, total, note) {
    return h("div", {class: "tile", "data-total": key}, h("div", {class: "label", text: label}),
             h("div", {class: "value"}, value, total === null ? null : h("small", {text: " dari " + total})),
             h("div", {class: "note", text: note}));
  }

  function renderHeader() {
    const board = obj(S.board);
    byId("hari").textContent = board.business_day ? hari(board.business_day) || txt(board.business_day) : "Menunggu data…";
    const conn = byId("sambungan");
    const ok = S.live && S.broker;
    const dispatcher = S.devices.find((d) => d.role === "dispatcher");
    const dst = dispatcher && S.status[dispatcher.device] ? obj(S.status[dispatcher.device]) : null;
    conn.className = "conn " + (ok ? "live" : (S.live === null ? "" : "down"));
    conn.textContent = ok ? "Langsung" : (S.live === null ? "Menyambung…" : (S.live ? "Broker terputus" : "Terputus"));
    let text = "";
    if (S.live === false) text = "Sambungan ke server dasbor terputus. Menyambung ulang…";
    else if (S.live && !S.broker) text = "Sambungan ke broker antrean terputus: data di bawah mungkin tidak terbaru. Menyambung ulang…";
    else if (S.live && dst && dst.online === false) text = "Server antrean (dispatcher) luring: antrean tidak berjalan dan data tidak diperbarui.";
    else if (S.live && obj(S.dispatcher).notice) text = txt(obj(S.dispatcher).notice);
    const banner = byId("banner");
    banner.classList.toggle("shown", !!text);
    banner.textContent = text;
    document.body.classList.toggle("with-banner", !!text);
    const at = board.updated_at;
    byId("diperbarui").textContent = at ? `Diperbarui pukul ${jam(at, true)} ${zona(at)}` : "";
  }

  function renderTiles() {
    const svc = services();
    const counters = counterList();
    const devices = deviceList().filter((d) => d.role !== "bridge");  // a link, not a device
    const t = totals();
    const serving = counters.filter((c) => c.serving).length;
    const open = counters.filter((c) => c.status === "open").length;
    const svcOpen = svc.filter((s) => s.open === true).length;
    const online = devices.filter((d) => d.st && d.st.online === true).length;
    const problems = devices.filter((d) => d.st && d.st.online === true && arr(d.st.problems).length).length;
    const noStats = S.stats ? "" : "menunggu data dari server antrean";
    byId("ringkasan").replaceChildren(
      tile("issued", "Tiket diambil", angka(t.issued), null, noStats || "sejak antrean dibuka"),
      tile("served", "Selesai dilayani", angka(t.served), null, noStats || "warga sudah dilayani"),
      tile("waiting", "Menunggu", angka(t.waiting), null, "warga dalam antrean saat ini"),
      tile("avg", "Rata-rata tunggu", menit(t.avg), null, t.waiting ? "warga yang sedang menunggu" : "tidak ada yang menunggu"),
      tile("longest", "Tunggu terlama", menit(t.longest), null, t.waiting ? "di antara yang menunggu" : "tidak ada yang menunggu"),
      tile("no_show", "Tidak hadir", angka(t.no_show), null, noStats || "dipanggil, tidak datang"),
      tile("over", "Melebihi target", persen(t.over, t.judged), null,
           t.judged ? `${t.over} dari ${t.judged} tiket` : "belum ada yang dinilai"),
      tile("counters", "Loket buka", angka(open), counters.length, `${serving} sedang melayani`),
      tile("services", "Layanan buka", angka(svcOpen), svc.length, svc.length - svcOpen ? `${svc.length - svcOpen} tutup` : "semua buka"),
      tile("devices", "Perangkat daring", angka(online), devices.length, problems ? `${problems} perlu diperiksa` : "tidak ada masalah"));
  }

  function stat(cls, label, value, zero) {
    return h("div", {class: "stat " + cls + (zero ? " zero" : "")}, h("span", {class: "k", text: label}), h("b", {text: value}));
  }

  function renderAgencies() {
    const box = byId("instansi");
    if (!S.catalog) {
      box.replaceChildren(h("div", {class: "card"}, h("p", {class: "empty", text: "Menunggu data layanan dari server antrean…"})));
      return;
    }
    box.replaceChildren(...agencies().map((a) => {
      const list = arr(a.services).map(obj);
      const total = list.reduce((n, s) => n + waitingOf(txt(s.code)), 0);
      const share = overTarget(list);
      const rows = list.map((s) => {
        const code = txt(s.code);
        const w = waitingOf(code);
        const st = sameDay() ? statsOf(code) : {};
        const [name, more] = splitName(s.name);
        const left = (s.quota_left === null || s.quota_left === undefined) ? "tanpa batas" : angka(s.quota_left);
        const queue = waitingList(code);
        const who = queue && queue.length
          ? h("div", {class: "who", text: "Menunggu: " + queue.slice(0, 6).map((t) => t.number).join(", ")
                                          + (queue.length > 6 ? ` dan ${queue.length - 6} lagi` : "")})
          : null;
        return h("div", {class: "svc" + (s.open === true ? "" : " closed"), "data-service": code},
          h("span", {class: "prefix", text: s.prefix}),
          h("div", {class: "svc-main"}, h("div", {class: "svc-name", text: name}),
            more ? h("div", {class: "svc-more", text: more}) : null, who,
            s.open === true || !s.closed_reason ? null : h("div", {class: "reason", text: s.closed_reason})),
          h("div", {class: "stats"},
            stat("waiting", "Menunggu", angka(w), !w),
            stat("issued", "Diambil", angka(num(st.issued)), !num(st.issued)),
            stat("served", "Dilayani", angka(num(st.served)), !num(st.served)),
            stat("no-show", "Tidak hadir", angka(num(st.no_show)), !num(st.no_show)),
            stat("quota", "Sisa kuota", left, s.quota_left === 0)),
          h("div", {class: "state"}, s.open === true ? h("span", {class: "pill ok", text: "Buka"})
                                                     : h("span", {class: "pill off", text: "Tutup"})));
      });
      const card = h("section", {class: "card agency", "data-agency": a.id},
        h("header", null,
          h("div", {class: "agency-name"}, h("h3", {text: a.short_name || a.name}), h("div", {class: "sub", text: a.name})),
          h("div", {class: "agency-total"}, h("div", null, h("b", {text: angka(total)}), " menunggu"),
            h("div", {class: "over", text: `Melebihi target: ${persen(share.over, share.judged)}`}))),
        h("div", {class: "svc head"}, h("span"), h("div", {text: "Layanan"}),
          h("div", {class: "stats"}, ["Menunggu", "Diambil", "Dilayani", "Tidak hadir", "Sisa kuota"].map(
            (k) => h("div", {class: "stat", text: k}))), h("div", {class: "state", text: "Status"})),
        rows);
      if (/^#[0-9a-fA-F]{6}$/.test(txt(a.color))) card.style.setProperty("--agency", a.color);
      return card;
    }));
  }

  function renderCounters() {
    const list = counterList();
    const box = byId("loket");
    if (!list.length) { box.replaceChildren(h("p", {class: "empty", text: "Belum ada data loket."})); return; }
    box.replaceChildren(h("div", {class: "ctr head"}, h("div", {text: "Loket"}), h("div", {text: "Status"}),
                          h("div", {text: "Sedang dilayani"}), h("div", {class: "num", text: "Menunggu"})),
      ...list.map((c) => {
        const [label, cls] = own(LOKET, txt(c.status)) ? LOKET[txt(c.status)] : [c.status ? txt(c.status) : "—", "off"];
        return h("div", {class: "ctr", "data-counter": c.counter},
          h("div", null, h("div", {class: "svc-name", text: c.name}), h("div", {class: "codes", text: c.services.map(txt).join(" · ")})),
          h("div", null, h("span", {class: "pill " + cls, text: label}),
            c.status === "paused" && c.reason ? h("div", {class: "reason", text: c.reason}) : null),
          h("div", {class: "serving"}, c.serving
            ? [h("span", {class: "ticket", text: c.serving}),
               num(c.recalls) ? h("span", {class: "tag", title: `Dipanggil ulang ${c.recalls} kali`, text: `ulang ${c.recalls}×`}) : null,
               h("div", {class: "svc-small", text: splitName(c.service_name)[0]})]
            : h("span", {class: "idle", text: "—"})),
          h("div", {class: "num" + (c.waiting ? "" : " zero"), text: c.waiting === undefined ? "—" : angka(c.waiting)}));
      }));
  }

  function renderCalls() {
    const recent = arr(obj(S.board).recent).map(obj);
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
    const day = obj(S.board).business_day;
    const list = S.tickets.map(obj).filter((t) => !day || !t.business_day || t.business_day === day);
    if (!list.length) {
      box.replaceChildren(h("li", {class: "empty", text: "Belum ada tiket baru sejak dasbor dibuka."}));
      return;
    }
    const now = Date.now();
    box.replaceChildren(...list.slice(0, 8).map((t) => h("li",
      {class: arrived[t.number] && now - arrived[t.number] < FRESH_MS ? "new" : null, "data-ticket": t.number},
      h("span", {class: "ticket", text: t.number}),
      h("div", {class: "what"}, h("div", {text: splitName(t.service_name)[0]}),
        h("div", {class: "svc-small", text: t.agency_name})),
      h("div", {class: "right"}, h("span", {class: "time", text: jam(t.issued_at)}),
        t.priority ? h("span", {class: "tag", title: priorityName(t.priority), text: "prioritas"}) : null))));
  }

  // A browser board's row (web/papan_hadir.py): on how many TVs, since when, where; or
  // when it was last seen. A time of another day says its date.
  function waktu(iso) {
    const day = txt(iso).slice(0, 10);
    return day && day !== today ? `${hari(day) || day}, ${jam(iso)}` : jam(iso);
  }
  function tayang(st) {
    const b = obj(st.browser);
    if (st.online === true) {
      const where = arr(b.addresses).map(txt).join(", ");
      return `Tampil di ${angka(b.pages)} layar` + (b.since ? ` sejak ${waktu(b.since)}` : "") + (where ? ` · ${where}` : "");
    }
    return b.last_seen ? `Terakhir tampil ${waktu(b.last_seen)}` : "Tidak tampil di layar mana pun";
  }

  function renderDevices() {
    const list = deviceList();
    const box = byId("perangkat");
    if (!list.length) { box.replaceChildren(h("p", {class: "empty", text: "Belum ada perangkat."})); return; }
    box.replaceChildren(h("div", {class: "devices"}, list.map((d) => {
      const st = d.st;
      const state = !st ? "unknown" : (st.online === true ? "online" : "offline");
      const bridge = d.role === "bridge";  // the site's bridge to the central broker (web/dasbor.py)
      const text = !st ? "belum ada kabar" : (st.online === true ? (bridge ? "tersambung" : "daring")
                                                                  : (bridge ? "terputus" : "luring"));
      const problems = st && st.online === true ? arr(st.problems).map(masalah).filter((p) => p) : [];
      const layar = st && st.browser !== undefined ? tayang(st)
                  : (bridge && st && st.since ? `sejak ${waktu(st.since)}` : "");
      return h("div", {class: "device " + state, "data-device": d.device}, h("span", {class: "dot"}),
        h("div", null, h("div", {class: "name", text: d.device}),
          h("div", {class: "role", text: `${own(PERAN, d.role) ? PERAN[d.role] : txt(d.role)} · ${text}`}),
          layar ? h("div", {class: "layar", text: layar}) : null,
          problems.length ? h("div", {class: "problem", text: problems.join(", ")}) : null));
    })));
  }

  const PARTS = [["ringkasan", renderTiles], ["instansi", renderAgencies], ["loket", renderCounters],
                 ["panggilan", renderCalls], ["tiket", renderTickets], ["perangkat", renderDevices]];
  function render() {
    try { renderHeader(); } catch (e) { console.warn("dasbor: header", e); }
    for (const [id, draw] of PARTS) {
      try {
        draw();
      } catch (e) {   // one odd payload must not blank the whole page
        console.warn("dasbor:", id, e);
        byId(id).replaceChildren(h(id === "panggilan" || id === "tiket" ? "li" : "p",
                                   {class: "empty", text: "Data bagian ini tidak dapat ditampilkan."}));
      }
    }
  }
  let queued = false;
  function schedule() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; render(); });
  }

  function clock(now) {
    const at = Date.parse(txt(now));
    if (!isNaN(at)) { offset = at - Date.now(); today = txt(now).slice(0, 10); }
  }

  // The hub reads the dispatcher's status through the device link, which says what it
  // knows of it (online, problems) instead of passing the status on: its row shows that.
  function fromDispatcher() {
    const d = obj(S.dispatcher);
    if (d.online !== true && d.online !== false) return;
    for (const dev of S.devices.filter((x) => x.role === "dispatcher")) {
      S.status[dev.device] = {...obj(S.status[dev.device]), device: dev.device, role: "dispatcher", online: d.online,
                              problems: arr(d.problems)};
    }
  }

  function keep(where, key, data) {
    if (typeof key !== "string") return;
    if (data) where[key] = data; else delete where[key];
  }

  function apply(u) {
    u = obj(u);
    clock(u.now);
    switch (u.kind) {
      case "board": S.board = u.data; break;
      case "catalog": S.catalog = u.data; break;
      case "stats": S.stats = u.data; break;
      case "counter": keep(S.counters, u.key, u.data); break;
      case "queue": keep(S.queues, u.key, u.data); break;
      case "status": keep(S.status, u.key, u.data); break;
      case "broker": S.broker = !!obj(u.data).connected; break;
      case "dispatcher": S.dispatcher = obj(u.data); fromDispatcher(); break;
      case "ticket": {
        const t = obj(u.data);
        S.tickets = [t, ...S.tickets.filter((x) => obj(x).number !== t.number)].slice(0, 20);
        arrived[t.number] = Date.now();
        setTimeout(schedule, FRESH_MS + 50);
        break;
      }
    }
  }

  function connect() {
    const es = new EventSource("/dasbor/peristiwa");
    es.addEventListener("snapshot", (e) => {
      const snap = obj(JSON.parse(e.data));
      clock(snap.now);
      S.catalog = snap.catalog; S.board = snap.board; S.stats = snap.stats;
      S.counters = obj(snap.counters); S.queues = obj(snap.queues); S.status = obj(snap.status);
      S.tickets = arr(snap.tickets); S.devices = arr(snap.devices).map(obj);
      S.broker = !!snap.broker; S.live = true;
      S.dispatcher = obj(snap.dispatcher);
      fromDispatcher();
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

  document.addEventListener("DOMContentLoaded", () => {
    try { MASALAH = obj(JSON.parse(byId("dasbor").dataset.words || "{}")); } catch (e) { MASALAH = {}; }
    render();
    connect();
    setInterval(schedule, 15000);   // the waits grow while nothing happens
  });
})();
