/** Client commands: HTTP calls to a running Baton (filled in with the REST API). */
export class ClientError extends Error {}
export const CLIENT_HELP = '';
export async function runClientCommand(_name: string, _argv: string[]): Promise<boolean> {
  return false;
}
