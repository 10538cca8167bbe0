import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newProbeState, probeModule } from './fixtures/probe-module.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { jobsSettled, until } from './helpers/until.ts';

describe('durable jobs', () => {
  const state = newProbeState();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ overrides: { extraModules: [probeModule(state)] } });
  });
  afterAll(async () => t?.close());

  it('a job enqueued in a committed transaction runs; one whose transaction rolled back never does', async () => {
    const gone = await t.app.inject({
      method: 'POST',
      url: '/api/probe/enqueue',
      payload: { tag: 'rolled-back', rollback: true },
    });
    expect(gone.statusCode).toBe(202);
    const kept = await t.app.inject({
      method: 'POST',
      url: '/api/probe/enqueue',
      payload: { tag: 'committed', rollback: false },
    });
    expect(kept.statusCode).toBe(202);
    await until(() => state.ran.includes('committed'));
    // The committed job was enqueued after the rolled-back one; let the queue finish whatever it still has anyway.
    await jobsSettled(t.app);
    expect(state.ran).not.toContain('rolled-back');
    const { rows } = await t.app.loket.database.pool.query(
      "SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'probe.record' AND data->>'tag' = 'rolled-back'",
    );
    expect(rows[0].n).toBe(0);
  });

  it('a failing job is retried with backoff until it succeeds', async () => {
    await t.app.loket.jobs.enqueue(t.app.loket.database.db, 'probe.flaky', { tag: 'flaky', failTimes: 2 });
    await until(() => state.ran.includes('flaky'), { timeoutMs: 25_000 });
    expect(state.attempts.get('flaky')).toBe(3);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/loket_jobs_total\{queue="probe.flaky",outcome="failed"\} 2/);
    expect(metrics.body).toMatch(/loket_jobs_total\{queue="probe.flaky",outcome="completed"\} 1/);
  });

  it('cron schedules are registered', async () => {
    const { rows } = await t.app.loket.database.pool.query('SELECT name, cron FROM pgboss.schedule');
    expect(rows).toContainEqual(expect.objectContaining({ name: 'probe.cron', cron: '*/5 * * * *' }));
  });

  it('an unknown job name is refused at enqueue time', async () => {
    await expect(t.app.loket.jobs.enqueue(t.app.loket.database.db, 'nope', {})).rejects.toThrow(/not defined/);
  });
});

describe('graceful shutdown', () => {
  it('closing the app waits for a running job to finish', async () => {
    const state = newProbeState();
    const t = await startTestApp({ overrides: { extraModules: [probeModule(state)] } });
    await t.app.loket.jobs.enqueue(t.app.loket.database.db, 'probe.slow', { ms: 1500 });
    const { pool } = t.app.loket.database;
    await until(async () => {
      const { rows } = await pool.query(
        "SELECT count(*)::int AS n FROM pgboss.job WHERE name='probe.slow' AND state='active'",
      );
      return rows[0].n === 1;
    });
    expect(state.slowFinished).toBe(false);
    await t.close();
    expect(state.slowFinished).toBe(true);
  });
});
