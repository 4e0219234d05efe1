import { expect } from 'chai';
import { z } from 'zod';
import { AppError } from '../../../server/errors.js';
import { isInstant, nulProblems, param, validate } from '../../../server/validation.js';

function problems(schema: z.ZodType, value: unknown, location: 'query' | 'body' = 'query'): string[] {
  try {
    validate(schema, value, location);
  } catch (error) {
    expect(error).to.be.instanceOf(AppError);
    return (error as AppError).details.problems ?? [];
  }
  return [];
}

describe('request validation', () => {
  const query = z
    .object({
      limit: param.int(1, 500).optional(),
      since: param.instant().optional(),
      severity: param.list(['high', 'low'] as const).optional(),
      active: param.bool().optional(),
    })
    .strict();

  it('parses query strings into numbers, dates, lists and booleans', () => {
    expect(
      validate(
        query,
        { limit: '20', since: '2026-11-20T12:00:00+01:00', severity: ['high', 'low,high'], active: 'true' },
        'query',
      ),
    ).to.deep.equal({
      limit: 20,
      since: new Date('2026-11-20T11:00:00Z'),
      severity: ['high', 'low', 'high'],
      active: true,
    });
  });

  it('phrases problems for people, one line each', () => {
    expect(
      problems(query, { limit: '501', x: '1', since: '2026-11-20', severity: 'urgent', active: 'yes' }),
    ).to.have.members([
      'query.limit: must be at most 500',
      'query.x: unknown field',
      'query.since: must be an ISO-8601 instant with Z or an offset, e.g. 2026-11-20T12:00:00Z',
      'query.severity[0]: must be one of high, low',
      'query.active: must be one of true, false',
    ]);
    expect(problems(query, { limit: ['1', '2'] })).to.deep.equal(['query.limit: must be given once']);
    expect(problems(z.object({ a: z.string() }).strict(), {}, 'body')).to.deep.equal(['body.a: is required']);
    expect(problems(z.object({ a: z.string() }).strict(), { a: [] }, 'body')).to.deep.equal([
      'body.a: must be a string',
    ]);
  });

  it('accepts only instants with a zone', () => {
    expect(isInstant('2026-11-20T12:00:00Z')).to.equal(true);
    expect(isInstant('2026-11-20T12:00:00.123456+01:00')).to.equal(true);
    expect(isInstant('2026-11-20T12:00:00')).to.equal(false);
    expect(isInstant('2026-11-20')).to.equal(false);
    expect(isInstant('2026-02-30T12:00:00Z')).to.equal(false);
  });

  it('refuses instants the database cannot store once the offset is applied', () => {
    expect(isInstant('0000-01-01T00:00:00+23:59')).to.equal(false);
    expect(isInstant('9999-12-31T23:59:59-23:59')).to.equal(false);
    expect(isInstant('1969-12-31T23:59:59Z')).to.equal(false);
    expect(isInstant('9999-12-31T23:59:59Z')).to.equal(true);
  });

  it('refuses NUL characters anywhere, which the database cannot store', () => {
    expect(nulProblems({ a: ['x', 'y\u0000'] }, 'body')).to.deep.equal([
      'body.a[1]: must not contain NUL characters',
    ]);
    expect(problems(z.object({}).passthrough(), { q: 'a\u0000' })).to.deep.equal([
      'query.q: must not contain NUL characters',
    ]);
  });

  it('refuses a body nested deeper than any the API takes, without overflowing the stack', () => {
    const deep = JSON.parse(`{"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`) as unknown;
    const problemsOfDeep = problems(z.object({ x: z.unknown() }), deep, 'body');
    expect(problemsOfDeep).to.have.length(1);
    expect(problemsOfDeep[0]).to.match(/^body\.x(\[0\]){31}: must not nest more than 32 levels deep$/);
    // A body as deep as the limit allows is walked whole: a NUL at the bottom is still found.
    let shallow: unknown = 'a\u0000';
    for (let i = 0; i < 32; i++) shallow = [shallow];
    expect(nulProblems(shallow, 'body')).to.deep.equal([
      `body${'[0]'.repeat(32)}: must not contain NUL characters`,
    ]);
  });
});
