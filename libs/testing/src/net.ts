import { createServer, connect, type Server, type Socket } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (listen on port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** The same postgres:// or redis:// URL, pointed at another host and port (e.g. a proxy). */
export function withHostPort(url: string, host: string, port: number): string {
  const u = new URL(url);
  u.hostname = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  u.port = String(port);
  return u.toString();
}

export interface TcpProxyOptions {
  targetHost: string;
  targetPort: number;
  /** Port to listen on (127.0.0.1); a free one when omitted. */
  listenPort?: number;
}

export interface TcpProxy {
  host: string;
  port: number;
  /**
   * Simulate an outage: every proxied connection is reset (both sides), and new connections
   * are accepted then reset at once, until restore(). The port stays bound meanwhile.
   */
  cut(): Promise<void>;
  /**
   * Simulate a silent partition: every connection stays open, but no byte passes either way
   * (what was sent waits in the proxy), and new connections are accepted but not forwarded,
   * until restore(). Nothing errors: a client waits for a reply that does not come.
   */
  blackhole(): Promise<void>;
  /**
   * Simulate connections that went silent on their own (a NAT or firewall forgot them, a
   * peer froze): every connection open now stops passing bytes either way, with no error
   * and no close, while new connections are forwarded as usual. Only restore() (or close())
   * ends it; a client must notice by itself and open a new connection.
   */
  silenceOpen(): Promise<void>;
  /** Pass traffic again, on the same port; after a blackhole or silenceOpen, what waited is delivered. */
  restore(): Promise<void>;
  /** Stop listening and reset every connection. Idempotent. */
  close(): Promise<void>;
  /** Proxied connections open right now (silenced ones included). */
  connectionCount(): number;
  /** Connections silenced by silenceOpen() and still open. */
  silencedCount(): number;
  /** Connection attempts turned away while cut, since the proxy started. */
  refusedCount(): number;
}

/** Abort a socket with a TCP RST (ECONNRESET on the other side), as a dropped link does. */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  // resetAndDestroy() needs a connected handle; a socket still connecting is just destroyed.
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}

/**
 * A TCP proxy on 127.0.0.1 in front of `target`, for failure injection: cut() makes it
 * behave like a network outage, restore() heals it. Uses node:net only.
 *
 * While cut, the listener stays open and every connection is accepted then reset at once,
 * rather than the listener being closed (which would give ECONNREFUSED): the port is never
 * released, so nothing else can take it and restore() always gets it back, and a client
 * still fails fast (postgres.js and ioredis see ECONNRESET / a closed connection at once
 * instead of waiting for a connect timeout).
 */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const host = '127.0.0.1';
  const pairs = new Set<[Socket, Socket]>();
  /** Clients accepted during a blackhole: connected upstream on restore(). */
  const held = new Set<Socket>();
  /** Pairs silenced by silenceOpen(): they stay paused whatever happens, until restore(). */
  const silenced = new Set<[Socket, Socket]>();
  let isCut = false;
  let isBlackholed = false;
  let refused = 0;
  let closing: Promise<void> | undefined;

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    client.on('error', () => undefined);
    if (isCut || closing) {
      if (isCut) refused++;
      reset(client);
      return;
    }
    if (isBlackholed) {
      held.add(client);
      client.once('close', () => held.delete(client));
      return;
    }
    forward(client);
  });

  /** Pipe both ways, unless a blackhole began meanwhile (restore() pipes it then). */
  const flow = (pair: [Socket, Socket]): void => {
    const [client, upstream] = pair;
    if (isBlackholed || silenced.has(pair) || upstream.connecting || upstream.destroyed) return;
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  };

  function forward(client: Socket): void {
    const upstream = connect({ host: options.targetHost, port: options.targetPort });
    upstream.on('error', () => undefined);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    // One side gone ends the other: gracefully after a clean close (so data in flight, like a
    // server's last error message, still arrives), with a reset after an error or a refusal.
    const onClose = (other: Socket) => (hadError: boolean) => {
      pairs.delete(pair);
      silenced.delete(pair);
      if (hadError) reset(other);
      else other.end();
    };
    client.once('close', onClose(upstream));
    upstream.once('close', onClose(client));
    upstream.once('connect', () => flow(pair));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('proxy has no address');

  /** Stop a pair's bytes where they are: unread data waits in the sockets, nothing errors. */
  const hold = ([client, upstream]: [Socket, Socket]): void => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };

  const dropAll = (): void => {
    silenced.clear();
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      for (const socket of pair) reset(socket);
    }
    for (const client of [...held]) {
      held.delete(client);
      reset(client);
    }
  };

  return {
    host,
    port: address.port,
    async cut() {
      isCut = true;
      dropAll();
    },
    async blackhole() {
      isBlackholed = true;
      for (const pair of pairs) hold(pair);
    },
    async silenceOpen() {
      for (const pair of pairs) {
        silenced.add(pair);
        hold(pair);
      }
    },
    async restore() {
      isCut = false;
      const wasSilenced = [...silenced];
      silenced.clear();
      if (!isBlackholed) {
        for (const pair of wasSilenced) flow(pair);
        return;
      }
      isBlackholed = false;
      for (const pair of pairs) flow(pair);
      for (const client of [...held]) {
        held.delete(client);
        forward(client);
      }
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        dropAll();
      });
      return closing;
    },
    connectionCount: () => pairs.size,
    silencedCount: () => silenced.size,
    refusedCount: () => refused,
  };
}
