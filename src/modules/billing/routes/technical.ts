// Technical data (data_teknis): operators (level 10) create and change, billing admins (50) delete; every billing
// user reads. The document's `/api/data_teknis/pelanggan/{id}` answers the one row; the frontend's
// `/by-pelanggan/{id}` an array of it.
import { Type } from 'typebox';
import type { Core } from '../../../core/context.ts';
import { AppError } from '../../../core/http/errors.ts';
import { resource } from '../../../core/http/resource.ts';
import type { Router } from '../../../core/http/route.ts';
import { BILLING_LIMITS } from '../limits.ts';
import { notifyBilling, technicalCreated } from '../notifications.ts';
import { getCustomer } from '../repo/customers.ts';
import * as repo from '../repo/technical.ts';
import {
  CustomerIdParams,
  IdParams,
  TechnicalCreate,
  TechnicalList,
  TechnicalQuery,
  TechnicalSchema,
  TechnicalUpdate,
} from '../schemas.ts';
import { recordChange } from '../use-cases/provisioning.ts';
import { createTechnical, updateTechnical } from '../use-cases/technical.ts';
import { technicalView } from '../views.ts';
import { clampLimit, envelopePage } from './lists.ts';

export function registerTechnicalRoutes(router: Router, core: Core, sealKey: Buffer): void {
  const { now } = core;
  const { db } = core.database;
  const limits = [BILLING_LIMITS.general];

  router.get(
    '/api/data_teknis/pelanggan/:pelanggan_id',
    {
      auth: { level: 1 },
      limits,
      errors: [404],
      schema: { summary: "A customer's technical data", params: CustomerIdParams, response: { 200: TechnicalSchema } },
    },
    async (req) => {
      const row = await repo.technicalOfCustomer(db, req.params.pelanggan_id);
      if (!row) throw new AppError('NOT_FOUND', 'This customer has no technical data');
      return technicalView(row);
    },
  );
  router.get(
    '/api/data_teknis/by-pelanggan/:pelanggan_id',
    {
      auth: { level: 1 },
      limits,
      schema: {
        summary: "A customer's technical data as an array (empty when none; the original frontend's form)",
        params: CustomerIdParams,
        response: { 200: Type.Array(TechnicalSchema) },
      },
    },
    async (req) => {
      const row = await repo.technicalOfCustomer(db, req.params.pelanggan_id);
      return row ? [technicalView(row)] : [];
    },
  );

  resource(router, {
    db,
    now,
    collection: '/api/data_teknis/',
    item: '/api/data_teknis/:id',
    params: IdParams,
    idOf: (p) => p.id,
    access: { read: { level: 1 }, write: { level: 10 }, delete: { level: 50 } },
    limits,
    audit: 'billing.technical',
    notFound: 'Technical data not found',
    find: repo.getTechnical,
    rowId: (t) => t.id,
    list: {
      summary: 'List technical data: search (name, PPPoE name, IP, serial), olt, profile, vlan, ONU power range',
      query: TechnicalQuery,
      response: TechnicalList,
      run: async (db, q) => {
        const limit = clampLimit(q.limit);
        const page = await repo.listTechnical(db, {
          search: q.search?.trim() || undefined,
          olt: q.olt,
          profile: q.profile,
          vlan: q.vlan,
          onuPowerMin: q.onu_power_min,
          onuPowerMax: q.onu_power_max,
          skip: q.skip,
          limit,
        });
        return envelopePage(page.rows.map(technicalView), page.total, q.skip, limit);
      },
    },
    get: { summary: 'One technical data row', response: TechnicalSchema, reply: technicalView },
    create: {
      summary: 'Create the technical data of a customer (one per customer; the IP is unique per router)',
      errors: [409],
      body: TechnicalCreate,
      response: TechnicalSchema,
      run: async (trx, v) => {
        const created = await createTechnical(trx, v, sealKey, now());
        const customer = await getCustomer(trx, created.pelanggan_id);
        await notifyBilling(core, trx, technicalCreated(created, customer?.nama ?? ''));
        // The router gets the customer's secret through a provisioning job.
        await recordChange(trx, core.jobs, [created.pelanggan_id], 'change', now());
        return created;
      },
      reply: technicalView,
    },
    update: {
      summary: 'Change technical data (fields left out stay as they are; password_pppoe is write-only)',
      method: 'PATCH',
      body: TechnicalUpdate,
      response: TechnicalSchema,
      run: async (trx, id, v, before) => {
        const after = await updateTechnical(trx, id, v, before, sealKey, now());
        await recordChange(trx, core.jobs, [after.pelanggan_id], 'change', now());
        return after;
      },
      reply: technicalView,
    },
    remove: {
      summary: 'Delete technical data',
      status: 204,
      response: Type.Null(),
      run: async (trx, id, before) => {
        await repo.deleteTechnical(trx, id);
        await recordChange(trx, core.jobs, [before.pelanggan_id], 'delete', now());
        return { row: before, outcome: 'deleted' };
      },
      reply: () => null,
    },
  });
}
