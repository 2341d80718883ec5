// The service worker (served at /sw.js, so that it covers the whole site).
//
// Once a coordinator has signed in online, Record a visit (the site choice and each of their sites'
// forms) and its scripts and styles are kept on the device, so the page opens without a network. The home
// page and the stock pages are kept as last read: offline they open with their figures and the time they
// were read. A visit sent while the
// network is down is kept on the device (offline-queue.js) and the page sends it when it returns.
// Signing out asks first when visits are still waiting, and forgets the kept pages.
importScripts("/static/js/offline-queue.js");

var VERSION = "v3"; // v2: the home and stock pages, as last read; v3: who a visit is for
var SHELL = "visit-shell-" + VERSION; // scripts, styles, icon
var PAGES = "visit-pages-" + VERSION; // the encounter pages: the coordinator's sites, items and quick picks
var ASSETS = [
  "/static/vendor/pico/pico.min.css",
  "/static/css/app.css",
  "/static/css/encounters.css",
  "/static/css/reports.css",
  "/static/vendor/htmx/htmx.min.js",
  "/static/js/app.js",
  "/static/js/encounters.js",
  "/static/js/offline-queue.js",
  "/static/favicon.svg"
];
// The same policy as the server's pages: no inline script or style.
var CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

self.addEventListener("install", function (event) {
  event.waitUntil(Promise.all([
    caches.open(SHELL).then(function (cache) { return cache.addAll(ASSETS); }),
    pages()
  ]).then(function () { return self.skipWaiting(); }));
});

// One open of the pages' cache for all that keeps and reads pages: two opens of a cache not yet made
// can each make one (Chromium), and pages kept in the one that loses would be lost.
var pagesCache = null;
function pages() {
  if (!pagesCache) pagesCache = caches.open(PAGES);
  return pagesCache;
}

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    // Only this worker's older versions: other caches of the site are not its business.
    var old = names.filter(function (name) { return name.indexOf("visit-") === 0 && name !== SHELL && name !== PAGES; });
    return Promise.all(old.map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// The encounter page and the site choice name the pages to keep (the page may not be looked after yet);
// any other page of a person who records visits asks for all of them, so that signing in online is enough.
self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "keep-pages" && Array.isArray(data.paths)) event.waitUntil(keepPages(data.paths));
  if (data.type === "keep-visit-pages") event.waitUntil(keepVisitPages());
});

// Record a visit as the server shows it to the person signed in: the site choice and each site's form
// (or, for a person with one site, its form). At most once in REFRESH_MS: every page asks.
var REFRESH_MS = 10 * 60 * 1000;
var keptAt = 0;
function keepVisitPages() {
  if (Date.now() - keptAt < REFRESH_MS) return Promise.resolve();
  keptAt = Date.now();
  return fetch("/encounters", { credentials: "same-origin" }).then(function (page) {
    var path = new URL(page.url).pathname;
    // Signed out meanwhile (a redirect to sign in), or not allowed: nothing is kept.
    if (!page.ok || !isVisitPage(path)) { keptAt = 0; return null; }
    if (path !== "/encounters") return keep(path, page);
    return page.text().then(function (html) {
      var forms = [];
      var link = /href="(\/sites\/[^"/]+\/encounters\/new)"/g;
      for (var found = link.exec(html); found; found = link.exec(html)) {
        if (forms.indexOf(found[1]) < 0) forms.push(found[1]);
      }
      var copy = new Response(html, { status: page.status, headers: page.headers });
      return Promise.all([pages().then(function (cache) { return cache.put(path, copy); }), keepPages(forms)]);
    });
  }).catch(function () { keptAt = 0; return null; });
}

function keepPages(paths) {
  return Promise.all(paths.filter(isVisitPage).map(function (path) {
    return fetch(path, { credentials: "same-origin" }).then(function (page) {
      return page.ok && !page.redirected ? keep(path, page) : null;
    }).catch(function () { return null; });
  }));
}

// Keep a page as its own address, once all of it has arrived (a page cut off by the network going away
// never replaces the copy kept before).
function keep(path, response) {
  return response.blob().then(function (body) {
    var copy = new Response(body, { status: response.status, headers: response.headers });
    return pages().then(function (cache) { return cache.put(path, copy); });
  }).catch(function () { return null; });
}

function isVisitForm(path) { return /^\/sites\/[^/]+\/encounters\/new$/.test(path); }
function isReadPage(path) { return path === "/" || path === "/stock" || /^\/sites\/[^/]+\/stock$/.test(path); }
function isVisitPage(path) { return path === "/encounters" || isVisitForm(path); }

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/sign-out") {
    event.respondWith(signOut(request));
  } else if (request.method === "POST" && isVisitForm(url.pathname)) {
    event.respondWith(recordOrKeep(request, url));
  } else if (request.method === "GET" && url.pathname.indexOf("/static/") === 0) {
    event.respondWith(networkFirst(request, url));
  } else if (request.method === "GET" && isVisitPage(url.pathname)) {
    event.respondWith(visitPage(request, url));
  } else if (request.method === "GET" && request.mode === "navigate" && isReadPage(url.pathname) && !url.search) {
    event.respondWith(readPage(request, url));
  }
});

// The home page and the stock pages: from the server when it answers (and kept, with the time it was read);
// offline, the copy last read, saying when that was.
function readPage(request, url) {
  return fetch(request).then(function (response) {
    if (response.ok && response.type === "basic" && !response.redirected) keepRead(url.pathname, response.clone());
    return response;
  }).catch(function () {
    return pages().then(function (cache) { return cache.match(url.pathname); }).then(function (found) {
      if (!found) return offlinePage();
      var readAt = Number(found.headers.get("X-Read-At")) || 0;
      return found.text().then(function (html) {
        html = html.replace(/<p class="flash [^"]*"[^>]*>[\s\S]*?<\/p>/g, "");
        html = html.replace(/(<main[^>]*>)/, "$1" + readAtNote(readAt));
        var headers = pageHeaders();
        headers["X-Offline-Copy"] = "kept on this device";
        return new Response(html, { status: 200, headers: headers });
      });
    });
  });
}

function keepRead(path, response) {
  return response.blob().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set("X-Read-At", String(Date.now()));
    return pages().then(function (cache) {
      return cache.put(path, new Response(body, { status: response.status, headers: headers }));
    });
  }).catch(function () { return null; });
}

function readAtNote(readAt) {
  var when = new Date(readAt);
  var words = when.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short" }) + " at " +
    when.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  return "<p class=\"offline-copy\" role=\"status\" data-read-at=\"" + readAt + "\"><strong>Offline.</strong> " +
    "These figures were read on " + escapeHtml(words) + " and may have changed since.</p>";
}

// Scripts and styles: fresh from the server when it answers, the kept copy when it does not.
function networkFirst(request, url) {
  return fetch(request).then(function (response) {
    if (response.ok && ASSETS.indexOf(url.pathname) >= 0) {
      var copy = response.clone();
      caches.open(SHELL).then(function (cache) { return cache.put(url.pathname, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(url.pathname, { cacheName: SHELL }).then(function (found) {
      if (found) return found;
      throw new TypeError("offline, and " + url.pathname + " is not kept on this device");
    });
  });
}

// The encounter page: from the server when it answers (and kept), else the kept copy.
function visitPage(request, url) {
  return fetch(request).then(function (response) {
    // Only a page shown to a signed-in person (a redirect to sign-in is not kept).
    if (response.ok && response.type === "basic" && !response.redirected) keep(url.pathname, response.clone());
    return response;
  }).catch(function () {
    return keptPage(url.pathname);
  });
}

function keptPage(path) {
  return pages().then(function (cache) {
    return cache.match(path).then(function (found) {
      if (found) return freshCopy(found);
      if (path !== "/encounters") return offlinePage();
      // No site choice kept (for one site it is a redirect to its form): offer the forms that are kept.
      return cache.keys().then(function (requests) {
        var forms = requests.map(function (r) { return new URL(r.url).pathname; }).filter(isVisitForm).sort();
        if (!forms.length) return offlinePage();
        if (forms.length === 1) return Response.redirect(forms[0], 303);
        return simplePage("Record a visit", "<p>Where is the visit? (Offline: the sites kept on this device.)</p>" +
          "<ul class=\"choices\">" + forms.map(function (form) {
            var site = escapeHtml(decodeURIComponent(form.split("/")[2]));
            return "<li><a role=\"button\" class=\"outline site-choice\" href=\"" + escapeHtml(form) + "\"><strong>" +
              site + "</strong></a></li>";
          }).join("") + "</ul>", { "X-Offline-Copy": "kept on this device" });
      });
    });
  });
}

// A kept page is shown as new: a fresh key for the next visit, and no message left from when it was kept.
function freshCopy(response) {
  return response.text().then(function (html) {
    html = html.replace(/(<input[^>]*name="key"[^>]*value=")[^"]*(")/, "$1" + newKey() + "$2");
    html = html.replace(/<p class="flash [^"]*"[^>]*>[\s\S]*?<\/p>/g, "");
    var headers = pageHeaders();
    headers["X-Offline-Copy"] = "kept on this device";
    return new Response(html, { status: 200, headers: headers });
  });
}

function newKey() {
  var bytes = new Uint8Array(16);
  self.crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
}

function pageHeaders() {
  return {
    "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP, "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"
  };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
  });
}

function simplePage(title, body, extraHeaders) {
  var html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
    "<title>" + escapeHtml(title) + " · Supply inventory</title>" +
    "<link rel=\"stylesheet\" href=\"/static/vendor/pico/pico.min.css\"><link rel=\"stylesheet\" href=\"/static/css/app.css\">" +
    "<link rel=\"stylesheet\" href=\"/static/css/encounters.css\">" +
    "</head><body><main id=\"main\" class=\"container\"><h1>" + escapeHtml(title) + "</h1>" + body + "</main></body></html>";
  return new Response(html, { status: 200, headers: Object.assign(pageHeaders(), extraHeaders || {}) });
}

function offlinePage() {
  return simplePage("You are offline",
    "<p>This page is not kept on this device. Record a visit works without a network once you have signed in " +
    "here while online.</p><p><a href=\"/encounters\">Record a visit</a></p>");
}

// A visit form sent while the server cannot be reached: keep the visit here and show the form again.
function recordOrKeep(request, url) {
  var copy = request.clone();
  return fetch(request).catch(function () {
    return copy.formData().then(function (form) {
      var visit = visitFromForm(form, decodeURIComponent(url.pathname.split("/")[2]));
      if (!visit) {
        return simplePage("Not recorded", "<p>Nothing was handed out or reported, so there was nothing to keep. " +
          "<a href=\"" + escapeHtml(url.pathname) + "\">Back to Record a visit</a></p>");
      }
      return self.VisitQueue.add(visit).catch(function (error) {
        if (!error || error.name !== "ConstraintError") throw error; // already kept (sent twice)
      }).then(function () { return Response.redirect(url.pathname, 303); });
    });
  });
}

function visitFromForm(form, site) {
  var lines = [];
  var label = [];
  form.forEach(function (value, name) {
    var quantity = parseInt(value, 10);
    if (name.indexOf("qty_") === 0 && quantity > 0) {
      lines.push({ sku: name.slice(4), quantity: quantity });
      label.push(name.slice(4) + ": " + quantity);
    }
  });
  var reversals = parseInt(form.get("reversals_reported"), 10) || 0;
  var collected = parseInt(form.get("syringes_collected"), 10) || 0;
  var key = String(form.get("key") || "");
  if ((!lines.length && !reversals && !collected) || key.length < 8) return null;
  var code = String(form.get("participant_code") || "").trim().toUpperCase();
  return {
    key: key,
    email: "", // the page that sends it claims it for the person signed in
    site: site,
    label: label.join(", ") || "no items",
    body: {
      site: site,
      lines: lines,
      participant_code: code || null,
      reversals_reported: reversals,
      syringes_collected: collected,
      refill_reason: String(form.get("refill_reason") || "") || null,
      recipient: String(form.get("recipient") || "") || null,
      for_others: parseInt(form.get("for_others"), 10) || 0,
      channel: String(form.get("channel") || "") || null,
      occurred_at: String(form.get("tapped_at") || "") || new Date().toISOString() // the tap, by the page's clock
    }
  };
}

// Signing out: ask first while visits are waiting; then forget the kept pages (and, if agreed, the visits).
function signOut(request) {
  var copy = request.clone();
  return Promise.all([copy.formData(), self.VisitQueue.count().catch(function () { return 0; })]).then(function (found) {
    var form = found[0];
    var waiting = found[1];
    var discard = form.get("discard_waiting") === "yes";
    if (waiting > 0 && !discard) return askBeforeSigningOut(waiting, String(form.get("csrf_token") || ""));
    return fetch(request).then(function (response) {
      var cleared = discard ? self.VisitQueue.clear() : Promise.resolve();
      return cleared.then(function () {
        pagesCache = null;
        keptAt = 0; // the next person to sign in on this phone gets their own pages
        return caches.delete(PAGES);
      }).then(function () { return response; });
    }, function () {
      return simplePage("You are offline", "<p>Signing out needs the network. Nothing was changed: " +
        "your visits stay on this device.</p><p><a href=\"/encounters\">Back to Record a visit</a></p>");
    });
  });
}

function askBeforeSigningOut(waiting, token) {
  var visits = waiting === 1 ? "1 visit is" : waiting + " visits are";
  return simplePage("Visits are waiting on this device",
    "<p>" + visits + " kept on this device and not yet on the server. Signing out now deletes " +
    (waiting === 1 ? "it" : "them") + ".</p>" +
    "<p><a role=\"button\" href=\"/encounters\">Keep them: back to Record a visit to send them</a></p>" +
    "<form method=\"post\" action=\"/sign-out\">" +
    "<input type=\"hidden\" name=\"csrf_token\" value=\"" + escapeHtml(token) + "\">" +
    "<input type=\"hidden\" name=\"discard_waiting\" value=\"yes\">" +
    "<button type=\"submit\" class=\"secondary\">Sign out and delete " + (waiting === 1 ? "it" : "them") + "</button></form>");
}
