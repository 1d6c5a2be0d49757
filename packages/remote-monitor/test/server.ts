import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the test server received. */
export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

/** How the server answers a request: a status, after an optional wait. */
export interface Answer {
  readonly status: number;
  /** Wait this long before answering (a slow server). */
  readonly delayMs?: number;
}

/** How the server answers request number `index` (0-based, counting every request). */
export type Responder = (request: Received, index: number) => Answer | Promise<Answer>;

/** A real HTTP server on 127.0.0.1 that records every JSON body it receives. */
export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  /** Changes how the server answers from now on. */
  respond: Responder;
  /** Starts listening (again) on the same port. */
  listen(): Promise<void>;
  /** Stops listening and drops open connections: the port is closed. */
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 (an ephemeral port); `listening: false` reserves a port and
 * closes it, for a server that is down until `listen()` is called.
 */
export async function testServer(
  options: { listening?: boolean; respond?: Responder } = {},
): Promise<TestServer> {
  const received: Received[] = [];
  let port = 0;
  let server: Server | undefined;
  const self: TestServer = {
    get url() {
      return `http://127.0.0.1:${port}/publish/epoch/end/`;
    },
    get port() {
      return port;
    },
    received,
    respond: options.respond ?? (() => ({ status: 200 })),
    listen: () =>
      new Promise<void>((resolve, reject) => {
        const s = createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (chunk: Buffer) => chunks.push(chunk));
          req.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const request: Received = {
              method: req.method ?? '',
              path: req.url ?? '',
              headers: req.headers,
              body: text ? JSON.parse(text) : undefined,
            };
            const index = received.length;
            received.push(request);
            void Promise.resolve(self.respond(request, index)).then(async (answer) => {
              const delayMs = answer.delayMs ?? 0;
              if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
              if (!res.destroyed)
                res.writeHead(answer.status, { 'content-type': 'text/plain' }).end('ok');
            });
          });
        });
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => {
          port = (s.address() as AddressInfo).port;
          server = s;
          resolve();
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        const s = server;
        server = undefined;
        if (!s) return resolve();
        s.close(() => resolve());
        s.closeAllConnections();
      }),
  };
  await self.listen();
  if (options.listening === false) await self.close();
  return self;
}
