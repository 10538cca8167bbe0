// The provider's price list (Digiflazz `/v1/price-list`, `cmd: prepaid`) into the catalogue, matched by
// `provider_sku`: a new SKU becomes a product at the provider's price; a known one takes the provider's name,
// category, brand, description and availability, and its price is raised to the provider's price when it was lower
// (never sold at a loss; a margin set by an admin stays); a SKU the provider no longer lists is retired (made
// inactive). One transaction, one activity-log entry.
//
// A sync must never empty a shop: products are retired only after a complete listing (every entry readable and
// valid, at least one product); a provider error changes nothing; a partial listing adds and changes but retires
// nothing unless the admin says `force`. The simulator has no price list, so its catalogue is left as it is. A dry
// run answers the same plan and writes nothing.
import { type RequestOrigin, recordActivity } from '../../../core/audit/audit.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import type { ProviderProduct } from '../providers/provider.ts';
import { allProducts, insertProduct, lockAllProducts, updateProduct } from '../repo/products.ts';
import type { Product } from '../repo/tables.ts';
import type { PpobDeps } from '../wire.ts';

export interface SyncOptions {
  dryRun?: boolean;
  force?: boolean;
}

interface Fields {
  nama: string;
  kategori: string | null;
  brand: string | null;
  deskripsi: string | null;
  aktif: boolean;
}

interface Plan {
  add: (Fields & { kode_produk: string; provider_sku: string; harga: number })[];
  change: { product: Product; set: Fields & { harga: number }; fields: string[] }[];
  retire: Product[];
}

const validSku = (p: ProviderProduct) => /^[A-Za-z0-9_.-]{1,20}$/.test(p.sku) && p.price > 0 && p.name.trim() !== '';

/** What the listing would do to the catalogue; `retire` is filled only when retiring is allowed. */
function plan(existing: Product[], listed: ProviderProduct[], retire: boolean): Plan {
  const bySku = new Map<string, Product>();
  for (const p of existing) if (p.provider_sku) bySku.set(p.provider_sku, p);
  const byCode = new Map(existing.map((p) => [p.kode_produk, p]));
  const out: Plan = { add: [], change: [], retire: [] };
  const seen = new Set<string>();
  for (const item of listed) {
    seen.add(item.sku);
    const fields: Fields = {
      nama: item.name.slice(0, 50),
      kategori: item.category.slice(0, 50) || null,
      brand: item.brand.slice(0, 50) || null,
      deskripsi: item.description || null,
      aktif: item.active,
    };
    const known = bySku.get(item.sku);
    if (known) {
      const set = { ...fields, harga: Math.max(known.harga, item.price) };
      const changed = (Object.keys(set) as (keyof typeof set)[]).filter((k) => known[k] !== set[k]);
      if (changed.length > 0) out.change.push({ product: known, set, fields: changed });
    } else if (!byCode.has(item.sku) && !out.add.some((a) => a.kode_produk === item.sku)) {
      out.add.push({ ...fields, kode_produk: item.sku, provider_sku: item.sku, harga: item.price });
    }
  }
  if (retire) for (const [sku, p] of bySku) if (!seen.has(sku) && p.aktif) out.retire.push(p);
  return out;
}

export async function syncPriceList(
  d: Pick<PpobDeps, 'db' | 'now' | 'provider' | 'catalogue'>,
  actor: number | null,
  origin: RequestOrigin,
  options: SyncOptions = {},
) {
  const { db, now, provider } = d;
  const dryRun = options.dryRun === true;
  if (provider.name === 'simulator') {
    return {
      provider: provider.name,
      dry_run: dryRun,
      complete: false,
      listed: 0,
      skipped: 0,
      created: 0,
      updated: 0,
      deactivated: 0,
      added: [],
      changed: [],
      retired: [],
      message: 'The simulator has no price list: the catalogue is kept as it is (manage it with the products API)',
    };
  }
  // A provider error throws here, before anything is read or written.
  const { products: list, unreadable } = await provider.priceList();
  const valid = list.filter(validSku);
  const skipped = unreadable + list.length - valid.length;
  const complete = skipped === 0 && valid.length > 0;
  const retire = complete || options.force === true;
  const apply = async (existing: Product[], write: (p: Plan) => Promise<void>) => {
    const p = plan(existing, valid, retire);
    await write(p);
    return p;
  };
  const done = dryRun
    ? await apply(await allProducts(db), async () => {})
    : await withTransaction(db, async (trx) =>
        // Locked for this transaction, so an admin's change that commits meanwhile is read, not overwritten. (No key
        // update: purchases referencing a product still go on.)
        apply(await lockAllProducts(trx), async (p) => {
          for (const a of p.add) await insertProduct(trx, a, now());
          for (const c of p.change) await updateProduct(trx, c.product.id, c.set, now());
          for (const r of p.retire) await updateProduct(trx, r.id, { aktif: false }, now());
          const counts = { listed: list.length + unreadable, skipped, created: p.add.length, updated: p.change.length };
          await recordActivity(
            trx,
            {
              accountId: actor,
              action: 'ppob.products.synced',
              objectType: 'ppob.product',
              objectId: provider.name,
              after: { ...counts, deactivated: p.retire.length, complete, forced: options.force === true },
            },
            origin,
            now(),
          );
        }),
      );
  if (!dryRun) await d.catalogue.changed();
  const held = !complete && !retire;
  return {
    provider: provider.name,
    dry_run: dryRun,
    complete,
    listed: list.length + unreadable,
    skipped,
    created: done.add.length,
    updated: done.change.length,
    deactivated: done.retire.length,
    added: done.add.map((a) => ({ kode_produk: a.kode_produk, nama: a.nama, harga: a.harga })),
    changed: done.change.map((c) => ({ kode_produk: c.product.kode_produk, fields: c.fields })),
    retired: done.retire.map((r) => ({ kode_produk: r.kode_produk, nama: r.nama })),
    message: held
      ? `The price list was not complete (${skipped} of ${list.length + unreadable} entries unusable${valid.length === 0 ? ', no product' : ''}): nothing was retired; try again later, or sync with force=true to retire what is missing`
      : `${dryRun ? 'Dry run, nothing changed: would add' : 'Added'} ${done.add.length}, ${dryRun ? 'change' : 'changed'} ${done.change.length}, ${dryRun ? 'retire' : 'retired'} ${done.retire.length}`,
  };
}
