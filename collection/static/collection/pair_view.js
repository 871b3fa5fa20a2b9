// How the two responses are shown and read: on a phone, A and B are tabs; with the
// study's "both responses read" setting, the choice opens only once each response has
// been shown to its end (its end marker was on screen). The state is kept in
// form.dataset.unread for label.js, which re-enables Submit after a save.
(function () {
  "use strict";
  var form = document.getElementById("label-form");
  var pair = document.querySelector(".pair");
  if (!form || !pair) { return; }
  var panes = { left: document.getElementById("left"), right: document.getElementById("right") };
  var phone = window.matchMedia("(max-width: 800px)");
  var requireBoth = form.dataset.requireBoth === "true";
  var choice = form.querySelector("fieldset.choice");
  var submit = document.getElementById("submit");
  var note = document.getElementById("read-both");
  var seen = { left: false, right: false };

  // --- Tabs (phones) ---------------------------------------------------------------
  var tabs = document.createElement("div");
  tabs.className = "pair-tabs";
  tabs.setAttribute("role", "tablist");
  tabs.setAttribute("aria-label", "Responses");
  var buttons = {};
  ["left", "right"].forEach(function (side) {
    var button = document.createElement("button");
    button.type = "button";
    button.id = "tab-" + side;
    button.setAttribute("role", "tab");
    button.setAttribute("aria-controls", side);
    button.dataset.side = side;
    button.textContent = side === "left" ? "Response A" : "Response B";
    tabs.appendChild(button);
    buttons[side] = button;
  });
  pair.parentNode.insertBefore(tabs, pair);

  function show(side) {
    ["left", "right"].forEach(function (s) {
      var on = !phone.matches || s === side;
      panes[s].hidden = !on;
      buttons[s].setAttribute("aria-selected", String(s === side));
      buttons[s].tabIndex = s === side ? 0 : -1;
      if (phone.matches) { panes[s].setAttribute("role", "tabpanel"); } else { panes[s].removeAttribute("role"); }
    });
    pair.classList.toggle("tabbed", phone.matches);
  }
  tabs.addEventListener("click", function (event) {
    var button = event.target.closest("button[role=tab]");
    if (!button) { return; }
    show(button.dataset.side);
    window.scrollTo(0, pair.offsetTop - tabs.offsetHeight - 8);
  });
  tabs.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") { return; }
    event.preventDefault();
    event.stopPropagation();
    var side = event.key === "ArrowLeft" ? "left" : "right";
    show(side);
    buttons[side].focus();
  });
  phone.addEventListener("change", function () { show("left"); });

  // --- Reading both (a study setting) ----------------------------------------------
  function gate() {
    var unread = ["left", "right"].filter(function (s) { return !seen[s]; });
    if (!requireBoth) { unread = []; }
    form.dataset.unread = unread.join(" ");
    buttons.left.classList.toggle("read", seen.left);
    buttons.right.classList.toggle("read", seen.right);
    if (!requireBoth) { return; }
    choice.disabled = unread.length > 0;
    submit.disabled = unread.length > 0;
    if (note) {
      note.textContent = unread.length
        ? "Read both responses to the end to choose (" + unread.map(function (s) { return s === "left" ? "A" : "B"; }).join(" and ") + " still to read)."
        : "";
    }
  }
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) { seen[entry.target.dataset.side] = true; }
    });
    gate();
  });
  ["left", "right"].forEach(function (side) {
    var end = document.createElement("span");
    end.className = "response-end";
    end.dataset.side = side;
    end.setAttribute("aria-hidden", "true");
    panes[side].appendChild(end);
    observer.observe(end);
  });
  document.addEventListener("pairshown", function () {
    seen = { left: false, right: false };
    show("left");
    // Re-observe: an end already on screen is reported again, so a short pair opens at once.
    ["left", "right"].forEach(function (side) {
      var end = panes[side].querySelector(".response-end");
      observer.unobserve(end);
      observer.observe(end);
    });
    gate();
  });
  show("left");
  gate();
})();
