// Customers (pelanggan): operators (level 10) create and change, billing admins (50) delete (CONTRACTS §4); every
// billing user reads. The list is the
// document's `{data, total_count, skip, limit}` with search, address, brand and status filters, `fields` to trim the
// rows and `for_invoice_selection` for the frontend's select lists (every row, id and name).
import { Type } from 'typebox';
import { cacheStore, versioned } from '../../../core/cache.ts';
import type { Core } from '../../../core/context.ts';
import { resource } from '../../../core/http/resource.ts';
import type { Router } from '../../../core/http/route.ts';
import { localTimes } from '../../../core/time.ts';
import { BILLING_LIMITS } from '../limits.ts';
import { customerCreated, notifyBilling } from '../notifications.ts';
import * as repo from '../repo/customers.ts';
import { openInvoiceIds } from '../repo/invoices.ts';
import { technicalOfCustomer } from '../repo/technical.ts';
import { CustomerCreate, CustomerList, CustomerQuery, CustomerSchema, CustomerUpdate, IdParams } from '../schemas.ts';
import { createCustomer, customerList, LIST_CACHE_TTL_MS, updateCustomer } from '../use-cases/customers.ts';
import { changeStatus } from '../use-cases/invoices.ts';
import { recordChange } from '../use-cases/provisioning.ts';
import { customerView, pick } from '../views.ts';
import { clampLimit, envelopePage } from './lists.ts';

export function registerCustomerRoutes(router: Router, core: Core): void {
  const { now } = core;
  const limits = [BILLING_LIMITS.general];
  const list = customerList(core);
  // Answers of the list as sent, per query and list version, in this process only (~5–10 kB each).
  const bodies = versioned<string>({ store: cacheStore(undefined, ''), ttlMs: LIST_CACHE_TTL_MS, maxLocal: 2_000 });

  router.get(
    '/api/pelanggan/lokasi/unik',
    {
      auth: { level: 1 },
      limits,
      schema: {
        summary: "Distinct customer addresses (the reports' location filter)",
        response: { 200: Type.Array(Type.String()) },
      },
    },
    () => repo.distinctAddresses(core.database.db),
  );

  resource(router, {
    db: core.database.db,
    now,
    collection: '/api/pelanggan/',
    item: '/api/pelanggan/:id',
    params: IdParams,
    idOf: (p) => p.id,
    access: { read: { level: 1 }, write: { level: 10 }, delete: { level: 50 } },
    limits,
    audit: 'billing.customer',
    notFound: 'Customer not found',
    // The detail shows the technical data too (the document's example).
    find: async (db, id) => {
      const c = await repo.getCustomer(db, id);
      return c && { ...c, technical: (await technicalOfCustomer(db, id)) ?? null };
    },
    rowId: (c) => c.id,
    list: {
      summary: 'List customers: search in nama, email and no_telp; filter by alamat, id_brand, status',
      query: CustomerQuery,
      response: CustomerList,
      run: async (db, q, _req, reply) => {
        if (q.for_invoice_selection) {
          const rows = await repo.customerChoices(db);
          return envelopePage(rows, rows.length, 0, rows.length);
        }
        const limit = clampLimit(q.limit);
        const filters = {
          search: q.search?.trim() || undefined,
          alamat: q.alamat,
          idBrand: q.id_brand?.trim() || undefined,
          status: q.status,
          skip: q.skip,
          limit,
        };
        const fields = q.fields
          ?.split(',')
          .map((f) => f.trim())
          .filter(Boolean);
        // The answer's text is kept under the list's version like the page it shows (a search repeated by many
        // operators is served without building, converting and serializing its rows again).
        const version = await list.version();
        const { value: body } = await bodies.lookup(JSON.stringify([filters, fields ?? []]), version, async () => {
          const page = await list.page(filters, version);
          const rows = page.value.rows.map((c) => pick(customerView(c), fields?.length ? fields : undefined));
          const shown = localTimes(envelopePage(rows, page.value.total, q.skip, limit));
          return { value: reply.serialize(shown) as string, keep: page.keep };
        });
        return reply.type('application/json; charset=utf-8').send(body);
      },
    },
    get: {
      summary: 'One customer with its package and brand (harga_layanan)',
      response: CustomerSchema,
      reply: customerView,
    },
    create: {
      summary: 'Create a customer (the package by paket_layanan_id or by name in layanan)',
      body: CustomerCreate,
      response: CustomerSchema,
      run: async (trx, v) => {
        const created = await createCustomer(trx, v, now());
        await notifyBilling(core, trx, customerCreated(created));
        return created;
      },
      reply: customerView,
    },
    update: {
      summary: 'Change a customer (fields left out stay as they are; null clears)',
      method: 'PATCH',
      body: CustomerUpdate,
      response: CustomerSchema,
      run: async (trx, id, v, before) => {
        const after = await updateCustomer(trx, id, v, before, now());
        // A package or status change is a change the router must see (profile, or no secret when stopped).
        if (after.paket_layanan_id !== before.paket_layanan_id || after.status !== before.status) {
          await recordChange(trx, core.jobs, [id], 'change', now());
        }
        return after;
      },
      reply: customerView,
    },
    remove: {
      summary:
        'Delete a customer: gone from every list, open invoices cancelled; paid invoices and ledger entries kept',
      status: 204,
      response: Type.Null(),
      run: async (trx, id, before, actor) => {
        // Open invoices are cancelled (their receivables reversed); paid ones stay for the tax records.
        for (const invoiceId of await openInvoiceIds(trx, id)) {
          await changeStatus(trx, invoiceId, 'Dibatalkan', { actor, jobs: core.jobs }, now());
        }
        await repo.softDeleteCustomer(trx, id, now());
        // The PPPoE secret leaves the router through a provisioning job.
        await recordChange(trx, core.jobs, [id], 'delete', now());
        return { row: before, outcome: 'deleted' };
      },
      reply: () => null,
    },
  });
}
