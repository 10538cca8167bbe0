// One entry point: a router target in, a client out. `simulator` is in process; the API protocol (api.ts, TCP or
// TLS) and the REST API (rest.ts) reach real routers. Clients of the same router share its pooled connections, so
// `close()` on a client releases nothing; `closeRouterConnections` does (a router deleted or edited, shutdown).
import { apiTransport, closeApiConnections } from './api.ts';
import { clientOver } from './commands.ts';
import type { RouterClient, RouterTarget } from './port.ts';
import { closeRestConnections, restTransport } from './rest.ts';
import { simulatorClient } from './simulator.ts';

export type { PppActive, PppProfile, PppSecret, RouterClient, RouterTarget, SecretFields } from './port.ts';
export { RouterError } from './port.ts';

export const isSimulator = (host: string) => host.trim().toLowerCase() === 'simulator';

/**
 * The same router on connections of their own for bulk work (a batch of isolations): its pipelined commands fill
 * those sockets, never the ones a single customer's change (a restore after a payment) is written on. The
 * in-process simulator has no sockets and keeps its key (the key names its engine).
 */
export function bulkLane(target: RouterTarget): RouterTarget {
  return isSimulator(target.host) ? target : { ...target, key: `${target.key}${BULK}` };
}
const BULK = '/bulk';

export function routerClient(target: RouterTarget): RouterClient {
  if (isSimulator(target.host)) return simulatorClient(target);
  return clientOver(target.transport === 'rest' ? restTransport(target) : apiTransport(target));
}

/** Closes the pooled connections of one router (by `RouterTarget.key`, its bulk lane too), or of every router. */
export function closeRouterConnections(key?: string) {
  for (const k of key === undefined ? [undefined] : [key, `${key}${BULK}`]) {
    closeApiConnections(k);
    closeRestConnections(k);
  }
}
