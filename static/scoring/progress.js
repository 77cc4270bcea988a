// The progress bars of bulk runs (re-scoring, clocks counted again): each polls its run every
// 2 s until it is done. Without JavaScript a page shows the progress as of its loading, and a
// Refresh link. Loaded once per bar: the first copy does them all.
(function () {
  if (window.leadbridgeRunProgress) return;
  window.leadbridgeRunProgress = true;
  function follow(bar) {
    const inner = bar.querySelector(".progress-bar");
    const words = document.getElementById(bar.dataset.words);
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
      words.textContent = run.words;
      const resumed = document.getElementById(bar.dataset.resumed);
      if (resumed && run.resumed) {
        resumed.textContent = run.resumed;
        resumed.classList.remove("d-none");
      }
      if (run.finished) {
        inner.classList.remove("progress-bar-striped", "progress-bar-animated");
        if (run.failed) inner.classList.add("bg-danger");
      } else {
        setTimeout(poll, 2000);
      }
    }
    setTimeout(poll, 2000);
  }
  function start() {
    document.querySelectorAll(".js-run-progress[data-running]").forEach(follow);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
