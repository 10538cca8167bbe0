// Technical data: one row per live customer (409 for a second), an address unique per router (409), the PPPoE
// name defaulting to the customer's id, the password sealed at rest and never shown again. Both the document's and
// the original frontend's names are read.
import { seal } from '../../../core/crypto.ts';
import type { Executor } from '../../../core/db/tables.ts';
import { AppError } from '../../../core/http/errors.ts';
import * as customers from '../repo/customers.ts';
import * as technical from '../repo/technical.ts';

type Text = string | number | null | undefined;

export interface TechnicalInput {
  pelanggan_id?: number;
  mikrotik_server_id?: number | null;
  ip_pelanggan?: string | null;
  vlan?: number | null;
  id_vlan?: number | null;
  id_pelanggan?: string | null;
  password_pppoe?: string | null;
  profile_pppoe?: string | null;
  sn_ont?: string | null;
  sn?: string | null;
  port_odp?: Text;
  port_olt?: string | null;
  olt?: string | null;
  olt_custom?: string | null;
  pon?: Text;
  otb?: Text;
  odc?: Text;
  odp_id?: string | null;
  onu_power?: number | null;
  speedtest_proof?: string | null;
  status?: string;
}

const asText = (v: Text) => (v === undefined ? undefined : v === null ? null : String(v).trim() || null);

function columns(v: TechnicalInput, sealKey: Buffer): Partial<technical.TechnicalFields> {
  const out: Partial<technical.TechnicalFields> = {};
  if (v.pelanggan_id !== undefined) out.pelanggan_id = v.pelanggan_id;
  if (v.mikrotik_server_id !== undefined) out.mikrotik_server_id = v.mikrotik_server_id;
  if (v.ip_pelanggan !== undefined) out.ip_pelanggan = v.ip_pelanggan;
  const vlan = v.vlan !== undefined ? v.vlan : v.id_vlan;
  if (vlan !== undefined) out.vlan = vlan;
  if (v.id_pelanggan !== undefined) out.id_pelanggan = v.id_pelanggan;
  if (v.password_pppoe !== undefined) {
    out.password_pppoe_enc = v.password_pppoe === null ? null : seal(sealKey, v.password_pppoe);
  }
  if (v.profile_pppoe !== undefined) out.profile_pppoe = v.profile_pppoe;
  const sn = v.sn_ont !== undefined ? v.sn_ont : v.sn;
  if (sn !== undefined) out.sn_ont = asText(sn) ?? null;
  for (const key of [
    'port_odp',
    'port_olt',
    'olt',
    'olt_custom',
    'pon',
    'otb',
    'odc',
    'odp_id',
    'speedtest_proof',
  ] as const) {
    const value = asText(v[key]);
    if (value !== undefined) out[key] = value;
  }
  if (v.onu_power !== undefined) out.onu_power = v.onu_power;
  if (v.status !== undefined) out.status = v.status.trim() || 'Aktif';
  return out;
}

async function mustHaveCustomer(trx: Executor, id: number): Promise<void> {
  if (!(await customers.getCustomer(trx, id))) {
    throw new AppError('VALIDATION_ERROR', 'Validation failed', {
      details: { pelanggan_id: ['customer does not exist'] },
    });
  }
}

async function mustBeFree(trx: Executor, ip: string | null | undefined, router: number | null, exceptId?: number) {
  if (ip && (await technical.addressTaken(trx, ip, router, exceptId))) {
    throw new AppError('CONFLICT', `IP ${ip} is already used by another customer on this router`);
  }
}

export async function createTechnical(
  trx: Executor,
  v: TechnicalInput & { pelanggan_id: number },
  sealKey: Buffer,
  now: Date,
) {
  await mustHaveCustomer(trx, v.pelanggan_id);
  if (await technical.technicalOfCustomer(trx, v.pelanggan_id)) {
    throw new AppError('CONFLICT', 'This customer already has technical data; change it with PATCH');
  }
  const cols = columns(v, sealKey);
  await mustBeFree(trx, cols.ip_pelanggan, cols.mikrotik_server_id ?? null);
  const id = await technical.insertTechnical(
    trx,
    {
      pelanggan_id: v.pelanggan_id,
      mikrotik_server_id: null,
      ip_pelanggan: null,
      vlan: null,
      id_pelanggan: String(v.pelanggan_id),
      password_pppoe_enc: null,
      profile_pppoe: null,
      sn_ont: null,
      port_odp: null,
      port_olt: null,
      olt: null,
      olt_custom: null,
      pon: null,
      otb: null,
      odc: null,
      odp_id: null,
      onu_power: null,
      speedtest_proof: null,
      status: 'Aktif',
      ...cols,
    },
    now,
  );
  return mustGet(trx, id);
}

export async function updateTechnical(
  trx: Executor,
  id: number,
  v: TechnicalInput,
  before: technical.Technical,
  sealKey: Buffer,
  now: Date,
) {
  const cols = columns(v, sealKey);
  if (cols.pelanggan_id !== undefined && cols.pelanggan_id !== before.pelanggan_id) {
    await mustHaveCustomer(trx, cols.pelanggan_id);
    if (await technical.technicalOfCustomer(trx, cols.pelanggan_id)) {
      throw new AppError('CONFLICT', 'That customer already has technical data');
    }
  }
  const ip = cols.ip_pelanggan !== undefined ? cols.ip_pelanggan : before.ip_pelanggan;
  const router = cols.mikrotik_server_id !== undefined ? cols.mikrotik_server_id : before.mikrotik_server_id;
  if (cols.ip_pelanggan !== undefined || cols.mikrotik_server_id !== undefined) await mustBeFree(trx, ip, router, id);
  if (Object.keys(cols).length > 0) await technical.updateTechnical(trx, id, cols, now);
  return mustGet(trx, id);
}

async function mustGet(trx: Executor, id: number): Promise<technical.Technical> {
  const row = await technical.getTechnical(trx, id);
  if (!row) throw new AppError('NOT_FOUND', 'Technical data not found');
  return row;
}
