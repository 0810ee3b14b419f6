// spec-kitty dashboard: in-page navigation and live updates.
// The server renders every page; this script only swaps <main> for the page
// at a new URL (links, back/forward) or at the same URL when the project
// changes (Server-Sent Events, falling back to polling /api/version).
(function () {
  "use strict";
  var seq = 0;
  var busy = false;
  var again = false;
  var pollTimer = null;

  function view() { return document.getElementById("view"); }
  function shown() { return Number(view().getAttribute("data-version") || 0); }
  function live(state, text) {
    var el = document.getElementById("live");
    if (el) { el.className = "live " + state; el.textContent = text; }
  }

  // Fetch `url`, put its <main> and breadcrumbs in place of ours.
  function load(url, push) {
    var mine = ++seq;
    return fetch(url, { headers: { Accept: "text/html" }, cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (text) {
        if (mine !== seq) { return; }
        var doc = new DOMParser().parseFromString(text, "text/html");
        var main = doc.getElementById("view");
        if (!main) { window.location.assign(url); return; }
        var crumbs = doc.querySelector("nav.crumbs");
        var ours = document.querySelector("nav.crumbs");
        if (crumbs && ours) { ours.replaceWith(document.importNode(crumbs, true)); }
        view().replaceWith(document.importNode(main, true));
        document.title = doc.title;
        if (push) { history.pushState(null, "", url); window.scrollTo(0, 0); }
        document.documentElement.setAttribute("data-loaded", String(shown()));
      });
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    load(location.pathname + location.search, false)
      .catch(function () { live("offline", "offline"); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  document.addEventListener("click", function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) { return; }
    var a = e.target.closest ? e.target.closest("a") : null;
    if (!a) { return; }
    var href = a.getAttribute("href") || (a.href && a.href.baseVal);
    if (!href || a.getAttribute("target")) { return; }
    var url = new URL(href, location.href);
    if (url.origin !== location.origin) { return; }
    e.preventDefault();
    load(url.pathname + url.search, true).catch(function () { window.location.assign(url.href); });
  });
  window.addEventListener("popstate", function () { refresh(); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });

  function poll() {
    fetch("/api/version", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        live("polling", "live (polling)");
        if (j.version !== shown()) { refresh(); }
      })
      .catch(function () { live("offline", "offline"); });
  }
  function startPolling() { if (!pollTimer) { pollTimer = setInterval(poll, 1000); } }
  function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }

  if (window.EventSource) {
    var es = new EventSource("/api/events");
    es.addEventListener("version", function (ev) {
      stopPolling();
      live("on", "live");
      if (Number(ev.data) !== shown()) { refresh(); }
    });
    // EventSource reconnects by itself; poll until it does.
    es.onerror = function () { live("offline", "reconnecting"); startPolling(); };
  } else {
    startPolling();
  }
})();
