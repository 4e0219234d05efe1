/** The CLI's one way to load the config: every problem on stderr, then exit code 2 by the caller. */
import { ConfigError, loadConfig, type Config } from '../../config/load.js';

/**
 * Loads the config; on a ConfigError prints each problem to stderr and returns null (exit 2), as
 * the other commands do.
 */
export function loadConfigOrReport(
  path: string | undefined,
  stderr: NodeJS.WritableStream = process.stderr,
): Config | null {
  try {
    return loadConfig(path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) stderr.write(`config error: ${problem}\n`);
    return null;
  }
}
