// The inbox's keyboard: j/k move between leads, o opens, a accepts, r rejects, ? shows the
// keys. Each key only presses what the row already offers to the mouse (and what works
// without JavaScript): a link or a button drawn from the table of moves.
(function () {
  var help = document.getElementById("inbox-keys");
  var helpButton = document.querySelector("[data-lb-keys]");
  var selected = null; // the chosen lead's id, kept when htmx redraws the rows

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#inbox-table tr[data-lead]"));
  }

  function current() {
    return rows().filter(function (row) { return row.dataset.lead === selected; })[0] || null;
  }

  function choose(row, focus) {
    rows().forEach(function (other) {
      other.classList.remove("lb-selected");
      other.removeAttribute("aria-current");
    });
    if (!row) { selected = null; return; }
    selected = row.dataset.lead;
    row.classList.add("lb-selected");
    row.setAttribute("aria-current", "true");
    if (focus) row.querySelector("a.lead-link").focus();
  }

  function step(by) {
    var all = rows();
    if (!all.length) return;
    var at = all.indexOf(current());
    var next = at < 0 ? 0 : Math.min(all.length - 1, Math.max(0, at + by));
    choose(all[next], true);
  }

  function press(key) {
    var row = current();
    var control = row && row.querySelector('[data-key="' + key + '"]');
    if (control) control.click();
  }

  function showHelp() {
    if (help && !help.open) help.showModal();
  }

  if (helpButton && help) {
    helpButton.hidden = false;
    helpButton.addEventListener("click", showHelp);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (help && help.open) return; // the dialog has the keys (Esc closes it)
    if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
    switch (event.key) {
      case "j": step(1); break;
      case "k": step(-1); break;
      case "o": var row = current(); if (row) row.querySelector("a.lead-link").click(); break;
      case "a": press("a"); break;
      case "r": press("r"); break;
      case "?": showHelp(); break;
      default: return;
    }
    event.preventDefault();
  });

  // A click or a tab into a row chooses it, so the keys act on the row the user is in.
  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest("#inbox-table tr[data-lead]");
    if (row) choose(row, false);
  });

  // htmx redrew the rows (new assignments): the chosen lead stays chosen, and the focus
  // goes back to it if it was inside the rows.
  document.body.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    document.body.dataset.lbHadFocus = active && active.closest && active.closest("#inbox-results") ? "1" : "";
  });
  document.body.addEventListener("htmx:afterSwap", function () {
    var row = current();
    choose(row, Boolean(row && document.body.dataset.lbHadFocus));
  });
})();
