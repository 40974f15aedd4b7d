/** `baton user create|list` — POST/GET /api/v4/users (admin). */
import { ClientError } from './errors';
import { JSON_HELP, JSON_OPTION, type Command } from './command';
import { fields, printJson, table, time, write } from './output';
import type { User } from './resources';

const create: Command = {
  summary: 'create a user (admin)',
  usage: 'user create --username NAME [--name NAME] [--email EMAIL] [--password PASSWORD] [--admin] [--json]',
  help: `Creates a user (POST /api/v4/users; the token must be an admin's).

  --username NAME     letters, digits, '_', '-', '.'; also the user's namespace (required)
  --name NAME         the display name (default: the username)
  --email EMAIL       optional; signs in like the username
  --password PW       at least 8 characters; better: set BATON_NEW_PASSWORD instead, so the
                      password stays out of the shell history and the process list. With
                      neither, the user gets no password anyone knows (tokens only, until an
                      admin sets one with PUT /api/v4/users/:id)
  --admin             an instance administrator
${JSON_HELP}`,
  options: { username: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' }, admin: { type: 'boolean' }, ...JSON_OPTION },
  async run(args, client) {
    const username = args.required('username');
    const password = args.string('password') ?? (process.env.BATON_NEW_PASSWORD || undefined);
    if (password !== undefined && password.length < 8) throw new ClientError('--password / BATON_NEW_PASSWORD: must be at least 8 characters');
    const user = await client.post<User>('/users', {
      username, name: args.string('name') ?? username, email: args.string('email'), admin: args.flag('admin'),
      ...(password !== undefined ? { password } : { force_random_password: true }),
    });
    if (args.flag('json')) return printJson(user);
    await write(`Created user ${user.id} (${user.username})\n${fields([
      ['id', user.id], ['username', user.username], ['name', user.name], ['email', user.email], ['admin', user.is_admin], ['state', user.state],
      ['password', password !== undefined ? 'set' : 'none (tokens only until an admin sets one)'],
    ])}`);
  },
};

const list: Command = {
  summary: 'list users',
  usage: 'user list [--json]',
  help: `Lists every user, newest first (all pages of GET /api/v4/users). Admins see emails and
who is an admin; others only names.

${JSON_HELP}`,
  options: { ...JSON_OPTION },
  async run(args, client) {
    const users = await client.list<User>('/users');
    if (args.flag('json')) return printJson(users);
    await write(table(['ID', 'USERNAME', 'NAME', 'EMAIL', 'ADMIN', 'STATE', 'LAST SIGN-IN'], users.map((u) => [
      u.id, u.username, u.name, u.email ?? '-', u.is_admin === undefined ? '-' : u.is_admin, u.state, time(u.last_sign_in_at) ?? '-',
    ])));
  },
};

export const userCommands = { create, list };
