// The iframe embed (leads/capture/builder/views.py IFRAME_SNIPPET): gives each LeadBridge
// frame on this page the page's own address and its utm_* tags, in the frame's URL. The
// hosted page carries them into its post, so the submission records the host page (not
// LeadBridge's) and the campaign that brought the visitor. A file, not an inline script:
// both sites' Content Security Policies allow it.
(function () {
  "use strict";
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

  function carry(frame) {
    var url = new URL(frame.getAttribute("data-leadbridge-src"), document.baseURI);
    var here = new URLSearchParams(window.location.search);
    UTM.forEach(function (tag) {
      if (here.get(tag) && !url.searchParams.get(tag)) url.searchParams.set(tag, here.get(tag));
    });
    url.searchParams.set("page_url", window.location.href);
    frame.removeAttribute("data-leadbridge-src");
    frame.src = url.toString();
  }

  function start() {
    document.querySelectorAll("iframe[data-leadbridge-src]").forEach(carry);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
