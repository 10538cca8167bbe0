// The page the gallery e-mail links to (PHOTOBOX_GALLERY_URL, by default PUBLIC_URL/photobox/gallery/{external_id}):
// rendered here from the same data as GET /api/v1/transactions/{external_id}/photos, so it needs no script and no
// decryption key. A gallery that is not sent yet, expired or unknown is a friendly 404 page.
import { Type } from 'typebox';
import { platformEnvelope } from '../../../core/http/envelopes.ts';
import { AppError } from '../../../core/http/errors.ts';
import type { Router } from '../../../core/http/route.ts';
import { gallery } from '../use-cases/gallery.ts';
import type { PhotoboxDeps } from '../wire.ts';

const html = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const page = (title: string, body: string) => `<!doctype html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; padding: 24px; background: #f4f1ea; color: #1d1d1f; }
  main { max-width: 960px; margin: 0 auto; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
  .grid a { display: block; background: #fff; border-radius: 12px; overflow: hidden; box-shadow: 0 2px 10px #0001; }
  .grid img { width: 100%; display: block; }
</style></head><body><main>${body}</main></body></html>`;

const dateId = (iso: string) =>
  new Date(iso).toLocaleDateString('id-ID', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'Asia/Jakarta',
  });

export function galleryPageRoutes(router: Router, deps: Pick<PhotoboxDeps, 'db' | 'now' | 'links'>): void {
  router.get(
    '/photobox/gallery/:external_id',
    {
      auth: 'public',
      // Outside /api/v1: errors answer in the platform's envelope, as any path the module does not own.
      envelope: platformEnvelope,
      schema: {
        hide: true,
        params: Type.Object({ external_id: Type.String({ minLength: 1, maxLength: 64 }) }),
      },
    },
    async (req, reply) => {
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
      try {
        const g = await gallery(deps, req.params.external_id);
        const photos = g.photos
          .map(
            (p, i) =>
              `<a href="${html(p.url)}" download><img src="${html(p.url)}" alt="Foto ${i + 1}" loading="lazy"></a>`,
          )
          .join('\n');
        return reply.send(
          page(
            'Foto photobox kamu',
            `<h1>Foto photobox kamu</h1>
<p>${g.photo_count} foto · tersedia sampai ${html(dateId(g.expiry_date))}. Klik foto untuk mengunduh.</p>
<div class="grid">${photos}</div>`,
          ),
        );
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'NOT_FOUND') throw err;
        return reply
          .code(404)
          .send(
            page(
              'Galeri tidak ditemukan',
              `<h1>Galeri tidak ditemukan</h1><p>${html(err.message)}. Galeri foto tersedia 14 hari setelah e-mail dikirim.</p>`,
            ),
          );
      }
    },
  );
}
