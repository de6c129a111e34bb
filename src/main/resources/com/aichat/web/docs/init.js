// Renders the service's OpenAPI document (GET /openapi.yaml) with Swagger UI. validatorUrl: null keeps
// the page from sending the document to the public validator (Swagger UI's default badge).
window.ui = SwaggerUIBundle({
  url: document.getElementById('swagger-ui').dataset.spec,
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
});
