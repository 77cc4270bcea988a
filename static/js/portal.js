// Small enhancements on every portal page; each page works without them.
(function () {
  // After a refused post, focus goes to the list of what to correct, so a screen reader
  // reads it and a keyboard user starts from there, not from the top of the page.
  var summary = document.querySelector("[data-lb-focus]");
  if (summary) summary.focus();
  // The main menu collapses behind a button below Bootstrap's lg breakpoint. Without
  // JavaScript it stays open (stacked), so every link and "Log out" stay reachable.
  // Bootstrap's own bundle (80 KB) would be loaded on every page for this one toggle.
  var button = document.querySelector("[data-lb-toggle]");
  if (button) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    menu.classList.add("collapse");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("show", open);
    });
  }
  // On a desktop the account's links fold into a menu behind the user's name (Escape or a
  // click elsewhere closes it); on a phone they are listed in the main menu.
  var account = document.querySelector("[data-lb-account]");
  if (account) {
    var panel = document.getElementById(account.getAttribute("aria-controls"));
    var setOpen = function (open) {
      account.setAttribute("aria-expanded", String(open));
      panel.classList.toggle("show", open);
    };
    panel.classList.add("lb-dropdown");
    account.hidden = false;
    account.addEventListener("click", function () {
      setOpen(account.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("click", function (event) {
      if (!account.contains(event.target) && !panel.contains(event.target)) setOpen(false);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && panel.classList.contains("show")) {
        setOpen(false);
        account.focus();
      }
    });
  }
  // Tables marked lb-stack become one card per row on a phone (leadbridge.css); each cell
  // shows its column's heading, taken from the table's header when the page did not set one.
  document.querySelectorAll("table.lb-stack").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (i > 0 && heads[i] && !cell.hasAttribute("data-label")) {
          cell.setAttribute("data-label", heads[i]);
        }
      });
    });
  });
  // A table wider than its box scrolls sideways; keyboard users can scroll it only once it
  // takes focus (axe's scrollable-region-focusable), so only the ones that overflow do.
  document.querySelectorAll(".table-responsive").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      var caption = box.querySelector("caption");
      box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
    }
  });
})();
