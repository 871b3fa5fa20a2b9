// Keeps an open results page current: polls the study's status every few seconds and,
// when a refresh has stored new estimates, swaps in the new tables and figures.
(function () {
  "use strict";
  var main = document.getElementById("results");
  if (!main || !window.fetch) return;
  var every = 5000;
  var busy = false;

  function clock() {
    var now = new Date();
    return [now.getHours(), now.getMinutes(), now.getSeconds()]
      .map(function (n) { return String(n).padStart(2, "0"); }).join(":");
  }

  function swap() {
    return fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var live = fresh.getElementById("live");
        var next = fresh.getElementById("results");
        if (!live || !next) return;
        document.getElementById("live").replaceWith(document.importNode(live, true));
        main.dataset.watermark = next.dataset.watermark;
        document.getElementById("updated-at").textContent = clock();
      });
  }

  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(main.dataset.status, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) {
        if (String(s.watermark) !== main.dataset.watermark) return swap();
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { busy = false; });
  }

  window.setInterval(poll, every);
})();
