/**
 * Loads `auditor.yaml` once, validates it, and resolves everything it names from the environment.
 * This module and nothing else reads `process.env`.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, isPostgresUrl, isRedisUrl, type ConfigFile, type SourceConfigFile } from './schema.js';
import type { Contract, SourceRef } from '../core/model.js';

/** Credentials resolved from the environment. Never log, serialise or return these. */
export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/** A source with its credentials resolved and its register path made absolute. */
export interface SourceConfig extends Omit<SourceConfigFile, 'register'> {
  credentials: Credentials;
  /** Absolute path of the register CSV, if any. */
  register?: string;
}

/** The validated, resolved configuration every entry point receives. */
export interface Config extends Omit<ConfigFile, 'sources' | 'contract'> {
  contract: Contract;
  sources: SourceConfig[];
  /** Where the config came from (absolute), for messages. */
  path: string;
  /** PostgreSQL connection string, or undefined for embedded PGlite under `database.dataDir`. */
  databaseUrl: string | undefined;
  /** Key for hashing plates (HMAC-SHA-256), or undefined for plain SHA-256. */
  plateHashKey: string | undefined;
}

/** A config that cannot be used: one line per problem, each naming the path. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Formats a zod issue path as `sources[1].endpoint`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, part) => {
    if (typeof part === 'number') return `${out}[${part}]`;
    return out === '' ? String(part) : `${out}.${String(part)}`;
  }, '');
}

function issuesToProblems(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = formatPath(issue.path);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
    if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'is required';
    return path === '' ? message : `${path}: ${message}`;
  });
}

/** Picks the config path: explicit argument, then AUDITOR_CONFIG, then `config/auditor.yaml`. */
export function resolveConfigPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? env.AUDITOR_CONFIG ?? 'config/auditor.yaml');
}

/**
 * Parses and validates config text, resolving credentials from `env`.
 * @throws ConfigError listing every problem found (YAML syntax, schema, missing env variables).
 */
export function parseConfig(text: string, path: string, env: NodeJS.ProcessEnv = process.env): Config {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${path}: YAML: ${e.message.split('\n')[0]}`));
  }
  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) throw new ConfigError(issuesToProblems(parsed.error.issues));
  const file = parsed.data;

  const problems: string[] = [];
  const need = (name: string, where: string): string => {
    const value = env[name];
    if (value === undefined || value === '')
      problems.push(`${where}: environment variable ${name} is not set`);
    return value ?? '';
  };
  const base = dirname(path);
  const sources = file.sources.map((source, index): SourceConfig => {
    const { register, ...rest } = source;
    const registerPath = register === undefined ? undefined : resolve(base, register);
    return {
      ...rest,
      credentials: {
        accessKey: need(source.accessKeyEnv, `sources[${index}].accessKeyEnv`),
        secretKey: need(source.secretKeyEnv, `sources[${index}].secretKeyEnv`),
      },
      ...(registerPath === undefined ? {} : { register: registerPath }),
    };
  });
  // The URLs themselves are never quoted: they may hold a password.
  const redisUrl = env.REDIS_URL || file.redis.url;
  if (env.REDIS_URL && !isRedisUrl(env.REDIS_URL)) {
    problems.push('REDIS_URL: must be a redis:// or rediss:// URL');
  }
  const databaseUrl = env[file.database.urlEnv] || undefined;
  if (databaseUrl !== undefined && !isPostgresUrl(databaseUrl)) {
    problems.push(`database.urlEnv: ${file.database.urlEnv} must be a postgres:// or postgresql:// URL`);
  }
  const plateHashKey =
    file.privacy.plateHashKeyEnv === undefined
      ? undefined
      : need(file.privacy.plateHashKeyEnv, 'privacy.plateHashKeyEnv');
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    ...file,
    redis: { ...file.redis, url: redisUrl },
    sources,
    path,
    databaseUrl,
    plateHashKey,
  };
}

/** Why the register file at `path` cannot be read, or null when it can. */
function unreadableFile(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return 'is not a file';
    accessSync(path, constants.R_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`;
  }
}

/**
 * Reads, validates and resolves the config file, and checks that the register files it names can be
 * read (`checkRegisterFiles: false` for a caller that writes them itself, as the demo does).
 * @throws ConfigError when the file is missing, unreadable or invalid, or a register file is.
 */
export function loadConfig(
  explicitPath?: string,
  env: NodeJS.ProcessEnv = process.env,
  opts: { checkRegisterFiles?: boolean } = {},
): Config {
  const path = resolveConfigPath(explicitPath, env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `${path}: cannot read config file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  const config = parseConfig(text, path, env);
  if (opts.checkRegisterFiles ?? true) {
    const problems = config.sources.flatMap((source, index) => {
      const problem = source.register === undefined ? null : unreadableFile(source.register);
      return problem ? [`sources[${index}].register: ${source.register} ${problem}`] : [];
    });
    if (problems.length > 0) throw new ConfigError(problems);
  }
  return config;
}

/** The view of a source that rules get: no endpoint, no credentials. */
export function sourceRef(source: SourceConfig): SourceRef {
  const signal = source.violationSignal;
  return {
    id: source.id,
    role: source.role,
    buckets: source.buckets,
    hasRegister: source.register !== undefined,
    hasViolationSignal:
      source.register !== undefined || signal?.metadata !== undefined || signal?.exif !== undefined,
  };
}

/**
 * The environment for the demo: the process environment, with the embedded S3 server's
 * credentials filled in for the demo's source variables when they are not set.
 */
export function demoEnvironment(credentials: Credentials, names: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of names) {
    if (!env[name]) env[name] = /SECRET/.test(name) ? credentials.secretKey : credentials.accessKey;
  }
  return env;
}
