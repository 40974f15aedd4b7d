/**
 * API documentation that works offline: @elysiajs/swagger builds the OpenAPI document at
 * /swagger/json; the page at /swagger and its Swagger UI assets are served from files
 * embedded in the binary (the plugin's own page would load them from a CDN).
 */
import { Elysia } from 'elysia';
import { swagger } from '@elysiajs/swagger';
import bundlePath from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' };
import cssPath from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' };

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Baton API</title>
<link rel="stylesheet" href="/swagger/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/swagger/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: '/swagger/json', dom_id: '#swagger-ui', deepLinking: true });
</script>
</body>
</html>`;

export function docs(version: string) {
  return new Elysia({ name: 'baton.docs' })
    .use(swagger({
      path: '/swagger/_plugin',
      specPath: '/swagger/json',
      // The plugin drops every path with a dot by default, which would hide real routes
      // such as v1's `PATCH /builds/:id/trace.txt`; only the `.json` aliases are left out.
      excludeStaticFile: false,
      exclude: ['/swagger', '/swagger/_plugin', '/swagger/json', '/swagger/assets/swagger-ui.css', '/swagger/assets/swagger-ui-bundle.js', /\.json$/],
      documentation: {
        info: {
          title: 'Baton',
          version,
          description: 'GitLab CI runner APIs (v1 and v4) and the GitLab-shaped REST API of Baton. People-facing endpoints take the admin token in `PRIVATE-TOKEN` or `Authorization: Bearer`.',
        },
        tags: [
          { name: 'runner-v1', description: 'GitLab CI API v1 for gitlab-ci-multi-runner 1.x' },
          { name: 'runner-v4', description: 'Runner API v4 for gitlab-runner 9.0 and later' },
          { name: 'projects' }, { name: 'pipelines' }, { name: 'jobs' }, { name: 'runners' }, { name: 'instance' },
        ],
        components: {
          securitySchemes: {
            privateToken: { type: 'apiKey', in: 'header', name: 'PRIVATE-TOKEN' },
            bearer: { type: 'http', scheme: 'bearer' },
            // the dashboard's sign-in; state-changing requests also need the session's X-CSRF-Token
            session: { type: 'apiKey', in: 'cookie', name: 'baton_session' },
            // a running job's CI_JOB_TOKEN, on the routes that take one (releases: release-cli)
            jobToken: { type: 'apiKey', in: 'header', name: 'JOB-TOKEN' },
          },
        },
      },
    }))
    // The plugin's own page loads its UI from a CDN; it is not served (the path must be given).
    .onRequest(({ request }) => {
      if (request.url.endsWith('/swagger/_plugin')) return new Response(JSON.stringify({ message: '404 Not Found' }), { status: 404, headers: { 'content-type': 'application/json' } });
    })
    .get('/swagger', () => new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } }), { detail: { hide: true } })
    .get('/swagger/assets/swagger-ui.css', () => new Response(Bun.file(cssPath), { headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=86400' } }), { detail: { hide: true } })
    .get('/swagger/assets/swagger-ui-bundle.js', () => new Response(Bun.file(bundlePath), { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' } }), { detail: { hide: true } });
}
