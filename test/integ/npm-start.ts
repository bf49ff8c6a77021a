/**
 * Runs the real `npm start` (the README's command) as a user would, on a free port and its own data
 * folder, and reads what it started: the process tree under npm, the ports it listens on and the
 * DynamoDB Local endpoint it printed. For the lifecycle and fault tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/local/dynamodb-local';

const ROOT = join(__dirname, '..', '..');

export interface NpmStart {
  readonly npm: ChildProcess;
  readonly port: number;
  readonly dataDir: string;
  /** Everything npm and its children printed so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once npm has exited. */
  readonly exited: Promise<number | string>;
}

export async function npmStart(
  opts: { port?: number; dataDir?: string; env?: Record<string, string> } = {},
): Promise<NpmStart> {
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? mkdtempSync(join(ROOT, '.cache', 'tmp', 'npm-start-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), VESTA_DATA_DIR: dataDir, ...opts.env };
  delete env.AWS_ENDPOINT_URL_DYNAMODB;
  delete env.AWS_ENDPOINT_URL;
  const npm = spawn('npm', ['start', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  npm.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  npm.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | string>((ok) => npm.once('exit', (code, signal) => ok(code ?? signal ?? -1)));
  return { npm, port, dataDir, output: () => out, exited };
}

/** Waits until the stack printed that it is ready; returns the DynamoDB Local port it printed. */
export async function ready(s: NpmStart, timeoutMs = 60000): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = /ready at .*\(DynamoDB at http:\/\/127\.0\.0\.1:(\d+)\)/.exec(s.output());
    if (m) return Number(m[1]);
    if (s.npm.exitCode !== null) throw new Error(`npm start exited: ${s.output()}`);
    if (Date.now() > end) throw new Error(`npm start not ready in ${timeoutMs} ms: ${s.output()}`);
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Every process below `root` (children, grandchildren, ...), read from /proc. */
export function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pp = parentOf(Number(d));
    if (pp !== undefined) parents.set(Number(d), pp);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parents) {
      if (pp !== p) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

/** The local addresses listening on `port` (TCP, IPv4 and IPv6), from /proc/net. */
export function listeners(port: number): string[] {
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // 0A: LISTEN
      const [addr, hexPort] = cols[1].split(':');
      if (parseInt(hexPort, 16) !== port) continue;
      found.push(decodeAddress(addr));
    }
  }
  return found;
}

/** /proc/net's hex address: IPv4 as one little-endian word, IPv6 as four. */
function decodeAddress(hex: string): string {
  const word = (h: string) => [6, 4, 2, 0].map((i) => h.slice(i, i + 2));
  if (hex.length === 8)
    return word(hex)
      .map((b) => parseInt(b, 16))
      .join('.');
  const bytes = [0, 8, 16, 24].flatMap((i) => word(hex.slice(i, i + 8)));
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(parseInt(bytes[i] + bytes[i + 1], 16).toString(16));
  const v6 = groups.join(':');
  if (v6 === '0:0:0:0:0:ffff:7f00:1') return '::ffff:127.0.0.1';
  if (v6 === '0:0:0:0:0:0:0:1') return '::1';
  if (v6 === '0:0:0:0:0:0:0:0') return '::';
  return v6;
}

export const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Waits until `cond` holds or `ms` pass; returns the milliseconds it took, or undefined. */
export async function within(ms: number, cond: () => boolean, step = 50): Promise<number | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (cond()) return Date.now() - t0;
    await sleep(step);
  }
  return cond() ? Date.now() - t0 : undefined;
}
