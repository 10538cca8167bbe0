// Billing's two list shapes (CONTRACTS §4): the original frontend's bare arrays with the total in `X-Total-Count`,
// and the document's `{data, total_count, skip, limit}`. A `limit` above the maximum is clamped, not refused.
import type { FastifyReply } from 'fastify';
import { MAX_LIMIT } from '../schemas.ts';

export const clampLimit = (limit: number) => Math.min(limit, MAX_LIMIT);

export function bareArray<T>(reply: FastifyReply, page: { rows: T[]; total: number }): T[] {
  reply.header('x-total-count', page.total);
  return page.rows;
}

export const envelopePage = <T>(rows: T[], total: number, skip: number, limit: number) => ({
  data: rows,
  total_count: total,
  skip,
  limit,
});
