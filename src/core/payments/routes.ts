// HTTP for the payments core: the Xendit webhook (at the paths modules declare, in their envelopes), QR images,
// and the simulator's /_dev routes.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { Core } from '../context.ts';
import { safeEqual } from '../crypto.ts';
import { errorResponses, platformEnvelope } from '../http/envelopes.ts';
import { AppError } from '../http/errors.ts';
import { createRouter } from '../http/route.ts';
import type { WebhookAnswer } from '../module.ts';
import { invoiceCallback, qrPaidCallback } from './callbacks.ts';
import type { SimulatorGateway } from './simulator.ts';

/** Where the webhook answers when no module declares its own paths, in the platform envelope. */
const PLATFORM_WEBHOOK: WebhookAnswer = {
  paths: ['/webhooks/xendit'],
  ok: (result) => ({ detail: result.message, outcome: result.outcome, external_id: result.reference ?? null }),
  okSchema: Type.Object({
    detail: Type.String(),
    outcome: Type.String(),
    external_id: Type.Union([Type.String(), Type.Null()]),
  }),
};

/** The webhook answers of the enabled modules, or the platform's when none declares one. */
export function webhookAnswers(declared: { answer: WebhookAnswer; envelope: typeof platformEnvelope }[]) {
  return declared.length > 0 ? declared : [{ answer: PLATFORM_WEBHOOK, envelope: platformEnvelope }];
}

const Reference = Type.Object({ reference: Type.String({ minLength: 1, maxLength: 100 }) });

export function registerPaymentRoutes(
  app: FastifyInstance,
  core: Core,
  simulator: SimulatorGateway | undefined,
  answers: ReturnType<typeof webhookAnswers>,
) {
  const { payments, config } = core;
  const webhookPath = answers[0]?.answer.paths[0] as string;

  for (const { answer, envelope } of answers) {
    const router = createRouter(app, core, { module: 'platform', envelope, tags: ['payments'] });
    for (const url of answer.paths) {
      router.post(
        url,
        {
          auth: 'public',
          // Xendit's callbacks are small; a megabyte of JSON here is an attack, not a payment.
          bodyLimit: 64 * 1024,
          errors: [400, 401, 403, 404, 413, 503],
          schema: {
            summary: "Xendit callbacks (QR v1, QR v2, invoices) and the modules' own shapes; x-callback-token required",
            headers: Type.Object({ 'x-callback-token': Type.Optional(Type.String({ maxLength: 256 })) }),
            body: Type.Object({}, { additionalProperties: true }),
            response: { 200: answer.okSchema },
          },
        },
        async (request) => {
          // The platform's token, or the token of an account of its own (each payment is checked against the
          // account it was made with in the intake).
          const expected = config.xenditCallbackToken;
          if (!expected && !payments.hasAccounts()) {
            throw new AppError('SERVICE_UNAVAILABLE', 'Webhook verification token is not configured');
          }
          const given = request.headers['x-callback-token'];
          if (typeof given !== 'string' || given === '')
            throw new AppError('AUTHENTICATION_ERROR', 'Missing x-callback-token');
          const signer = {
            platform: expected !== undefined && safeEqual(given, expected),
            accounts: payments.accountsSignedBy(given),
          };
          if (!signer.platform && signer.accounts.length === 0) {
            throw new AppError('AUTHORIZATION_ERROR', 'Invalid x-callback-token');
          }
          const webhookId = request.headers['webhook-id'];
          const result = await payments.intake(
            request.body,
            typeof webhookId === 'string' ? webhookId.slice(0, 200) : undefined,
            signer,
          );
          request.log.info({ reference: result.reference, outcome: result.outcome }, 'xendit webhook');
          if (result.status === 403) throw new AppError('AUTHORIZATION_ERROR', result.message);
          if (result.status === 400) throw new AppError('BAD_REQUEST', result.message);
          if (result.status === 404) throw new AppError('NOT_FOUND', result.message);
          if (result.status === 422) throw new AppError('BUSINESS_LOGIC_ERROR', result.message);
          return answer.ok(result);
        },
      );
    }
  }

  app.get(
    '/payments/:reference/qr.png',
    {
      schema: {
        tags: ['payments'],
        summary: 'The QRIS code of a payment as a PNG image',
        params: Reference,
        produces: ['image/png'],
        response: { 200: Type.Unknown({ description: 'PNG image' }), ...errorResponses(platformEnvelope, [404]) },
      },
    },
    async (request, reply: FastifyReply) => {
      const intent = await payments.find((request.params as { reference: string }).reference);
      if (!intent?.qr_string) throw new AppError('NOT_FOUND', 'No QR code for this reference');
      const { default: QRCode } = await import('qrcode');
      const png = await QRCode.toBuffer(intent.qr_string, {
        type: 'png',
        errorCorrectionLevel: 'M',
        margin: 2,
        width: 360,
      });
      return reply.type('image/png').header('cache-control', 'private, max-age=900').send(png);
    },
  );

  if (!simulator || config.env === 'production') return;

  const devSchema = (summary: string) => ({
    tags: ['development'],
    summary,
    params: Reference,
    response: {
      200: Type.Object({
        reference: Type.String(),
        status: Type.String(),
        webhook: Type.Object({ status: Type.Integer(), body: Type.Unknown() }),
      }),
      ...errorResponses(platformEnvelope, [404, 409]),
    },
  });

  async function deliver(body: Record<string, unknown>, webhookId?: string) {
    const res = await app.inject({
      method: 'POST',
      url: webhookPath,
      headers: {
        'content-type': 'application/json',
        'x-callback-token': config.xenditCallbackToken ?? '',
        ...(webhookId ? { 'webhook-id': webhookId } : {}),
      },
      payload: body,
    });
    return { status: res.statusCode, body: res.json() as unknown };
  }

  app.post(
    '/_dev/payments/:reference/pay',
    { schema: devSchema("Simulator: pay this payment; Xendit's callback goes through the real webhook route") },
    async (request) => {
      const intent = await payments.find((request.params as { reference: string }).reference);
      if (!intent?.provider_id) throw new AppError('NOT_FOUND', 'No simulated payment with this reference');
      let webhook: { status: number; body: unknown };
      if (intent.kind === 'qr') {
        let qr: ReturnType<typeof simulator.markQrPaid>;
        try {
          qr = simulator.markQrPaid(intent.provider_id, core.now());
        } catch (err) {
          throw new AppError('CONFLICT', (err as Error).message);
        }
        webhook = await deliver(
          qrPaidCallback(config.xenditQrApiVersion, {
            providerId: intent.provider_id,
            reference: intent.reference,
            amount: intent.amount,
            qrString: intent.qr_string ?? '',
            paymentId: qr.paymentId ?? 'qrpy_sim',
            paidAt: qr.paidAt ?? core.now(),
          }),
          config.xenditQrApiVersion === 'v2' ? `sim-${qr.paymentId}` : undefined,
        );
      } else {
        const inv = simulator.markInvoice(intent.provider_id, 'PAID', core.now());
        // As on Xendit's page: an expired invoice (its time ran out, or it was expired on purpose) cannot be paid.
        if (inv.status !== 'PAID')
          throw new AppError('CONFLICT', `The invoice is ${inv.status} and can no longer be paid`);
        webhook = await deliver(
          invoiceCallback({
            providerId: intent.provider_id,
            reference: intent.reference,
            amount: intent.amount,
            status: 'PAID',
            paidAt: inv.paidAt,
          }),
        );
      }
      const after = await payments.find(intent.reference);
      return { reference: intent.reference, status: after?.status ?? intent.status, webhook };
    },
  );

  app.post(
    '/_dev/payments/:reference/expire',
    {
      schema: devSchema(
        "Simulator: expire this payment (invoices: Xendit's EXPIRED callback; QR codes: their time runs out now)",
      ),
    },
    async (request) => {
      const intent = await payments.find((request.params as { reference: string }).reference);
      if (!intent?.provider_id) throw new AppError('NOT_FOUND', 'No simulated payment with this reference');
      let webhook = { status: 0, body: null as unknown };
      if (intent.kind === 'invoice') {
        simulator.markInvoice(intent.provider_id, 'EXPIRED', core.now());
        webhook = await deliver(
          invoiceCallback({
            providerId: intent.provider_id,
            reference: intent.reference,
            amount: intent.amount,
            status: 'EXPIRED',
            paidAt: null,
          }),
        );
      } else {
        // Xendit sends no callback when a QR code lapses; the payment's own expiry does the work.
        await core.database.db
          .updateTable('payment_intents')
          .set({ expires_at: core.now() })
          .where('id', '=', intent.id)
          .where('status', '=', 'PENDING')
          .execute();
        await payments.expireDue();
      }
      const after = await payments.find(intent.reference);
      return { reference: intent.reference, status: after?.status ?? intent.status, webhook };
    },
  );

  app.get(
    '/_dev/payments/:reference/invoice',
    {
      schema: {
        tags: ['development'],
        summary: 'Simulator: the hosted invoice page',
        params: Reference,
        produces: ['text/html'],
        response: { 200: Type.String(), ...errorResponses(platformEnvelope, [404]) },
      },
    },
    async (request, reply) => {
      const intent = await payments.find((request.params as { reference: string }).reference);
      if (intent?.kind !== 'invoice') throw new AppError('NOT_FOUND', 'No invoice with this reference');
      const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      const rupiah = new Intl.NumberFormat('id-ID', {
        style: 'currency',
        currency: 'IDR',
        maximumFractionDigits: 0,
      }).format(intent.amount);
      const html = `<!doctype html><html lang="id"><head><meta charset="utf-8"><title>Invoice ${esc(intent.reference)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font-family:system-ui;max-width:28rem;margin:3rem auto;padding:0 1rem">
<h1>Tagihan</h1><p>Referensi: <code>${esc(intent.reference)}</code></p><p style="font-size:2rem">${esc(rupiah)}</p>
<p>Status: <strong>${esc(intent.status)}</strong></p>
<p>Simulator Loket: tidak ada uang yang ditagih. Bayar dengan <code>POST /_dev/payments/${esc(intent.reference)}/pay</code>.</p>
</body></html>`;
      return reply.type('text/html; charset=utf-8').send(html);
    },
  );
}
