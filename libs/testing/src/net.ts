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

type Pair = [Socket, Socket];

/**
 * The proxy's connections and the fault it plays (cut, blackholed, silenced pairs); the
 * listener hands it every client it accepts.
 */
class ProxyConnections {
  readonly pairs = new Set<Pair>();
  /** Clients accepted during a blackhole: connected upstream on restore(). */
  private readonly held = new Set<Socket>();
  /** Pairs silenced by silenceOpen(): they stay paused whatever happens, until restore(). */
  readonly silenced = new Set<Pair>();
  private isCut = false;
  private isBlackholed = false;
  closing = false;
  refused = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.isCut || this.closing) {
      if (this.isCut) this.refused++;
      reset(client);
      return;
    }
    if (this.isBlackholed) {
      this.held.add(client);
      client.once('close', () => this.held.delete(client));
      return;
    }
    this.forward(client);
  }

  cut(): void {
    this.isCut = true;
    this.dropAll();
  }

  blackhole(): void {
    this.isBlackholed = true;
    for (const pair of this.pairs) hold(pair);
  }

  silenceOpen(): void {
    for (const pair of this.pairs) {
      this.silenced.add(pair);
      hold(pair);
    }
  }

  restore(): void {
    this.isCut = false;
    const wasSilenced = [...this.silenced];
    this.silenced.clear();
    if (!this.isBlackholed) {
      for (const pair of wasSilenced) this.flow(pair);
      return;
    }
    this.isBlackholed = false;
    for (const pair of this.pairs) this.flow(pair);
    for (const client of [...this.held]) {
      this.held.delete(client);
      this.forward(client);
    }
  }

  /** Reset every connection, proxied or held. */
  dropAll(): void {
    this.silenced.clear();
    for (const pair of [...this.pairs]) {
      this.pairs.delete(pair);
      for (const socket of pair) reset(socket);
    }
    for (const client of [...this.held]) {
      this.held.delete(client);
      reset(client);
    }
  }

  private forward(client: Socket): void {
    const upstream = connect({ host: this.target.host, port: this.target.port });
    upstream.on('error', () => undefined);
    const pair: Pair = [client, upstream];
    this.pairs.add(pair);
    // One side gone ends the other: gracefully after a clean close (so data in flight, like a
    // server's last error message, still arrives), with a reset after an error or a refusal.
    const onClose = (other: Socket) => (hadError: boolean) => {
      this.pairs.delete(pair);
      this.silenced.delete(pair);
      if (hadError) reset(other);
      else other.end();
    };
    client.once('close', onClose(upstream));
    upstream.once('close', onClose(client));
    upstream.once('connect', () => this.flow(pair));
  }

  /** Pipe both ways, unless a blackhole began meanwhile (restore() pipes it then). */
  private flow(pair: Pair): void {
    const [client, upstream] = pair;
    if (this.isBlackholed || this.silenced.has(pair) || upstream.connecting || upstream.destroyed) return;
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}

/** Stop a pair's bytes where they are: unread data waits in the sockets, nothing errors. */
function hold([client, upstream]: Pair): void {
  client.unpipe(upstream);
  upstream.unpipe(client);
  client.pause();
  upstream.pause();
}

/** Listen on `host:port` (0: a free port) and return the port bound. */
async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('proxy has no address');
  return address.port;
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
  const connections = new ProxyConnections({ host: options.targetHost, port: options.targetPort });
  const server: Server = createServer({ pauseOnConnect: true }, (client) => connections.accept(client));
  const port = await listen(server, options.listenPort ?? 0, host);
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    cut: async () => connections.cut(),
    blackhole: async () => connections.blackhole(),
    silenceOpen: async () => connections.silenceOpen(),
    restore: async () => connections.restore(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        connections.closing = true;
        server.close(() => resolve());
        connections.dropAll();
      });
      return closing;
    },
    connectionCount: () => connections.pairs.size,
    silencedCount: () => connections.silenced.size,
    refusedCount: () => connections.refused,
  };
}
