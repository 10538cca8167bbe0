// Photobox's configuration variables (composed into the Config object by src/config.ts).
import { group, v } from '../../core/config-schema.ts';

export const photoboxConfig = group(
  'Photobox',
  {
    photoboxAmount: v.int('PHOTOBOX_AMOUNT', {
      default: 40_000,
      min: 1,
      max: 100_000_000,
      doc: 'Price of a photobox session in rupiah when the kiosk names no `price_id`.',
    }),
    photoboxMaxFilesPerUpload: v.int('PHOTOBOX_MAX_FILES_PER_UPLOAD', {
      default: 20,
      min: 1,
      max: 100,
      doc: 'Most photos one upload request may carry (each at most 10 MB, JPEG or PNG).',
    }),
    photoboxMaxPhotosPerTransaction: v.int('PHOTOBOX_MAX_PHOTOS_PER_TRANSACTION', {
      default: 50,
      min: 1,
      max: 1000,
      doc: 'Most photos one photobox transaction may have in all.',
    }),
    /** Link to the gallery in the photo e-mail; `{external_id}` is replaced. */
    photoboxGalleryUrl: v.string('PHOTOBOX_GALLERY_URL', {
      default: v.derived(
        'PUBLIC_URL/photobox/gallery/{external_id}',
        (c: { publicUrl: string }) => `${c.publicUrl}/photobox/gallery/{external_id}`,
      ),
      check: (s) => (/^https?:\/\//.test(s) ? undefined : 'must start with http:// or https://'),
      doc: 'Gallery link in the photo e-mail; `{external_id}` is replaced by the transaction.',
    }),
    encryptionEnabled: v.bool('ENCRYPTION_ENABLED', {
      default: false,
      doc: '`on` encrypts the two Photobox kiosk reads (polling and photos) with AES-256-CBC, as the seed document does (see docs/PHOTOBOX.md).',
    }),
    encryptionKey: v.secret('ENCRYPTION_KEY', {
      doc: 'Photobox response key: exactly 32 characters (`openssl rand -hex 16`). Required when ENCRYPTION_ENABLED=on.',
    }),
    encryptionIv: v.secret('ENCRYPTION_IV', {
      doc: 'Photobox response IV: exactly 16 characters (`openssl rand -hex 8`). Required when ENCRYPTION_ENABLED=on.',
    }),
  },
  (c, report) => {
    if (!c.encryptionEnabled) return;
    // The document's scheme uses the characters' UTF-8 bytes as they are: 32 bytes of key, 16 of IV.
    if (c.encryptionKey === undefined || Buffer.byteLength(c.encryptionKey, 'utf8') !== 32) {
      report(
        'ENCRYPTION_ENABLED=on needs ENCRYPTION_KEY of exactly 32 characters (for example `openssl rand -hex 16`)',
      );
    }
    if (c.encryptionIv === undefined || Buffer.byteLength(c.encryptionIv, 'utf8') !== 16) {
      report('ENCRYPTION_ENABLED=on needs ENCRYPTION_IV of exactly 16 characters (for example `openssl rand -hex 8`)');
    }
  },
);
