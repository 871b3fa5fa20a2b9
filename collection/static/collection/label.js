// Keyboard shortcuts and time on task for the label page. No inline script: the
// Content-Security-Policy only allows scripts served from this origin.
(function () {
  "use strict";
  var form = document.getElementById("label-form");
  if (!form) { return; }
  var shown = performance.now();
  // B for response B (L, the old key for the right-hand side, still works).
  var keys = { a: "choice-left", b: "choice-right", l: "choice-right", t: "choice-tie" };
  document.addEventListener("keydown", function (event) {
    // Keys typed into the rationale, or Enter on a link (the "Stop and return" one), are theirs.
    var tag = event.target.tagName;
    if (tag === "TEXTAREA" || tag === "A" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var key = event.key.toLowerCase();
    if (keys[key] && document.getElementById(keys[key])) {
      document.getElementById(keys[key]).checked = true;
    } else if (key === "1" || key === "2" || key === "3") {
      var strength = form.querySelector('input[name="strength"][value="' + key + '"]');
      if (strength) { strength.checked = true; }
    } else if (key === "enter") {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", function () {
    form.querySelector('input[name="time_on_task_ms"]').value = Math.round(performance.now() - shown);
    document.getElementById("submit").disabled = true;
  });
})();
