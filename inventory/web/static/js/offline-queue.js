// Visits kept on this device (IndexedDB) until the server has them. Used by the encounter page and
// by the service worker (sw.js), so both see the same queue.
//
// A queued visit holds only what the API takes: site, item lines, the optional anonymous participant
// code, reversals reported, syringes collected, refill reason and occurred_at (the time of the tap).
// Its idempotency key names it, so sending it twice records it once.
(function (scope) {
  "use strict";

  var DB_NAME = "inventory-offline";
  var VERSION = 1;
  var VISITS = "visits";
  var dbPromise = null;

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = scope.indexedDB.open(DB_NAME, VERSION);
        request.onupgradeneeded = function () {
          var db = request.result;
          if (!db.objectStoreNames.contains(VISITS)) db.createObjectStore(VISITS, { keyPath: "key" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { dbPromise = null; reject(request.error); };
      });
    }
    return dbPromise;
  }

  // Run `work(store)` in one transaction; resolves with what work's last request gave, once committed.
  function withStore(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(VISITS, mode);
        var result;
        var request = work(tx.objectStore(VISITS));
        if (request) request.onsuccess = function () { result = request.result; };
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error("The device's storage refused the visit.")); };
      });
    });
  }

  var counter = 0;

  var VisitQueue = {
    // Keep a visit: {key, email, site, body, label}. Resolves once it is written to the device.
    add: function (visit) {
      var item = Object.assign({ state: "waiting", reason: "", code: "", seq: Date.now() * 1000 + (counter++ % 1000) }, visit);
      return withStore("readwrite", function (store) { return store.add(item); }).then(function () { return item; });
    },
    // Every visit kept here, oldest first.
    all: function () {
      return withStore("readonly", function (store) { return store.getAll(); }).then(function (items) {
        return (items || []).sort(function (a, b) { return a.seq - b.seq; });
      });
    },
    get: function (key) {
      return withStore("readonly", function (store) { return store.get(key); });
    },
    put: function (item) {
      return withStore("readwrite", function (store) { return store.put(item); });
    },
    remove: function (key) {
      return withStore("readwrite", function (store) { return store.delete(key); });
    },
    clear: function () {
      return withStore("readwrite", function (store) { return store.clear(); });
    },
    count: function () {
      return withStore("readonly", function (store) { return store.count(); });
    }
  };

  // What the server's answer to one sent visit means for it (the one rule, for the visit page and for
  // every other page): "sent" (recorded: removed from the device), "later" (the server is still on an
  // earlier send: ask again later), "stop" (no network, the session ended, the server is away: keep it
  // and stop for now), or "attention" (refused: kept with the reason, for the coordinator's choice).
  VisitQueue.settle = function (item, response, error) {
    var status = response.status;
    if (status === 201) return VisitQueue.remove(item.key).then(function () { return "sent"; });
    if (status === 409 && response.headers.get("Retry-After")) return Promise.resolve("later");
    if (status === 401 || status === 408 || status === 429 || status >= 500) return Promise.resolve("stop");
    if (status === 400 && /CSRF/i.test((error && error.message) || "")) return Promise.resolve("stop");
    item.state = "attention";
    item.reason = (error && error.message) || ("The server refused this visit (" + status + ").");
    item.code = (error && error.code) || "";
    return VisitQueue.put(item).then(function () { return "attention"; });
  };

  // Send this person's waiting visits through the API, oldest first (any page may, once online).
  // Resolves with how many were sent; stops at the first that cannot be sent now.
  VisitQueue.sendWaiting = function (email, csrfToken) {
    var sent = 0;
    return VisitQueue.all().then(function (items) {
      var waiting = items.filter(function (item) { return item.state === "waiting" && item.email === email; });
      return waiting.reduce(function (chain, item) {
        return chain.then(function (go) {
          if (!go) return false;
          return scope.fetch("/api/v1/encounters", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "Accept": "application/json",
                       "Idempotency-Key": item.key, "X-CSRFToken": csrfToken },
            body: JSON.stringify(item.body)
          }).then(function (response) {
            return response.json().catch(function () { return {}; }).then(function (answer) {
              return VisitQueue.settle(item, response, answer.error || {});
            });
          }).then(function (outcome) {
            if (outcome === "sent") sent += 1;
            return outcome !== "stop";
          }, function () { return false; });
        });
      }, Promise.resolve(true));
    }).then(function () { return sent; });
  };

  scope.VisitQueue = VisitQueue;
})(typeof self !== "undefined" ? self : window);
