/* The officer's console (web/loket.py): one EventSource on /loket/{counter}/peristiwa that
   sends a "view" of the counter at every change, and the presses, each a form POST to
   /loket/{counter}/perintah answered with the dispatcher's Reply.

   Exactly once: every press gets a fresh id made here (crypto.getRandomValues: the LAN
   is plain HTTP, where crypto.randomUUID does not exist); while it waits for its reply
   every button is locked; a press that got no reply (timeout, network, broker gone) is
   kept, and the same press made again is sent with the same id, so the dispatcher
   answers it with its first reply instead of calling a second ticket.

   Every value from the broker goes into the page with textContent, never as markup. */
"use strict";
(function () {
  const main = document.getElementById("konsol");
  if (!main) return;
  const byId = (id) => document.getElementById(id);
  const parse = (s, d) => { try { return JSON.parse(s); } catch (e) { return d; } };
  const COUNTER = main.dataset.counter;
  const CSRF = main.dataset.csrf;
  const SERVICES = parse(main.dataset.services, []);          // [[code, name]] of this counter
  const ALL = parse(main.dataset.allServices, []);            // [[code, name]] of the site
  const PRIORITY = parse(main.dataset.priority, {});          // group id -> name
  const MAX_RECALLS = Number(main.dataset.maxRecalls) || 0;
  const NAMES = Object.fromEntries(ALL);
  const BASE = "/loket/" + encodeURIComponent(COUNTER);
  const FETCH_TIMEOUT_MS = 9000;  // the server gives up on the dispatcher after 5 s
  const STATUS = {open: ["Buka", "ok"], paused: ["Jeda", "warn"], closed: ["Tutup", "off"]};
  const WORKING = {call_next: "Memanggil…", recall: "Memanggil ulang…", no_show: "Menandai tidak hadir…",
                   finish: "Menyelesaikan…", transfer: "Mengalihkan…", call_number: "Memanggil…",
                   open: "Membuka loket…", pause: "Menjeda loket…", close: "Menutup loket…"};

  let V = null;        // the latest view from the server
  let live = false;    // the event stream is open
  let offset = 0;      // the server's clock minus the browser's (ms)
  let busy = null;     // the press waiting for its reply
  let retry = null;    // {id, key} of the last press that got no reply

  // -- reading values of any shape --------------------------------------------------------
  const { txt, obj, num } = window.AntrianNilai;  // nilai.js
  const arr = (v) => (Array.isArray(v) ? v : []);
  const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  function h(tag, cls, text) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined) el.textContent = txt(text);
    return el;
  }
  function jam(iso) {   // "2026-11-23T09:15:02+08:00" -> "09.15" (the site's time, as sent)
    const m = /T(\d{2}):(\d{2})/.exec(txt(iso));
    return m ? `${m[1]}.${m[2]}` : "";
  }
  function menit(iso) {  // minutes from *iso* until now (the server's clock)
    const at = Date.parse(txt(iso));
    if (isNaN(at)) return "";
    const m = Math.max(0, Math.floor((Date.now() + offset - at) / 60000));
    return m < 60 ? `${m} menit` : `${Math.floor(m / 60)} jam ${m % 60} menit`;
  }
  const serviceName = (code) => (own(NAMES, txt(code)) ? NAMES[txt(code)] : txt(code));
  const priorityName = (id) => (own(PRIORITY, txt(id)) ? PRIORITY[txt(id)] : txt(id));

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // -- the link ----------------------------------------------------------------------------
  function problem() {
    if (!live) return "Sambungan ke aplikasi terputus. Menyambung ulang… Tombol dikunci.";
    if (!V) return "Menunggu data dari server antrean…";
    if (V.broker !== true) return "Tidak tersambung ke server antrean. Tombol dikunci sampai sambungan pulih.";
    // A remote counter's console at another office: the site is cut off from the centre (web/hub.py).
    if (arr(obj(V.dispatcher).problems).includes("bridge_down"))  // its words: NOTICES, as the view's notice
      return `${txt(obj(V.dispatcher).notice)}. Tombol dikunci sampai tersambung kembali.`;
    if (obj(V.dispatcher).online === false) return "Server antrean sedang mati. Tombol dikunci sampai menyala kembali.";
    if (!V.state || typeof V.state !== "object") return "Menunggu keadaan loket dari server antrean…";
    return "";
  }

  function showLink() {
    const p = problem();
    const banner = byId("banner");
    banner.textContent = p;
    banner.classList.toggle("shown", !!p);
    const conn = byId("sambungan");
    conn.textContent = p ? "Terputus" : "Tersambung";
    conn.className = "conn " + (p ? "down" : "live");
    document.body.classList.toggle("terkunci", !!p);
  }

  // -- drawing -------------------------------------------------------------------------------
  function state() { return obj(V && V.state); }
  function serving() { const s = state().serving; return s && typeof s === "object" && !Array.isArray(s) ? s : null; }

  function drawServing() {
    const st = state(), t = serving();
    const [word, cls] = STATUS[txt(st.status)] || [st.status ? txt(st.status) : "Belum ada data", "off"];
    const status = byId("status");
    status.textContent = st.status === "paused" && st.reason ? `${word}: ${txt(st.reason)}` : word;
    status.className = "status " + cls;
    byId("nomor").textContent = t ? txt(t.number) : "—";
    byId("nomor").classList.toggle("kosong", !t);
    const prio = byId("prioritas");
    prio.hidden = !(t && t.priority);
    prio.textContent = t && t.priority ? "Prioritas: " + priorityName(t.priority) : "";
    byId("layanan").textContent = t ? txt(t.service_name) || serviceName(t.service)
      : (st.status === "closed" ? "Loket tutup" : "Belum ada nomor yang dilayani");
    const called = t ? jam(V.called_at) : "";
    byId("dipanggil").textContent = called || "—";
    byId("lama").textContent = t && called ? menit(V.called_at) : "—";
    const recalls = num(st.recalls) || 0;
    byId("sisa").textContent = t ? String(Math.max(0, MAX_RECALLS - recalls)) : "—";
  }

  function row(t, recall) {
    const li = h("li", "baris" + (t.priority ? " prio" : ""));
    li.dataset.number = txt(t.number);
    li.append(h("span", "no", t.number));
    const info = h("span", "info");
    info.append(h("span", "svc", serviceName(t.service)));
    if (t.priority) info.append(h("span", "tanda prio", priorityName(t.priority)));
    if (t.transferred_from) info.append(h("span", "tanda", "dari " + serviceName(t.transferred_from)));
    if (t.booking) info.append(h("span", "tanda", "reservasi"));
    li.append(info);
    const since = recall ? t.no_show_at : t.issued_at;
    const when = menit(since);
    li.append(h("span", "tunggu", when ? (recall ? `absen ${when} lalu` : `menunggu ${when}`) : ""));
    const b = h("button", "panggil", recall ? "Panggil kembali" : "Panggil");
    b.type = "button";
    b.dataset.number = txt(t.number);
    b.addEventListener("click", () => press("call_number", {number: txt(t.number)}, b));
    li.append(b);
    return li;
  }

  function drawList(id, countId, items, recall, empty) {
    const ol = byId(id);
    const list = arr(items).map(obj);
    ol.replaceChildren(...list.map((t) => row(t, recall)));
    if (!list.length) ol.append(h("li", "kosong", empty));
    byId(countId).textContent = `(${list.length})`;
  }

  function drawTransfer() {
    const select = byId("ke"), t = serving(), chosen = select.value;
    const here = t ? txt(t.service) : "";
    const options = ALL.filter(([code]) => code !== here).map(([code, name]) => {
      const o = h("option", "", name);
      o.value = code;
      return o;
    });
    select.replaceChildren(...options);
    if (chosen && options.some((o) => o.value === chosen)) select.value = chosen;
  }

  function drawButtons() {
    const st = state(), t = serving(), status = st.status, locked = !!problem() || busy !== null;
    const left = MAX_RECALLS - (num(st.recalls) || 0);
    const can = {call_next: status !== "closed", recall: !!t && status !== "closed" && left > 0, no_show: !!t,
                 finish: !!t, transfer: !!t, call_number: status !== "closed", pause: status !== "closed",
                 open: status !== "open", close: status !== "closed"};
    for (const [action, ok] of Object.entries(can)) byId("b-" + action).disabled = locked || !ok;
    for (const b of document.querySelectorAll(".panel button[data-action]")) {
      b.disabled = locked || !can[b.dataset.action];
    }
    for (const b of document.querySelectorAll(".antrean button.panggil")) b.disabled = locked || !can.call_number;
    main.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function render() {
    showLink();
    if (V) {
      drawServing();
      drawList("menunggu", "jumlah", V.waiting, false, "Tidak ada yang menunggu.");
      const known = arr(V.lists).map(txt);
      const missing = SERVICES.filter(([code]) => !known.includes(code)).map(([, name]) => name);
      byId("layanan-loket").textContent = "Layanan loket ini: " + SERVICES.map(([, name]) => name).join(", ") +
        (missing.length ? ". Daftar antrean belum diterima untuk: " + missing.join(", ") : "");
      drawList("absen", "jumlah-absen", V.recallable, true, "Tidak ada.");
      drawTransfer();
    }
    drawButtons();
  }

  // -- the message line ------------------------------------------------------------------------
  function say(text, kind) {
    const p = byId("pesan");
    p.textContent = text;
    p.className = "pesan " + (kind || "");
  }

  function done(action, ticket, args) {
    const n = txt(obj(ticket).number);
    switch (action) {
      case "call_next": case "call_number": return `Memanggil ${n}.`;
      case "recall": return `Memanggil ulang ${n}.`;
      case "no_show": return `${n} ditandai tidak hadir.`;
      case "finish": return `${n} selesai dilayani.`;
      case "transfer": return `${n} dialihkan ke ${txt(obj(ticket).service_name) || serviceName(args.to_service)}.`;
      case "open": return "Loket dibuka.";
      case "pause": return `Loket dijeda: ${args.reason}.`;
      case "close": return "Loket ditutup.";
    }
    return "Selesai.";
  }

  // -- a press ---------------------------------------------------------------------------------
  async function send(id, action, args) {
    const body = new URLSearchParams({csrf: CSRF, id, action, ...args});
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      const resp = await fetch(BASE + "/perintah", {method: "POST", body, credentials: "same-origin",
                                                     headers: {Accept: "application/json"}, signal: ctl.signal});
      let data = null;
      try { data = await resp.json(); } catch (e) { data = null; }
      return {status: resp.status, data: obj(data)};
    } catch (e) {
      return {status: 0, data: {}};
    } finally {
      clearTimeout(timer);
    }
  }

  async function press(action, args, button) {
    if (busy !== null || problem()) return;
    args = args || {};
    const key = action + "\n" + JSON.stringify(args);
    const id = retry && retry.key === key ? retry.id : newId();
    busy = {id, action};
    if (button) button.classList.add("sedang");
    say(WORKING[action] || "Mengirim…", "info");
    drawButtons();
    const r = await send(id, action, args);
    busy = null;
    if (button) button.classList.remove("sedang");
    const message = txt(obj(r.data.error).message);
    if (r.status === 200 && r.data.ok === true) {
      retry = null;
      say(done(action, r.data.ticket, args), "ok");
      closePanels();
    } else if (r.status === 200) {
      retry = null;  // refused: the dispatcher changed nothing, and says why
      say(message || "Perintah ditolak.", "bad");
    } else if (r.status === 401) {
      say("Sesi Anda sudah berakhir. Silakan masuk lagi.", "bad");
      setTimeout(() => { location.href = "/masuk?lanjut=" + encodeURIComponent(location.pathname); }, 1500);
    } else if (r.status === 400 || r.status === 403) {
      retry = null;
      say(message || (r.status === 403 ? "Akses ditolak. Muat ulang halaman ini." : "Permintaan tidak dapat diproses."),
          "bad");
    } else {
      retry = {id, key};  // no reply: the same press again keeps this id
      say(message || "Belum ada jawaban dari server antrean. Tekan tombol yang sama lagi untuk mencoba ulang; " +
          "nomor tidak akan dipanggil dua kali.", "bad");
    }
    drawButtons();
  }

  // -- panels (transfer, a number, pause, close) -------------------------------------------------
  const PANELS = {alihkan: "p-alihkan", nomor: "p-nomor", jeda: "p-jeda", tutup: "p-tutup"};
  const FOCUS = {alihkan: "ke", nomor: "nomor-ketik", jeda: "alasan"};
  function closePanels() {
    for (const id of Object.values(PANELS)) byId(id).hidden = true;
    for (const b of document.querySelectorAll(".aksi button[data-panel]")) b.setAttribute("aria-expanded", "false");
  }
  function togglePanel(name, button) {
    const form = byId(PANELS[name]);
    const opening = form.hidden;
    closePanels();
    if (!opening) return;
    form.hidden = false;
    button.setAttribute("aria-expanded", "true");
    const focus = FOCUS[name] ? byId(FOCUS[name]) : form.querySelector("button[data-action]");
    if (focus) focus.focus();
  }

  function panelArgs(action) {
    if (action === "transfer") return byId("ke").value ? {to_service: byId("ke").value} : null;
    if (action === "call_number") {
      const n = byId("nomor-ketik").value.trim().toUpperCase();
      if (!n) { say("Ketik nomor antrean yang dipanggil.", "bad"); return null; }
      return {number: n};
    }
    if (action === "pause") {
      const reason = byId("alasan").value.trim();
      if (!reason) { say("Tuliskan alasan jeda.", "bad"); byId("alasan").focus(); return null; }
      return {reason};
    }
    return {};
  }

  function init() {
    for (const b of document.querySelectorAll(".aksi button")) {
      if (b.dataset.panel) {
        b.setAttribute("aria-expanded", "false");
        b.addEventListener("click", () => togglePanel(b.dataset.panel, b));
      } else {
        b.addEventListener("click", () => press(b.dataset.action, {}, b));
      }
    }
    for (const form of document.querySelectorAll("form.panel")) {
      const submit = form.querySelector("button[data-action]");
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const args = panelArgs(submit.dataset.action);
        if (args !== null) press(submit.dataset.action, args, submit);
      });
      form.querySelector(".batal").addEventListener("click", closePanels);
    }
    const keys = {};
    for (const b of document.querySelectorAll(".aksi button[data-key]")) keys[b.dataset.key] = b;
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { closePanels(); return; }
      if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
      const tag = e.target && e.target.tagName;
      if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
      const b = own(keys, e.key.toLowerCase()) ? keys[e.key.toLowerCase()] : null;
      if (b) {
        e.preventDefault();
        if (!b.disabled) b.click();
      }
    });
    render();
    connect();
    setInterval(render, 15000);  // minutes serving and waiting
  }

  // -- the stream ------------------------------------------------------------------------------
  function connect() {
    const es = new EventSource(BASE + "/peristiwa");
    es.addEventListener("open", () => { live = true; render(); });
    es.addEventListener("view", (ev) => {
      const data = parse(ev.data, null);
      if (!data || typeof data !== "object") return;
      V = data;
      live = true;
      const now = Date.parse(txt(data.now));
      if (!isNaN(now)) offset = now - Date.now();
      render();
    });
    es.addEventListener("error", () => {
      live = false;
      render();
      if (es.readyState === EventSource.CLOSED) {  // refused (a restart, 503): try again by hand
        es.close();
        setTimeout(connect, 3000);
      }
    });
  }

  init();
})();
