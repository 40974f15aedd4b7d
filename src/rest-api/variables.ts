/**
 * Project variables: `/api/v4/projects/:id/variables` (consumer-api.md §2). Jobs receive them
 * with `public: false`; masked values are replaced in traces by the core.
 */
import { Elysia, t } from 'elysia';
import type { Core } from '../core';
import { peopleAuth } from '../http/auth';
import { withModel } from '../http/params';
import { empty, json } from '../http/respond';
import { Errors, ProjectParams, restDoc } from './common';
import { PageQuery, pageOf, paginated, slice } from './pagination';
import { Presenter, VariableModel } from './presenters';

const KeyParams = t.Object({ id: t.String({ description: 'project id' }), key: t.String() });
const masked = t.Boolean({ description: 'replace the value by x in job logs; needs at least 8 characters on one line (default false)' });
const CreateBody = t.Object({
  key: t.String({ minLength: 1, description: 'letters, digits and _' }),
  value: t.String(),
  masked: t.Optional(masked),
  variable_type: t.Optional(t.Literal('env_var', { description: 'only env_var' })),
});
const UpdateBody = t.Object({ value: t.Optional(t.String()), masked: t.Optional(masked), variable_type: t.Optional(t.Literal('env_var')) });

export function variableRoutes(core: Core) {
  const show = new Presenter(core);
  const doc = restDoc('projects');
  return new Elysia({ name: 'rest-api.variables', prefix: '/api/v4/projects/:id/variables' })
    .use(peopleAuth(core))
    .get('', ({ project, query, request }) => {
      const page = pageOf(query);
      const { rows, total } = slice(core.projects.variables(project.id), page);
      return paginated(request, core.deps.server.url, page, total, rows.map((v) => show.variable(v)));
    }, { can: 'admin_project', params: ProjectParams, query: t.Object(PageQuery), response: { 200: t.Array(VariableModel), ...Errors }, ...doc('List project variables (by key)') })

    .post('', ({ project, body }) =>
      json(show.variable(core.projects.createVariable(project.id, { key: body.key, value: body.value, masked: body.masked })), 201),
    { can: 'admin_project', params: ProjectParams, ...withModel(CreateBody), response: { 201: VariableModel, ...Errors }, ...doc('Create a project variable') })

    .get('/:key', ({ project, params }) => json(show.variable(core.projects.variable(project.id, params.key))),
      { can: 'admin_project', params: KeyParams, response: { 200: VariableModel, ...Errors }, ...doc('Get a project variable') })

    .put('/:key', ({ project, params, body }) =>
      json(show.variable(core.projects.updateVariable(project.id, params.key, { value: body.value, masked: body.masked }))),
    { can: 'admin_project', params: KeyParams, ...withModel(UpdateBody), response: { 200: VariableModel, ...Errors }, ...doc('Edit a project variable') })

    .delete('/:key', ({ project, params }) => {
      core.projects.deleteVariable(project.id, params.key);
      return empty(204);
    }, { can: 'admin_project', params: KeyParams, response: { 204: t.Void(), ...Errors }, ...doc('Delete a project variable') });
}
