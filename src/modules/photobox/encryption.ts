// Response encryption of the seed document, byte for byte: AES-256-CBC with the 32 characters of ENCRYPTION_KEY as
// the key and the 16 characters of ENCRYPTION_IV as the IV (their UTF-8 bytes, as they are), PKCS#7 padding, the
// ciphertext in base64, answered as `{"data": "<base64>"}`. Existing kiosks decrypt it unchanged.
//
// The scheme has no integrity check (and a fixed IV), so Loket adds one that old kiosks may ignore:
//   x-loket-signature: v1=<base64 HMAC-SHA256(hmacKey, the base64 string exactly as in "data")>
//   hmacKey = HKDF-SHA256(ikm = UTF-8 of ENCRYPTION_KEY, salt = empty, info = "loket:photobox-response-hmac", 32 bytes)
// docs/PHOTOBOX.md shows both steps in browser JavaScript (WebCrypto).
import { createCipheriv, createHmac } from 'node:crypto';
import { deriveKey } from '../../core/crypto.ts';

export const SIGNATURE_HEADER = 'x-loket-signature';
export const HMAC_INFO = 'photobox-response-hmac';

export interface SealedResponse {
  /** The response body: `{"data":"<base64>"}`. */
  body: string;
  /** The value of the x-loket-signature header. */
  signature: string;
}

export function createResponseSealer(opts: { key: string; iv: string }) {
  const key = Buffer.from(opts.key, 'utf8');
  const iv = Buffer.from(opts.iv, 'utf8');
  if (key.length !== 32 || iv.length !== 16) throw new Error('ENCRYPTION_KEY must be 32 bytes and ENCRYPTION_IV 16');
  // deriveKey is HKDF-SHA256 with an empty salt and info "loket:<purpose>".
  const hmacKey = deriveKey(opts.key, HMAC_INFO);
  return {
    /** Encrypts the JSON text a client would otherwise have received. */
    seal(json: string): SealedResponse {
      const cipher = createCipheriv('aes-256-cbc', key, iv); // PKCS#7 padding is node's default
      const data = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]).toString('base64');
      const mac = createHmac('sha256', hmacKey).update(data, 'utf8').digest('base64');
      return { body: JSON.stringify({ data }), signature: `v1=${mac}` };
    },
  };
}

export type ResponseSealer = ReturnType<typeof createResponseSealer>;
