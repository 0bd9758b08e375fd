/* The board for a smart TV (web/papan.py): the stream in, the picture and the sound out.
 *
 * - The stream (/papan/<id>/aliran) brings `papan` (the board's texts), `call` (one
 *   call; its id is the seq, so a reconnect resumes with Last-Event-ID) and `jam`
 *   (the keep-alive with the server's time). The browser reconnects by itself; a
 *   stream that ends for good, or stays silent past two keep-alives, is opened again
 *   here with ?last=<seq>. While it is gone a banner says so.
 * - Calls are shown one at a time in seq order, each at least min_call_seconds, like
 *   display/announcer.py: a call is said (the server's WAV: chime and sentence) when
 *   it is fresh (at most catch_up_seconds old) and its seq was never said on this TV
 *   (localStorage, written before playing, so a reload never says one twice); an
 *   older one is only shown, and of several only the newest. A call that arrives while
 *   another is said or waits (a backlog) follows it after BACKLOG_HOLD and is said in
 *   the short form, once, without the chime (?ringkas=1), as display/announcer.py does;
 *   a call still waiting when its counter calls again is superseded by that call.
 * - Autoplay refused: a large "Ketuk untuk mengaktifkan suara"; the tap says the call
 *   on screen.
 * - Counters: tiles never smaller than the layout rule of display/view.py (the `layout`
 *   of the papan message: a number of 52 px and a name of 29 px at 1920x1080); more
 *   counters than such tiles fit go on pages that turn every page_seconds (pageGrid, as
 *   display/view.py page_grid); the waiting list, every service in the site file's order,
 *   turns with them when it has more than view.waiting_page rows (view.py waiting_pages).
 *   A board with speaks: false shows calls and plays nothing.
 * - Presence (web/papan_hadir.py): the page has an id, kept in sessionStorage so a reload
 *   keeps it, sent with its stream (?tv=); it answers each keep-alive with a POST to
 *   /papan/<id>/hadir, so the dashboard shows the board online while this page shows it.
 * Every value from the stream goes into the page with textContent.
 * window.papanLog records what happened ({seq, ev: shown|play|ended|error|blocked, t})
 * for the tests and bench/web.py.
 */
(function () {
  "use strict";
  var layar = document.getElementById("layar");
  var d = layar.dataset;
  var cfg = {
    device: d.device, aliran: d.aliran, hadir: d.hadir, suara: d.suara, k: d.k, orientasi: d.orientasi,
    minCall: parseFloat(d.minCall) * 1000, catchUp: parseFloat(d.catchUp), zona: d.zona,
    offset: parseInt(d.offset, 10), hari: JSON.parse(d.hari), bulan: JSON.parse(d.bulan),
    speaks: d.bicara === "1", pageSeconds: parseFloat(d.halaman)
  };
  var LOST = "Koneksi terputus \u2014 menyambung kembali\u2026";
  var MEMORY = "antrian.papan." + cfg.device;
  var BACKLOG_HOLD = 1500;  // ms a call stays before the next one of a backlog (display/announcer.py)
  var audio = document.getElementById("suara");
  var log = window.papanLog = [];
  window.papanFlashes = 0;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function note(seq, ev) { log.push({ seq: seq, ev: ev, t: performance.now() }); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* -- the clock: the server's time in the site's zone (a TV box's own clock is often wrong) -- */
  var skew = parseInt(d.now, 10) - Date.now();
  function tick() {
    var t = new Date(Date.now() + skew + cfg.offset * 60000);
    $("tanggal").textContent = cfg.hari[(t.getUTCDay() + 6) % 7] + ", " + t.getUTCDate() + " " +
      cfg.bulan[t.getUTCMonth()] + " " + t.getUTCFullYear() + ", pukul " + pad(t.getUTCHours()) + "." +
      pad(t.getUTCMinutes()) + " " + cfg.zona;
    banner();
  }

  /* -- the layout: --u is 1px on 1920x1080 or 1080x1920; turned when the TV hangs the other way -- */
  var u = 1, portrait = false;
  function layout() {
    var W = window.innerWidth, H = window.innerHeight, s = layar.style;
    var turn = cfg.orientasi !== "auto" && (W > H) !== (cfg.orientasi === "landscape");
    s.width = (turn ? H : W) + "px";
    s.height = (turn ? W : H) + "px";
    s.transform = turn ? "translate(" + W + "px, 0) rotate(90deg)" : "";
    if (turn) { var w = W; W = H; H = w; }
    portrait = H > W;
    u = portrait ? Math.min(W / 1080, H / 1920) : Math.min(W / 1920, H / 1080);
    s.setProperty("--u", u + "px");
    document.body.classList.toggle("tegak", portrait);
    render();
    marquee();
  }

  // display/view.py page_grid: tiles of at least the layout's minimum, on as few pages as
  // hold them, shared evenly; each page's tiles closest to 1.6:1.
  function pageGrid(count, width, height, L) {
    count = Math.max(1, count);
    var gap = L.gap * u;
    var maxCols = Math.max(1, Math.floor((width + gap) / ((L.tile_min_w + L.gap) * u)));
    var maxRows = Math.max(1, Math.floor((height + gap) / ((L.tile_min_h + L.gap) * u)));
    var pages = Math.ceil(count / (maxCols * maxRows)), perPage = Math.ceil(count / pages);
    var best = null, bestCols = maxCols, bestRows = maxRows;
    for (var cols = 1; cols <= Math.min(maxCols, perPage); cols++) {
      var rows = Math.ceil(perPage / cols);
      if (rows > maxRows) { continue; }
      var shape = (width / cols) / Math.max(1, height / rows);
      var score = Math.abs(shape - 1.6) / 1.6 + 0.02 * (cols * rows - perPage);
      if (best === null || score < best) { best = score; bestCols = cols; bestRows = rows; }
    }
    return { cols: bestCols, rows: bestRows, perPage: perPage, pages: pages };
  }

  function fit() {
    var card = $("terbaru"), cs = getComputedStyle(card);
    var ch = card.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    var cw = card.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    layar.style.setProperty("--ch", ch + "px");
    var name = $("nama-situs");  // as board.kv: the MPP's name shrinks to fit its line
    name.style.fontSize = Math.min(54 * u, name.parentElement.clientWidth / (name.textContent.length * 0.56)) + "px";
    var n = $("nomor"), l = $("loket");
    n.style.fontSize = Math.min(ch * 0.38, cw / (Math.max(3.5, n.textContent.length) * 0.6)) + "px";
    l.style.fontSize = Math.min(ch * 0.17, cw / (Math.max(4, l.textContent.length) * 0.55)) + "px";
    fitTiles();
    Array.prototype.forEach.call($("menunggu").querySelectorAll(".chip-nama"), function (e) {
      // A board name is shown whole: its font shrinks to the chip rather than cut it.
      var wh = parseFloat(getComputedStyle(layar).getPropertyValue("--wh"));
      e.style.fontSize = Math.min(wh * 0.44, e.clientWidth / Math.max(1, e.textContent.length * 0.52)) + "px";
    });
  }

  /* -- counters and the waiting list, page by page -- */
  // page: the turns so far; the counters show page % grid.pages, the waiting list page % its pages.
  var page = 0, grid = { cols: 1, rows: 1, perPage: 1, pages: 1 }, waitingPages = 1;
  function fitTiles() {
    var p = $("petak");
    if (!view) { return; }
    var L = view.layout, gap = L.gap * u;
    p.replaceChildren();
    var W = p.clientWidth, H = p.clientHeight;
    grid = pageGrid(view.tiles.length, W, H, L);
    var cp = page % grid.pages;
    var shown = view.tiles.slice(cp * grid.perPage, (cp + 1) * grid.perPage);
    p.replaceChildren.apply(p, shown.map(function (t) {
      var tile = el("div", t.status === "closed" ? "tutup" : (t.status === "paused" ? "istirahat" : ""));
      if (t.detail === view.closed) { tile.classList.add("tutup-jam"); }
      tile.append(el("div", "petak-nama", t.name), el("div", "petak-nomor", t.number),
                  el("div", "petak-rinci", t.detail || t.agency || "\u00a0"));
      return tile;
    }));
    p.style.gridTemplateColumns = "repeat(" + grid.cols + ", minmax(0, 1fr))";
    p.style.gridTemplateRows = "repeat(" + grid.rows + ", minmax(0, 1fr))";
    var th = (H - gap * (grid.rows - 1)) / grid.rows, tw = (W - gap * (grid.cols - 1)) / grid.cols;
    layar.style.setProperty("--th", th + "px");
    Array.prototype.forEach.call(p.querySelectorAll(".petak-nomor"), function (e) {
      e.style.fontSize = Math.min(th * L.number, tw * 0.9 / Math.max(3.5, e.textContent.length * 0.56)) + "px";
    });
    Array.prototype.forEach.call(p.querySelectorAll(".petak-nama"), function (e) {
      e.style.fontSize = Math.min(th * L.name, tw * 0.9 / Math.max(1, e.textContent.length * 0.56)) + "px";
    });
    Array.prototype.forEach.call(p.querySelectorAll(".petak-rinci"), function (e) {
      e.style.fontSize = Math.max(th * 0.15, Math.min(th * L.detail,
        tw * 0.9 / Math.max(1, e.textContent.length * 0.52))) + "px";
    });
    $("judul-loket").textContent = grid.pages > 1 ? "Loket \u2014 halaman " + (cp + 1) + " dari " + grid.pages
      : "Loket";
  }
  function turnPage() {
    if (grid.pages > 1 || waitingPages > 1) { page += 1; render(); }
  }
  window.papanPage = function (n) {  // tests show each page
    page = n; render();
    return { cols: grid.cols, rows: grid.rows, perPage: grid.perPage, pages: grid.pages, waitingPages: waitingPages };
  };

  // display/view.py waiting_pages: at most view.waiting_page rows a page, shared evenly, in order.
  function renderWaiting() {
    var rows = view.waiting[portrait ? "portrait" : "landscape"], per = Math.max(1, view.waiting_page || 12);
    waitingPages = Math.max(1, Math.ceil(rows.length / per));
    var size = Math.max(1, Math.ceil(rows.length / waitingPages)), wp = page % waitingPages, cols = portrait ? 2 : 3;
    var m = $("menunggu");
    m.replaceChildren.apply(m, rows.slice(wp * size, (wp + 1) * size).map(function (r) {
      var chip = el("div", r.closed ? "tutup" : "");
      chip.append(el("span", "chip-huruf", r.prefix), el("span", "chip-nama", r.name),
                  el("span", "chip-jumlah", r.closed ? view.closed : String(r.count)));
      return chip;
    }));
    m.style.gridTemplateColumns = "repeat(" + cols + ", minmax(0, 1fr))";
    // As many rows on every page as on the fullest: the counters above keep their size.
    m.style.gridTemplateRows = "repeat(" + Math.max(1, Math.ceil(Math.min(rows.length, size) / cols)) + ", var(--wh))";
    $("judul-menunggu").textContent = waitingPages > 1 ? view.waiting_title + " \u2014 halaman " + (wp + 1) +
      " dari " + waitingPages : view.waiting_title;
  }

  function marquee() {
    var t = $("teks-berjalan"), cw = t.parentElement.clientWidth, tw = t.scrollWidth;
    t.style.setProperty("--dari", cw + "px");
    t.style.setProperty("--ke", -tw + "px");
    t.style.animationDuration = ((cw + tw) / (130 * u)) + "s";
  }

  /* -- the board's texts (from the server's `papan` message) -- */
  var view = null;
  function render() {
    if (view) {
      renderWaiting();
      layar.style.setProperty("--wh", (portrait ? 50 : 62) * u + "px");
    }
    renderRecent();
    fit();
  }

  function renderRecent() {
    var list = $("sebelumnya"), limit = view ? view.recent_rows : 3;
    // One row per ticket, its latest call: a recall is not listed twice, nor the big card's ticket.
    var seen = {};
    seen[shownNumber] = true;
    var calls = (view ? view.recent : []).filter(function (c) { return c.seq < shownSeq; })
      .sort(function (a, b) { return b.seq - a.seq; })
      .filter(function (c) { var dup = seen[c.number] === true; seen[c.number] = true; return !dup; })
      .slice(0, limit);
    var items = [];
    for (var i = 0; i < limit; i++) {
      var c = calls[i], li = el("li", c ? "" : "kosong");
      li.append(el("b", "", c ? c.number : ""), el("span", "", c ? c.counter_name : ""));
      items.push(li);
    }
    list.replaceChildren.apply(list, items);
  }

  /* -- the banner: the stream lost (at once), or the server's warning (after 2 s) -- */
  var lost = false, lostSince = 0, warning = "", warningSince = 0;
  function setLost(on) {
    if (on && !lost) { lostSince = Date.now(); }
    lost = on;
    banner();
  }
  function banner() {
    var text = lost && Date.now() - lostSince >= 1000 ? LOST
      : (warning && Date.now() - warningSince >= 2000 ? warning : "");
    var b = $("spanduk");
    if (b.textContent !== text || b.hidden !== !text) {
      b.textContent = text;
      b.hidden = !text;
      fit();
    }
  }

  /* -- calls: one at a time, in seq order, never a seq said twice -- */
  var queue = [], shownSeq = 0, shownAt = -Infinity, busy = 0, timer = null, watchdog = null, blocked = null;
  var shownNumber = "";
  var lastSeq = 0;

  function memory() {
    try { return JSON.parse(window.localStorage.getItem(MEMORY)); } catch (e) { return null; }
  }
  function said(call) {  // as display/announcer.py SpokenMemory
    var m = memory();
    if (!m || typeof m.seq !== "number" || call.seq > m.seq) { return false; }
    // A lower seq made later: the dispatcher's sequence started again.
    return !(call.seq < m.seq && call.at && m.at && Date.parse(call.at) > Date.parse(m.at));
  }
  function remember(call) {
    try {
      window.localStorage.setItem(MEMORY, JSON.stringify({ seq: call.seq, at: call.at, number: call.number }));
    } catch (e) { /* no storage (a private window): the seq in memory still holds for this page */ }
  }
  function fresh(call) { return call.age === null || call.age <= cfg.catchUp; }

  function push(call, speak) {
    lastSeq = Math.max(lastSeq, call.seq);
    if (call.seq <= shownSeq || queue.some(function (i) { return i.call.seq === call.seq; })) { return; }
    if (speak && call.counter) {
      // A call still waiting when its counter calls again is superseded (display/announcer.py).
      var same = function (i) { return i.speak && i.call.counter === call.counter; };
      if (queue.some(function (i) { return same(i) && i.call.seq > call.seq; })) { return; }
      queue = queue.filter(function (i) { return !same(i); });
    }
    // Behind a call being said or waiting: said once, short, without the chime (issue 16).
    queue.push({ call: call, speak: speak, waited: busy !== 0 || queue.length > 0 });
    queue.sort(function (a, b) { return a.call.seq - b.call.seq; });
    pump();
  }

  function pump() {
    clearTimeout(timer);
    timer = null;
    if (busy) { return; }
    // A call only to be shown is passed over when a later one waits: the hall sees the newest.
    while (queue.length > 1 && !queue[0].speak) { queue.shift(); }
    if (!queue.length) { return; }
    var hold = queue[0].waited ? Math.min(cfg.minCall, BACKLOG_HOLD) : cfg.minCall;
    var wait = shownAt + hold - performance.now();
    if (wait > 0) { timer = setTimeout(pump, wait); return; }
    var item = queue.shift();
    show(item.call);
    if (cfg.speaks && item.speak && !said(item.call)) {
      remember(item.call);
      say(item.call, item.waited);
    } else {
      pump();
    }
  }

  function show(call) {
    shownSeq = call.seq;
    shownNumber = call.number;
    shownAt = performance.now();
    $("nomor").textContent = call.number;
    $("menuju").textContent = "silakan menuju";
    $("loket").textContent = call.counter_name;
    $("layanan").textContent = call.recall ? "Panggilan ulang" : call.service;
    var tag = $("tanda-reservasi");  // a checked-in booking's ticket
    tag.textContent = call.booking && view ? view.booking : "";
    tag.hidden = !call.booking;
    var card = $("terbaru");
    card.classList.remove("kilat");
    void card.offsetWidth;  // restarts the animation
    card.classList.add("kilat");
    window.papanFlashes += 1;
    note(call.seq, "shown");
    renderRecent();
    fit();
  }

  function say(call, short) {
    busy = call.seq;
    audio.dataset.seq = String(call.seq);
    var query = (cfg.k ? ["k=" + encodeURIComponent(cfg.k)] : []).concat(short ? ["ringkas=1"] : []);
    audio.src = cfg.suara + call.seq + ".wav" + (query.length ? "?" + query.join("&") : "");
    watchdog = setTimeout(function () { note(call.seq, "timeout"); audio.pause(); done(call.seq); }, 60000);
    var playing = audio.play();
    if (playing && playing.catch) {
      playing.catch(function (err) {
        if (err && err.name === "NotAllowedError") {
          note(call.seq, "blocked");
          blocked = call;
          $("aktifkan").hidden = false;
          $("tombol-suara").focus();
          done(call.seq);
        }
      });
    }
  }

  function done(seq) {
    if (busy !== seq) { return; }
    clearTimeout(watchdog);
    busy = 0;
    pump();
  }

  ["play", "ended", "error"].forEach(function (name) {
    audio.addEventListener(name, function () {
      var seq = parseInt(audio.dataset.seq, 10);
      note(seq, name);
      if (name !== "play") { done(seq); }
    });
  });

  $("tombol-suara").addEventListener("click", function () {
    $("aktifkan").hidden = true;
    var call = blocked;
    blocked = null;
    if (call && call.seq === shownSeq && !busy) { say(call); }  // the tap says the call on screen
  });

  /* -- the stream -- */
  var source = null, heard = Date.now();
  function onView(v) {
    view = v;
    skew = v.now - Date.now();
    if (v.banner !== warning) { warning = v.banner; warningSince = Date.now(); }
    v.recent.forEach(function (c) { if (c.seq > shownSeq) { push(c, fresh(c)); } });
    render();
    banner();
  }
  function listen(name, handle) {
    source.addEventListener(name, function (e) {
      heard = Date.now();
      setLost(false);
      handle(JSON.parse(e.data));
    });
  }
  var tv = (function () {  // this tab's id: the same across a reload, so it is counted once
    var id = null;
    try { id = window.sessionStorage.getItem("antrian.tv"); } catch (e) { id = null; }
    if (!id || !/^[A-Za-z0-9_-]{8,40}$/.test(id)) {
      var bytes = new Uint8Array(12);
      window.crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      try { window.sessionStorage.setItem("antrian.tv", id); } catch (e) { /* private mode: one id per load */ }
    }
    return id;
  }());
  function withParam(url, name, value) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + name + "=" + encodeURIComponent(value);
  }
  function present() {  // the answer to a keep-alive: this page still shows the board
    if (!window.fetch || !cfg.hadir) { return; }
    window.fetch(withParam(cfg.hadir, "tv", tv), {method: "POST", cache: "no-store"}).catch(function () {});
  }
  function connect() {
    heard = Date.now();
    var url = withParam(cfg.aliran, "tv", tv);
    if (lastSeq) { url = withParam(url, "last", lastSeq); }
    source = new EventSource(url);
    listen("papan", onView);
    listen("call", function (c) { push(c, fresh(c)); });
    listen("jam", function (j) { skew = j.now - Date.now(); present(); });
    source.addEventListener("open", function () { heard = Date.now(); setLost(false); });
    source.addEventListener("error", function () {
      setLost(true);
      if (source.readyState === EventSource.CLOSED) {  // an HTTP error ends it for good: open it again
        source.close();
        setTimeout(connect, 3000);
      }
    });
  }
  setInterval(function () {  // silent past two keep-alives: a dead connection nobody closed
    if (Date.now() - heard > 40000) { source.close(); setLost(true); connect(); }
  }, 5000);

  window.addEventListener("resize", layout);
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(layout); }
  layout();
  tick();
  setInterval(tick, 1000);
  setInterval(turnPage, cfg.pageSeconds * 1000);
  connect();
}());
