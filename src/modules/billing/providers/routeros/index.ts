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

export function routerClient(target: RouterTarget): RouterClient {
  if (isSimulator(target.host)) return simulatorClient(target);
  return clientOver(target.transport === 'rest' ? restTransport(target) : apiTransport(target));
}

/** Closes the pooled connections of one router (by `RouterTarget.key`), or of every router. */
export function closeRouterConnections(key?: string) {
  closeApiConnections(key);
  closeRestConnections(key);
}
