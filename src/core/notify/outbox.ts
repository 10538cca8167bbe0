// Everything Loket sends to a person goes through the outbox table first (CONTRACTS §3): written in the
// transaction that caused it, sent by a job. E-mail leaves over SMTP when SMTP_URL is set; SMS and WhatsApp
// need a provider adapter, and until one is configured the message stays readable in /_dev/outbox.
import type { FastifyInstance } from 'fastify';
import type { Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import type { Executor } from '../db/tables.ts';
import type { Jobs } from '../jobs/jobs.ts';

export type Channel = 'email' | 'sms' | 'whatsapp';

export interface OutgoingMessage {
  channel: Channel;
  to: string;
  subject?: string;
  body: string;
}

export interface Outbox {
  /** Stores the message and enqueues its sending, both through `db` (pass the caller's transaction). */
  send(db: Executor, message: OutgoingMessage): Promise<number>;
  /** Stores many messages and enqueues their sending in two statements (a batch of reminders, say). */
  sendMany(db: Executor, messages: readonly OutgoingMessage[]): Promise<number[]>;
}

export function createOutbox(deps: {
  db: Executor;
  jobs: Jobs;
  logger: Logger;
  smtpUrl: string | undefined;
  mailFrom: string;
  now: () => Date;
}): Outbox {
  // nodemailer is loaded only when SMTP is configured (it is a large module an idle instance need not carry).
  const smtpUrl = deps.smtpUrl;
  let transport: Promise<Transporter> | undefined;
  const smtp = () => {
    if (!smtpUrl) return undefined;
    transport ??= import('nodemailer').then((m) => m.default.createTransport(smtpUrl));
    return transport;
  };

  deps.jobs.define<{ id: number }>({
    name: 'outbox.send',
    retryLimit: 8,
    retryDelay: 5,
    handler: async (job) => {
      const msg = await deps.db
        .selectFrom('outbox_messages')
        .selectAll()
        .where('id', '=', job.data.id)
        .executeTakeFirst();
      if (msg?.status !== 'pending') return; // already handled (a retried job must not send twice)
      const mailer = msg.channel === 'email' ? smtp() : undefined;
      if (mailer) {
        try {
          await (await mailer).sendMail({
            from: deps.mailFrom,
            to: msg.recipient,
            subject: msg.subject ?? '',
            text: msg.body,
          });
        } catch (err) {
          await deps.db
            .updateTable('outbox_messages')
            .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: (err as Error).message.slice(0, 500) }))
            .where('id', '=', msg.id)
            .execute();
          throw err;
        }
        await deps.db
          .updateTable('outbox_messages')
          .set((eb) => ({ status: 'sent', sent_at: deps.now(), attempts: eb('attempts', '+', 1) }))
          .where('id', '=', msg.id)
          .execute();
        return;
      }
      await deps.db.updateTable('outbox_messages').set({ status: 'stored' }).where('id', '=', msg.id).execute();
    },
  });

  return {
    async send(db, message) {
      const row = await db
        .insertInto('outbox_messages')
        .values({
          channel: message.channel,
          recipient: message.to,
          subject: message.subject ?? null,
          body: message.body,
          created_at: deps.now(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await deps.jobs.enqueue(db, 'outbox.send', { id: row.id });
      return row.id;
    },
    async sendMany(db, messages) {
      if (messages.length === 0) return [];
      const now = deps.now();
      const rows = await db
        .insertInto('outbox_messages')
        .values(
          messages.map((m) => ({
            channel: m.channel,
            recipient: m.to,
            subject: m.subject ?? null,
            body: m.body,
            created_at: now,
          })),
        )
        .returning('id')
        .execute();
      const ids = rows.map((r) => r.id);
      await deps.jobs.enqueueMany(
        db,
        'outbox.send',
        ids.map((id) => ({ id })),
      );
      return ids;
    },
  };
}

const Query = Type.Object({
  to: Type.Optional(Type.String({ maxLength: 320 })),
  channel: Type.Optional(Type.Union([Type.Literal('email'), Type.Literal('sms'), Type.Literal('whatsapp')])),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
});

const Message = Type.Object({
  id: Type.Integer(),
  channel: Type.String(),
  to: Type.String(),
  subject: Type.Union([Type.String(), Type.Null()]),
  body: Type.String(),
  created_at: Type.String(),
});

/** GET /_dev/outbox: how people and tests read codes without a mail server. Never mounted in production. */
export function registerDevOutbox(app: FastifyInstance, db: Executor) {
  app.get(
    '/_dev/outbox',
    {
      schema: {
        tags: ['development'],
        summary: 'Messages Loket sent to people, newest first (not in production)',
        querystring: Query,
        response: { 200: Type.Object({ messages: Type.Array(Message) }) },
      },
    },
    async (request) => {
      const q = request.query as { to?: string; channel?: Channel; limit: number };
      let query = db.selectFrom('outbox_messages').selectAll();
      if (q.to) query = query.where('recipient', '=', q.to);
      if (q.channel) query = query.where('channel', '=', q.channel);
      const rows = await query.orderBy('id', 'desc').limit(q.limit).execute();
      return {
        messages: rows.map((r) => ({
          id: r.id,
          channel: r.channel,
          to: r.recipient,
          subject: r.subject,
          body: r.body,
          created_at: new Date(r.created_at).toISOString(),
        })),
      };
    },
  );
}
