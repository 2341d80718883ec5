// Swagger UI for API v1, started from a file (the Content-Security-Policy allows no inline script).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.getElementById("swagger-ui").dataset.spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    validatorUrl: null, // never send the spec's address to an outside validator
  });
});
