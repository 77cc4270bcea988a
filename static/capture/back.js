// "Go back to the form" on the web-to-lead error page: the form is on the sender's own site,
// so only the browser's history knows where it was. (A script file, not a javascript: link,
// which the Content-Security-Policy refuses.)
document.addEventListener("click", (event) => {
  if (!event.target.closest("[data-history-back]")) return;
  event.preventDefault();
  history.back();
});
