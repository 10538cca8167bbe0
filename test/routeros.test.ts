// Our RouterOS client against a fake RouterOS over real sockets: the API protocol over TCP and TLS (every reply
// word, each length-prefix size, tags answered out of order, pipelining on a shared socket, a reply cut in half, a
// slow router, a refused login, a closed port) and the REST API of RouterOS 7 over HTTP and HTTPS. The fake parses
// the wire format with code of its own (test/fakes/routeros.ts), so a misreading in the client cannot hide itself.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiConnectionCount, apiTransport } from '../src/modules/billing/providers/routeros/api.ts';
import { decodeLength, encodeLength } from '../src/modules/billing/providers/routeros/api-wire.ts';
import { RouterEngine } from '../src/modules/billing/providers/routeros/engine.ts';
import {
  closeRouterConnections,
  RouterError,
  type RouterTarget,
  routerClient,
} from '../src/modules/billing/providers/routeros/index.ts';
import {
  type FakeRest,
  type FakeRouter,
  FakeWireDecoder,
  fakeLengthPrefix,
  startFakeRest,
  startFakeRouter,
} from './fakes/routeros.ts';
import { freePort } from './helpers/net.ts';
import { until } from './helpers/until.ts';

const PASSWORD = 'rahasia-router';

function targetFor(port: number, over: Partial<RouterTarget> = {}): RouterTarget {
  return {
    key: randomUUID(),
    host: '127.0.0.1',
    port,
    transport: 'api',
    tls: false,
    username: 'admin',
    password: PASSWORD,
    timeoutMs: 5_000,
    ...over,
  };
}

/** The RouterError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<RouterError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof RouterError)) throw new Error(`expected a RouterError, got ${String(e)}`);
  return e;
}

const secret = (name: string, profile = 'paket-10M') => ({ name, password: `pw-${name}`, profile });

afterAll(() => closeRouterConnections());

describe('the API protocol length prefix', () => {
  // Each range's first and last length, up to the largest a word can have.
  const cases: [number, number][] = [
    [0, 1],
    [0x7f, 1],
    [0x80, 2],
    [0x3fff, 2],
    [0x4000, 3],
    [0x1fffff, 3],
    [0x200000, 4],
    [0xfffffff, 4],
    [0x10000000, 5],
    [0xffffffff, 5],
  ];
  it.each(cases)('length %i is %i bytes, read the same by the client and the fake', (length, size) => {
    const ours = encodeLength(length);
    expect(ours.length).toBe(size);
    expect([...ours]).toEqual([...fakeLengthPrefix(length)]);
    expect(FakeWireDecoder.prefixValue([...ours])).toBe(length);
    expect(decodeLength(fakeLengthPrefix(length), 0)).toEqual({ length, size });
  });

  it('refuses a reserved control byte and a length beyond 32 bits', () => {
    expect(() => decodeLength(Buffer.from([0xf8]), 0)).toThrow(RouterError);
    expect(() => encodeLength(2 ** 32)).toThrow(RouterError);
  });
});

describe('the API protocol over TCP', () => {
  let fake: FakeRouter;
  beforeAll(async () => {
    fake = await startFakeRouter({ password: PASSWORD });
  });
  afterAll(() => fake.close());
  afterEach(() => {
    fake.options.delayMs = 0;
    fake.options.dropMidReply = undefined;
    fake.options.interleave = undefined;
  });

  it('adds, reads, sets and removes a secret, with !re rows, !done with ret and !empty', async () => {
    const client = routerClient(targetFor(fake.port));
    const id = await client.addSecret({ ...secret('c-1'), remoteAddress: '10.9.0.11', comment: 'Budi' });
    expect(id).toMatch(/^\*[0-9A-F]+$/);
    expect(fake.engine.secret('c-1')?.password).toBe('pw-c-1');

    expect(await client.secrets({ name: 'c-1' })).toEqual([
      {
        id,
        name: 'c-1',
        profile: 'paket-10M',
        service: 'pppoe',
        remoteAddress: '10.9.0.11',
        disabled: false,
        comment: 'Budi',
      },
    ]);
    await client.setSecret(id, { profile: 'ISOLIR', remoteAddress: null });
    expect(fake.engine.secret('c-1')).toMatchObject({ profile: 'ISOLIR', 'remote-address': '' });

    const emptiesBefore = fake.stats.replies['!empty'] ?? 0;
    expect(await client.secrets({ name: 'nobody' })).toEqual([]);
    expect(fake.stats.replies['!empty']).toBe(emptiesBefore + 1);

    await client.removeSecret(id);
    expect(fake.engine.secret('c-1')).toBeUndefined();
  });

  it('reads sessions, profiles, identity and resource, and ends a session', async () => {
    const client = routerClient(targetFor(fake.port));
    await client.addSecret(secret('c-online'));
    fake.engine.dial('c-online');
    const [session] = await client.active({ name: 'c-online' });
    expect(session).toMatchObject({ name: 'c-online', callerId: '00:00:5E:00:53:01' });
    await client.removeActive(session?.id ?? '');
    expect(await client.active({ name: 'c-online' })).toEqual([]);

    expect((await client.profiles()).map((p) => p.name)).toEqual(
      expect.arrayContaining(['default', 'paket-10M', 'ISOLIR']),
    );
    expect(await client.identity()).toBe('MikroTik');
    expect(await client.resource()).toMatchObject({ version: '7.18.2 (stable)', boardName: 'RB4011iGS+', cpuLoad: 3 });
  });

  it("answers a duplicate secret with a trap carrying RouterOS's message, and changes nothing", async () => {
    const client = routerClient(targetFor(fake.port));
    await client.addSecret(secret('c-dup'));
    const traps = fake.stats.replies['!trap'] ?? 0;
    const e = await failure(client.addSecret(secret('c-dup', 'paket-20M')));
    expect(e.kind).toBe('trap');
    expect(e.message).toBe('failure: secret with the same name already exists');
    expect(fake.stats.replies['!trap']).toBe(traps + 1);
    expect(fake.engine.secret('c-dup')?.profile).toBe('paket-10M');
    expect((await failure(client.removeSecret('*FFFF'))).message).toBe('no such item');
  });

  it('carries words across every length-prefix size, both ways', async () => {
    const client = routerClient(targetFor(fake.port));
    const id = await client.addSecret(secret('c-long'));
    const prefix = '=comment='.length;
    for (const wordLength of [0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000]) {
      const comment = 'x'.repeat(wordLength - prefix - 1) + String(wordLength % 10);
      await client.setSecret(id, { comment });
      const [row] = await client.secrets({ name: 'c-long' });
      expect(row?.comment?.length, `a ${wordLength}-byte word`).toBe(comment.length);
      expect(row?.comment === comment).toBe(true);
    }
    // Lengths count bytes, not characters; a value may hold '='.
    const address = 'Jl. Sudirman No. 5, Palembang — Blok Ñ; ont=ZTE=F609';
    await client.setSecret(id, { comment: address });
    expect((await client.secrets({ name: 'c-long' }))[0]?.comment).toBe(address);
  });

  it('runs many tagged commands at once on one socket, their replies out of order and interleaved', async () => {
    const setup = routerClient(targetFor(fake.port));
    for (let i = 0; i < 10; i++) await setup.addSecret(secret(`c-tag-${i}`));
    const transport = apiTransport(targetFor(fake.port), { maxConnections: 1 });
    const connections = fake.stats.connections;
    fake.options.interleave = 20;
    const prints = Array.from({ length: 10 }, (_, i) => transport.exec('/ppp/secret/print', {}, [`name=c-tag-${i}`]));
    const adds = Array.from({ length: 5 }, (_, i) => transport.exec('/ppp/secret/add', secret(`c-tag-new-${i}`)));
    const duplicates = Array.from({ length: 5 }, (_, i) => transport.exec('/ppp/secret/add', secret(`c-tag-${i}`)));
    const results = await Promise.allSettled([...prints, ...adds, ...duplicates]);

    expect(fake.stats.connections).toBe(connections + 1);
    results.slice(0, 10).forEach((r, i) => {
      expect(r.status === 'fulfilled' && r.value.rows.map((row) => row.name)).toEqual([`c-tag-${i}`]);
    });
    const rets = results.slice(10, 15).map((r) => (r.status === 'fulfilled' ? r.value.ret : null));
    rets.forEach((ret, i) => {
      expect(ret).toBe(fake.engine.secret(`c-tag-new-${i}`)?.id);
    });
    for (const r of results.slice(15)) {
      expect(r.status === 'rejected' && (r.reason as RouterError).kind).toBe('trap');
    }
  });

  it('shares at most two pooled sockets between every client of one router', async () => {
    const target = targetFor(fake.port);
    const connections = fake.stats.connections;
    const first = routerClient(target);
    await first.addSecret(secret('c-pool'));
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => routerClient(target).secrets({ name: i % 2 ? 'c-pool' : 'none' })),
    );
    expect(results.filter((r) => r.length === 1)).toHaveLength(100);
    expect(fake.stats.connections - connections).toBeLessThanOrEqual(2);
    await first.close(); // a client's close leaves the pool to the next one
    await routerClient(target).identity();
    expect(fake.stats.connections - connections).toBeLessThanOrEqual(2);
  });

  it('rejects every command in flight when the router sends !fatal, then logs in again', async () => {
    const target = targetFor(fake.port);
    const transport = apiTransport(target, { maxConnections: 1 });
    await transport.exec('/system/identity/print');
    const logins = fake.stats.logins;
    fake.options.delayMs = 100;
    const pending = transport.exec('/ppp/profile/print');
    const quit = failure(transport.exec('/quit'));
    expect(await quit).toMatchObject({
      kind: 'fatal',
      message: expect.stringContaining('session terminated on request'),
    });
    expect((await failure(pending)).kind).toBe('fatal');
    fake.options.delayMs = 0;
    expect((await transport.exec('/system/identity/print')).rows).toEqual([{ name: 'MikroTik' }]);
    expect(fake.stats.logins).toBe(logins + 1);
  });

  it('rejects every pending command when the connection drops mid-reply, and recovers on a new one', async () => {
    const client = routerClient(targetFor(fake.port));
    await client.addSecret(secret('c-drop'));
    const connections = fake.stats.connections;
    fake.options.dropMidReply = (command) => command === '/ppp/secret/print';
    const outcomes = await Promise.all(
      [client.secrets(), client.secrets({ name: 'c-drop' }), client.profiles()].map(failure),
    );
    expect(outcomes.map((e) => e.kind)).toEqual(['fatal', 'fatal', 'fatal']);
    fake.options.dropMidReply = undefined;
    expect((await client.secrets({ name: 'c-drop' }))[0]?.name).toBe('c-drop');
    expect(fake.stats.connections).toBe(connections + 1);
  });

  it('times a slow router out, drops that socket, and uses a fresh one next', async () => {
    const client = routerClient(targetFor(fake.port, { timeoutMs: 150 }));
    await client.identity();
    const connections = fake.stats.connections;
    fake.options.delayMs = 2_000;
    const e = await failure(client.identity());
    expect(e.kind).toBe('timeout');
    expect(e.message).toContain('150 ms');
    fake.options.delayMs = 0;
    expect(await client.identity()).toBe('MikroTik');
    expect(fake.stats.connections).toBe(connections + 1);
  });

  it('refuses a wrong password as auth, without the password in the message', async () => {
    const failed = fake.stats.failedLogins;
    const e = await failure(routerClient(targetFor(fake.port, { password: 'salah-sandi' })).identity());
    expect(e.kind).toBe('auth');
    expect(e.message).toContain('invalid user name or password');
    expect(e.message).not.toContain('salah-sandi');
    expect(fake.stats.failedLogins).toBe(failed + 1);
    fake.options.loginRefusedWithDone = true;
    const again = await failure(routerClient(targetFor(fake.port, { password: 'salah-sandi' })).identity());
    expect(again).toMatchObject({ kind: 'auth', message: expect.stringContaining('invalid user name or password') });
    fake.options.loginRefusedWithDone = false;
  });

  it('keeps at most the window of commands written to a socket, and answers every one', async () => {
    const transport = apiTransport(targetFor(fake.port), { maxConnections: 1, maxInFlight: 4 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => transport.exec('/system/identity/print')));
    expect(answers.every((a) => a.rows[0]?.name === 'MikroTik')).toBe(true);
  });

  it('closes an idle socket, and logs in with new settings when the router is edited', async () => {
    const target = targetFor(fake.port);
    await apiTransport(target, { idleMs: 50 }).exec('/system/identity/print');
    expect(apiConnectionCount(target.key)).toBe(1);
    await until(() => apiConnectionCount(target.key) === 0, { what: 'the idle socket to close', timeoutMs: 5_000 });

    await routerClient(target).identity();
    const logins = fake.stats.logins;
    const edited = await failure(routerClient({ ...target, password: 'kata-sandi-baru' }).identity());
    expect(edited.kind).toBe('auth');
    expect(await routerClient(target).identity()).toBe('MikroTik');
    expect(fake.stats.logins).toBe(logins + 1);
  });

  it('reports a closed port as unreachable', async () => {
    const e = await failure(routerClient(targetFor(await freePort())).identity());
    expect(e.kind).toBe('unreachable');
    expect(e.message).toContain('ECONNREFUSED');
  });
});

describe('the API protocol on older RouterOS (before 7.18, no !empty)', () => {
  it('reads an empty print that ends with !done alone', async () => {
    const fake = await startFakeRouter({
      password: PASSWORD,
      engine: new RouterEngine({ version: '7.17.2 (stable)' }),
    });
    try {
      const client = routerClient(targetFor(fake.port));
      expect(await client.secrets()).toEqual([]);
      expect(fake.stats.replies['!empty']).toBeUndefined();
      expect(fake.stats.replies['!done']).toBeGreaterThanOrEqual(2);
    } finally {
      await fake.close();
    }
  });
});

describe('the API protocol over TLS (8729)', () => {
  let fake: FakeRouter;
  beforeAll(async () => {
    fake = await startFakeRouter({ password: PASSWORD, tls: true });
  });
  afterAll(() => fake.close());

  it("accepts the router's self-signed certificate by default and runs commands", async () => {
    const client = routerClient(targetFor(fake.port, { tls: true }));
    const id = await client.addSecret(secret('c-tls'));
    expect((await client.secrets({ name: 'c-tls' }))[0]?.id).toBe(id);
    expect(await failure(client.addSecret(secret('c-tls')))).toMatchObject({ kind: 'trap' });
  });

  it('refuses the self-signed certificate when asked to verify it', async () => {
    const e = await failure(routerClient(targetFor(fake.port, { tls: true, allowSelfSigned: false })).identity());
    expect(e.kind).toBe('unreachable');
    expect(e.message).toMatch(/CERT|certificate/i);
  });
});

describe.each([false, true])('the REST API (tls %s)', (tls) => {
  let fake: FakeRest;
  const restTarget = (over: Partial<RouterTarget> = {}) => targetFor(fake.port, { transport: 'rest', tls, ...over });
  beforeAll(async () => {
    fake = await startFakeRest({ password: PASSWORD, tls });
  });
  afterAll(() => fake.close());
  afterEach(() => {
    fake.options.delayMs = 0;
    fake.options.dropMidReply = undefined;
  });

  it('adds, reads with a query, sets and removes a secret', async () => {
    const client = routerClient(restTarget());
    const id = await client.addSecret({ ...secret('r-1'), remoteAddress: '10.9.1.1' });
    expect(id).toMatch(/^\*[0-9A-F]+$/);
    await client.addSecret(secret('r-2'));
    expect(await client.secrets({ name: 'r-1' })).toEqual([
      {
        id,
        name: 'r-1',
        profile: 'paket-10M',
        service: 'pppoe',
        remoteAddress: '10.9.1.1',
        disabled: false,
        comment: null,
      },
    ]);
    await client.setSecret(id, { profile: 'ISOLIR', disabled: true });
    expect(fake.engine.secret('r-1')).toMatchObject({ profile: 'ISOLIR', disabled: 'true' });
    await client.removeSecret(id);
    expect(await client.secrets({ name: 'r-1' })).toEqual([]);
    expect(await client.identity()).toBe('MikroTik');
    expect((await client.resource()).version).toBe('7.18.2 (stable)');
  });

  it('carries a 2 MB comment', async () => {
    const client = routerClient(restTarget());
    const id = await client.addSecret(secret('r-long'));
    const comment = 'y'.repeat(0x200000);
    await client.setSecret(id, { comment });
    expect((await client.secrets({ name: 'r-long' }))[0]?.comment === comment).toBe(true);
  });

  it("answers a duplicate with a trap carrying RouterOS's detail", async () => {
    const client = routerClient(restTarget());
    await client.addSecret(secret('r-dup'));
    const e = await failure(client.addSecret(secret('r-dup', 'paket-20M')));
    expect(e).toMatchObject({ kind: 'trap', message: 'failure: secret with the same name already exists' });
    expect(fake.engine.secret('r-dup')?.profile).toBe('paket-10M');
  });

  it('refuses a wrong password as auth', async () => {
    const e = await failure(routerClient(restTarget({ password: 'salah-sandi' })).identity());
    expect(e.kind).toBe('auth');
    expect(e.message).not.toContain('salah-sandi');
  });

  it('times a slow router out, and reports a dropped connection as fatal', async () => {
    fake.options.delayMs = 2_000;
    expect((await failure(routerClient(restTarget({ timeoutMs: 150 })).identity())).kind).toBe('timeout');
    fake.options.delayMs = 0;
    fake.options.dropMidReply = (command) => command === '/system/identity/print';
    expect((await failure(routerClient(restTarget()).identity())).kind).toBe('fatal');
  });

  it('reports a closed port as unreachable', async () => {
    const e = await failure(routerClient(targetFor(await freePort(), { transport: 'rest', tls })).identity());
    expect(e.kind).toBe('unreachable');
  });

  // Only the TLS variant has a certificate to refuse.
  if (tls) {
    it('refuses the self-signed certificate when asked to verify it', async () => {
      const e = await failure(routerClient(restTarget({ allowSelfSigned: false })).identity());
      expect(e.kind).toBe('unreachable');
    });
  }
});
