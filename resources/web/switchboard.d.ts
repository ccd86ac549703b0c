// Types of the Switchboard browser client, served at /switchboard.d.ts.
//   <script src="/switchboard.js"></script>        -> window.Switchboard
//   import Switchboard from '/switchboard.mjs';     -> the same object
// The interface is docs/API.md, "Pages and the browser client"; members marked "addition" go beyond it.

export type State = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Any JSON value: event data is forwarded as the emitter sent it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ConnectOptions {
  /** WebSocket URL; default `/ws` on the page's host (`wss:` on https pages). `http(s):`
   * URLs and paths are accepted too. */
  url?: string;
  /** A token (from POST /api/register or websocket_pkg.register) joined on open. */
  token?: string;
  /** More tokens, each joined on open. */
  tokens?: string[];
  /** Reconnect after a lost connection (default true). Close codes 4000 and 1008 never
   * reconnect. */
  reconnect?: boolean;
  /** First reconnect delay in ms (default 500); doubles per attempt, with jitter. */
  minDelay?: number;
  /** Longest reconnect delay in ms (default 30000). */
  maxDelay?: number;
  /** Addition: an application ping after this many ms without a frame from the server
   * (default 25000; 0 turns it off); no answer within as long again and the connection
   * counts as lost (a cut that no close frame reports), and the client reconnects. */
  pingInterval?: number;
}

/** `{"type":"event",...}` as received. `room` only on room emits. */
export interface EventFrame<D = Json> {
  type: 'event';
  id: number;
  event: string;
  room?: string;
  data: D;
  /** Unix milliseconds. */
  ts: number;
}

export interface JoinedFrame {
  type: 'joined';
  room: string;
  /** False when some missed events were no longer held (reload the page's data). */
  recovered: boolean;
  /** The room's latest id. */
  last_id: number;
  ref?: unknown;
}

export interface LeftFrame {
  type: 'left';
  room: string;
  ref?: unknown;
}

/** Addition: the answer to a client emit. */
export interface EmittedFrame {
  type: 'emitted';
  id: number;
  delivered: number;
  ref?: unknown;
}

export interface Member {
  user: string;
  session: string;
}

/** What a refused call rejects with; `code` is the server's error code (`invalid_token`,
 * `expired_token`, `revoked`, `forbidden`, `bad_request`, `too_large`, `unavailable`) or
 * the client's own (`closed`: the client was closed; `disconnected`: an emit whose
 * connection was lost before its answer). */
export interface SwitchboardError extends Error {
  name: 'SwitchboardError';
  code: string;
  /** The error frame, when the server sent one. */
  frame?: { type: 'error'; code: string; message: string; ref?: unknown };
  /** The room, for a rejoin that failed. */
  room?: string;
}

/** Addition: the second argument of onState handlers. */
export interface StateDetail {
  /** The close code, when a connection ended. */
  code?: number;
  reason?: string;
}

export interface SwitchboardClient {
  /** connecting, open (connected and every room joined), reconnecting, closed. */
  readonly state: State;
  /** Addition: the WebSocket URL in use. */
  readonly url: string;

  /** Joins the token's room; `since` replays the room's events with a larger id first. */
  join(token: string, options?: { since?: number }): Promise<JoinedFrame>;
  leave(room: string): Promise<LeftFrame>;
  /** The room's members, one per (user, session). The room must be joined. */
  presence(room: string): Promise<Member[]>;
  /** A client emit to the room's other members; needs a token with `pub`. Addition: the
   * promise resolves with the `emitted` answer (rejecting it needs no handler). */
  emit(room: string, event: string, data?: Json): Promise<EmittedFrame>;

  /** fn(data, frame) for every event of that name. Addition: returns a function that
   * removes fn. */
  on<D = Json>(event: string, fn: (data: D, frame: EventFrame<D>) => void): () => void;
  /** Removes fn (all handlers of the event when fn is omitted). */
  off(event: string, fn?: (data: any, frame: EventFrame<any>) => void): SwitchboardClient;
  /** fn(event, data, frame) for every event. */
  onAny(fn: (event: string, data: Json, frame: EventFrame) => void): () => void;
  /** Addition. */
  offAny(fn: (event: string, data: Json, frame: EventFrame) => void): SwitchboardClient;
  onState(fn: (state: State, detail: StateDetail) => void): () => void;
  /** fn(room) when a rejoin after a reconnect answers recovered: false. */
  onResync(fn: (room: string) => void): () => void;
  /** Addition: errors no call awaits: a token of connect() refused, a rejoin refused (the
   * room is dropped), a room left by revocation (code `revoked`). */
  onError(fn: (error: SwitchboardError) => void): () => void;
  /** Addition: the rooms joined now. */
  rooms(): string[];

  /** Closes for good: no reconnect; pending calls reject with code `closed`. */
  close(): void;
}

export interface SwitchboardStatic {
  connect(options?: ConnectOptions): SwitchboardClient;
  /** Addition: the server version that served this script. */
  readonly version: string;
}

declare const Switchboard: SwitchboardStatic;
export default Switchboard;
export { Switchboard };

declare global {
  interface Window {
    Switchboard: SwitchboardStatic;
  }
}
