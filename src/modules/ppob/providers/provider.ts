// The port to PPOB product providers (Digiflazz over HTTP, or the built-in simulator). A provider never touches
// the database; the PPOB service records what it answers. "pending" means the provider has not decided yet (or
// could not be reached): it is never treated as a failure, so money is only refunded on a definite "gagal".

export type ProviderStatus = 'sukses' | 'gagal' | 'pending';

export interface PurchaseRequest {
  /** Loket's transaction id (Digiflazz `ref_id`), at most 20 characters; resending it re-checks, never re-buys. */
  refId: string;
  /** The provider's product code (Digiflazz `buyer_sku_code`). */
  sku: string;
  /** Phone number, meter number… (Digiflazz `customer_no`). */
  customerNo: string;
}

export interface ProviderResult {
  status: ProviderStatus;
  /** The provider's own words, shown to the client in `hasil_eksekusi`. */
  message: string;
  /** Serial number / token (pulsa SN, PLN token) when there is one. */
  serialNumber?: string;
  /** Provider response code (Digiflazz `rc`). */
  code?: string;
  /** What the provider charged Loket, when it says. */
  price?: number;
}

export interface ProviderProduct {
  sku: string;
  name: string;
  category: string;
  brand: string;
  price: number;
  description: string;
  active: boolean;
}

/** A price list as read: what could be read, and how many entries could not (a listing with those is partial). */
export interface PriceList {
  products: ProviderProduct[];
  unreadable: number;
}

export interface ProviderCallback {
  refId: string;
  result: ProviderResult;
}

export interface PpobProvider {
  readonly name: 'simulator' | 'digiflazz';
  /** Submits a purchase. Network trouble or a timeout answers `pending` (never `gagal`). */
  purchase(request: PurchaseRequest): Promise<ProviderResult>;
  /** Asks again about a purchase already submitted (Digiflazz: the same request with the same ref_id). */
  check(request: PurchaseRequest): Promise<ProviderResult>;
  /** The provider's catalogue (prepaid), for syncing products. */
  priceList(): Promise<PriceList>;
  /** Loket's deposit at the provider, in rupiah (for /ready). */
  balance(): Promise<number>;
  /** Verifies and reads a provider callback; undefined when the signature or body is not valid. */
  readCallback(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): ProviderCallback | undefined;
}
