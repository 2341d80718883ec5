// The visit form: quick picks fill the steppers here, without sending the form (without script a
// quick pick is a submit button and the server fills them in instead).
//
// Without a network, Record visit keeps the visit on this device (offline-queue.js) with its key and
// the time of the tap; when the network returns the waiting visits are sent in order through the API,
// each with its own key, so a visit whose answer was lost is not recorded twice. A visit the server can
// no longer fill as asked stays here with the reason until the coordinator chooses what to do.
(function () {
  "use strict";

  var API = "/api/v1/encounters";
  var FIRST_RETRY_MS = 2000; // after a failed send, try again in 2 s, then 4 s, 8 s ... up to a minute
  var LAST_RETRY_MS = 60000;

  function wireQuickPicks(form) {
    var status = document.getElementById("fill-status");
    form.querySelectorAll("button[data-fill]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var fill = JSON.parse(button.dataset.fill);
        // Only the items: a quick pick never clears the code, reversals or syringes collected.
        form.querySelectorAll("input[data-item]").forEach(function (input) {
          input.value = fill[input.id] || 0;
          input.removeAttribute("aria-invalid");
        });
        // Who it is for comes with the quick pick (a person who uses drugs, collecting for some others or not).
        if (form.elements.recipient && button.dataset.recipient) form.elements.recipient.value = button.dataset.recipient;
        if (form.elements.for_others) form.elements.for_others.value = button.dataset.forOthers || 0;
        if (status) status.textContent = "Filled in: " + button.dataset.label + ". Check the amounts, then tap Record visit.";
        var submit = form.querySelector("[data-after-bundle]");
        if (submit) submit.focus();
      });
    });
  }

  function registerServiceWorker() {
    if (!("serviceWorker" in navigator) || !window.isSecureContext) return Promise.resolve(null);
    return navigator.serviceWorker.register("/sw.js").catch(function () { return null; });
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function whole(value) {
    var n = parseInt(value || "0", 10);
    return isNaN(n) ? 0 : n;
  }

  function timeOf(iso) {
    var when = new Date(iso);
    return when.toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });
  }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  // The participant code rule of the server (inventory/domain/participant.py), checked before keeping a visit.
  function codeProblem(code) {
    if (!code) return "";
    if (!/^[A-Z0-9]{4,12}$/.test(code)) return "Participant code must be 4 to 12 letters and digits, with no spaces or symbols.";
    var runs = code.match(/\d{6,}/g) || [];
    if (runs.some(looksLikeDate)) return "Participant code must not contain a date. Use a random code instead.";
    return "";
  }

  // Digit runs that read as a date, as the server sees them (YYYYMMDD, DDMMYYYY, MMDDYYYY, YYMMDD, DDMMYY, MMDDYY).
  var DATE_SHAPES = ["Ymd", "dmY", "mdY", "ymd", "dmy", "mdy"];

  function looksLikeDate(run) {
    return DATE_SHAPES.some(function (shape) {
      var width = shape.indexOf("Y") >= 0 ? 8 : 6;
      for (var start = 0; start + width <= run.length; start++) {
        if (readsAsDate(run.substr(start, width), shape)) return true;
      }
      return false;
    });
  }

  function readsAsDate(chunk, shape) {
    var at = 0, year = 0, month = 0, day = 0;
    shape.split("").forEach(function (part) {
      var size = part === "Y" ? 4 : 2;
      var n = parseInt(chunk.substr(at, size), 10);
      at += size;
      if (part === "Y") year = n;
      else if (part === "y") year = n < 69 ? 2000 + n : 1900 + n;
      else if (part === "m") month = n;
      else day = n;
    });
    var found = new Date(Date.UTC(year, month - 1, day));
    return year >= 1900 && year <= 2100 && found.getUTCFullYear() === year &&
      found.getUTCMonth() === month - 1 && found.getUTCDate() === day;
  }

  function OfflineVisits(form) {
    this.form = form;
    this.site = form.dataset.site;
    this.email = form.dataset.email;
    this.zone = form.dataset.zone || "UTC";
    this.names = {};
    this.sent = [];
    this.waiting = 0;
    this.session = "";
    this.syncing = false;
    this.busy = false;
    this.retryIn = FIRST_RETRY_MS;
    this.retryTimer = null;
    this.panel = document.getElementById("offline-panel");
    this.status = document.getElementById("queue-status");
    this.alert = document.getElementById("queue-alert");
    this.attention = document.getElementById("queue-attention");
    this.sentBox = document.getElementById("queue-sent");
    this.template = document.getElementById("attention-template");
    var self = this;
    form.querySelectorAll("input[data-item]").forEach(function (input) {
      var label = form.querySelector("label[for='" + input.id + "']");
      self.names[input.dataset.item] = label ? label.textContent.trim() : input.dataset.item;
    });
  }

  OfflineVisits.prototype.start = function () {
    var self = this;
    // Capture: this runs before app.js's double-tap guard, which would otherwise disable Record visit.
    this.form.addEventListener("submit", function (event) { self.onSubmit(event); }, true);
    window.addEventListener("online", function () { self.sync(); });
    window.addEventListener("offline", function () { self.render(); });
    this.attention.addEventListener("click", function (event) { self.onChoice(event); });
    // The kept page's key may have been used by a visit already waiting: never reuse it.
    return VisitQueue.get(this.form.elements.key.value).then(function (found) {
      if (found) self.form.elements.key.value = newKey();
    }).then(function () { return self.claimUnowned(); }).then(function () { return self.sync(); });
  };

  // Visits the service worker kept from a form sent while the server was away carry no owner yet.
  OfflineVisits.prototype.claimUnowned = function () {
    var self = this;
    return VisitQueue.all().then(function (items) {
      return Promise.all(items.filter(function (item) { return !item.email; }).map(function (item) {
        item.email = self.email;
        item.label = item.label.split(", ").map(function (part) {
          var bits = part.split(": ");
          return bits.length === 2 && self.names[bits[0]] ? self.names[bits[0]] + ": " + bits[1] : part;
        }).join(", ");
        return VisitQueue.put(item);
      }));
    });
  };

  OfflineVisits.prototype.onSubmit = function (event) {
    if (navigator.onLine && !this.waiting) {
      // Online with nothing waiting: the form is sent as usual. If it never gets through, the service
      // worker keeps the visit with the time of the tap, from the page's clock.
      var tapped = this.form.elements.tapped_at || document.createElement("input");
      tapped.type = "hidden";
      tapped.name = "tapped_at";
      tapped.value = new Date().toISOString();
      if (!tapped.parentNode) this.form.appendChild(tapped);
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    if (this.busy) return;
    var visit = this.visitFromForm();
    if (visit.problem) {
      this.say(this.alert, visit.problem);
      return;
    }
    var self = this;
    this.busy = true;
    VisitQueue.add(visit).catch(function (error) {
      if (!error || error.name !== "ConstraintError") throw error; // ConstraintError: already kept (tapped twice)
    }).then(function () {
      self.clearForm();
      self.say(self.alert, "");
      self.say(document.getElementById("fill-status"), "Kept on this device: " + visit.label + ".");
      self.busy = false;
      self.sync(); // in the background: the next visit can be recorded at once
    }, function (error) {
      self.busy = false;
      self.say(self.alert, "This device could not keep the visit (" + (error && error.message || error) +
        "). Write it down on paper, and enter it when the network is back.");
    });
  };

  OfflineVisits.prototype.visitFromForm = function () {
    var form = this.form;
    var lines = [];
    var label = [];
    var self = this;
    var wrong = false;
    form.querySelectorAll("input[data-item]").forEach(function (input) {
      var quantity = whole(input.value);
      if (quantity < 0) wrong = true;
      if (quantity > 0) {
        lines.push({ sku: input.dataset.item, quantity: quantity });
        label.push(self.names[input.dataset.item] + ": " + quantity);
      }
    });
    var reversals = whole(form.elements.reversals_reported.value);
    var collected = whole(form.elements.syringes_collected.value);
    var others = whole(form.elements.for_others.value);
    var code = form.elements.participant_code.value.trim().toUpperCase();
    if (wrong || reversals < 0 || collected < 0 || others < 0) return { problem: "Enter whole numbers, 0 or more." };
    if (!lines.length && !reversals && !collected) {
      return { problem: "Nothing is handed out: enter a quantity for at least one item, or tap a quick pick." };
    }
    var problem = codeProblem(code);
    if (problem) return { problem: problem };
    if (others) label.push("collecting for " + plural(others, "other", "others"));
    if (collected) label.push(collected + " used syringes collected");
    if (reversals) label.push(plural(reversals, "overdose reversal", "overdose reversals") + " reported");
    // Only what the API records: never anything about the participant beyond the optional code.
    return {
      key: form.elements.key.value,
      email: this.email,
      site: this.site,
      label: label.join(", "),
      body: {
        site: this.site,
        lines: lines,
        participant_code: code || null,
        reversals_reported: reversals,
        syringes_collected: collected,
        refill_reason: form.elements.refill_reason.value || null,
        recipient: form.elements.recipient.value || null,
        for_others: others,
        channel: form.elements.channel.value || null,
        occurred_at: new Date().toISOString()
      }
    };
  };

  OfflineVisits.prototype.clearForm = function () {
    var form = this.form;
    form.querySelectorAll("input[data-item]").forEach(function (input) { input.value = 0; });
    form.elements.reversals_reported.value = 0;
    form.elements.syringes_collected.value = 0;
    form.elements.participant_code.value = "";
    form.elements.refill_reason.value = "";
    form.elements.for_others.value = 0;
    form.elements.recipient.value = form.elements.recipient.querySelector("option[selected]") ?
      form.elements.recipient.querySelector("option[selected]").value : form.elements.recipient.options[0].value;
    form.elements.key.value = newKey();
  };

  OfflineVisits.prototype.mine = function (item) { return item.email === this.email; };

  // Send the waiting visits, oldest first, one at a time; stop at the first sign that the network or
  // the session is not there (they stay on the device and are sent again later).
  OfflineVisits.prototype.sync = function () {
    var self = this;
    if (this.syncing) {
      this.again = true; // a visit kept while sending: send it right after
      return Promise.resolve();
    }
    if (!navigator.onLine) return this.render();
    this.syncing = true;
    this.again = false;
    this.later = false;
    clearTimeout(this.retryTimer);
    return VisitQueue.all().then(function (items) {
      var waiting = items.filter(function (item) { return item.state === "waiting" && self.mine(item); });
      return waiting.reduce(function (chain, item) {
        return chain.then(function (go) { return go ? self.send(item) : false; });
      }, Promise.resolve(true));
    }).catch(function () { return false; }).then(function (allSent) {
      self.syncing = false;
      if (self.again && allSent) return self.sync();
      if ((allSent && !self.later) || self.session) {
        self.retryIn = FIRST_RETRY_MS;
      } else { // the network or the server was away: try again a little later
        self.retryTimer = setTimeout(function () { self.sync(); }, self.retryIn);
        self.retryIn = Math.min(self.retryIn * 2, LAST_RETRY_MS);
      }
      return self.render();
    });
  };

  // One visit through the API: true to go on with the next, false to stop for now.
  OfflineVisits.prototype.send = function (item) {
    var self = this;
    return this.post(API, item.key, item.body).then(function (answer) {
      return self.outcome(item, answer.response, answer.error);
    }, function () {
      return false; // no answer: the network is away (or dropped the answer); the key makes a resend safe
    });
  };

  // POST JSON through the API with the visit's key; resolves with {response, error}, rejects with no answer.
  OfflineVisits.prototype.post = function (url, key, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Idempotency-Key": key,
        "X-CSRFToken": this.form.elements.csrf_token.value
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return { response: response, error: (data && data.error) || {} };
      });
    });
  };

  OfflineVisits.prototype.outcome = function (item, response, error) {
    var status = response.status;
    var self = this;
    return VisitQueue.settle(item, response, error).then(function (outcome) {
      if (outcome === "sent") {
        self.session = "";
        self.available = null; // stock moved: what is available is read again when needed
        self.sent.push({ label: item.label, at: item.body.occurred_at, note: item.note || "" });
        return true;
      }
      if (status === 401) self.session = "ended";
      else if (status === 400 && outcome === "stop") self.session = "stale";
      if (outcome === "later") self.later = true;
      if (outcome === "attention") self.available = null;
      return outcome !== "stop";
    });
  };

  OfflineVisits.prototype.say = function (element, text) {
    if (element && element.textContent !== text) {
      element.textContent = text;
      if (text) showClearOfTheBar(element);
    }
  };

  OfflineVisits.prototype.render = function () {
    var self = this;
    return VisitQueue.all().then(function (items) {
      var mine = items.filter(function (item) { return self.mine(item); });
      var waiting = mine.filter(function (item) { return item.state === "waiting"; });
      var stuck = mine.filter(function (item) { return item.state === "attention"; });
      var others = items.length - mine.length;
      self.waiting = waiting.length;
      self.panel.hidden = !(items.length || self.sent.length || !navigator.onLine || self.session);
      self.panel.dataset.waiting = String(waiting.length);
      self.panel.dataset.attention = String(stuck.length);
      var text = [];
      if (!navigator.onLine) text.push("Offline: visits you record are kept on this device and sent when the network returns.");
      if (waiting.length) {
        text.push(plural(waiting.length, "visit", "visits") + " waiting to be sent, safe on this device.");
      } else if (navigator.onLine && !stuck.length) {
        text.push("Nothing waiting on this device.");
      }
      if (others) text.push(plural(others, "visit", "visits") + " kept by another person wait for them to sign in here.");
      self.say(self.status, text.join(" "));
      self.renderSession(waiting.length + stuck.length);
      self.renderSent();
      return self.renderAttention(stuck);
    });
  };

  OfflineVisits.prototype.renderSession = function (kept) {
    var box = document.getElementById("queue-session");
    if (!this.session || !kept) { box.hidden = true; return; }
    var next = encodeURIComponent(window.location.pathname);
    box.querySelector("p").textContent = this.session === "ended"
      ? "You are signed out (the session ended). Sign in again to send " + plural(kept, "visit", "visits") + ": they stay on this device."
      : "This page is out of date. Reload it to send " + plural(kept, "visit", "visits") + ": they stay on this device.";
    var link = box.querySelector("a");
    link.textContent = this.session === "ended" ? "Sign in again" : "Reload";
    link.href = this.session === "ended" ? "/sign-in?next=" + next : window.location.pathname;
    box.hidden = false;
  };

  OfflineVisits.prototype.renderSent = function () {
    var list = this.sentBox.querySelector("ul");
    this.sentBox.hidden = !this.sent.length;
    var heading = this.sentBox.querySelector("h2");
    this.say(heading, "Sent from this device: " + plural(this.sent.length, "visit", "visits"));
    list.textContent = "";
    this.sent.forEach(function (done) {
      var li = document.createElement("li");
      li.textContent = (done.note ? done.note + ": " : "") + done.label + " (" + timeOf(done.at) + ")";
      list.appendChild(li);
    });
  };

  OfflineVisits.prototype.renderAttention = function (stuck) {
    var self = this;
    var list = this.attention.querySelector("ul");
    this.attention.hidden = !stuck.length;
    if (!stuck.length) {
      list.textContent = "";
      list.dataset.drawn = "";
      return Promise.resolve();
    }
    return this.availableStock().then(function (available) {
      // Drawn again only when the visits or the stock read changed: a reason being chosen is not reset.
      var drawn = stuck.map(function (item) { return item.key + ":" + item.reason + ":" + (item.tries || 0); }).join(" ") +
        "|" + (available ? available.read : "");
      if (list.dataset.drawn === drawn) return;
      list.dataset.drawn = drawn;
      list.textContent = "";
      stuck.forEach(function (item, index) { list.appendChild(self.attentionItem(item, index, available)); });
    });
  };

  OfflineVisits.prototype.attentionItem = function (item, index, available) {
    var node = this.template.content.firstElementChild.cloneNode(true);
    node.dataset.key = item.key;
    node.querySelector("[data-part=what]").textContent = "Visit at " + timeOf(item.body.occurred_at) + ": " + item.label;
    node.querySelector("[data-part=reason]").textContent = item.reason;
    var select = node.querySelector("select");
    var label = node.querySelector("label");
    select.id = "discard-reason-" + index;
    label.htmlFor = select.id;
    var record = node.querySelector("[data-choice=available]");
    var tally = node.querySelector("[data-choice=tally]");
    var plan = available ? this.whatIsAvailable(item, available) : null;
    if (!plan) {
      record.disabled = true;
      record.textContent = "Record what was available (needs the network)";
      tally.disabled = true;
      tally.textContent = "Record as a shift tally (needs the network)";
      return node;
    }
    if (!plan.lines.length && !item.body.reversals_reported && !item.body.syringes_collected) {
      record.disabled = true;
      record.textContent = "Nothing of this visit is available now";
    } else {
      record.textContent = "Record what was available: " + (plan.label || "no items");
    }
    var shift = this.shiftOf(item.body.occurred_at);
    tally.textContent = "Record as a shift tally (" + shift.date + " " + shift.starts + "): 1 visit" +
      (plan.label ? ", " + plan.label : "");
    return node;
  };

  // Usable stock at the site now (lots not expired on the visit's day), and which items are retired.
  OfflineVisits.prototype.availableStock = function () {
    var self = this;
    if (this.available) return Promise.resolve(this.available);
    if (!navigator.onLine) return Promise.resolve(null);
    var get = function (url) {
      return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      });
    };
    return Promise.all([get("/api/v1/stock?site=" + encodeURIComponent(this.site)), get("/api/v1/items")]).then(function (found) {
      var retired = {};
      found[1].forEach(function (item) { if (item.retired) retired[item.sku] = true; });
      self.reads = (self.reads || 0) + 1;
      self.available = { lots: found[0], retired: retired, read: self.reads };
      return self.available;
    }).catch(function () { return null; });
  };

  OfflineVisits.prototype.whatIsAvailable = function (item, available) {
    var day = item.body.occurred_at.slice(0, 10);
    var self = this;
    var lines = [];
    var label = [];
    item.body.lines.forEach(function (line) {
      if (available.retired[line.sku]) return;
      var usable = available.lots.filter(function (lot) {
        return lot.sku === line.sku && (!lot.expires_on || lot.expires_on >= day);
      }).reduce(function (sum, lot) { return sum + lot.quantity; }, 0);
      var quantity = Math.min(line.quantity, usable);
      if (quantity > 0) {
        lines.push({ sku: line.sku, quantity: quantity });
        label.push((self.names[line.sku] || line.sku) + ": " + quantity);
      }
    });
    return { lines: lines, label: label.join(", ") };
  };

  OfflineVisits.prototype.onChoice = function (event) {
    var button = event.target.closest("button[data-choice]");
    if (!button) return;
    var node = button.closest("[data-key]");
    var self = this;
    VisitQueue.get(node.dataset.key).then(function (item) {
      if (!item) return null;
      self.say(node.querySelector("[data-part=problem]"), "");
      if (button.dataset.choice === "discard") return self.discard(item, node);
      if (button.dataset.choice === "tally") return self.recordAsTally(item, node);
      return self.recordAvailable(item);
    });
  };

  OfflineVisits.prototype.discard = function (item, node) {
    var select = node.querySelector("select");
    if (!select.value) {
      select.setAttribute("aria-invalid", "true");
      this.say(node.querySelector("[data-part=problem]"), "Choose why this visit is discarded.");
      select.focus();
      return null;
    }
    var reason = select.options[select.selectedIndex].textContent.trim();
    var self = this;
    // Recorded on the server (what was asked, why it was refused, why it is discarded; never the
    // participant code), so an auditor sees the visit was not simply lost.
    return this.post("/api/v1/discarded-visits", item.key, {
      site: item.site,
      lines: item.body.lines.map(function (line) { return { sku: line.sku, quantity: line.quantity }; }),
      reason: select.value,
      refused_because: (item.code || "refused").toLowerCase(),
      occurred_at: item.body.occurred_at
    }).then(function (answer) {
      if (answer.response.status === 201) return self.resolved(item, item.label, "Discarded (" + reason + ")");
      if (answer.response.status === 409 && answer.error.code === "conflict") {
        return self.resolved(item, item.label, "Recorded after all, so not discarded");
      }
      return self.choiceRefused(answer, node);
    }, function () {
      self.say(node.querySelector("[data-part=problem]"), "Discarding needs the network. The visit stays on this device: try again when the network is back.");
    });
  };

  // Record the visit as part of a shift tally: its counts at its time, the items that are available,
  // no participant code (a tally has none).
  OfflineVisits.prototype.recordAsTally = function (item, node) {
    var self = this;
    this.available = null; // the stock may have moved since the list was drawn
    return this.availableStock().then(function (available) {
      if (!available) {
        self.say(node.querySelector("[data-part=problem]"), "Recording needs the network. The visit stays on this device.");
        return null;
      }
      var plan = self.whatIsAvailable(item, available);
      var shift = self.shiftOf(item.body.occurred_at);
      return self.post("/api/v1/tallies", item.key, {
        site: item.site,
        shift_date: shift.date,
        starts_at: shift.starts,
        ends_at: shift.ends,
        lines: plan.lines,
        visits: 1,
        reversals_reported: item.body.reversals_reported || 0,
        syringes_collected: item.body.syringes_collected || 0
      }).then(function (answer) {
        if (answer.response.status === 201) {
          self.available = null;
          return self.resolved(item, plan.label || "no items", "Recorded as a shift tally");
        }
        return self.choiceRefused(answer, node);
      }, function () {
        self.say(node.querySelector("[data-part=problem]"), "Recording needs the network. The visit stays on this device.");
      });
    });
  };

  // The minute of the visit, in the program's time zone, as a one-minute shift.
  OfflineVisits.prototype.shiftOf = function (iso) {
    var format = new Intl.DateTimeFormat("en-CA", {
      timeZone: this.zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
    var partsOf = function (when) {
      var parts = {};
      format.formatToParts(when).forEach(function (part) { parts[part.type] = part.value; });
      return parts;
    };
    var start = new Date(iso);
    start.setUTCSeconds(0, 0);
    var begins = partsOf(start);
    var ends = partsOf(new Date(start.getTime() + 60000));
    return {
      date: begins.year + "-" + begins.month + "-" + begins.day,
      starts: begins.hour + ":" + begins.minute,
      ends: ends.hour + ":" + ends.minute
    };
  };

  OfflineVisits.prototype.resolved = function (item, label, note) {
    var self = this;
    return VisitQueue.remove(item.key).then(function () {
      self.sent.push({ label: label, at: item.body.occurred_at, note: note });
      return self.render();
    });
  };

  OfflineVisits.prototype.choiceRefused = function (answer, node) {
    var status = answer.response.status;
    if (status === 401) {
      this.session = "ended";
      return this.render();
    }
    this.say(node.querySelector("[data-part=problem]"), answer.error.message || ("The server refused this (" + status + ")."));
    return null;
  };

  OfflineVisits.prototype.recordAvailable = function (item) {
    var self = this;
    this.available = null; // the stock may have moved since the list was drawn
    return this.availableStock().then(function (available) {
      if (!available) return self.render();
      var plan = self.whatIsAvailable(item, available);
      item.body = Object.assign({}, item.body, { lines: plan.lines });
      item.label = plan.label || "no items";
      item.state = "waiting";
      item.note = "Recorded what was available";
      item.reason = "";
      item.tries = (item.tries || 0) + 1; // refused again, it is drawn again with the new reason
      return VisitQueue.put(item).then(function () { return self.sync(); });
    });
  };

  // Keep these pages on the device: the service worker fetches and keeps them. (A page opened while
  // the worker already looked after it was kept on the way.)
  function keepPages(paths) {
    if (!navigator.onLine || !paths.length) return;
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) registration.active.postMessage({ type: "keep-pages", paths: paths });
    });
  }

  // A refusal is scrolled to the middle of the screen, clear of the sticky Record visit bar at the bottom
  // (on a phone the bar would otherwise cover the words that say what to fix).
  function showClearOfTheBar(element) {
    var bar = document.querySelector(".record-bar");
    var box = element.getBoundingClientRect();
    var covered = bar ? bar.getBoundingClientRect().top : window.innerHeight;
    if (box.top < 0 || box.bottom > covered) element.scrollIntoView({ block: "center" });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Sent back refused: the first refusal beside its field, in view above the bar.
    var refusal = document.querySelector("#visit-form .field-error:not(:empty)");
    if (refusal) showClearOfTheBar(refusal);
    var controlled = "serviceWorker" in navigator && !!navigator.serviceWorker.controller;
    registerServiceWorker().then(function (registration) {
      if (!registration) return;
      var paths = [];
      if (!controlled) paths.push(window.location.pathname);
      // The site choice: each of the person's sites' forms, so any of them opens offline.
      document.querySelectorAll("a.site-choice").forEach(function (link) { paths.push(new URL(link.href).pathname); });
      keepPages(paths);
    });
    var form = document.getElementById("visit-form");
    if (form) {
      wireQuickPicks(form);
      // Without storage on this device (a private window may refuse it) the form is sent as usual.
      if (window.VisitQueue && window.indexedDB) new OfflineVisits(form).start().catch(function () {});
    }
  });
})();
