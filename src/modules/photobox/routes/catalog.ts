// Locations and prices: two resources of the one shape. Kiosks (bearer token or kiosk key) read them; photobox
// admins (level 50) change them. Lists are the document's pages with totals.
import { resource } from '../../../core/http/resource.ts';
import type { Router } from '../../../core/http/route.ts';
import { photoboxOkSchema as ok, photoboxOk } from '../envelope.ts';
import { PHOTOBOX_LIMITS } from '../limits.ts';
import { MESSAGES } from '../messages.ts';
import * as repo from '../repo/index.ts';
import {
  ListQuery,
  LocationCreate,
  LocationParams,
  LocationUpdate,
  LocationView,
  PriceCreate,
  PriceParams,
  PriceUpdate,
  PriceView,
  pagedSchema,
} from '../schemas.ts';
import { createLocation, removeLocation, updateLocation } from '../use-cases/locations.ts';
import { createPrice, removePrice, updatePrice } from '../use-cases/prices.ts';
import { locationView, paging, priceView } from '../views.ts';
import type { PhotoboxDeps } from '../wire.ts';

const access = { read: { level: 1, apiKey: true }, write: { level: 50 } } as const;

/** The list filters of both resources, from the query. */
const filter = (q: { search?: string; skip: number; limit: number; is_active?: boolean }) => ({
  search: q.search?.trim() || undefined,
  isActive: q.is_active,
  skip: q.skip,
  limit: q.limit,
});

export function catalogRoutes(router: Router, deps: Pick<PhotoboxDeps, 'db' | 'now'>) {
  const { db, now } = deps;
  const limits = [PHOTOBOX_LIMITS.general];

  resource(router, {
    db,
    now,
    collection: '/api/v1/locations',
    item: '/api/v1/locations/:id',
    params: LocationParams,
    idOf: (p) => p.id,
    access,
    limits,
    audit: 'photobox.location',
    notFound: MESSAGES.locationNotFound,
    find: repo.getLocation,
    rowId: (l) => l.ml_id,
    list: {
      summary: 'List locations (search by name; is_active to filter)',
      query: ListQuery,
      response: pagedSchema(LocationView),
      async run(db, q) {
        const f = filter(q);
        const { rows, total } = await repo.listLocations(db, f);
        const page = { data: rows.map(locationView), ...paging(total, f.skip, f.limit) };
        return { success: true as const, message: 'Locations retrieved successfully', ...page };
      },
    },
    get: {
      summary: 'One location',
      response: ok(LocationView),
      reply: (l) => photoboxOk(locationView(l), 'Location retrieved successfully'),
    },
    create: {
      summary: 'Create a location (names are unique, case-insensitively)',
      body: LocationCreate,
      response: ok(LocationView),
      run: (trx, v) => createLocation(trx, v, now()),
      reply: (l) => photoboxOk(locationView(l), 'Location created successfully'),
    },
    update: {
      summary: 'Change a location (fields left out stay as they are)',
      body: LocationUpdate,
      response: ok(LocationView),
      run: (trx, id, v) => updateLocation(trx, id, v, now()),
      reply: (l) => photoboxOk(locationView(l), 'Location updated successfully'),
    },
    remove: {
      summary: 'Delete a location; one with transactions is deactivated instead, keeping its history',
      response: ok(LocationView),
      run: (trx, id, before) => removeLocation(trx, id, before, now()),
      reply: (r) =>
        photoboxOk(
          locationView(r.row),
          r.outcome === 'deleted'
            ? 'Location deleted successfully'
            : 'Location has transactions, so it was deactivated instead of deleted',
        ),
    },
  });

  resource(router, {
    db,
    now,
    collection: '/api/v1/prices',
    item: '/api/v1/prices/:id',
    params: PriceParams,
    idOf: (p) => p.id,
    access,
    limits,
    audit: 'photobox.price',
    notFound: MESSAGES.priceNotFound,
    // Prices have no unique name.
    conflicts: false,
    // A change reads the row locked (in its transaction), as the quota check of a new transaction does.
    find: (executor, id) => repo.getPrice(executor, id, now(), executor.isTransaction),
    rowId: (p) => p.mp_id,
    list: {
      summary: 'List prices with their remaining quota',
      query: ListQuery,
      response: pagedSchema(PriceView),
      async run(db, q) {
        const f = filter(q);
        const { rows, total } = await repo.listPrices(db, f, now());
        const page = { data: rows.map(priceView), ...paging(total, f.skip, f.limit) };
        return { success: true as const, message: 'Prices retrieved successfully', ...page };
      },
    },
    get: {
      summary: 'One price',
      response: ok(PriceView),
      reply: (p) => photoboxOk(priceView(p), 'Price retrieved successfully'),
    },
    create: {
      summary: 'Create a price (mp_quota: how many sessions may be sold at it; null or absent: unlimited)',
      body: PriceCreate,
      response: ok(PriceView),
      run: (trx, v) => createPrice(trx, v, now()),
      reply: (p) => photoboxOk(priceView(p), 'Price created successfully'),
    },
    update: {
      summary: 'Change a price (fields left out stay as they are)',
      body: PriceUpdate,
      response: ok(PriceView),
      run: (trx, id, v) => updatePrice(trx, id, v, now()),
      reply: (p) => photoboxOk(priceView(p), 'Price updated successfully'),
    },
    remove: {
      summary: 'Delete a price; one that transactions used is deactivated instead',
      response: ok(PriceView),
      run: (trx, id, before) => removePrice(trx, id, before, now()),
      reply: (r) =>
        photoboxOk(
          priceView(r.row),
          r.outcome === 'deleted'
            ? 'Price deleted successfully'
            : 'Price was used by transactions, so it was deactivated instead of deleted',
        ),
    },
  });
}
