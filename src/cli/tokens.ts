/** `baton token create|list|revoke` — personal access tokens (/api/v4/…personal_access_tokens). */
import { ClientError } from './errors';
import { JSON_HELP, JSON_OPTION, type Command } from './command';
import { fields, printJson, table, time, write } from './output';
import type { Token } from './resources';

const create: Command = {
  summary: 'create a personal access token; prints it once',
  usage: 'token create --name NAME --scopes api,read_api [--user ID] [--expires-at YYYY-MM-DD] [--json]',
  help: `Creates a personal access token and prints it — the only time it is shown (Baton keeps
only its hash). For yourself (POST /api/v4/user/personal_access_tokens), or with --user for
another user (POST /api/v4/users/:id/personal_access_tokens; admins only).

  --name NAME         what the token is for (required)
  --scopes LIST       api (everything the user may do) and/or read_api (reads only),
                      comma-separated (required)
  --user ID           the user it is for (admins)
  --expires-at DATE   YYYY-MM-DD after today: it stops working at midnight UTC of that day
                      (default: never)
${JSON_HELP}`,
  options: { name: { type: 'string' }, scopes: { type: 'string' }, user: { type: 'string' }, 'expires-at': { type: 'string' }, ...JSON_OPTION },
  async run(args, client) {
    const scopes = args.required('scopes').split(',').map((s) => s.trim()).filter(Boolean);
    const expires = args.string('expires-at');
    if (expires !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(expires)) throw new ClientError(`--expires-at: expected a date such as 2030-01-31, got "${expires}"`);
    const user = args.id('user');
    const token = await client.post<Token>(user === undefined ? '/user/personal_access_tokens' : `/users/${user}/personal_access_tokens`, {
      name: args.required('name'), scopes, ...(expires ? { expires_at: expires } : {}),
    });
    if (args.flag('json')) return printJson(token);
    await write(`Created token ${token.id} (${token.name}) for user ${token.user_id}; it is shown only now:\n${fields([
      ['token', token.token], ['id', token.id], ['scopes', token.scopes.join(',')], ['expires_at', token.expires_at ?? 'never'],
    ])}`);
  },
};

const list: Command = {
  summary: 'list personal access tokens (never the tokens themselves)',
  usage: 'token list [--user ID] [--json]',
  help: `Lists your personal access tokens; an admin's list has everyone's (--user: one user's).

  --user ID           only this user's tokens
${JSON_HELP}`,
  options: { user: { type: 'string' }, ...JSON_OPTION },
  async run(args, client) {
    const user = args.id('user');
    const tokens = await client.list<Token>('/personal_access_tokens', user === undefined ? {} : { user_id: user });
    if (args.flag('json')) return printJson(tokens);
    await write(table(['ID', 'NAME', 'USER', 'SCOPES', 'STATE', 'EXPIRES', 'LAST USED'], tokens.map((t) => [
      t.id, t.name, t.user_id, t.scopes.join(','), t.revoked ? 'revoked' : t.active ? 'active' : 'expired', t.expires_at ?? 'never', time(t.last_used_at) ?? '-',
    ])));
  },
};

const revoke: Command = {
  summary: 'revoke a personal access token',
  usage: 'token revoke ID',
  help: `Revokes a personal access token (DELETE /api/v4/personal_access_tokens/:id): it stops
working at once. Your own, or anyone's for an admin.`,
  options: {},
  positionals: ['ID'],
  async run(args, client) {
    const id = args.id('ID', 'positional')!;
    await client.delete(`/personal_access_tokens/${id}`);
    await write(`Revoked token ${id}\n`);
  },
};

export const tokenCommands = { create, list, revoke };
