// /reservasi: the page works without this script; it only shows the print button on the
// booking confirmation (printing is the browser's own menu otherwise).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("cetak");
  if (button && typeof window.print === "function") {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
});
