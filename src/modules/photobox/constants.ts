// The photobox module's fixed numbers and names (the document's), in one place.

/** The module's name: its memberships, its API keys, its payments listener. */
export const MODULE = 'photobox';
/** The document's QRIS lifetime. */
export const QR_TTL_MS = 15 * 60_000;
/** Photos expire this long after the gallery e-mail (the document's 14 days). */
export const GALLERY_TTL_MS = 14 * 24 * 3600_000;
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
/** The bus topic on which a committed status change is announced to every instance. */
export const STATUS_TOPIC = 'photobox.status';
