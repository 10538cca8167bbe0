// HTTP for the PPOB module: the documented paths and the `{code, status, message, data}` envelope.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { originOf } from '../../core/audit/audit.ts';
import type { Core } from '../../core/context.ts';
import { errorResponses } from '../../core/http/envelopes.ts';
import { AppError } from '../../core/http/errors.ts';
import { rateLimit } from '../../core/limits/limiter.ts';
import { ppobEnvelope, ppobOk, ppobOkSchema } from './envelope.ts';
import type { PpobService } from './service.ts';

const config = { envelope: ppobEnvelope };
const keyAuth = [{ apiKey: [] }];
const errors = (...codes: number[]) => errorResponses(ppobEnvelope, codes);
const ok = <T extends TSchema>(data: T) => ppobOkSchema(data);
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

const Email = Type.String({ format: 'email', maxLength: 100 });
const Hp = Type.String({ pattern: '^\\+?[0-9]{8,20}$' });
const KodeProduk = Type.String({ minLength: 1, maxLength: 20, pattern: '^[A-Za-z0-9_.-]+$' });
const Nomor = Type.String({ pattern: '^[0-9]{4,20}$', description: 'phone, meter or customer number (digits)' });

const ProductView = Type.Object({
  id: Type.Integer(),
  kode_produk: Type.String(),
  nama: Type.String(),
  harga: Type.Integer(),
  deskripsi: Nullable(Type.String()),
  plp: Nullable(Type.String()),
  plp_nomor: Nullable(Type.String()),
});
const TransactionView = Type.Object({
  trx_id: Type.String(),
  produk_id: Type.Integer(),
  kode_produk: Type.String(),
  nama_produk: Type.String(),
  nomor_tujuan: Type.String(),
  nominal: Type.Integer(),
  status: Type.String(),
  hasil_eksekusi: Nullable(Type.String()),
  serial_number: Nullable(Type.String()),
  sisa_saldo: Nullable(Type.Integer()),
  waktu: Type.String(),
});
const KeysView = Type.Object({
  api_key: Type.String(),
  private_key: Type.String(),
  'privat-key': Type.Optional(Type.String()),
  info: Type.Optional(Type.String()),
});
const DepositView = Type.Object({
  id: Type.String(),
  nominal: Type.Integer(),
  status: Type.String(),
  qris_string: Nullable(Type.String()),
  qr_image_url: Nullable(Type.String()),
  expired_at: Nullable(Type.String()),
  paid_at: Nullable(Type.String()),
  created_at: Type.String(),
});

const productView = (p: {
  id: number;
  kode_produk: string;
  nama: string;
  harga: number;
  deskripsi: string | null;
  plp: string | null;
  plp_nomor: string | null;
}) => ({
  id: p.id,
  kode_produk: p.kode_produk,
  nama: p.nama,
  harga: p.harga,
  deskripsi: p.deskripsi,
  plp: p.plp,
  plp_nomor: p.plp_nomor,
});

const transactionView = (t: {
  trx_id: string;
  produk_id: number;
  kode_produk: string;
  nama_produk: string;
  nomor_tujuan: string;
  harga: number;
  status: string;
  hasil_eksekusi: string | null;
  serial_number: string | null;
  sisa_saldo: number | null;
  waktu: Date | string;
}) => ({
  trx_id: t.trx_id,
  produk_id: t.produk_id,
  kode_produk: t.kode_produk,
  nama_produk: t.nama_produk,
  nomor_tujuan: t.nomor_tujuan,
  nominal: t.harga,
  status: t.status,
  hasil_eksekusi: t.hasil_eksekusi,
  serial_number: t.serial_number,
  sisa_saldo: t.sisa_saldo,
  waktu: new Date(t.waktu).toISOString().slice(0, 19),
});

const idemKey = (req: FastifyRequest) => {
  const v = req.headers['idempotency-key'];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

export function registerPpobRoutes(app: FastifyInstance, core: Core, service: PpobService) {
  // GET /produk's body, serialised once per catalogue version.
  let listBody: { of: unknown; body: Buffer } | undefined;
  const { guards } = core.identity;
  const key = guards.apiKey('ppob');
  const on = core.config.rateLimits;
  const authLimit = rateLimit(core.limiter, on, { name: 'ppob-register', max: 10, windowMs: 60_000, by: 'ip' });
  const perKey = rateLimit(core.limiter, on, { name: 'ppob-general', max: 600, windowMs: 60_000, by: 'account' });
  const accountOf = (req: FastifyRequest) => req.auth!.accountId;

  app.post(
    '/register',
    {
      config,
      onRequest: [authLimit],
      schema: {
        tags: ['ppob'],
        summary: 'Register as a reseller; an OTP is e-mailed (then POST /verif-otp)',
        body: Type.Object({ nama: Type.String({ minLength: 1, maxLength: 50 }), email: Email, hp: Type.Optional(Hp) }),
        response: { 201: ok(Type.Null()), ...errors(409, 422, 429) },
      },
    },
    async (req, reply) => {
      await service.register(req.body as { nama: string; email: string; hp?: string }, originOf(req));
      return reply.code(201).send(ppobOk(null, 'Registrasi sukses. OTP telah dikirim ke email Anda.', 201));
    },
  );

  app.post(
    '/verif-otp',
    {
      config,
      onRequest: [authLimit],
      schema: {
        tags: ['ppob'],
        summary: 'Verify the registration OTP; answers the API key and private key (shown once)',
        body: Type.Object({ email: Email, otp: Type.String({ minLength: 1, maxLength: 10 }) }),
        response: { 200: ok(KeysView), ...errors(400, 404, 409, 422, 429) },
      },
    },
    async (req) => {
      const b = req.body as { email: string; otp: string };
      const keys = await service.verifyOtp(b.email, b.otp);
      return ppobOk(
        { api_key: keys.apiKey, private_key: keys.privateKey, 'privat-key': keys.privateKey },
        'Verifikasi berhasil. Simpan baik-baik API Key dan Private Key berikut.',
      );
    },
  );

  app.post(
    '/generate-key',
    {
      config,
      onRequest: [key, perKey],
      schema: {
        tags: ['ppob'],
        summary: 'Rotate the API key and private key; the old ones stop working at once',
        security: keyAuth,
        response: { 201: ok(KeysView), ...errors(401) },
      },
    },
    async (req, reply) => {
      const keys = await service.rotateKeys(accountOf(req));
      return reply.code(201).send(
        ppobOk(
          {
            api_key: keys.apiKey,
            private_key: keys.privateKey,
            info: 'Yang lama sudah tidak berlaku. Simpan baik-baik!',
          },
          'API Key dan Private Key telah diperbarui.',
          201,
        ),
      );
    },
  );

  app.get(
    '/produk',
    {
      config,
      onRequest: [key, perKey],
      schema: {
        tags: ['ppob'],
        summary: 'Product list',
        security: keyAuth,
        response: { 200: ok(Type.Array(ProductView)), ...errors(401) },
      },
    },
    async (_req, reply) => {
      // The list is the same for every reseller until the catalogue changes: serialise it once per version.
      const list = service.cachedProducts() ?? (await service.products());
      if (listBody?.of !== list) {
        listBody = { of: list, body: Buffer.from(JSON.stringify(ppobOk(list.map(productView), 'Daftar produk'))) };
      }
      return reply.type('application/json; charset=utf-8').send(listBody.body);
    },
  );

  app.get(
    '/cek-produk/:kode_produk',
    {
      config,
      onRequest: [key, perKey],
      schema: {
        tags: ['ppob'],
        summary: 'One product by code',
        security: keyAuth,
        params: Type.Object({ kode_produk: KodeProduk }),
        response: { 200: ok(ProductView), ...errors(401, 404, 422) },
      },
    },
    async (req) => {
      const p = await service.productByCode((req.params as { kode_produk: string }).kode_produk);
      if (!p) throw new AppError('NOT_FOUND', 'Produk tidak ditemukan');
      return ppobOk(productView(p), 'Detail produk');
    },
  );

  app.post(
    '/beli',
    {
      config,
      onRequest: [key, perKey],
      schema: {
        tags: ['ppob'],
        summary: 'Buy a product: the price is debited at once; the result arrives by /status and your callback',
        security: keyAuth,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 128 })) }),
        body: Type.Object({ kode_produk: KodeProduk, nomor_tujuan: Nomor }),
        response: {
          200: ok(
            Type.Object({
              id: Type.String(),
              'kode-produk': Type.String(),
              'nomor-tujuan': Type.String(),
              'nama-produk': Type.String(),
              status: Type.String(),
              harga: Type.Integer(),
              sisa_saldo: Type.Integer(),
              info: Type.String(),
            }),
          ),
          ...errors(400, 401, 404, 409, 422, 429),
        },
      },
    },
    async (req, reply) => {
      const res = await service.buy(
        accountOf(req),
        req.body as { kode_produk: string; nomor_tujuan: string },
        idemKey(req),
      );
      return reply.code(res.status as 200).send(res.body as never);
    },
  );

  app.get(
    '/status/:trx_id',
    {
      config,
      onRequest: [key, perKey],
      schema: {
        tags: ['ppob'],
        summary: 'Status and result of one of your transactions',
        security: keyAuth,
        params: Type.Object({ trx_id: Type.String({ minLength: 1, maxLength: 20 }) }),
        response: { 200: ok(TransactionView), ...errors(401, 404, 422) },
      },
    },
    async (req) => {
      const t = await service.status(accountOf(req), (req.params as { trx_id: string }).trx_id);
      if (!t) throw new AppError('NOT_FOUND', 'Transaksi tidak ditemukan');
      return ppobOk(transactionView(t), 'Status transaksi ditemukan');
    },
  );

  app.get(
    '/riwayat',
    {
      config,
      onRequest: [key, perKey],
      schema: {
        tags: ['ppob'],
        summary: 'Your last 100 transactions',
        security: keyAuth,
        response: { 200: ok(Type.Array(TransactionView)), ...errors(401) },
      },
    },
    async (req) => ppobOk((await service.history(accountOf(req))).map(transactionView), 'Riwayat transaksi'),
  );

  app.get(
    '/saldo',
    {
      config,
      onRequest: [key, perKey],
      schema: {
        tags: ['ppob'],
        summary: 'Balance and profile',
        security: keyAuth,
        response: {
          200: ok(
            Type.Object({
              saldo: Type.Integer(),
              nama: Type.String(),
              email: Nullable(Type.String()),
              hp: Nullable(Type.String()),
              callback_url: Nullable(Type.String()),
            }),
          ),
          ...errors(401),
        },
      },
    },
    async (req) => {
      const id = accountOf(req);
      const [saldo, profile, account] = await Promise.all([
        service.balance(id),
        service.profile(id),
        core.identity.service.getAccount(id),
      ]);
      return ppobOk(
        {
          saldo,
          nama: account.name,
          email: account.email,
          hp: profile?.hp ?? null,
          callback_url: profile?.callback_url ?? null,
        },
        'Saldo',
      );
    },
  );

  app.post(
    '/deposit',
    {
      config,
      onRequest: [key, perKey],
      schema: {
        tags: ['ppob'],
        summary: 'Top up by QRIS; the balance grows when the payment arrives',
        security: keyAuth,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 128 })) }),
        body: Type.Object({ nominal: Type.Integer({ minimum: 10_000, maximum: 10_000_000 }) }),
        response: { 201: ok(DepositView), ...errors(401, 409, 422, 502) },
      },
    },
    async (req, reply) => {
      const res = await service.createDeposit(accountOf(req), (req.body as { nominal: number }).nominal, idemKey(req));
      return reply.code(res.status as 201).send(res.body as never);
    },
  );

  app.get(
    '/deposit/:id',
    {
      config,
      onRequest: [key, perKey],
      schema: {
        tags: ['ppob'],
        summary: 'One of your top-ups',
        security: keyAuth,
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 30 }) }),
        response: { 200: ok(DepositView), ...errors(401, 404) },
      },
    },
    async (req) => {
      const d = await service.deposit(accountOf(req), (req.params as { id: string }).id);
      if (!d) throw new AppError('NOT_FOUND', 'Deposit tidak ditemukan');
      return ppobOk(d, 'Deposit ditemukan');
    },
  );

  app.put(
    '/callback',
    {
      config,
      onRequest: [key, perKey],
      schema: {
        tags: ['ppob'],
        summary: 'Where Loket POSTs each final transaction status (Standard Webhooks, signed with your private key)',
        security: keyAuth,
        body: Type.Object({ url: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 500 }) }),
        response: { 200: ok(Type.Object({ url: Type.String() })), ...errors(401, 422) },
      },
    },
    async (req) => {
      const { url } = req.body as { url: string };
      await service.setCallbackUrl(accountOf(req), url);
      return ppobOk({ url }, 'URL callback disimpan');
    },
  );

  app.get(
    '/callback',
    {
      config,
      onRequest: [key, perKey],
      schema: {
        tags: ['ppob'],
        summary: 'Your callback URL and the last 100 deliveries',
        security: keyAuth,
        response: {
          200: ok(
            Type.Object({
              url: Nullable(Type.String()),
              deliveries: Type.Array(
                Type.Object({
                  webhook_id: Type.String(),
                  trx_id: Type.String(),
                  url: Type.String(),
                  attempts: Type.Integer(),
                  last_status: Nullable(Type.Integer()),
                  last_error: Nullable(Type.String()),
                  delivered_at: Nullable(Type.String()),
                  created_at: Type.String(),
                }),
              ),
            }),
          ),
          ...errors(401),
        },
      },
    },
    async (req) => {
      const id = accountOf(req);
      const [profile, log] = await Promise.all([service.profile(id), service.callbackLog(id)]);
      return ppobOk(
        {
          url: profile?.callback_url ?? null,
          deliveries: log.map((d) => ({
            ...d,
            delivered_at: d.delivered_at ? new Date(d.delivered_at).toISOString() : null,
            created_at: new Date(d.created_at).toISOString(),
          })),
        },
        'Log callback',
      );
    },
  );
}
