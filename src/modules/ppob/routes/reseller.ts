// HTTP for resellers: the documented paths and the `{code, status, message, data}` envelope. Registration is
// public and limited per IP; everything else needs the reseller's `x-api-key` and is limited per account.
import { Type } from 'typebox';
import { originOf } from '../../../core/audit/audit.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import { ppobOkSchema as ok, ppobOk } from '../envelope.ts';
import { PPOB_LIMITS } from '../limits.ts';
import {
  BalanceView,
  BuyBody,
  CallbackBody,
  CallbackLogView,
  DepositBody,
  DepositView,
  KeysView,
  KodeProduk,
  ProductView,
  PurchaseView,
  productView,
  RegisterBody,
  TransactionView,
  transactionView,
  VerifyOtpBody,
} from '../schemas.ts';
import { balanceAndProfile } from '../use-cases/balance.ts';
import { buy } from '../use-cases/buy.ts';
import { callbackSettings, setCallbackUrl } from '../use-cases/callback-url.ts';
import { createDeposit, depositStatus } from '../use-cases/deposit.ts';
import { rotateKeys } from '../use-cases/generate-key.ts';
import { register } from '../use-cases/register.ts';
import { recentTransactions, transactionStatus } from '../use-cases/status.ts';
import { verifyOtp } from '../use-cases/verify-otp.ts';
import type { PpobDeps } from '../wire.ts';

const reseller = { apiKey: true } as const;
const perIp = [PPOB_LIMITS.register];
const perKey = [PPOB_LIMITS.general];

export function registerResellerRoutes(router: Router, d: PpobDeps) {
  // GET /produk's body, serialised once per catalogue version.
  let listBody: { of: unknown; body: Buffer } | undefined;

  router.post(
    '/register',
    {
      auth: 'public',
      limits: perIp,
      errors: [409],
      schema: {
        summary: 'Register as a reseller; an OTP is e-mailed (then POST /verif-otp)',
        body: RegisterBody,
        response: { 201: ok(Type.Null()) },
      },
    },
    async (req, reply) => {
      await register(d, req.body, originOf(req));
      return reply.code(201).send(ppobOk(null, 'Registrasi sukses. OTP telah dikirim ke email Anda.', 201));
    },
  );

  router.post(
    '/verif-otp',
    {
      auth: 'public',
      limits: [PPOB_LIMITS.verify],
      errors: [400, 404],
      schema: {
        summary: 'Verify the registration OTP; answers the API key and private key (shown once)',
        body: VerifyOtpBody,
        response: { 200: ok(KeysView) },
      },
    },
    async (req) => {
      const keys = await verifyOtp(d, req.body.email, req.body.otp);
      return ppobOk(
        { api_key: keys.apiKey, private_key: keys.privateKey, 'privat-key': keys.privateKey },
        'Verifikasi berhasil. Simpan baik-baik API Key dan Private Key berikut.',
      );
    },
  );

  router.post(
    '/generate-key',
    {
      auth: reseller,
      limits: perKey,
      schema: {
        summary: 'Rotate the API key and private key; the old ones stop working at once',
        response: { 201: ok(KeysView) },
      },
    },
    async (req, reply) => {
      const keys = await rotateKeys(d, req.auth.accountId);
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

  router.get(
    '/produk',
    {
      auth: reseller,
      limits: perKey,
      schema: { summary: 'Product list', response: { 200: ok(Type.Array(ProductView)) } },
    },
    async (_req, reply) => {
      // The list is the same for every reseller until the catalogue changes: serialise it once per version.
      const list = (d.catalogue.fresh() ?? (await d.catalogue.get())).products;
      if (listBody?.of !== list) {
        listBody = { of: list, body: Buffer.from(JSON.stringify(ppobOk(list.map(productView), 'Daftar produk'))) };
      }
      return reply.type('application/json; charset=utf-8').send(listBody.body);
    },
  );

  router.get(
    '/cek-produk/:kode_produk',
    {
      auth: reseller,
      limits: perKey,
      errors: [404],
      schema: {
        summary: 'One product by code, or by the numeric id /produk returns',
        params: Type.Object({ kode_produk: KodeProduk }),
        response: { 200: ok(ProductView) },
      },
    },
    async (req) => {
      // The code first; otherwise the numeric `id` that /produk returns (CONTRACTS §6, issue 21 item 14).
      const catalogue = await d.catalogue.get();
      const key = req.params.kode_produk;
      const p = catalogue.byCode.get(key) ?? (/^[0-9]{1,10}$/.test(key) ? catalogue.byId.get(Number(key)) : undefined);
      if (!p) throw new AppError('NOT_FOUND', 'Produk tidak ditemukan');
      return ppobOk(productView(p), 'Detail produk');
    },
  );

  router.idempotent(
    'POST',
    '/beli',
    {
      auth: reseller,
      limits: perKey,
      scope: 'ppob.beli',
      errors: [400, 404],
      schema: {
        summary: 'Buy a product: the price is debited at once; the result arrives by /status and your callback',
        body: BuyBody,
        response: { 200: ok(PurchaseView) },
      },
    },
    (req, claim) => buy(d, req.auth.accountId, req.body, claim),
  );

  router.get(
    '/status/:trx_id',
    {
      auth: reseller,
      limits: perKey,
      errors: [404],
      schema: {
        summary: 'Status and result of one of your transactions',
        params: Type.Object({ trx_id: Type.String({ minLength: 1, maxLength: 20 }) }),
        response: { 200: ok(TransactionView) },
      },
    },
    async (req) => {
      const t = await transactionStatus(d, req.auth.accountId, req.params.trx_id);
      if (!t) throw new AppError('NOT_FOUND', 'Transaksi tidak ditemukan');
      return ppobOk(transactionView(t), 'Status transaksi ditemukan');
    },
  );

  router.get(
    '/riwayat',
    {
      auth: reseller,
      limits: perKey,
      schema: { summary: 'Your last 100 transactions', response: { 200: ok(Type.Array(TransactionView)) } },
    },
    async (req) => ppobOk((await recentTransactions(d, req.auth.accountId)).map(transactionView), 'Riwayat transaksi'),
  );

  router.get(
    '/saldo',
    {
      auth: reseller,
      limits: perKey,
      schema: { summary: 'Balance and profile', response: { 200: ok(BalanceView) } },
    },
    async (req) => ppobOk(await balanceAndProfile(d, req.auth.accountId), 'Saldo'),
  );

  router.idempotent(
    'POST',
    '/deposit',
    {
      auth: reseller,
      limits: perKey,
      scope: 'ppob.deposit',
      fingerprint: (body) => ({ nominal: body.nominal }),
      errors: [502],
      schema: {
        summary: 'Top up by QRIS; the balance grows when the payment arrives',
        body: DepositBody,
        response: { 201: ok(DepositView) },
      },
    },
    (req, claim) => createDeposit(d, req.auth.accountId, req.body.nominal, claim),
  );

  router.get(
    '/deposit/:id',
    {
      auth: reseller,
      limits: perKey,
      errors: [404],
      schema: {
        summary: 'One of your top-ups',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 30 }) }),
        response: { 200: ok(DepositView) },
      },
    },
    async (req) => {
      const dep = await depositStatus(d, req.auth.accountId, req.params.id);
      if (!dep) throw new AppError('NOT_FOUND', 'Deposit tidak ditemukan');
      return ppobOk(dep, 'Deposit ditemukan');
    },
  );

  router.put(
    '/callback',
    {
      auth: reseller,
      limits: perKey,
      schema: {
        summary: 'Where Loket POSTs each final transaction status (Standard Webhooks, signed with your private key)',
        body: CallbackBody,
        response: { 200: ok(Type.Object({ url: Type.String() })) },
      },
    },
    async (req) => {
      const { url } = req.body;
      await setCallbackUrl(d, req.auth.accountId, url);
      return ppobOk({ url }, 'URL callback disimpan');
    },
  );

  router.get(
    '/callback',
    {
      auth: reseller,
      limits: perKey,
      schema: {
        summary: 'Your callback URL and the last 100 deliveries',
        response: { 200: ok(CallbackLogView) },
      },
    },
    async (req) => ppobOk(await callbackSettings(d, req.auth.accountId), 'Log callback'),
  );
}
