// LeadBridge embed: draws a published form into each <div data-leadbridge-form="slug"> of the
// page and posts it as JSON to the form's intake API. The browser lets it only from the sites
// the form lists (CORS); field errors come back in the API's error shape and are shown beside
// their fields; a stored post shows the form's thank-you message (or goes to its redirect URL).
(function () {
  "use strict";

  var script = document.currentScript;
  var api = ((script && script.dataset.leadbridgeApi) || new URL(script.src).origin).replace(/\/$/, "");
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  // Plain looks for a page without a stylesheet of its own; a page with Bootstrap gets its
  // classes. Kept to ASCII: the host page decides the charset this file is read in.
  var STYLE =
    ".leadbridge-form{font:16px/1.4 system-ui,sans-serif;max-width:34rem}" +
    ".leadbridge-form .form-label{display:block;margin:.8rem 0 .25rem;font-weight:600}" +
    ".leadbridge-form input:not([type=checkbox]),.leadbridge-form select,.leadbridge-form textarea" +
    "{display:block;width:100%;box-sizing:border-box;padding:.45rem;border:1px solid #adb5bd;border-radius:4px}" +
    ".leadbridge-form .form-check{display:block;margin:.8rem 0}" +
    ".leadbridge-form .form-text{font-size:.85em;color:#6c757d}" +
    ".leadbridge-form [aria-invalid=true]{border-color:#b02a37}" +
    ".leadbridge-form button{margin-top:1rem;padding:.5rem 1.2rem;border:0;border-radius:4px;background:var(--lb-accent,#0d6efd);color:var(--lb-accent-text,#fff)}" +
    ".leadbridge-form.leadbridge-branded{border-top:4px solid var(--lb-accent);padding-top:.5rem}" +
    ".leadbridge-logo{display:block;max-height:64px;max-width:240px;margin-bottom:.5rem}" +
    ".leadbridge-status,.leadbridge-thanks{padding:.75rem;border-radius:4px;margin:.5rem 0}" +
    ".leadbridge-status{background:#f8d7da;color:#58151c}.leadbridge-thanks{background:#d1e7dd;color:#0a3622}";

  function addStyle() {
    if (document.getElementById("leadbridge-style")) return;
    var style = document.createElement("style");
    style.id = "leadbridge-style";
    style.textContent = STYLE;
    document.head.appendChild(style);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function input(field, id) {
    var kind = field.kind;
    var node;
    if (kind === "textarea") {
      node = el("textarea", { rows: "4" });
    } else if (kind === "choice") {
      node = el("select");
      node.appendChild(el("option", { value: "" }, "Choose\u2026"));
      field.choices.forEach(function (choice) { node.appendChild(el("option", { value: choice }, choice)); });
    } else {
      var types = { email: "email", phone: "tel", url: "url", date: "date", number: "number", hidden: "hidden" };
      node = el("input", { type: types[kind] || "text" });
      if (kind === "decimal") node.setAttribute("inputmode", "decimal");
    }
    node.id = id;
    node.name = field.key;
    node.className = kind === "choice" ? "form-select" : "form-control";
    if (field.default) node.value = field.default;
    return node;
  }

  function fieldRow(field, slug) {
    var id = "lb-" + slug + "-" + field.key;
    var row = el("div", { "data-field": field.key, class: "mb-3" });
    var label = el("label", { for: id }, field.label + (field.required ? " *" : ""));
    label.className = "form-label";
    if (field.kind === "hidden") {
      row.appendChild(input(field, id));
      row.hidden = true;
    } else if (field.kind === "consent" || field.kind === "checkbox") {
      var box = el("input", { type: "checkbox", id: id, name: field.key, class: "form-check-input" });
      row.className = "mb-3 form-check";
      label.className = "form-check-label";
      row.appendChild(box);
      row.appendChild(label);
    } else if (field.kind === "multichoice") {
      row.appendChild(el("div", { class: "form-label" }, field.label + (field.required ? " *" : "")));
      field.choices.forEach(function (choice, i) {
        var option = el("label", { class: "form-check" });
        option.appendChild(el("input", { type: "checkbox", name: field.key, value: choice, id: id + "-" + i, class: "form-check-input" }));
        option.appendChild(document.createTextNode(" " + choice));
        row.appendChild(option);
      });
    } else {
      row.appendChild(label);
      row.appendChild(input(field, id));
    }
    if (field.help_text) row.appendChild(el("div", { class: "form-text" }, field.help_text));
    row.appendChild(el("div", { class: "leadbridge-error invalid-feedback d-block", id: id + "-error", style: "color:#b02a37" }));
    return row;
  }

  function values(form, fields, spam) {
    var payload = {};
    fields.forEach(function (field) {
      var inputs = form.querySelectorAll('[name="' + field.key + '"]');
      if (field.kind === "multichoice") {
        payload[field.key] = Array.prototype.filter.call(inputs, function (box) { return box.checked; })
          .map(function (box) { return box.value; });
      } else if (field.kind === "consent" || field.kind === "checkbox") {
        payload[field.key] = inputs[0].checked;
      } else {
        payload[field.key] = inputs[0].value;
      }
    });
    var query = new URLSearchParams(window.location.search);
    var utm = {};
    UTM.forEach(function (tag) { if (query.get(tag)) utm[tag] = query.get(tag); });
    payload.page_url = window.location.href;
    payload.utm = utm;
    if (spam) {
      payload[spam.honeypot] = form.querySelector('[name="' + spam.honeypot + '"]').value;
      payload[spam.token_field] = spam.token;
    }
    return payload;
  }

  // The spam defence (leads/capture/spam.py): a honeypot no person sees or reaches by
  // keyboard; the signed time the form was drawn goes back with the post.
  function honeypot(spam, slug) {
    var trap = el("div", { "aria-hidden": "true", class: "leadbridge-hp",
      style: "position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden" });
    var id = "lb-" + slug + "-" + spam.honeypot;
    trap.appendChild(el("label", { for: id }, "Leave this field empty"));
    trap.appendChild(el("input", { type: "text", id: id, name: spam.honeypot, tabindex: "-1", autocomplete: "off" }));
    return trap;
  }

  function showErrors(form, slug, errors, status) {
    status.innerHTML = "";
    var general = el("ul", { class: "mb-0" });
    Object.keys(errors).forEach(function (name) {
      var messages = errors[name].map(function (problem) { return problem.message; }).join(" ");
      var slot = form.querySelector("#lb-" + slug + "-" + name + "-error");
      if (slot) {
        slot.textContent = messages;
        var control = form.querySelector('[name="' + name + '"]');
        if (control) control.setAttribute("aria-invalid", "true");
      } else {
        general.appendChild(el("li", {}, (name === "__all__" ? "" : name + ": ") + messages));
      }
    });
    status.appendChild(el("p", { class: "mb-1 fw-semibold" }, "Please correct the fields marked below."));
    if (general.children.length) status.appendChild(general);
    status.className = "leadbridge-status alert alert-danger";
    status.hidden = false;
  }

  // The server sends only #rrggbb and https addresses; checked again here, since this script
  // writes them into a style property and an img src on somebody else's page.
  var ACCENT = /^#[0-9a-fA-F]{6}$/;

  function textOn(hex) {
    var lum = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2] > 0.179 ? "#000000" : "#ffffff";
  }

  function brand(form, definition) {
    var accent = definition.accent_color;
    if (typeof accent === "string" && ACCENT.test(accent)) {
      form.style.setProperty("--lb-accent", accent);
      form.style.setProperty("--lb-accent-text", textOn(accent));
      form.classList.add("leadbridge-branded");
    }
    var logo = definition.logo_url;
    if (typeof logo === "string" && /^https:\/\//i.test(logo)) {
      form.appendChild(el("img", { src: logo, alt: definition.name, class: "leadbridge-logo" }));
    }
  }

  function render(root, slug, definition) {
    root.innerHTML = "";
    var form = el("form", { novalidate: "", class: "leadbridge-form", "data-version": definition.version });
    brand(form, definition);
    form.appendChild(el("h3", { class: "h4" }, definition.name));
    if (definition.intro) form.appendChild(el("p", {}, definition.intro));
    var status = el("div", { role: "alert", class: "leadbridge-status" });
    status.hidden = true;
    form.appendChild(status);
    definition.fields.forEach(function (field) { form.appendChild(fieldRow(field, slug)); });
    if (definition.spam) form.appendChild(honeypot(definition.spam, slug));
    var button = el("button", { type: "submit", class: "btn btn-primary" }, "Send");
    form.appendChild(button);
    var sent = { body: null, key: null };

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      form.querySelectorAll(".leadbridge-error").forEach(function (slot) { slot.textContent = ""; });
      form.querySelectorAll("[aria-invalid]").forEach(function (c) { c.removeAttribute("aria-invalid"); });
      var body = JSON.stringify(values(form, definition.fields, definition.spam));
      // The same post again (a double click, a retry after a network error) keeps its key, so
      // it is stored once; changed answers are a new post.
      if (body !== sent.body) sent = { body: body, key: newKey() };
      button.disabled = true;
      fetch(api + "/api/v1/forms/" + encodeURIComponent(slug) + "/submissions/", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": sent.key },
        body: body,
      }).then(function (response) {
        return response.json().then(function (answer) {
          if (response.ok) {
            if (definition.redirect_url) {
              window.location.assign(definition.redirect_url);
              return;
            }
            var thanks = el("div", { class: "alert alert-success leadbridge-thanks", role: "status" }, definition.thank_you_message);
            root.innerHTML = "";
            root.appendChild(thanks);
          } else {
            showErrors(form, slug, answer.errors || {}, status);
          }
        });
      }).catch(function () {
        status.className = "leadbridge-status alert alert-danger";
        status.textContent = "The form could not be sent from this page. Please try again later.";
        status.hidden = false;
      }).then(function () { button.disabled = false; });
    });
    root.appendChild(form);
  }

  function mount(root) {
    var slug = root.getAttribute("data-leadbridge-form");
    root.setAttribute("aria-busy", "true");
    fetch(api + "/api/v1/forms/" + encodeURIComponent(slug) + "/")
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (definition) { render(root, slug, definition); })
      .catch(function () {
        root.textContent = "This form cannot be shown here.";
        root.setAttribute("data-leadbridge-state", "unavailable");
      })
      .then(function () { root.removeAttribute("aria-busy"); });
  }

  function start() {
    addStyle();
    document.querySelectorAll("[data-leadbridge-form]").forEach(mount);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
