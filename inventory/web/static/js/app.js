// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  function wireSteppers(root) {
    root.querySelectorAll("[data-stepper]").forEach(function (box) {
      if (box.dataset.wired) return;
      box.dataset.wired = "1";
      var input = box.querySelector("input");
      box.querySelectorAll("button[data-step]").forEach(function (button) {
        button.addEventListener("click", function () {
          var value = parseInt(input.value || "0", 10) || 0;
          var min = input.min === "" ? 0 : parseInt(input.min, 10);
          input.value = Math.max(min, value + parseInt(button.dataset.step, 10));
          input.dispatchEvent(new Event("change", { bubbles: true }));
        });
      });
    });
  }

  // Preset bundles: a button whose data-bundle is {"field_id": quantity, ...} fills the steppers.
  function wireBundles(root) {
    root.querySelectorAll("button[data-bundle]").forEach(function (button) {
      if (button.dataset.wired) return;
      button.dataset.wired = "1";
      button.addEventListener("click", function () {
        var bundle = JSON.parse(button.dataset.bundle);
        root.querySelectorAll("[data-stepper] input").forEach(function (input) { input.value = 0; });
        Object.keys(bundle).forEach(function (id) {
          var input = document.getElementById(id);
          if (input) input.value = bundle[id];
        });
        var submit = document.querySelector("[data-after-bundle]");
        if (submit) submit.focus();
      });
    });
  }

  // Disable a form's submit button once sent, so a double tap sends once (the server also checks).
  function wireOnce(root) {
    root.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); b.disabled = true; });
      });
    });
  }

  // The dashboard's charts, one per category in its own units; the week still running is drawn lighter.
  function drawWeeklyCharts() {
    if (typeof Chart === "undefined") return;
    var palette = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#4e342e", "#ad1457"];
    document.querySelectorAll("script[data-weekly-chart]").forEach(function (data) {
      var canvas = document.getElementById(data.dataset.weeklyChart);
      if (!canvas) return;
      var chart = JSON.parse(data.textContent);
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: chart.labels,
          datasets: chart.series.map(function (s, i) {
            var colour = palette[i % palette.length];
            return {
              label: s.label,
              data: s.data,
              backgroundColor: s.data.map(function (_, week) { return week === chart.partial ? colour + "55" : colour; }),
              borderColor: colour,
              borderWidth: s.data.map(function (_, week) { return week === chart.partial ? 2 : 0; }),
              borderDash: [4, 3]
            };
          })
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: chart.unit } } },
          plugins: { legend: { position: "bottom" } }
        }
      });
    });
  }

  // A table that scrolls sideways on a phone must be reachable with the keyboard to scroll it.
  function focusableScrollers(root) {
    root.querySelectorAll(".table-scroll:not([tabindex])").forEach(function (box) {
      box.setAttribute("tabindex", "0");
      if (!box.hasAttribute("role")) box.setAttribute("role", "region");
      if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
        var caption = box.querySelector("caption");
        box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Scrollable table");
      }
    });
  }

  // A printable page's Print button (hidden without script: the browser's own Print does the same).
  function wirePrint(root) {
    root.querySelectorAll("button[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  // Raising an order: once the supplier and an item are chosen, the price last ordered at is offered (filled
  // in when the unit cost is empty, and said under it). Suppliers match however their name was typed.
  function supplierKey(name) {
    return name.toLowerCase().replace(/[.,]/g, " ").split(/\s+/).filter(Boolean).join(" ");
  }
  function wireLastPrices(root) {
    root.querySelectorAll("form[data-last-prices]").forEach(function (form) {
      var prices = JSON.parse(form.getAttribute("data-last-prices") || "{}");
      var supplier = form.querySelector("input[name=supplier]");
      function offer() {
        var known = prices[supplierKey(supplier ? supplier.value : "")] || {};
        form.querySelectorAll("fieldset.line").forEach(function (line) {
          var sku = line.querySelector("select[name$='-sku']");
          var cost = line.querySelector("input[name$='-unit_cost']");
          var said = line.querySelector("[data-last-price]");
          if (!sku || !cost || !said) return;
          var price = known[sku.value];
          said.textContent = price ? "Last ordered from this supplier at " + price + " each." : "";
          if (price && !cost.value) cost.value = price;
        });
      }
      form.addEventListener("change", offer);
      if (supplier) supplier.addEventListener("input", offer);
    });
  }

  function init(root) {
    focusableScrollers(root);
    wireSteppers(root);
    wireBundles(root);
    wireOnce(root);
    wirePrint(root);
    wireLastPrices(root);
  }

  // Anyone signed in: the service worker (sw.js) keeps the home and stock pages as last read, to open
  // offline with their figures. A person who records visits: it also keeps Record a visit on this device
  // as soon as they are signed in online (it fetches and keeps their sites' forms), so that it opens in a
  // van without signal even if they never opened it before leaving.
  function keepPagesOffline() {
    var signedIn = document.querySelector("form.sign-out");
    if (!signedIn || !navigator.onLine || !("serviceWorker" in navigator) || !window.isSecureContext) return;
    var link = document.querySelector("header a[href='/encounters']");
    navigator.serviceWorker.register("/sw.js").then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      if (link && registration.active) registration.active.postMessage({ type: "keep-visit-pages" });
    }).catch(function () {});
  }

  // Visits kept on this phone (offline-queue.js): every page says how many wait, and sends them when the
  // network returns. Record a visit has its own panel, with the choices for a refused visit; here a
  // refused one is counted, with the way to that page.
  function offlineVisits() {
    var banner = document.getElementById("queue-banner");
    if (!banner || typeof VisitQueue === "undefined" || document.getElementById("offline-panel")) return;
    var email = banner.dataset.email;
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    var plural = function (n) { return n === 1 ? "1 visit" : n + " visits"; };
    var show = function (sentNow) {
      return VisitQueue.all().then(function (items) {
        var mine = items.filter(function (item) { return item.email === email; });
        var waiting = mine.filter(function (item) { return item.state === "waiting"; }).length;
        var stuck = mine.length - waiting;
        var text = [];
        if (sentNow) text.push(plural(sentNow) + " kept on this phone sent.");
        if (waiting) {
          text.push(plural(waiting) + " waiting on this phone" + (navigator.onLine ? ": sending." : ", sent when the network returns."));
        }
        if (stuck) text.push(plural(stuck) + " could not be recorded as entered and need your choice.");
        banner.querySelector("span").textContent = text.join(" ");
        banner.querySelector("a").hidden = !stuck;
        banner.hidden = !text.length;
        banner.dataset.waiting = String(waiting);
        banner.dataset.attention = String(stuck);
      });
    };
    var sending = false;
    var send = function () {
      if (sending || !navigator.onLine) return show(0);
      sending = true;
      return VisitQueue.sendWaiting(email, headers["X-CSRFToken"] || "").then(function (sent) {
        sending = false;
        return show(sent);
      }, function () { sending = false; return show(0); });
    };
    window.addEventListener("online", send);
    window.addEventListener("offline", function () { show(0); });
    send().catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    offlineVisits();
    init(document);
    drawWeeklyCharts();
    keepPagesOffline();
  });
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
