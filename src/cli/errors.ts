/** The one error a client command throws: main prints `baton: <message>` and exits 1. */
export class ClientError extends Error {
  constructor(
    message: string,
    /** the HTTP status that caused it, when the server answered */
    readonly status?: number,
    /** the server's message as lines (a 400's field errors, a configuration error's lines) */
    readonly lines: string[] = [],
  ) {
    super(message);
  }
}
