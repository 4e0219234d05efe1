/**
 * OpenAPI conformance of the app itself: every Express route is in the document and every documented
 * operation is served; the document's schemas compile (JSON Schema 2020-12) and every reference
 * resolves; each operation states the errors its traits allow. That every answer the tests receive
 * validates against the document is checked in each request of the other API tests (harness.ts).
 */
import { expect } from 'chai';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Express } from 'express';
import { toOpenApiPath } from '../../../server/openapi/document.js';
import { withApi } from './harness.js';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/** `METHOD /path` of every route mounted on the app itself (mounted routers are middleware). */
function expressRoutes(app: Express): string[] {
  const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
  return stack.flatMap((layer) => {
    if (!layer.route) return [];
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    const methods = Object.keys(layer.route.methods).filter((m) => layer.route!.methods[m] && m !== '_all');
    return paths.flatMap((path) => methods.map((method) => `${method.toUpperCase()} ${toOpenApiPath(path)}`));
  });
}

function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refs(v)));
  }
  return [];
}

describe('API: OpenAPI document', function () {
  this.timeout(30_000);
  const ctx = withApi();

  it('documents every Express route, and every documented operation is served', () => {
    const { api } = ctx();
    const served = expressRoutes(api.app);
    const documented = Object.entries(api.document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(served.length).to.be.greaterThan(20);
    expect(served.filter((route) => !documented.includes(route))).to.deep.equal([]);
    // Bull Board is a mounted router, documented by hand.
    expect(documented.filter((op) => !served.includes(op))).to.deep.equal(['GET /admin/queues']);
  });

  it('is OpenAPI 3.1 with unique operation ids, and the document served is the one built', async () => {
    const { api } = ctx();
    const served = await api.client.get('/api/v1/openapi.json');
    expect(served.body).to.deep.equal(JSON.parse(JSON.stringify(api.document)));
    expect(api.document.openapi).to.equal('3.1.0');
    const ids = Object.values(api.document.paths).flatMap((item) =>
      Object.values(item).map((op) => op.operationId),
    );
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('has schemas that compile as JSON Schema 2020-12 and references that all resolve', () => {
    const { api } = ctx();
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    ajv.addFormat('date-time', true);
    const local = (value: unknown) =>
      JSON.parse(JSON.stringify(value).replaceAll('#/components/schemas/', '#/$defs/')) as Record<
        string,
        unknown
      >;
    const $defs = local(api.document.components.schemas);
    for (const [name, schema] of Object.entries(api.document.components.schemas)) {
      expect(() => ajv.compile({ ...local(schema), $defs }), name).to.not.throw();
    }
    for (const ref of refs(api.document)) {
      const name = ref.replace('#/components/schemas/', '');
      expect(api.document.components.schemas, ref).to.have.property(name);
    }
    // Parameter and body schemas too.
    for (const item of Object.values(api.document.paths)) {
      for (const op of Object.values(item) as Array<{
        parameters?: Array<{ schema: object; name: string }>;
        requestBody?: { content: Record<string, { schema: object }> };
      }>) {
        for (const parameter of op.parameters ?? [])
          expect(() => ajv.compile(parameter.schema), parameter.name).to.not.throw();
        for (const media of Object.values(op.requestBody?.content ?? {}))
          expect(() => ajv.compile(media.schema)).to.not.throw();
      }
    }
  });

  it('states the errors of each operation: 400 and 500 always, 401/403/429 behind a token, 404 with an id', () => {
    const { api } = ctx();
    for (const [path, item] of Object.entries(api.document.paths)) {
      for (const [method, op] of Object.entries(item) as Array<
        [
          string,
          {
            responses: Record<string, unknown>;
            'x-required-role': string;
            parameters?: Array<{ in: string; name: string }>;
          },
        ]
      >) {
        const where = `${method.toUpperCase()} ${path}`;
        const statuses = Object.keys(op.responses);
        if (path !== '/admin/queues') expect(statuses, where).to.include.members(['400', '500']);
        if (op['x-required-role'] !== 'public') expect(statuses, where).to.include.members(['401', '403']);
        const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        expect(
          (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
          where,
        ).to.deep.equal(pathParams);
        if (pathParams.length > 0) expect(statuses, where).to.include('404');
      }
    }
  });

  it('describes query parameters as the client sends them', () => {
    const { api } = ctx();
    const list = api.document.paths['/api/v1/findings']!.get as {
      parameters: Array<{ name: string; required: boolean; schema: Record<string, unknown> }>;
    };
    const limit = list.parameters.find((p) => p.name === 'limit')!;
    expect(limit).to.deep.include({
      required: false,
      schema: { description: 'A whole number from 1 to 500.', type: 'string', pattern: '^\\d{1,9}$' },
    });
    const severity = list.parameters.find((p) => p.name === 'severity')!;
    expect(severity.schema).to.have.property('anyOf');
  });
});
