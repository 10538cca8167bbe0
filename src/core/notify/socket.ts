// The live notification socket a module declares (`ModuleDefinition.notificationSocket`): a WebSocket at the
// module's path, signed in with `?token=<access token>` (browsers cannot set headers on a WebSocket), that receives
// the account's notifications of that module as they are created on any instance.
//
// Close codes: 4001 no token, 4400 a token that is not a JWT at all, 4401 expired, revoked or otherwise refused,
// 4403 an account below the module's level. The reasons start with the words a browser client looks for ("Token
// expired", "Invalid token", "Token signature invalid") so it signs out instead of retrying a dead token. The token
// is checked once, when the socket opens: an open socket stays open after the token's expiry (clients keep one
// socket across refreshes). A text `ping` (or `{"type":"ping"}`) is answered `{"type":"pong"}`; the server pings
// every `pingMs` and drops a socket that did not answer the previous ping.
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { Core } from '../context.ts';
import { AppError } from '../http/errors.ts';
import { levelFor } from '../identity/accounts.ts';
import { localTime } from '../time.ts';

export interface NotificationSocket {
  /** The socket's path, e.g. `/ws/notifications`. */
  path: string;
  /** The level an account needs in the module to open it. */
  level: number;
}

export const CLOSE = { noToken: 4001, malformed: 4400, refused: 4401, forbidden: 4403 } as const;

const JWT_SHAPE = /^[A-Za-z0-9_-]{2,2048}\.[A-Za-z0-9_-]{2,2048}\.[A-Za-z0-9_-]{2,1024}$/;

const send = (socket: WebSocket, message: unknown) => {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
};

/** Why a token was refused, in the words of the close reason (at most 123 bytes). */
function refusal(err: unknown): string {
  const message = err instanceof AppError ? err.message : '';
  if (/expired/i.test(message)) return 'Token expired - sign in again';
  if (/revoked/i.test(message)) return 'Invalid token - it has been revoked; sign in again';
  return 'Token signature invalid - sign in again';
}

/** Mounts the sockets the modules declare. Call once, after every module's routes. */
export async function registerNotificationSockets(
  app: FastifyInstance,
  core: Core,
  sockets: (NotificationSocket & { module: string })[],
  options: { pingMs?: number } = {},
): Promise<void> {
  if (sockets.length === 0) return;
  const pingMs = options.pingMs ?? 30_000;
  await app.register(websocket, { options: { maxPayload: 4096 } });
  const { identity, notifications } = core;

  for (const declared of sockets) {
    app.route({
      method: 'GET',
      url: declared.path,
      schema: { hide: true },
      // A plain HTTP request (no upgrade) gets the module's 404: the path only speaks WebSocket.
      handler: async () => {
        throw new AppError('NOT_FOUND', 'This path only accepts WebSocket connections');
      },
      wsHandler: (socket, request) => {
        let alive = true;
        let stop: (() => void) | undefined;
        const heartbeat = setInterval(() => {
          if (!alive) {
            socket.terminate();
            return;
          }
          alive = false;
          socket.ping();
        }, pingMs);
        heartbeat.unref();
        socket.on('pong', () => {
          alive = true;
        });
        socket.on('close', () => {
          clearInterval(heartbeat);
          stop?.();
        });
        // Attached at once: a client may send before its token has been checked.
        socket.on('message', (raw, isBinary) => {
          alive = true;
          if (isBinary) return;
          const text = raw.toString().trim();
          if (text.toLowerCase() === 'ping' || /^\{\s*"type"\s*:\s*"ping"\s*\}$/.test(text)) {
            send(socket, { type: 'pong', timestamp: localTime(core.now()) });
          }
          // Anything else is ignored: the socket only pushes.
        });

        const token = new URL(request.url, 'http://socket').searchParams.get('token')?.trim();
        if (!token) {
          socket.close(CLOSE.noToken, 'No token - connect with ?token=<access token>');
          return;
        }
        if (!JWT_SHAPE.test(token)) {
          socket.close(CLOSE.malformed, 'Invalid token format - expected an access token (JWT)');
          return;
        }
        void (async () => {
          let accountId: number;
          try {
            const claims = await identity.sessions.verifyAccess(token);
            const state = await identity.authState.get(claims.accountId);
            if (!state?.active || state.sessionVersion !== claims.sessionVersion) {
              socket.close(CLOSE.refused, 'Invalid token - this session has ended; sign in again');
              return;
            }
            if (levelFor(state.memberships, declared.module) < declared.level) {
              socket.close(CLOSE.forbidden, 'Forbidden - this account does not receive these notifications');
              return;
            }
            accountId = claims.accountId;
          } catch (err) {
            if (!(err instanceof AppError)) request.log.warn({ err }, 'notification socket sign-in failed');
            socket.close(CLOSE.refused, refusal(err));
            return;
          }
          if (socket.readyState !== socket.OPEN) return;
          stop = notifications.listen({ module: declared.module, accountId }, (message) => send(socket, message));
          send(socket, {
            type: 'connection_established',
            message: 'Connected: notifications arrive on this socket',
            data: { account_id: accountId },
            timestamp: localTime(core.now()),
          });
        })();
      },
    });
  }
}
