/* Reading values of any shape from the wire, for the staff pages: whatever arrives over MQTT
   (a number where a list belongs, an object where a text belongs) is shown as what it is and
   never breaks a page. Loaded before the page's own script: window.AntrianNilai. */
"use strict";
window.AntrianNilai = (function () {
  function txt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    let s;
    try { s = JSON.stringify(v); } catch (e) { s = String(v); }
    return s.length > 200 ? s.slice(0, 200) + "…" : s;
  }
  const obj = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : {});
  const num = (v) => (typeof v === "number" && isFinite(v) ? v : null);
  return { txt: txt, obj: obj, num: num };
})();
