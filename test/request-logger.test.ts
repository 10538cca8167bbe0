import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { deferredChildLogger, requestIds } from '../src/core/http/request-logger.ts';
import { createLogger } from '../src/core/log.ts';

function capture(level: 'warn' | 'info') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ logLevel: level }, { write: (s: string) => lines.push(JSON.parse(s)) });
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<typeof child>) => {
    children++;
    return child(...args);
  }) as typeof logger.child;
  const requestLog = (id: string, options = {}) =>
    deferredChildLogger(logger as unknown as FastifyBaseLogger, { request_id: id }, options);
  return { lines, requestLog, children: () => children };
}

describe('request loggers', () => {
  it('below the level nothing is written and no pino child is made; at it, lines carry the request id', () => {
    const c = capture('warn');
    const log = c.requestLog('req-1');
    log.info({ step: 1 }, 'quiet');
    log.debug('quieter');
    expect(c.lines).toEqual([]);
    expect(c.children()).toBe(0);
    expect(log.level).toBe('warn');

    log.warn({ headers: { authorization: 'Bearer secret-123' } }, 'loud');
    log.error('louder');
    expect(c.children()).toBe(1);
    expect(c.lines.map((l) => [l.msg, l.request_id])).toEqual([
      ['loud', 'req-1'],
      ['louder', 'req-1'],
    ]);
    expect(JSON.stringify(c.lines)).not.toContain('secret-123');
  });

  it('at info every level from info up is written, and a route with its own level gets it', () => {
    const c = capture('info');
    c.requestLog('req-2').info('hello');
    expect(c.lines).toMatchObject([{ msg: 'hello', request_id: 'req-2' }]);

    const chatty = c.requestLog('req-3', { level: 'debug' });
    chatty.debug('detail');
    expect(c.lines.at(-1)).toMatchObject({ msg: 'detail', request_id: 'req-3' });
  });
});

describe('request ids', () => {
  it('are req_ and 32 hex digits, all different, and differ between processes', () => {
    const a = requestIds();
    const b = requestIds();
    const ids = Array.from({ length: 1000 }, a);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    expect(b()).not.toBe(ids[0]);
  });
});
