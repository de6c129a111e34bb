// Renders the service's OpenAPI document (GET /openapi.yaml) with Swagger UI.
window.ui = SwaggerUIBundle({
  url: document.getElementById('swagger-ui').dataset.spec,
  dom_id: '#swagger-ui',
  deepLinking: true,
});
