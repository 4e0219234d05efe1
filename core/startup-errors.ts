/** Errors that stop a process before it can do its work, told in one line (the CLI exits 4). */

/**
 * The process cannot start: Redis or the database does not answer, the embedded store is in use by
 * another process, or the API cannot listen on its address. The message names which, never a URL's
 * credentials.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** `host:port` of a service URL, for messages: never its user, password or query. */
export function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.port ? `${parsed.hostname}:${parsed.port}` : parsed.hostname;
  } catch {
    return 'an invalid URL';
  }
}

/** The code or message of a connection failure, short (`ECONNREFUSED`, `3D000: database "x" does not exist`). */
export function reasonOf(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown; errors?: unknown[] };
  // A SQLSTATE says little alone; PostgreSQL's message (`database "x" does not exist`) holds no secret.
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.message === 'string') {
    return `${e.code}: ${e.message.split('\n')[0]}`;
  }
  if (typeof e?.code === 'string') return e.code;
  // AggregateError (a host with several addresses): the first one's reason.
  if (Array.isArray(e?.errors) && e.errors.length > 0) return reasonOf(e.errors[0]);
  return typeof e?.message === 'string' ? e.message.split('\n')[0]! : String(error);
}
