/**
 * An HTTP proxy in front of DynamoDB Local that counts the requests passing through it by their
 * `X-Amz-Target` (DynamoDB and DynamoDB Streams operations), for clients the bench cannot attach
 * a middleware to (the local stack's, in another process). While `record` is on it also keeps
 * each request's body and, for DynamoDB table operations, the response, so that the write
 * capacity they use can be computed afterwards (`wcu.ts`). The SDK signs requests; DynamoDB Local
 * does not check signatures against the host, so requests are forwarded as they are.
 */
import { Agent, type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';

export interface Recorded {
  /** e.g. `DynamoDB_20120810.PutItem`, `DynamoDBStreams_20120810.GetRecords`. */
  readonly target: string;
  readonly status: number;
  readonly at: number;
  readonly body: string;
  /** The response of a DynamoDB table operation (not of stream reads). */
  readonly response?: string;
}

export class CountingProxy {
  public readonly byTarget: Record<string, number> = {};
  public total = 0;
  /** Requests kept while `record` is on. */
  public readonly recorded: Recorded[] = [];
  public record = false;
  /** When the last write request (not a read, not a stream read) arrived. */
  public lastWriteAt = 0;
  private server?: Server;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly upstream: URL;

  public constructor(upstream: string) {
    this.upstream = new URL(upstream);
  }

  public get endpoint(): string {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('the proxy is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  public async start(): Promise<string> {
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((ok, fail) => {
      this.server!.once('error', fail);
      this.server!.listen(0, '127.0.0.1', () => ok());
    });
    return this.endpoint;
  }

  public async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((ok) => server.close(() => ok()));
    server.closeAllConnections();
    await closed;
    this.agent.destroy();
  }

  public reset(): void {
    this.total = 0;
    for (const k of Object.keys(this.byTarget)) delete this.byTarget[k];
    this.recorded.length = 0;
  }

  public snapshot(): { total: number; byTarget: Record<string, number> } {
    return { total: this.total, byTarget: { ...this.byTarget } };
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const target = String(req.headers['x-amz-target'] ?? 'unknown');
    this.total += 1;
    this.byTarget[target] = (this.byTarget[target] ?? 0) + 1;
    if (isWrite(target)) this.lastWriteAt = Date.now();
    const record = this.record;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers, host: this.upstream.host };
      const up = request(
        {
          host: this.upstream.hostname,
          port: this.upstream.port,
          method: req.method,
          path: req.url,
          headers,
          agent: this.agent,
        },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          const keep = record && target.startsWith('DynamoDB_');
          const out: Buffer[] = [];
          upRes.on('data', (c: Buffer) => {
            if (keep) out.push(c);
            res.write(c);
          });
          upRes.on('end', () => {
            res.end();
            if (record)
              this.recorded.push({
                target,
                status: upRes.statusCode ?? 0,
                at: Date.now(),
                body: body.toString('utf8'),
                response: keep ? Buffer.concat(out).toString('utf8') : undefined,
              });
          });
          upRes.on('error', () => res.destroy());
        },
      );
      up.on('error', (e) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(e));
      });
      up.end(body);
    });
  }
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** A DynamoDB write operation (stream reads and table reads are not). */
export function isWrite(target: string): boolean {
  return target.startsWith('DynamoDB_') && WRITES.has(target.slice(target.indexOf('.') + 1));
}
