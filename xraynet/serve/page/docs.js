// The API documentation: Swagger UI from the installed swagger-ui-py package, reading
// /openapi.json; nothing is fetched from outside this server (no validator badge either).
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
});
