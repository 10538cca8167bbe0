// The active products, cached per instance for 30 s; an admin change or a price sync drops the cache on every
// instance (the bus), and so does a gap in the bus (a message may have been lost).
import type { Core } from '../../core/context.ts';
import type { Executor } from '../../core/db/tables.ts';
import { activeProducts } from './repo/products.ts';
import type { Product } from './repo/tables.ts';

export interface CatalogueView {
  at: number;
  products: Product[];
  byCode: Map<string, Product>;
  byId: Map<number, Product>;
}

const CHANGED = 'ppob.products.changed';
const TTL_MS = 30_000;

export function createCatalogue(db: Executor, bus: Core['bus']) {
  let catalogue: CatalogueView | undefined;
  // One reload at a time: the requests that find the catalogue expired or dropped share it (else every request in
  // flight at that moment would read the table and build its own copy). A drop during a reload discards it: what
  // it read may predate the change.
  let reloading: Promise<CatalogueView> | undefined;
  let generation = 0;
  const drop = () => {
    catalogue = undefined;
    reloading = undefined;
    generation++;
  };
  bus.subscribe(CHANGED, drop);
  bus.onGap(drop);

  /** The catalogue when the cache holds a fresh one (no promise); undefined when it must be read. */
  const fresh = () => (catalogue && Date.now() - catalogue.at <= TTL_MS ? catalogue : undefined);

  function load(): Promise<CatalogueView> {
    if (reloading) return reloading;
    const of = generation;
    const read = activeProducts(db)
      .then((list) => {
        const loaded = {
          at: Date.now(),
          products: list,
          byCode: new Map(list.map((p) => [p.kode_produk, p])),
          byId: new Map(list.map((p) => [p.id, p])),
        };
        if (of === generation) catalogue = loaded;
        return loaded;
      })
      .finally(() => {
        if (reloading === read) reloading = undefined;
      });
    reloading = read;
    return read;
  }

  return {
    fresh,
    /** The catalogue, from the cache when it is fresh. */
    get: (): Promise<CatalogueView> => {
      const f = fresh();
      return f ? Promise.resolve(f) : load();
    },
    /** Tells every instance (this one included) that the products changed. */
    changed: () => bus.publish(CHANGED, {}),
  };
}

export type Catalogue = ReturnType<typeof createCatalogue>;
