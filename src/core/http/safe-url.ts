// One guard for every URL a user gives Loket to call (a reseller's callback, any webhook a customer registers):
// the name is resolved and every address it resolves to must be public. Loopback, private, link-local, CGNAT,
// cloud metadata, multicast and reserved ranges are refused, unless the operator lists a host or a range in
// LOKET_OUTBOUND_ALLOW (for development and local tests: say `127.0.0.1`). The request itself connects only to an
// address that passed the check (no second lookup that DNS could answer differently), and never follows a redirect.
// Addresses an administrator sets for the operator's own LAN (routers) do not pass through here.
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const PRIVATE_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const PRIVATE_V6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7], // unique local (and fd00:ec2::254, a cloud metadata address)
  ['fe80::', 10],
  ['ff00::', 8],
];

const blocked = new BlockList();
for (const [net, prefix] of PRIVATE_V4) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of PRIVATE_V6) blocked.addSubnet(net, prefix, 'ipv6');

/** The IPv4 address carried inside an IPv6 one (mapped ::ffff:a.b.c.d, or NAT64 64:ff9b::a.b.c.d), if any. */
function embeddedV4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const hi = Number.parseInt(hex[1] ?? '0', 16);
  const lo = Number.parseInt(hex[2] ?? '0', 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export function isPublicAddress(address: string): boolean {
  const v4 = embeddedV4(address);
  if (v4) return !blocked.check(v4, 'ipv4');
  const family = isIP(address);
  if (family === 0) return false;
  return !blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export type UrlProblem = 'not-a-url' | 'scheme' | 'credentials' | 'unresolvable' | 'private-address';

export const URL_PROBLEMS: Record<UrlProblem, string> = {
  'not-a-url': 'is not a valid URL',
  scheme: 'must be an http or https URL',
  credentials: 'must not carry a user name or password',
  unresolvable: 'names a host that does not resolve',
  'private-address': 'points to a private, loopback or reserved address',
};

export class OutboundRefused extends Error {
  readonly problem: UrlProblem;
  constructor(problem: UrlProblem) {
    super(`outbound URL refused: ${URL_PROBLEMS[problem]}`);
    this.problem = problem;
  }
}

export interface OutboundResponse {
  status: number;
}

export function createUrlGuard(allow: readonly string[]) {
  const allowed = new BlockList();
  const allowedNames = new Set<string>();
  for (const entry of allow) {
    const [net, bits] = entry.split('/');
    const family = isIP(net ?? '');
    if (family !== 0 && net) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) allowed.addAddress(net, type);
      else allowed.addSubnet(net, Number(bits), type);
    } else if (entry) allowedNames.add(entry.toLowerCase());
  }
  const isAllowed = (address: string) => {
    const family = isIP(address);
    return family !== 0 && allowed.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
  const permitted = (host: string, address: string) =>
    isPublicAddress(address) || isAllowed(address) || allowedNames.has(host);

  function parse(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new OutboundRefused('not-a-url');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefused('scheme');
    if (url.username || url.password) throw new OutboundRefused('credentials');
    return url;
  }
  const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '').toLowerCase();

  async function resolve(host: string): Promise<{ address: string; family: number }[]> {
    if (isIP(host)) return [{ address: host, family: isIP(host) }];
    try {
      return await dnsLookup(host, { all: true, verbatim: true });
    } catch {
      throw new OutboundRefused('unresolvable');
    }
  }

  /** The lookup the request connects with: the same rule, applied to what it is about to connect to. */
  const guardedLookup =
    (host: string): LookupFunction =>
    (hostname, options, callback) => {
      resolve(hostname).then(
        (all) => {
          const ok = all.filter((a) => permitted(host, a.address));
          const first = ok[0];
          if (!first || ok.length !== all.length) {
            callback(new OutboundRefused('private-address'), '', 4);
          } else if (options.all) {
            (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, ok);
          } else {
            callback(null, first.address, first.family);
          }
        },
        (err: Error) => callback(err, '', 4),
      );
    };

  return {
    /** Throws OutboundRefused when `raw` is not a URL Loket may call. */
    async check(raw: string): Promise<void> {
      const url = parse(raw);
      const host = hostOf(url);
      const all = await resolve(host);
      if (all.length === 0 || !all.every((a) => permitted(host, a.address))) {
        throw new OutboundRefused('private-address');
      }
    },

    /** POSTs `body` to `raw` through the guard; redirects are answers, never followed. */
    async post(
      raw: string,
      body: string,
      headers: Record<string, string>,
      timeoutMs: number,
    ): Promise<OutboundResponse> {
      const url = parse(raw);
      const host = hostOf(url);
      // An address written in the URL is connected to without a lookup: it is checked here instead.
      if (isIP(host) && !permitted(host, host)) throw new OutboundRefused('private-address');
      const request = url.protocol === 'https:' ? https.request : http.request;
      return new Promise((resolvePromise, reject) => {
        const req = request(
          url,
          {
            method: 'POST',
            headers: { ...headers, 'content-length': Buffer.byteLength(body) },
            lookup: guardedLookup(host),
            timeout: timeoutMs,
            agent: false,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolvePromise({ status: res.statusCode ?? 0 }));
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(body);
      });
    },
  };
}

export type UrlGuard = ReturnType<typeof createUrlGuard>;
