// The agreement page's re-scoring bar: polls its progress every 2 s until it is done.
// Without JavaScript the page shows the progress as of its loading, and a Refresh link.
(function () {
  const bar = document.getElementById("rescore-progress");
  if (!bar || !bar.dataset.running) return;
  const inner = bar.querySelector(".progress-bar");
  const words = document.getElementById("rescore-words");
  async function poll() {
    let run;
    try {
      const response = await fetch(bar.dataset.url, { headers: { Accept: "application/json" } });
      if (!response.ok) return setTimeout(poll, 5000);
      run = await response.json();
    } catch (error) {
      return setTimeout(poll, 5000);
    }
    bar.setAttribute("aria-valuenow", run.percent);
    inner.style.width = run.percent + "%";
    inner.textContent = run.percent + " %";
    if (run.finished) {
      inner.classList.remove("progress-bar-striped", "progress-bar-animated");
      words.textContent = "Done: " + run.done + " of " + run.total +
        " disqualified leads judged again; " + run.qualified + " now qualify and go to routing.";
    } else {
      words.textContent = run.done + " of " + run.total +
        " disqualified leads judged again so far; " + run.qualified + " now qualify.";
      setTimeout(poll, 2000);
    }
  }
  setTimeout(poll, 2000);
})();
