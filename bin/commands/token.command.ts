/**
 * `anpr-audit token --name NAME --role ROLE`: makes a random API token and prints it once, with the
 * `api.tokens` entry (its SHA-256) for the config. The config never holds a token in clear.
 */
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const ROLES = ['admin', 'officer', 'viewer'];

export async function tokenCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { name: { type: 'string' }, role: { type: 'string' } },
    strict: true,
  });
  if (!values.name || !values.role || !ROLES.includes(values.role)) {
    process.stderr.write('usage error: anpr-audit token --name NAME --role admin|officer|viewer\n');
    return 2;
  }
  const token = randomBytes(32).toString('base64url');
  const sha256 = createHash('sha256').update(token).digest('hex');
  process.stderr.write('Give this token to its holder now; it is not stored anywhere:\n');
  process.stdout.write(`${token}\n`);
  // The name double-quoted as JSON, which YAML reads back as itself whatever it holds (`ops: night #2`).
  process.stderr.write(
    `\nAdd to api.tokens in the config:\n  - { name: ${JSON.stringify(values.name)}, role: ${values.role}, sha256: ${sha256} }\n`,
  );
  return 0;
}
