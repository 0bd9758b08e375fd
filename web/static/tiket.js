// The citizen's live ticket (/t/{token}): keeps the page in step with the server's
// status (web/tiket.py) and rings when the number is called.
//
// - The status comes from the event stream (/t/{token}/peristiwa); when the stream
//   fails three times in a row, or is refused for good, the page polls
//   /t/{token}/status every POLL_MS instead (data-mode="poll").
// - Every text comes from the status and goes in with textContent.
// - A call rings once: the chime (/t/bunyi.wav), navigator.vibrate and a flash,
//   for every call seq not rung before (kept in localStorage, so a reload does not
//   ring again), or on a change into "called" when the seq is unknown. A phone lets
//   a page make sound and vibrate only after a tap: the "Aktifkan suara dan getar"
//   button is that tap.
"use strict";

(function () {
  const POLL_MS = 5000;
  const FAILURES = 3;
  const root = document.getElementById("tiket");
  if (!root) {
    return;
  }
  const $ = (id) => document.getElementById(id);
  const audio = $("chime");
  const seqKey = "tiket-seq:" + root.dataset.token;
  let rung = Number(window.localStorage.getItem(seqKey) || root.dataset.seq || 0);
  let state = root.dataset.state;
  let alerts = 0;
  let played = 0;

  audio.addEventListener("playing", () => {
    played += 1;
    root.dataset.played = String(played);
  });

  function setText(id, value) {
    const el = $(id);
    el.textContent = value || "";
    el.hidden = !value;
  }

  function ring() {
    alerts += 1;
    root.dataset.alerts = String(alerts);
    try {
      audio.currentTime = 0;
      const playing = audio.play();
      if (playing && playing.catch) {
        playing.catch(() => {});
      }
    } catch (e) {
      // no sound on this phone: the screen and the vibration still say it
    }
    if (navigator.vibrate) {
      navigator.vibrate([400, 200, 400, 200, 800]);
    }
    root.classList.remove("flash");
    void root.offsetWidth; // restart the animation
    root.classList.add("flash");
  }

  function show(status) {
    const texts = status.texts || {};
    const before = state;
    state = status.state;
    root.dataset.state = state;
    root.className = root.className.replace(/\bstate-\S+/, "state-" + state);
    $("number").textContent = status.number;
    $("service").textContent = status.service_name || "";
    $("headline").textContent = texts.headline || "";
    ["ahead", "wait", "basis", "note"].forEach((key) => setText(key, texts[key]));
    // A remote counter's video call: a real link, only to an http(s) address.
    const url = typeof status.meeting_url === "string" && /^https?:\/\//i.test(status.meeting_url) ? status.meeting_url : "";
    $("meeting").href = url || "#";
    $("meeting-row").hidden = !url;
    $("survei").hidden = !status.survey;
    $("survey-form").hidden = status.survey !== "open";
    $("survey-sent").hidden = status.survey !== "sent";
    $("banner").classList.toggle("shown", status.online === false);
    document.title = (state === "called" ? texts.headline : "Nomor antrean " + status.number);
    if (state !== "called") {
      root.classList.remove("flash");
    } else {
      const seq = Number(status.call_seq || 0);
      if (seq > rung || (!seq && before !== "called")) {
        rung = Math.max(rung, seq);
        window.localStorage.setItem(seqKey, String(rung));
        ring();
      }
    }
  }

  let polling = false;

  function poll() {
    if (polling) {
      return;
    }
    polling = true;
    root.dataset.mode = "poll";
    const tick = () => {
      fetch(root.dataset.statusUrl, { cache: "no-store", credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
        .then(show, () => $("banner").classList.add("shown"))
        .finally(() => window.setTimeout(tick, POLL_MS));
    };
    tick();
  }

  function stream() {
    if (!window.EventSource) {
      poll();
      return;
    }
    root.dataset.mode = "stream";
    let failures = 0;
    const source = new EventSource(root.dataset.streamUrl);
    source.addEventListener("status", (e) => {
      failures = 0;
      show(JSON.parse(e.data));
    });
    source.onerror = () => {
      failures += 1;
      $("banner").classList.add("shown");
      if (failures >= FAILURES || source.readyState === EventSource.CLOSED) {
        source.close();
        poll();
      }
    };
  }

  $("sound-on").addEventListener("click", () => {
    // The tap that lets this page sound and vibrate later; the chime plays once now
    // so the citizen knows what to listen for.
    audio.currentTime = 0;
    const playing = audio.play();
    if (playing && playing.catch) {
      playing.catch(() => {});
    }
    if (navigator.vibrate) {
      navigator.vibrate(200);
    }
    $("sound-on").classList.add("on");
    $("sound-on").textContent = "Suara dan getar aktif";
    $("sound-hint").textContent = "Biarkan halaman ini terbuka; ponsel berbunyi saat nomor Anda dipanggil.";
  });

  stream();
})();
