// The typed RouterOS client over any transport's `exec` (see port.ts): RouterOS's words in, billing's types out.
import type {
  Exec,
  PppActive,
  PppProfile,
  PppSecret,
  RouterClient,
  RouterResource,
  RouterTransport,
  Row,
  SecretFields,
} from './port.ts';

const text = (row: Row, key: string): string | null => {
  const v = row[key];
  return v === undefined || v === '' ? null : v;
};
const num = (row: Row, key: string): number | null => {
  const v = text(row, key);
  if (v === null) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};

export const toSecret = (row: Row): PppSecret => ({
  id: row['.id'] ?? '',
  name: row.name ?? '',
  profile: row.profile ?? 'default',
  service: row.service ?? 'any',
  remoteAddress: text(row, 'remote-address'),
  disabled: row.disabled === 'true' || row.disabled === 'yes',
  comment: text(row, 'comment'),
});

const toActive = (row: Row): PppActive => ({
  id: row['.id'] ?? '',
  name: row.name ?? '',
  address: text(row, 'address'),
  callerId: text(row, 'caller-id'),
  uptime: text(row, 'uptime'),
});

const toProfile = (row: Row): PppProfile => ({
  id: row['.id'] ?? '',
  name: row.name ?? '',
  rateLimit: text(row, 'rate-limit'),
});

/** Billing's secret fields as RouterOS attribute words. A null address or comment clears it on the router. */
export function secretWords(fields: Partial<SecretFields>): Record<string, string> {
  const out: Record<string, string> = {};
  if (fields.name !== undefined) out.name = fields.name;
  if (fields.password !== undefined) out.password = fields.password;
  if (fields.profile !== undefined) out.profile = fields.profile;
  if (fields.service !== undefined) out.service = fields.service;
  if (fields.remoteAddress !== undefined) out['remote-address'] = fields.remoteAddress ?? '';
  if (fields.comment !== undefined) out.comment = fields.comment ?? '';
  if (fields.disabled !== undefined) out.disabled = fields.disabled ? 'yes' : 'no';
  return out;
}

const byName = (filter?: { name?: string }) => (filter?.name !== undefined ? [`name=${filter.name}`] : undefined);

export function clientOver(transport: RouterTransport): RouterClient {
  const exec: Exec = transport.exec;
  return {
    async secrets(filter) {
      return (await exec('/ppp/secret/print', undefined, byName(filter))).rows.map(toSecret);
    },
    async addSecret(fields) {
      const { ret } = await exec('/ppp/secret/add', secretWords({ service: 'pppoe', ...fields }));
      return ret ?? '';
    },
    async setSecret(id, fields) {
      await exec('/ppp/secret/set', { '.id': id, ...secretWords(fields) });
    },
    async removeSecret(id) {
      await exec('/ppp/secret/remove', { '.id': id });
    },
    async active(filter) {
      return (await exec('/ppp/active/print', undefined, byName(filter))).rows.map(toActive);
    },
    async removeActive(id) {
      await exec('/ppp/active/remove', { '.id': id });
    },
    async profiles() {
      return (await exec('/ppp/profile/print')).rows.map(toProfile);
    },
    async identity() {
      const [row] = (await exec('/system/identity/print')).rows;
      return row?.name ?? '';
    },
    async resource(): Promise<RouterResource> {
      const [row = {}] = (await exec('/system/resource/print')).rows;
      return {
        version: row.version ?? '',
        uptime: row.uptime ?? '',
        boardName: text(row, 'board-name'),
        cpuLoad: num(row, 'cpu-load'),
        freeMemory: num(row, 'free-memory'),
        totalMemory: num(row, 'total-memory'),
      };
    },
    close: () => transport.close(),
  };
}
