// What the photobox module says, in the document's language (English), where more than one place says it.
export const MESSAGES = {
  locationNotFound: 'Location not found',
  locationInactive: 'This location is not active; choose an active location',
  locationNameTaken: 'A location with this name already exists',
  machineCodeTaken: 'A location with this machine code already exists',
  priceNotFound: 'Price not found',
  priceInactive: 'This price is not active; choose an active price',
  quotaUsedUp: 'The quota of this price is used up; no more sessions can be sold at it',
  transactionNotFound: 'Transaction not found',
  alreadyPaid: 'This transaction is already paid; it cannot be cancelled',
  latePaymentNotFound: 'Late payment not found',
  noPhotos: 'No photos for this transaction (yet)',
  galleryExpired: 'The photos of this transaction have expired',
  photoNotFound: 'Photo not found or expired',
  kioskNotFound: 'Kiosk not found',
  kioskNameTaken: 'A kiosk with this name already exists',
  photoStoreDown: 'The photo store is unavailable; please try again',
} as const;
