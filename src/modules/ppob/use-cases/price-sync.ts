// The provider's price list (Digiflazz `/v1/price-list`, `cmd: prepaid`) into the catalogue, matched by
// `provider_sku`: a new SKU becomes a product at the provider's price; a known one takes the provider's name,
// category, brand, description and availability, and its price is raised to the provider's price when it was lower
// (never sold at a loss; a margin set by an admin stays); a SKU the provider no longer lists is deactivated. One
// transaction, one activity-log entry.
import { type RequestOrigin, recordActivity } from '../../../core/audit/audit.ts';
import { withTransaction } from '../../../core/db/transaction.ts';
import { insertProduct, lockAllProducts, updateProduct } from '../repo/products.ts';
import type { Product } from '../repo/tables.ts';
import type { PpobDeps } from '../wire.ts';

export async function syncPriceList(
  d: Pick<PpobDeps, 'db' | 'now' | 'provider' | 'catalogue'>,
  actor: number | null,
  origin: RequestOrigin,
) {
  const { db, now, provider } = d;
  const list = await provider.priceList();
  const valid = list.filter((p) => /^[A-Za-z0-9_.-]{1,20}$/.test(p.sku) && p.price > 0 && p.name.trim() !== '');
  const result = await withTransaction(db, async (trx) => {
    // Locked for this transaction, so an admin's change that commits meanwhile is read, not overwritten. (No key
    // update: purchases referencing a product still go on.)
    const existing = await lockAllProducts(trx);
    const bySku = new Map<string, Product>();
    for (const p of existing) if (p.provider_sku) bySku.set(p.provider_sku, p);
    const byCode = new Map(existing.map((p) => [p.kode_produk, p]));
    let created = 0;
    let updated = 0;
    let deactivated = 0;
    const seen = new Set<string>();
    for (const item of valid) {
      seen.add(item.sku);
      const fields = {
        nama: item.name.slice(0, 50),
        kategori: item.category.slice(0, 50) || null,
        brand: item.brand.slice(0, 50) || null,
        deskripsi: item.description || null,
        aktif: item.active,
      };
      const known = bySku.get(item.sku);
      if (known) {
        const harga = Math.max(known.harga, item.price);
        const same =
          known.nama === fields.nama &&
          known.kategori === fields.kategori &&
          known.brand === fields.brand &&
          known.deskripsi === fields.deskripsi &&
          known.aktif === fields.aktif &&
          known.harga === harga;
        if (same) continue;
        await updateProduct(trx, known.id, { ...fields, harga }, now());
        updated++;
      } else if (!byCode.has(item.sku)) {
        await insertProduct(
          trx,
          { ...fields, kode_produk: item.sku, provider_sku: item.sku, harga: item.price },
          now(),
        );
        created++;
      }
    }
    for (const [sku, p] of bySku) {
      if (seen.has(sku) || !p.aktif) continue;
      await updateProduct(trx, p.id, { aktif: false }, now());
      deactivated++;
    }
    const summary = { listed: list.length, skipped: list.length - valid.length, created, updated, deactivated };
    await recordActivity(
      trx,
      {
        accountId: actor,
        action: 'ppob.products.synced',
        objectType: 'ppob.product',
        objectId: provider.name,
        after: summary,
      },
      origin,
      now(),
    );
    return summary;
  });
  await d.catalogue.changed();
  return result;
}
