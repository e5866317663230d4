/* Submissions kept on this phone until they are sent: one IndexedDB record per submission,
   keyed by its Idempotency-Key. A place sent while the connection is down stays here (a
   reload or a closed tab does not lose it) and goes when the connection returns, with the
   same key, so the service stores it once however often it is tried. Photos are kept as
   they were chosen (IndexedDB holds files). */
(function () {
  "use strict";
  var NAME = "heritage-atlas-outbox", STORE = "submissions";

  function open() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("IndexedDB is not available")); return; }
      var request = indexedDB.open(NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var request = work(tx.objectStore(STORE));
        var result;
        if (request) request.onsuccess = function () { result = request.result; };
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  window.AtlasOutbox = {
    available: !!window.indexedDB,
    put: function (item) { return run("readwrite", function (s) { return s.put(item); }); },
    remove: function (key) { return run("readwrite", function (s) { return s.delete(key); }); },
    all: function () {
      return run("readonly", function (s) { return s.getAll(); }).then(function (items) {
        return (items || []).sort(function (a, b) { return a.created - b.created; });
      });
    }
  };
})();
