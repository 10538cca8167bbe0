// Kiosk credentials, for photobox admins: register a kiosk (its key shown once), list, rotate a key, remove.
import { Type } from 'typebox';
import { originOf } from '../../../core/audit/audit.ts';
import type { Router } from '../../../core/http/route.ts';
import type { RequestAuth } from '../../../core/identity/guards.ts';
import { photoboxOkSchema as ok, photoboxOk } from '../envelope.ts';
import { PHOTOBOX_LIMITS } from '../limits.ts';
import { KioskCreate, KioskKey, KioskParams, KioskView } from '../schemas.ts';
import { createKiosk, deleteKiosk, listKiosks, rotateKioskKey } from '../use-cases/kiosks.ts';
import type { PhotoboxDeps } from '../wire.ts';

const actorOf = (req: { auth: RequestAuth; id: string; ip: string }) => ({
  accountId: req.auth.accountId,
  origin: originOf(req),
});

export function kioskRoutes(router: Router, deps: PhotoboxDeps) {
  const auth = { level: 50 };
  const limits = [PHOTOBOX_LIMITS.general];

  router.post(
    '/api/v1/kiosks',
    {
      auth,
      limits,
      errors: [409],
      schema: {
        summary: 'Register a kiosk: an account with photobox level 1 and an API key (shown once; send as x-api-key)',
        body: KioskCreate,
        response: { 201: ok(KioskKey) },
      },
    },
    async (req, reply) => {
      const k = await createKiosk(deps, req.body.name, actorOf(req));
      return reply.code(201).send(photoboxOk(k, 'Kiosk created; store the API key now, it is shown only once'));
    },
  );

  router.get(
    '/api/v1/kiosks',
    {
      auth,
      limits,
      schema: {
        summary: 'List kiosks (no secrets: only the first characters of each key)',
        response: { 200: ok(Type.Array(KioskView)) },
      },
    },
    async () => photoboxOk(await listKiosks(deps), 'Kiosks retrieved successfully'),
  );

  router.post(
    '/api/v1/kiosks/:id/key',
    {
      auth,
      limits,
      errors: [404],
      schema: {
        summary: "Rotate a kiosk's API key: the new key is shown once, the old one stops working at once",
        params: KioskParams,
        response: { 201: ok(KioskKey) },
      },
    },
    async (req, reply) => {
      const k = await rotateKioskKey(deps, req.params.id, actorOf(req));
      return reply.code(201).send(photoboxOk(k, 'New kiosk key issued; store it now, it is shown only once'));
    },
  );

  router.delete(
    '/api/v1/kiosks/:id',
    {
      auth,
      limits,
      errors: [404],
      schema: {
        summary: 'Remove a kiosk: its key stops working and its account is disabled',
        params: KioskParams,
        response: { 200: ok(Type.Object({ kiosk_id: Type.Integer(), name: Type.String() })) },
      },
    },
    async (req) => photoboxOk(await deleteKiosk(deps, req.params.id, actorOf(req)), 'Kiosk removed'),
  );
}
