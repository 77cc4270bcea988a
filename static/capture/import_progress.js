// The import's progress bar: polls the import's JSON until it is finished.
(function () {
var box = document.getElementById("import-progress");
if (box.dataset.finished === "true") return;
function show(state) {
  var bar = document.getElementById("import-bar");
  bar.style.width = state.percent + "%";
  bar.setAttribute("aria-valuenow", state.percent);
  bar.textContent = state.percent + " %";
  document.getElementById("import-status").textContent = state.status_label;
  ["processed", "created", "updated", "unchanged", "skipped"].forEach(function (name) {
    document.getElementById("import-" + name).textContent = state[name];
  });
  if (state.failure) {
    var failure = document.getElementById("import-failure");
    failure.textContent = state.failure;
    failure.classList.remove("d-none");
  }
  if (state.finished) {
    bar.classList.remove("progress-bar-striped", "progress-bar-animated");
    document.getElementById("import-report").classList.remove("d-none");
  }
  return state.finished;
}
function poll() {
  fetch(box.dataset.url, {headers: {"Accept": "application/json"}})
    .then(function (r) { return r.json(); })
    .then(function (state) { if (!show(state)) setTimeout(poll, 1000); })
    .catch(function () { setTimeout(poll, 3000); });
}
poll();
})();
