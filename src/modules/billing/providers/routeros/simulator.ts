// The `simulator` router (CONTRACTS §4): a RouterOS in this process, one engine per router, so a fresh start shows
// provisioning and isolation working without a Mikrotik. It keeps its state until the process ends.
import { clientOver } from './commands.ts';
import { RouterEngine } from './engine.ts';
import { type RouterClient, RouterError, type RouterTarget } from './port.ts';

const engines = new Map<string, RouterEngine>();
const offline = new Set<string>();

/** The simulated router for `key` (the router's id), made on first use with the usual PPPoE profiles. */
export function simulatorEngine(key: string): RouterEngine {
  let engine = engines.get(key);
  if (!engine) {
    engine = new RouterEngine({
      identity: `simulator-${key}`,
      profiles: ['ISOLIR'],
      autoProfiles: true,
      autoRedial: true,
    });
    engines.set(key, engine);
  }
  return engine;
}

/** Takes a simulated router off the network (every command fails as unreachable) or back on. */
export function setSimulatorOnline(key: string, online: boolean) {
  if (online) offline.delete(key);
  else offline.add(key);
}

export function simulatorClient(target: RouterTarget): RouterClient {
  const engine = simulatorEngine(target.key);
  return clientOver({
    async exec(command, attributes, query) {
      if (offline.has(target.key)) throw new RouterError('unreachable', 'router is offline');
      return engine.exec(command, attributes, query);
    },
    close: async () => {},
  });
}
