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

  scope.VisitQueue = VisitQueue;
})(typeof self !== "undefined" ? self : window);
