// One entry point: a router target in, a client out. `simulator` is in process; the API protocol (api.ts) and the
// REST API (rest.ts) reach real routers.
import type { RouterClient, RouterTarget } from './port.ts';
import { simulatorClient } from './simulator.ts';

export type { PppActive, PppProfile, PppSecret, RouterClient, RouterTarget, SecretFields } from './port.ts';
export { RouterError } from './port.ts';

export const isSimulator = (host: string) => host.trim().toLowerCase() === 'simulator';

export function routerClient(target: RouterTarget): RouterClient {
  if (isSimulator(target.host)) return simulatorClient(target);
  throw new Error(`RouterOS transport ${target.transport} is not built yet`);
}
