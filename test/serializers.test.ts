import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { buildLazySerializer } from '../src/core/http/serializers.ts';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const Item = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  price: Type.Number(),
  tags: Type.Array(Type.String()),
  note: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
const Err = Type.Object({ detail: Type.String(), status: Type.Literal('error') });

function appWith(lazy: boolean, payload: unknown, status: 200 | 404 | 422 = 200): FastifyInstance {
  const app = Fastify(lazy ? { schemaController: { compilersFactory: { buildSerializer: buildLazySerializer } } } : {});
  apps.push(app);
  for (const url of ['/a', '/b']) {
    app.get(url, { schema: { response: { 200: Item, 404: Err, 422: Err } } }, async (_req, reply) =>
      reply.code(status).send(payload),
    );
  }
  return app;
}

describe('lazily compiled response serializers', () => {
  const payloads: [unknown, 200 | 404 | 422][] = [
    [{ id: 7, name: 'Pulsa "10rb"\n', price: 10500.5, tags: ['a', 'ü'], extra: 'dropped', note: null }, 200],
    [{ id: '8', name: 123, price: '1e3', tags: [] }, 200],
    [{ detail: 'No such item', status: 'error', stack: 'secret' }, 404],
    [{ detail: 'Invalid body', status: 'error' }, 422],
  ];

  it.each(payloads)('answer byte for byte what the eager default gives (%j, %i)', async (payload, status) => {
    const eager = appWith(false, payload, status);
    const lazy = appWith(true, payload, status);
    for (const url of ['/a', '/b', '/a']) {
      const [e, l] = await Promise.all([eager.inject({ url }), lazy.inject({ url })]);
      expect(l.statusCode).toBe(e.statusCode);
      expect(l.headers['content-type']).toBe(e.headers['content-type']);
      expect(l.body).toBe(e.body);
    }
  });

  it('compile a route at its first response, not at start-up', async () => {
    const broken = { type: 'object', properties: { a: { $ref: '#/definitions/missing' } } };
    const eager = Fastify();
    apps.push(eager);
    eager.get('/', { schema: { response: { 200: broken } } }, async () => ({ a: 1 }));
    await expect(eager.ready()).rejects.toThrow();

    const lazy = Fastify({ schemaController: { compilersFactory: { buildSerializer: buildLazySerializer } } });
    apps.push(lazy);
    lazy.get('/', { schema: { response: { 200: broken } } }, async () => ({ a: 1 }));
    lazy.get('/fine', { schema: { response: { 200: Item } } }, async () => ({ id: 1, name: 'x', price: 1, tags: [] }));
    await lazy.ready();
    expect((await lazy.inject({ url: '/fine' })).statusCode).toBe(200);
    expect((await lazy.inject({ url: '/' })).statusCode).toBe(500);
  });
});
