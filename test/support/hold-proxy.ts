/**
 * A TCP proxy in front of a PostgreSQL server that can hold back what one connection sends to the
 * server: the test's way to make a statement reach the server only after a cancel did (the race a
 * repeated cancel exists for), without a seam in the code under test.
 */
import net from 'node:net';

export interface HoldProxy {
  /** The server URL through the proxy. */
  url: string;
  /** Connections through the proxy so far, in the order they were opened. */
  readonly opened: number;
  /** Hold what connection `i` sends to the server (buffered, in order) until `release(i)`. */
  hold(i: number): void;
  release(i: number): void;
  close(): Promise<void>;
}

export async function holdProxy(url: string): Promise<HoldProxy> {
  const target = new URL(url);
  const conns: { held: boolean; queue: Buffer[]; server: net.Socket; client: net.Socket }[] = [];
  const proxy = net.createServer((client) => {
    const server = net.connect(Number(target.port || 5432), target.hostname);
    const c = { held: false, queue: [] as Buffer[], server, client };
    conns.push(c);
    client.on('data', (b: Buffer) => { if (c.held) c.queue.push(b); else server.write(b); });
    server.on('data', (b: Buffer) => client.write(b));
    const end = () => { client.destroy(); server.destroy(); };
    client.on('close', end); server.on('close', end);
    client.on('error', end); server.on('error', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const through = new URL(url);
  through.hostname = '127.0.0.1';
  through.port = String((proxy.address() as net.AddressInfo).port);
  return {
    url: through.toString(),
    get opened() { return conns.length; },
    hold: (i) => { conns[i]!.held = true; },
    release: (i) => {
      const c = conns[i]!;
      c.held = false;
      for (const b of c.queue.splice(0)) c.server.write(b);
    },
    close: async () => {
      for (const c of conns) { c.client.destroy(); c.server.destroy(); }
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
