/**
 * The human-readable docs: Swagger UI from swagger-ui-dist, served by this process (works offline,
 * loads nothing from a CDN), pointed at /api/v1/openapi.json.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Router } from 'express';
import { defineRoute, type AnyRoute } from '../route.js';
import type { OpenApiDocument } from './document.js';

/** Where the Swagger UI files are served. */
export const DOCS_ASSETS_PATH = '/api/v1/docs/assets';

/** The only files of swagger-ui-dist served: its own index.html would load the petstore example. */
const ASSETS = [
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'swagger-ui-standalone-preset.js',
  'favicon-32x32.png',
];

const INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
    persistAuthorization: false,
  });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ANPR Retention Auditor API</title>
  <link rel="stylesheet" href="${DOCS_ASSETS_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" href="${DOCS_ASSETS_PATH}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${DOCS_ASSETS_PATH}/swagger-ui-bundle.js"></script>
  <script src="${DOCS_ASSETS_PATH}/swagger-ui-standalone-preset.js"></script>
  <script src="${DOCS_ASSETS_PATH}/init.js"></script>
</body>
</html>
`;

// Swagger UI sets inline styles; scripts come only from here.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'";

/** The router of the Swagger UI files, to mount at {@link DOCS_ASSETS_PATH}. */
export function docsAssets(): Router {
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const router = Router();
  for (const file of ASSETS) {
    router.get(`/${file}`, (_req, res) => res.sendFile(join(dist, file), { maxAge: '1d' }));
  }
  router.get('/init.js', (_req, res) => {
    res.type('application/javascript').send(INIT_JS);
  });
  return router;
}

/** The document and the docs page as routes of the list, so they are served and documented alike. */
export function docsRoutes(document: () => OpenApiDocument): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/openapi.json',
      operationId: 'openapi',
      summary: 'This OpenAPI 3.1 document',
      tag: 'documentation',
      access: 'public',
      responses: { 200: { description: 'The document', contentType: 'application/json' } },
      handler({ res }) {
        res.json(document());
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/docs',
      operationId: 'docs',
      summary: 'The API documentation in a browser (Swagger UI, served locally)',
      tag: 'documentation',
      access: 'public',
      responses: { 200: { description: 'An HTML page', contentType: 'text/html' } },
      handler({ res }) {
        res.setHeader('Content-Security-Policy', CSP);
        res.type('html').send(PAGE);
      },
    }),
  ];
}
