// The REST API of RouterOS 7 as a transport for the port's `exec` (port.ts): HTTPS (or HTTP) with basic auth, every
// command through RouterOS's universal form `POST /rest/<command path>` with the attributes as a JSON object and
// the query words as `.query`. RouterOS answers a print with an array of rows, an add with `{"ret": "*1"}`, other
// commands with `[]`, and a refusal with `{error, message, detail}` (400: the command's trap; 401: the login).
// Keep-alive sockets are pooled per router. Nothing here logs or returns the password.
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type Exec, RouterError, type RouterTarget, type RouterTransport, type Row } from './port.ts';

const DEFAULT_TIMEOUT_MS = 5_000;
/** HTTP/1.1 has no pipelining: concurrent commands each take a socket, up to this many per router. */
const MAX_SOCKETS = 4;
/** Failures that mean no connection was made (so the command cannot have run); TLS refusals are added by name. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

const agents = new Map<string, { signature: string; agent: HttpAgent }>();

function agentFor(target: RouterTarget): HttpAgent {
  const signature = createHash('sha256')
    .update(JSON.stringify([target.host, target.port, target.tls, target.allowSelfSigned]))
    .digest('hex');
  const known = agents.get(target.key);
  if (known?.signature === signature) return known.agent;
  known?.agent.destroy();
  const options = { keepAlive: true, maxSockets: MAX_SOCKETS, timeout: 60_000 };
  const agent = target.tls
    ? new HttpsAgent({ ...options, rejectUnauthorized: target.allowSelfSigned === false })
    : new HttpAgent(options);
  agents.set(target.key, { signature, agent });
  return agent;
}

const asRow = (value: unknown): Row => {
  const row: Row = {};
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) row[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return row;
};

/** The reply body as the port's result, or the router's refusal as a RouterError. */
function readReply(status: number, text: string): { rows: Row[]; ret?: string } {
  let body: unknown;
  try {
    body = text.trim() === '' ? [] : JSON.parse(text);
  } catch {
    throw new RouterError('protocol', `the router answered HTTP ${status} with a body that is not JSON`);
  }
  if (status === 401) throw new RouterError('auth', 'login refused: invalid user name or password');
  if (status >= 400) {
    const e = asRow(body);
    const message = e.detail || e.message || `HTTP ${status}`;
    throw new RouterError(status >= 500 ? 'fatal' : 'trap', message);
  }
  if (Array.isArray(body)) return { rows: body.map(asRow) };
  const row = asRow(body);
  if (row.ret !== undefined && Object.keys(row).length === 1) return { rows: [], ret: row.ret };
  return { rows: Object.keys(row).length === 0 ? [] : [row] };
}

/** The REST transport for one router. */
export function restTransport(target: RouterTarget): RouterTransport {
  const port = target.port ?? (target.tls ? 443 : 80);
  const timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const authorization = `Basic ${Buffer.from(`${target.username}:${target.password}`).toString('base64')}`;
  const send = target.tls ? httpsRequest : httpRequest;

  const exec: Exec = (command, attributes = {}, query = []) => {
    if (!command.startsWith('/'))
      return Promise.reject(new RouterError('protocol', `not a RouterOS command: ${command}`));
    const payload: Record<string, unknown> = { ...attributes };
    if (query.length > 0) payload['.query'] = query;
    const body = JSON.stringify(payload);
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = send({
        host: target.host,
        port,
        method: 'POST',
        path: `/rest${command.split('/').map(encodeURIComponent).join('/')}`,
        agent: agentFor(target),
        headers: {
          authorization,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      });
      const timer = setTimeout(() => {
        req.destroy(new RouterError('timeout', `no answer from the router within ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => {}); // settled by req's error
        res.on('end', () => {
          clearTimeout(timer);
          try {
            resolve(readReply(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
          } catch (e) {
            reject(e);
          }
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (e instanceof RouterError) reject(e);
        else if (!answered && (CONNECT_FAILURES.has(e.code ?? '') || /CERT|SIGNATURE|TLS/.test(e.code ?? ''))) {
          reject(new RouterError('unreachable', `cannot connect to ${target.host}:${port} (${e.code})`));
        } else reject(new RouterError('fatal', `connection to the router broke (${e.code ?? e.message})`));
      });
      req.end(body);
    });
  };
  // Sockets belong to the router's agent, shared by every client of the same key.
  return { exec, close: async () => {} };
}

/** Closes the pooled REST sockets of one router, or of every router. */
export function closeRestConnections(key?: string) {
  for (const [k, { agent }] of agents) {
    if (key !== undefined && k !== key) continue;
    agent.destroy();
    agents.delete(k);
  }
}
