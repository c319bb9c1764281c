// A TCP proxy on loopback in front of the test Kafka broker, to make it slow or unreachable:
// every Kafka frame can be delayed, and forwarding paused and resumed (frames wait, connections
// stay open, as with a stalled broker). Kafka clients connect to the address the broker
// advertises, so the proxy writes its own port into Metadata and FindCoordinator responses.
// Beside it, a plain forwarder that plays a virtual IP moving from one database server to another.

import { createServer, connect, type Socket } from 'node:net';

export interface KafkaProxy {
  /** The proxy's address, to give clients as their brokers. */
  brokers: string;
  /** Milliseconds each frame waits before it is forwarded, both ways. */
  delayMs: number;
  /** Pauses when a request with this API key comes (it waits too), once; e.g. 1: the first Fetch. */
  pauseAt: number | null;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

const METADATA = 3;
const FIND_COORDINATOR = 10;

export async function kafkaProxy(broker: string): Promise<KafkaProxy> {
  const [host, portText] = broker.split(':');
  const brokerPort = Number(portText);
  const sockets = new Set<Socket>();
  const pumps = new Set<() => void>();
  let paused = false;
  let proxyPort = 0;

  /** Forwards whole frames from `from` to `to`, each after `proxy.delayMs`, none while paused. */
  const relay = (from: Socket, to: Socket, edit: (frame: Buffer) => void, seen: (frame: Buffer) => void) => {
    let pending = Buffer.alloc(0);
    const queue: Array<{ at: number; frame: Buffer }> = [];
    let timer: NodeJS.Timeout | null = null;
    const pump = () => {
      timer = null;
      while (!paused && queue.length > 0 && queue[0].at <= Date.now()) to.write(queue.shift()!.frame);
      if (!paused && queue.length > 0) timer = setTimeout(pump, queue[0].at - Date.now());
    };
    pumps.add(pump);
    from.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(0, 4 + pending.readInt32BE(0));
        pending = pending.subarray(frame.length);
        seen(frame);
        edit(frame);
        queue.push({ at: Date.now() + proxy.delayMs, frame });
      }
      if (!timer) pump();
    });
    from.on('close', () => pumps.delete(pump));
  };

  const server = createServer((client) => {
    const upstream = connect(brokerPort, host);
    sockets.add(client).add(upstream);
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    // Request header: size, api key, api version, correlation id.
    const requests = new Map<number, { apiKey: number; version: number }>();
    relay(client, upstream, () => undefined, (f) => {
      const apiKey = f.readInt16BE(4);
      requests.set(f.readInt32BE(8), { apiKey, version: f.readInt16BE(6) });
      if (apiKey === proxy.pauseAt) {
        proxy.pauseAt = null;
        paused = true;
      }
    });
    relay(upstream, client, (f) => {
      const request = requests.get(f.readInt32BE(4));
      requests.delete(f.readInt32BE(4));
      if (request) rewritePorts(f, request.apiKey, request.version, brokerPort, proxyPort);
    }, () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxyPort = (server.address() as { port: number }).port;

  const proxy: KafkaProxy = {
    brokers: `127.0.0.1:${proxyPort}`,
    delayMs: 0,
    pauseAt: null,
    pause: () => void (paused = true),
    resume: () => {
      paused = false;
      for (const pump of pumps) pump();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

/**
 * Writes `to` over the broker port `from` in a Metadata (v1 to v8) or FindCoordinator (v0 to v2)
 * response: the versions kafkajs uses, none of them with tagged fields. Other responses stay as they are.
 */
function rewritePorts(f: Buffer, apiKey: number, version: number, from: number, to: number): void {
  let at = 8; // size, correlation id
  const string = () => {
    const n = f.readInt16BE(at);
    at += 2 + Math.max(n, 0);
  };
  const port = () => {
    if (f.readInt32BE(at) === from) f.writeInt32BE(to, at);
    at += 4;
  };
  if (apiKey === METADATA) {
    if (version < 1 || version > 8) throw new Error(`tcp-proxy: Metadata v${version} is not supported`);
    if (version >= 3) at += 4; // throttle time
    const brokers = f.readInt32BE(at);
    at += 4;
    for (let i = 0; i < brokers; i++) {
      at += 4; // node id
      string(); // host
      port();
      string(); // rack
    }
  } else if (apiKey === FIND_COORDINATOR) {
    if (version > 2) throw new Error(`tcp-proxy: FindCoordinator v${version} is not supported`);
    if (version >= 1) at += 4; // throttle time
    at += 2; // error code
    if (version >= 1) string(); // error message
    at += 4; // node id
    string(); // host
    port();
  }
}

/** A plain TCP forwarder on loopback, as a virtual IP in front of a database that can move. */
export interface Forwarder {
  /** The forwarder's port: clients connect to 127.0.0.1 here. */
  port: number;
  /** Sends new connections to `port` and drops those open now, as a failover of the address does. */
  moveTo(port: number): void;
  close(): Promise<void>;
}

export async function tcpForwarder(targetPort: number): Promise<Forwarder> {
  let target = targetPort;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as { port: number }).port,
    moveTo: (port) => {
      target = port;
      dropAll();
    },
    close: async () => {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
