/**
 * Checks responses against the OpenAPI document: the operation exists, the status is documented, the
 * media type is the documented one, and a JSON body validates (ajv, JSON Schema 2020-12). Remembers
 * which operations the tests exercised, so a test can tell which routes were never called.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { OpenApiDocument } from '../../../server/openapi/document.js';

// ajv-formats is CommonJS with a default export; the ESM interop puts it on `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => void;

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

/** Replaces `#/components/schemas/X` with `components#/$defs/X` throughout, for ajv. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string'
          ? v.replace('#/components/schemas/', 'components#/$defs/')
          : rewriteRefs(v),
      ]),
    );
  }
  return value;
}

export class Conformance {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  private readonly operations: Operation[] = [];
  /** `GET /api/v1/findings/{id}` for each operation a response was checked for. */
  readonly exercised = new Set<string>();

  constructor(readonly document: OpenApiDocument) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'components', $defs: rewriteRefs(document.components.schemas) as Json });
    for (const [template, item] of Object.entries(document.paths)) {
      const pattern = template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{[^}]+\\\}/g, '[^/]+');
      for (const [method, operation] of Object.entries(item)) {
        this.operations.push({
          method: method.toUpperCase(),
          template,
          regex: new RegExp(`^${pattern}/?$`),
          responses: (operation as { responses: Operation['responses'] }).responses,
        });
      }
    }
  }

  /** Every documented operation, as `METHOD template`. */
  get documented(): string[] {
    return this.operations.map((op) => `${op.method} ${op.template}`);
  }

  /** Throws an Error naming what does not conform. `path` is without query. */
  check(method: string, path: string, status: number, contentType: string | null, body: unknown): void {
    const candidates = this.operations.filter((op) => op.regex.test(path));
    const operation = candidates.find((op) => op.method === method);
    if (!operation) {
      // Unknown routes and methods answer the generic 404.
      if (status === 404) return this.validate('Error', body, `${method} ${path} 404`);
      throw new Error(`${method} ${path}: no documented operation (answered ${status})`);
    }
    const where = `${method} ${operation.template} -> ${status}`;
    this.exercised.add(`${method} ${operation.template}`);
    const response = operation.responses[String(status)];
    if (!response) throw new Error(`${where}: status not documented`);
    const type = (contentType ?? '').split(';')[0]!.trim();
    const media = response.content?.[type];
    if (!media) {
      throw new Error(
        `${where}: content type ${type} not documented (${Object.keys(response.content ?? {}).join(', ')})`,
      );
    }
    const ref = media.schema?.$ref;
    if (typeof ref === 'string') this.validate(ref.replace('#/components/schemas/', ''), body, where);
  }

  private validate(component: string, body: unknown, where: string): void {
    const validator = this.ajv.getSchema(`components#/$defs/${component}`);
    if (!validator) throw new Error(`${where}: no schema ${component}`);
    if (!validator(body)) {
      throw new Error(`${where}: body does not match ${component}: ${this.ajv.errorsText(validator.errors)}`);
    }
  }
}
