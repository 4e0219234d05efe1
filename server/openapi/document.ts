/**
 * The OpenAPI 3.1 document, built from the route list: paths, parameters and request bodies from the
 * routes' zod schemas (as the client sends them), responses from the registered response schemas,
 * and the error responses each route's traits imply.
 */
import { z } from 'zod';
import { ROLES } from '../auth.js';
import type { AnyRoute, ResponseSpec } from '../route.js';
import { components, ErrorSchema } from './schemas.js';

type Json = Record<string, unknown>;

/** The subset of an OpenAPI document this module writes and its tests read. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Json;
  servers: Json[];
  tags: Json[];
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
}

/** A path documented by hand because it is a mounted router, not a route of the list. */
export interface ExtraPath {
  path: string;
  method: 'get';
  operation: Json;
}

const SCHEMA_REF = (id: string) => `#/components/schemas/${id}`;

function clean(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/** JSON Schema of what a client sends for `schema` (a query string gives strings, not numbers). */
function inputSchema(schema: z.ZodType): Json {
  return clean(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json);
}

/** `/api/v1/findings/:id` -> `/api/v1/findings/{id}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function componentId(schema: z.ZodType): string {
  const id = components.get(schema)?.id;
  if (!id) throw new Error('a response schema is not registered in openapi/schemas.ts');
  return id;
}

function response(spec: ResponseSpec): Json {
  const type = spec.contentType ?? 'application/json';
  const schema = spec.schema ? { $ref: SCHEMA_REF(componentId(spec.schema)) } : { type: 'string' };
  return { description: spec.description, content: { [type]: { schema } } };
}

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input: `problems` lists each (unknown field, wrong type, bad date, out of range, malformed JSON)',
  401: 'No token, or not a valid one',
  403: 'The token lacks the role, or the client network is not allowed',
  404: 'No such resource',
  409: 'The resource is not in a state that allows this',
  413: 'The body is too large',
  415: 'The body is not UTF-8 JSON',
  429: 'Too many requests for this token (or failed attempts from this address)',
  500: 'Internal error (the request id is in the body and the log)',
  503: 'A dependency does not answer (for audited routes: the audit trail cannot be written)',
};

/** The response of an error status: the Error schema, with `description` or the status's usual text. */
export function errorResponse(status: number, description = ERROR_TEXT[status] ?? 'Error'): Json {
  return response({ description, schema: ErrorSchema });
}

function errorStatuses(route: AnyRoute): number[] {
  const statuses = new Set<number>([400, 500, ...(route.errors ?? [])]);
  if (route.network !== false) statuses.add(403);
  if (route.access !== 'public') [401, 403, 429].forEach((s) => statuses.add(s));
  if (route.audit !== false && route.access !== 'public') statuses.add(503);
  if (route.params) statuses.add(404);
  if (route.body) [413, 415].forEach((s) => statuses.add(s));
  for (const status of Object.keys(route.responses)) statuses.delete(Number(status));
  return [...statuses].sort();
}

function roleText(route: AnyRoute): string {
  if (route.access === 'public') return 'No token needed.';
  const roles = ROLES.slice(0, ROLES.indexOf(route.access) + 1);
  return `Roles: ${roles.join(', ')}.`;
}

function operation(route: AnyRoute): Json {
  const parameters: Json[] = [];
  for (const [location, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    for (const [name, field] of Object.entries((schema as z.ZodObject).shape)) {
      const fieldSchema = field as z.ZodType;
      const json = inputSchema(fieldSchema);
      const required = location === 'path' || !fieldSchema.safeParse(undefined).success;
      const isList = Array.isArray(json.anyOf);
      parameters.push({
        name,
        in: location,
        required,
        schema: json,
        ...(isList ? { style: 'form', explode: true } : {}),
      });
    }
  }
  const responses: Record<string, Json> = {};
  for (const [status, spec] of Object.entries(route.responses)) responses[status] = response(spec);
  for (const status of errorStatuses(route)) {
    responses[String(status)] = errorResponse(status);
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: [route.description, roleText(route)].filter(Boolean).join('\n\n'),
    tags: [route.tag],
    security: route.access === 'public' ? [] : [{ bearer: [] }],
    'x-required-role': route.access,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.bodyOptional,
            content: { 'application/json': { schema: inputSchema(route.body) } },
          },
        }
      : {}),
    responses,
  };
}

/** The document for `routes` and the hand-documented `extra` paths. */
export function buildOpenApi(routes: readonly AnyRoute[], extra: readonly ExtraPath[] = []): OpenApiDocument {
  const generated = z.toJSONSchema(components, { uri: SCHEMA_REF }) as { schemas: Record<string, Json> };
  const schemas = Object.fromEntries(Object.entries(generated.schemas).map(([id, s]) => [id, clean(s)]));
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const path = toOpenApiPath(route.path);
    paths[path] = { ...paths[path], [route.method]: operation(route) };
  }
  for (const item of extra) paths[item.path] = { ...paths[item.path], [item.method]: item.operation };
  const tags = [...new Set(routes.map((r) => r.tag))].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'ANPR Retention Auditor API',
      version: '1.0.0',
      description:
        'Findings review, scans, reports and the audit trail of the ANPR Retention Auditor. Every request ' +
        'that reads or changes findings is recorded in the audit trail. Roles: admin > officer > viewer.',
    },
    servers: [{ url: '/' }],
    tags,
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token from the config (stored there as its SHA-256).',
        },
        basic: {
          type: 'http',
          scheme: 'basic',
          description: 'For browsers on /admin/queues only: any user name, the token as password.',
        },
      },
    },
  };
}
