/**
 * The human docs page at /docs: a static HTML shell that renders /openapi.json with Scalar's API
 * reference, loaded from its CDN (what @scalar/hono-api-reference serves too, without adding a
 * package to the server). The document itself is served by this API, so the page always matches.
 */
const SCALAR_CDN = 'https://cdn.jsdelivr.net/npm/@scalar/api-reference';

export function docsPage(specUrl: string, title: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${title}</title>
  </head>
  <body>
    <noscript>This page renders <a href="${specUrl}">${specUrl}</a> (OpenAPI 3.1) and needs JavaScript.</noscript>
    <script id="api-reference" data-url="${specUrl}"></script>
    <script src="${SCALAR_CDN}"></script>
  </body>
</html>
`;
}
