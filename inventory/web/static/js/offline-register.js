// For people who record visits: from any page they open online, the service worker (sw.js) keeps
// Record a visit on this device, so that it opens in the van without a network even if they did not
// open it since signing in.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator) || !window.isSecureContext || !navigator.onLine) return;
  navigator.serviceWorker.register("/sw.js").then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    if (registration.active) registration.active.postMessage({ type: "keep-visit-pages" });
  }).catch(function () { /* no service worker here: the pages work online as before */ });
})();
