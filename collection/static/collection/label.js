// The label page: keyboard shortcuts, time on task, the strength question off for a tie,
// and submitting through the JSON API so the next pair replaces this one without a page
// load. Without JavaScript the form posts as a plain page. No inline script: the
// Content-Security-Policy only allows scripts served from this origin.
(function () {
  "use strict";
  var form = document.getElementById("label-form");
  if (!form) { return; }
  var shown = performance.now();
  var submitButton = document.getElementById("submit");
  var status = document.getElementById("label-status");
  var strength = document.getElementById("strength");
  var heading = document.getElementById("pair-heading");
  // The strength the server preselected (none where the study grades y by it): each new
  // pair starts from it again.
  var strengthDefault = chosen("strength");
  var busy = false;
  // B for response B (L, the old key for the right-hand side, still works).
  var keys = { a: "choice-left", b: "choice-right", l: "choice-right", t: "choice-tie" };

  function field(name) { return form.querySelector('[name="' + name + '"]'); }
  function chosen(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }
  // A tie has no "how much better": disabled inputs are neither sent nor focusable.
  // (A pretest's page has no strength question.)
  function syncStrength() { if (strength) { strength.disabled = chosen("choice") === "tie"; } }
  form.addEventListener("change", syncStrength);
  syncStrength();

  function say(text, isError) {
    status.textContent = text;
    status.className = "label-status" + (isError ? " error" : " saved");
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }
  function api(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": field("csrfmiddlewaretoken").value },
      body: body ? JSON.stringify(body) : null
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }
  function showProgress(progress) {
    var bar = document.querySelector("progress");
    var text = document.querySelector(".progress-label");
    if (bar) { bar.value = progress.done; bar.max = progress.total; }
    if (text) { text.textContent = progress.done + " / " + progress.total; }
    heading.textContent = "Pair " + (progress.done + 1) + " of " + progress.total + ": which response is better?";
  }
  function showPair(pair, progress) {
    document.getElementById("prompt-md").innerHTML = pair.prompt_html;
    document.getElementById("left-md").innerHTML = pair.left_html;
    document.getElementById("right-md").innerHTML = pair.right_html;
    field("assignment_id").value = pair.assignment_id;
    field("submission_id").value = newId();
    form.querySelectorAll('input[name="choice"]').forEach(function (input) { input.checked = false; });
    form.querySelectorAll('input[name="strength"]').forEach(function (input) {
      input.checked = input.value === strengthDefault;
    });
    field("rationale").value = "";
    syncStrength();
    showProgress(progress);
    document.querySelectorAll(".response").forEach(function (pane) { pane.scrollTop = 0; });
    window.scrollTo(0, 0);
    shown = performance.now();
    document.dispatchEvent(new CustomEvent("pairshown"));
    // Focus the (visually hidden) heading so a screen reader reads the new pair's position
    // and keyboard users start from the top again.
    heading.focus();
  }
  function submitByApi() {
    var body = {
      assignment_id: Number(field("assignment_id").value),
      submission_id: field("submission_id").value,
      choice: chosen("choice"),
      rationale: field("rationale").value,
      time_on_task_ms: Math.round(performance.now() - shown)
    };
    if (body.choice !== "tie") { body.strength = Number(chosen("strength")); }
    busy = true;
    submitButton.disabled = true;
    api(form.dataset.labelUrl, body).then(function (result) {
      if (result.status === 200 || result.status === 201) {
        if (result.data.completed) { window.location.assign(form.dataset.doneUrl); return; }
        // The label's response carries the next pair; ask for it only if it does not.
        var next = result.data.next ? Promise.resolve({ status: 200, data: result.data.next })
                                    : api(form.dataset.nextUrl);
        return next.then(function (next) {
          if (next.status === 200 && next.data.pair) {
            showPair(next.data.pair, next.data.progress);
            say("Saved. Pair " + (next.data.progress.done + 1) + " of " + next.data.progress.total + ".", false);
          } else {
            window.location.assign(window.location.pathname);
          }
        });
      }
      // The submission id is kept, so trying again can never store the label twice.
      if (result.status === 429) {
        say("Too many labels in a short time. Wait a moment, then submit again.", true);
      } else if (result.status === 401 || result.status === 403) {
        say("Your session has ended. Reload the page to continue.", true);
      } else {
        say((result.data.detail || "The label was not saved") + ". Submit again.", true);
      }
    }).catch(function () {
      say("No connection: the label was not confirmed. Submit again; it will be stored once.", true);
    }).then(function () {
      busy = false;
      // pair_view.js keeps Submit off until both responses of the new pair are read.
      submitButton.disabled = Boolean(form.dataset.unread);
    });
  }

  document.addEventListener("keydown", function (event) {
    // Keys typed into the rationale, or Enter on a link (the "Stop and return" one), are theirs.
    var tag = event.target.tagName;
    if (tag === "TEXTAREA" || tag === "A" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var key = event.key.toLowerCase();
    var input = keys[key] && document.getElementById(keys[key]);
    if (input) {
      if (input.matches(":disabled")) { return; }  // both responses not read yet
      input.checked = true;
      syncStrength();
    } else if ((key === "1" || key === "2" || key === "3") && strength && !strength.disabled) {
      var level = form.querySelector('input[name="strength"][value="' + key + '"]');
      if (level) { level.checked = true; }
    } else if (key === "enter") {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  // The browser holds back a form with a question unanswered (the strength, too, where a
  // graded study requires it); the status line says what is missing as well.
  var missing = {
    choice: "Choose which response is better, then submit.",
    strength: "Say how much better the chosen response is (keys 1-3), then submit."
  };
  form.addEventListener("invalid", function (event) {
    say(missing[event.target.name] || "Answer every question, then submit.", true);
  }, true);
  form.addEventListener("submit", function (event) {
    field("time_on_task_ms").value = Math.round(performance.now() - shown);
    if (!window.fetch || !form.dataset.labelUrl) {
      submitButton.disabled = true;
      return;
    }
    event.preventDefault();
    if (!busy) { submitByApi(); }
  });
  form.dataset.ready = "true";  // for tests: the handlers above are in place
})();
