// CSV export of customers: the list's filters, at most 50,000 rows, written as it is read. The rows come in keyset
// pages (id order, a few thousand at a time), so memory holds one page whatever the size of the export; the file is
// UTF-8 with a byte-order mark and the import's eleven headers (the template's eight, then `Alamat 2`, `Blok`,
// `Unit`), so it imports again with nothing lost.
import { type Actor, recordAction } from '../../../core/audit/audit.ts';
import { BOM, csvLine } from '../../../core/csv.ts';
import type { Executor } from '../../../core/db/tables.ts';
import { CSV_HEADERS, csvCells } from '../customer-csv.ts';
import { countForExport, type ExportFilter, exportPage } from '../repo/customer-csv.ts';

export const EXPORT_PAGE_ROWS = 2000;

export interface ExportRequest {
  filter: ExportFilter;
  skip: number;
  limit: number;
}

/** How many rows the file will have (recorded in the activity log, and sent as X-Total-Count). */
export async function startExport(db: Executor, req: ExportRequest, actor: Actor, now: Date): Promise<number> {
  const total = await countForExport(db, req.filter);
  const rows = Math.max(0, Math.min(req.limit, total - req.skip));
  await recordAction(db, actor, 'billing.customer.exported', 'csv', now, {
    after: { rows, skip: req.skip, limit: req.limit, ...req.filter },
  });
  return rows;
}

/** The file, chunk by chunk: the header line, then one chunk per page. */
export async function* exportChunks(db: Executor, req: ExportRequest, pageRows = EXPORT_PAGE_ROWS) {
  yield BOM + csvLine(CSV_HEADERS);
  let afterId = 0;
  let offset = req.skip;
  let left = req.limit;
  while (left > 0) {
    const size = Math.min(pageRows, left);
    const rows = await exportPage(db, req.filter, { afterId, offset, size });
    let chunk = '';
    for (const row of rows) chunk += csvLine(csvCells(row));
    if (chunk) yield chunk;
    const last = rows.at(-1);
    if (!last || rows.length < size) return;
    left -= rows.length;
    afterId = last.id;
    offset = 0;
  }
}
