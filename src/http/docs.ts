/**
 * API documentation that works offline: @elysiajs/swagger builds the OpenAPI document at
 * /swagger/json; the page at /swagger and its Swagger UI assets are served from files
 * embedded in the binary (the plugin's own page would load them from a CDN, so it is never
 * mounted).
 *
 * The plugin is imported at the first /swagger/json, not at start-up: its module graph
 * (@scalar/themes, zod) took ~12 ms of every start (bench P6). It then describes the routes
 * of the app this group is mounted in, as it would if mounted itself (Elysia hands a plugin
 * its parent's route list the same way).
 */
import { Elysia } from 'elysia';
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

/** What is used of the plugin's instance: its spec route, and the two lookups it reads the routes with. */
type OpenApiPlugin = { handle(request: Request): Promise<Response>; getGlobalRoutes: () => unknown; getGlobalDefinitions: () => unknown };

async function openApiPlugin(version: string, host: Elysia): Promise<OpenApiPlugin> {
  const { swagger } = await import('@elysiajs/swagger');
  const plugin = swagger({
    // its own page (which loads its UI from a CDN) needs a path, but it is never mounted
    path: '/swagger/_plugin',
    specPath: '/swagger/json',
    // The plugin drops every path with a dot by default, which would hide real routes
    // such as v1's `PATCH /builds/:id/trace.txt`; only the `.json` aliases are left out.
    excludeStaticFile: false,
    exclude: ['/swagger', '/swagger/json', '/swagger/assets/swagger-ui.css', '/swagger/assets/swagger-ui-bundle.js', /\.json$/],
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
  }) as unknown as OpenApiPlugin;
  // protected in Elysia's types; Elysia's own use() does this to every plugin it mounts
  const parent = host as unknown as Pick<OpenApiPlugin, 'getGlobalRoutes' | 'getGlobalDefinitions'>;
  plugin.getGlobalRoutes = () => parent.getGlobalRoutes();
  plugin.getGlobalDefinitions = () => parent.getGlobalDefinitions();
  return plugin;
}

export function docs(version: string) {
  let plugin: Promise<OpenApiPlugin> | undefined;
  const group = new Elysia({ name: 'baton.docs' });
  return group
    .get('/swagger/json', async () => (await (plugin ??= openApiPlugin(version, group))).handle(new Request('http://baton/swagger/json')), { detail: { hide: true } })
    .get('/swagger', () => new Response(PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } }), { detail: { hide: true } })
    .get('/swagger/assets/swagger-ui.css', () => new Response(Bun.file(cssPath), { headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=86400' } }), { detail: { hide: true } })
    .get('/swagger/assets/swagger-ui-bundle.js', () => new Response(Bun.file(bundlePath), { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' } }), { detail: { hide: true } });
}
