/**
 * Docs that run: every fenced shell block (```sh, ```bash, ```shell, ```console) of README.md and
 * docs/*.md is run, in order, by one bash per document, against a local stack of its own (fresh
 * tables, the change feed on, its data folder at `.vesta/` of the document's working folder).
 *
 * - `localhost:8080` and `127.0.0.1:8080` in a command become the stack's address, and `VESTA_URL`
 *   is the stack, so the CLI's default URL reaches it too.
 * - `npx vesta` runs this checkout's src/cli, bundled once by esbuild (as the @vesta/cli package
 *   is), and `npx tsx` this checkout's tsx: without npm's start-up and tsx's compiling, which cost
 *   seconds a command on a loaded machine (one test checks that the real `npx vesta` works in the
 *   repository). The working folder links `examples/`, so the paths the docs give work as they are.
 * - A block's exit codes must be 0, or those of `<!-- doc-test: exit 1 -->` (one code for every
 *   command, or one per command) in the lines just above it.
 * - A ```json or ```text block after a shell block, in the same section, is that block's output:
 *   JSON must match the last command's standard output (same keys and values; ids, ETags, times
 *   and such only by type), and each text line must match a line the block printed (long tokens
 *   with digits, and numbers of 3 digits or more, match any).
 * - A block that cannot run here says why: `<!-- doc-test: skip (needs an AWS account) -->`. A
 *   block that is not marked and cannot run (a `<placeholder>`, `npm`, `cdk`, `aws`) fails.
 * - `<!-- doc-test: background (...) -->` starts a block's command in the background (another
 *   terminal); an output block marked `<!-- doc-test: output of the background command -->` is
 *   waited for in its standard output, and one marked
 *   `<!-- doc-test: Ctrl-C the background command; exit 130 -->` stops it with SIGINT and is
 *   matched against its standard error.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { type LocalStack, startLocalStack } from '../../src/local/stack';
import { endpoint } from './harness';

const ROOT = join(__dirname, '..', '..');
/** This checkout's src/cli in one file, built once per run (esbuild, as the @vesta/cli package is). */
const CLI_BUNDLE = join(ROOT, '.cache', 'doc-tests', `vesta-${process.pid}.cjs`);

async function bundleCli(): Promise<void> {
  await build({
    stdin: {
      contents:
        "import { main } from './main';\nmain(process.argv.slice(2)).then((code) => { process.exitCode = code; });\n",
      resolveDir: join(ROOT, 'src', 'cli'),
      loader: 'ts',
      sourcefile: 'vesta.ts',
    },
    outfile: CLI_BUNDLE,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // Dependencies stay in node_modules, which the bundle finds from .cache/doc-tests/.
    packages: 'external',
    logLevel: 'warning',
  });
}
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const SHELL = new Set(['sh', 'bash', 'shell', 'console']);
const OUTPUT = new Set(['json', 'text']);
/** How long a command may run, and how long a background command's output is waited for. */
const COMMAND_TIMEOUT_MS = 40_000;
const OUTPUT_WAIT_MS = 10_000;

type Directive =
  | { kind: 'skip'; reason: string }
  | { kind: 'exit'; codes: number[] }
  | { kind: 'background' }
  | { kind: 'background-output' }
  | { kind: 'interrupt'; code: number };

interface OutputBlock {
  readonly line: number;
  readonly lang: string;
  readonly text: string;
  readonly directive?: Directive;
}

interface ShellBlock {
  readonly doc: string;
  readonly line: number;
  readonly text: string;
  readonly directive?: Directive;
  readonly outputs: OutputBlock[];
}

function parseDirective(comment: string, where: string): Directive {
  const d = comment.trim();
  let m = /^skip \((.+)\)$/.exec(d);
  if (m) return { kind: 'skip', reason: m[1] };
  m = /^exit ((?:\d+ ?)+)$/.exec(d);
  if (m) return { kind: 'exit', codes: m[1].trim().split(' ').map(Number) };
  if (/^background( \(.+\))?$/.test(d)) return { kind: 'background' };
  if (d === 'output of the background command') return { kind: 'background-output' };
  m = /^Ctrl-C the background command; exit (\d+)$/.exec(d);
  if (m) return { kind: 'interrupt', code: Number(m[1]) };
  throw new Error(`${where}: unknown doc-test directive "${d}"`);
}

/** The shell blocks of a markdown file, each with the output blocks that follow it in its section. */
function shellBlocks(doc: string, markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  let current: ShellBlock | undefined;
  let directive: Directive | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const comment = /^\s*<!--\s*doc-test:(.*?)-->\s*$/.exec(line);
    if (comment) {
      directive = parseDirective(comment[1], `${doc}:${i + 1}`);
      continue;
    }
    if (/^#{1,6} /.test(line)) current = undefined;
    const fence = /^(\s*)```(\w*)\s*$/.exec(line);
    if (!fence) {
      if (line.trim() !== '') directive = undefined;
      continue;
    }
    const indent = fence[1].length;
    const lang = fence[2];
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i].slice(indent));
    const text = body.join('\n');
    const where = i - body.length;
    if (SHELL.has(lang)) {
      current = { doc, line: where, text, directive, outputs: [] };
      blocks.push(current);
    } else if (OUTPUT.has(lang) && current) {
      current.outputs.push({ line: where, lang, text, directive });
    }
    directive = undefined;
  }
  return blocks;
}

/** A block's commands: lines joined while a command is incomplete (continuations, quotes, loops). */
async function commandsOf(block: ShellBlock): Promise<string[]> {
  const commands: string[] = [];
  let pending = '';
  for (const raw of block.text.split('\n')) {
    const line = raw.startsWith('$ ') ? raw.slice(2) : raw;
    if (pending === '' && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    pending = pending === '' ? line : `${pending}\n${line}`;
    if (/\\\s*$/.test(line)) continue;
    if (notRunnable(pending) || (await complete(pending))) {
      commands.push(pending);
      pending = '';
    }
  }
  if (pending !== '') commands.push(pending);
  return commands;
}

const exec = promisify(execFile);
async function complete(command: string): Promise<boolean> {
  try {
    await exec('bash', ['-n', '-c', command]);
    return true;
  } catch {
    return false;
  }
}

/** Why a command cannot run here, if it cannot. */
function notRunnable(command: string): string | undefined {
  const placeholder = /<[a-z][\w-]*>/i.exec(command.replace(/'[^']*'/g, "''"));
  if (placeholder) return `it has the placeholder ${placeholder[0]}`;
  const tool = /(?:^|[;&|(]\s*|\$\()\s*(npm|cdk|aws)\b/m.exec(command);
  if (tool) return `it runs \`${tool[1]}\``;
  if (/^\s*npx (?!vesta\b|tsx\b)(\S+)/m.test(command)) return 'it runs npx with a package other than vesta or tsx';
  return undefined;
}

// ---- loose output matching ----

/** A string whose value differs from run to run: ids, ETags, times, tokens, cursors. */
const volatileString = (s: string) => (s.length >= 12 && /\d/.test(s)) || /^\d{4}-\d\d-\d\dT/.test(s);
/** Fields whose number differs from run to run. */
const VOLATILE_NUMBERS = new Set([
  'leaseReaperLagSeconds',
  'fieldSweeperLagSeconds',
  'latestSnapshotAgeSeconds',
  'bytes',
  'durationMs',
]);

function jsonDiff(expected: unknown, actual: unknown, path = '$', key = ''): string | undefined {
  if (typeof expected === 'string') {
    if (typeof actual !== 'string') return `${path}: expected a string, got ${JSON.stringify(actual)}`;
    return volatileString(expected) || expected === actual
      ? undefined
      : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  }
  if (typeof expected === 'number') {
    if (VOLATILE_NUMBERS.has(key) && (typeof actual === 'number' || actual === null)) return undefined;
    return expected === actual ? undefined : `${path}: expected ${expected}, got ${JSON.stringify(actual)}`;
  }
  if (expected === null && VOLATILE_NUMBERS.has(key) && (typeof actual === 'number' || actual === null))
    return undefined;
  if (expected === null || typeof expected === 'boolean')
    return expected === actual ? undefined : `${path}: expected ${expected}, got ${JSON.stringify(actual)}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length)
      return `${path}: expected ${expected.length} items, got ${JSON.stringify(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const d = jsonDiff(expected[i], actual[i], `${path}[${i}]`, key);
      if (d) return d;
    }
    return undefined;
  }
  const e = expected as Record<string, unknown>;
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual))
    return `${path}: expected an object, got ${JSON.stringify(actual)}`;
  const a = actual as Record<string, unknown>;
  const ek = Object.keys(e).sort();
  const ak = Object.keys(a).sort();
  if (ek.join() !== ak.join()) return `${path}: expected the fields ${ek.join(', ')}, got ${ak.join(', ')}`;
  for (const k of ek) {
    const d = jsonDiff(e[k], a[k], `${path}.${k}`, k);
    if (d) return d;
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A text line as a pattern: volatile tokens and numbers of 3 digits or more match any. */
function linePattern(line: string): RegExp {
  const pattern = line
    .trim()
    .split(/\s+/)
    .map((token) => (volatileString(token) ? '\\S+' : escapeRegExp(token).replace(/\d{3,}/g, '\\d+')))
    .join('\\s+');
  return new RegExp(`^${pattern}`);
}

/** Each expected line that the actual output lacks, with why. */
function textDiff(expected: string, actual: string): string[] {
  const got = actual
    .split('\n')
    .map((l) => l.replace(/\r$/, '').trim())
    .filter(Boolean);
  const missing: string[] = [];
  for (const line of expected.split('\n').map((l) => l.trim())) {
    if (line === '') continue;
    const json = line.startsWith('{') ? parseJson(line) : undefined;
    const ok =
      json !== undefined
        ? got.some((g) => g.startsWith('{') && jsonDiff(json, parseJson(g)) === undefined)
        : got.some((g) => linePattern(line).test(g));
    if (!ok) missing.push(line);
  }
  return missing;
}

// ---- running a document ----

interface Ran {
  readonly command: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface DocResult {
  readonly doc: string;
  blocks: number;
  commands: number;
  seconds: number;
  skipped: { line: number; reason: string }[];
  failures: string[];
}

/** `npx` and the tools a doc block must not reach unmarked, for the document's bash. */
function writeShims(bin: string): void {
  mkdirSync(bin, { recursive: true });
  const npx = [
    '#!/usr/bin/env bash',
    'case "$1" in',
    `  vesta) shift; exec node ${JSON.stringify(CLI_BUNDLE)} "$@" ;;`,
    `  tsx) shift; exec ${JSON.stringify(join(ROOT, 'node_modules', '.bin', 'tsx'))} "$@" ;;`,
    '  *) echo "doc-test: npx $1 cannot run here; mark the block <!-- doc-test: skip (why) -->" >&2; exit 127 ;;',
    'esac',
  ];
  writeFileSync(join(bin, 'npx'), `${npx.join('\n')}\n`);
  chmodSync(join(bin, 'npx'), 0o755);
  for (const tool of ['npm', 'cdk', 'aws']) {
    writeFileSync(
      join(bin, tool),
      `#!/usr/bin/env bash\necho "doc-test: ${tool} cannot run here; mark the block <!-- doc-test: skip (why) -->" >&2\nexit 127\n`,
    );
    chmodSync(join(bin, tool), 0o755);
  }
}

/** One bash, fed one command at a time; each command's output goes to files of its own. */
class DocShell {
  private readonly bash: ChildProcess;
  private buffer = '';
  private waiting?: { n: number; resolve: (code: number) => void };
  private n = 0;
  exited = false;

  constructor(
    private readonly dir: string,
    cwd: string,
    env: NodeJS.ProcessEnv,
  ) {
    this.bash = spawn('bash', ['--noprofile', '--norc'], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
      detached: true,
    });
    this.bash.stdout?.setEncoding('utf8');
    this.bash.stdout?.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let m = /@@doc-test (\d+) (\d+)\n/.exec(this.buffer); m; m = /@@doc-test (\d+) (\d+)\n/.exec(this.buffer)) {
        this.buffer = this.buffer.slice(m.index + m[0].length);
        if (this.waiting && Number(m[1]) === this.waiting.n) this.waiting.resolve(Number(m[2]));
      }
    });
    this.bash.on('exit', () => {
      this.exited = true;
      this.waiting?.resolve(-1);
    });
  }

  private send(script: (n: number, out: string, err: string) => string): Promise<{ code: number; n: number }> {
    const n = ++this.n;
    const out = join(this.dir, `${n}.out`);
    const err = join(this.dir, `${n}.err`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no end after ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
      this.waiting = {
        n,
        resolve: (code) => {
          clearTimeout(timer);
          resolve({ code, n });
        },
      };
      this.bash.stdin?.write(`${script(n, JSON.stringify(out), JSON.stringify(err))}\n`);
    });
  }

  read(n: number, stream: 'out' | 'err'): string {
    const f = join(this.dir, `${n}.${stream}`);
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  async run(command: string): Promise<Ran> {
    const { code, n } = await this.send(
      (i, out, err) => `{\n${command}\n} > ${out} 2> ${err} < /dev/null; printf '\\n@@doc-test %d %d\\n' ${i} $?`,
    );
    return { command, code, stdout: this.read(n, 'out'), stderr: this.read(n, 'err') };
  }

  /** Starts a one-line command in the background; its output is `read(n, ...)`. */
  async background(command: string): Promise<number> {
    // Without its trailing comment, so that the redirections follow it; $! is then the command's own pid.
    const bare = command.replace(/\s+#[^'"]*$/, '');
    const { n } = await this.send(
      (i, out, err) =>
        `${bare} > ${out} 2> ${err} < /dev/null &\nDOC_TEST_BG=$!; printf '\\n@@doc-test %d %d\\n' ${i} 0`,
    );
    return n;
  }

  /** Ctrl-C to the background command; its exit code. */
  async interrupt(): Promise<number> {
    const { code } = await this.send(
      (i) => `kill -INT "$DOC_TEST_BG"; wait "$DOC_TEST_BG"; printf '\\n@@doc-test %d %d\\n' ${i} $?`,
    );
    return code;
  }

  /** Stops what the document left running in the background, then bash. */
  async close(): Promise<void> {
    if (this.exited) return;
    const ended = new Promise<void>((r) => this.bash.once('exit', () => r()));
    this.bash.stdin?.end('jobs -p | xargs -r kill 2>/dev/null; wait; exit 0\n');
    const timer = setTimeout(() => {
      if (!this.exited && this.bash.pid) process.kill(-this.bash.pid, 'SIGKILL');
    }, 5000);
    await ended;
    clearTimeout(timer);
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; ) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** Runs every shell block of `doc` against a local stack of its own. */
async function runDoc(doc: string): Promise<DocResult> {
  const result: DocResult = { doc, blocks: 0, commands: 0, seconds: 0, skipped: [], failures: [] };
  const started = Date.now();
  const blocks = shellBlocks(doc, readFileSync(join(ROOT, doc), 'utf8'));
  const work = mkdtempSync(join(tmpdir(), 'vesta-doc-'));
  const cwd = join(work, 'cwd');
  mkdirSync(cwd);
  symlinkSync(join(ROOT, 'examples'), join(cwd, 'examples'));
  writeShims(join(work, 'bin'));
  mkdirSync(join(work, 'runs'));
  let stack: LocalStack | undefined;
  let shell: DocShell | undefined;
  try {
    if (blocks.every((b) => b.directive?.kind === 'skip')) {
      for (const b of blocks) result.skipped.push({ line: b.line, reason: (b.directive as { reason: string }).reason });
      return result;
    }
    stack = await startLocalStack({
      port: 0,
      dataDir: join(cwd, '.vesta'),
      dynamoEndpoint: endpoint(),
      tablePrefix: `vesta-doc-${randomUUID().slice(0, 8)}`,
      resumeSagas: false,
      // The change feed only where a doc watches (or runs `vesta smoke`, whose long-poll needs it):
      // each feed polls DynamoDB Local's stream.
      changeFeed: /\bvesta (?:watch|smoke)\b|examples\//.test(blocks.map((b) => b.text).join('\n')),
      leaseJobsSeconds: 0,
    });
    const host = new URL(stack.url).host;
    shell = new DocShell(join(work, 'runs'), cwd, {
      ...process.env,
      // Without node_modules/.bin (npm puts it there for jest): a bare `vesta` is not on a reader's PATH.
      PATH: [
        join(work, 'bin'),
        ...(process.env.PATH ?? '').split(':').filter((p) => !p.endsWith('node_modules/.bin')),
      ].join(':'),
      VESTA_URL: stack.url,
      VESTA_CONFIG: join(work, 'config.json'),
      TERM: 'dumb',
    });
    let background: number | undefined;
    for (const block of blocks) {
      const at = `${doc}:${block.line}`;
      if (block.directive?.kind === 'skip') {
        result.skipped.push({ line: block.line, reason: block.directive.reason });
        continue;
      }
      result.blocks++;
      const commands = await commandsOf(block);
      const ran: Ran[] = [];
      for (const [i, command] of commands.entries()) {
        const why = notRunnable(command);
        if (why) {
          result.failures.push(`${at}: \`${command}\` cannot run here (${why}); seed it, or mark the block skip`);
          continue;
        }
        const local = command.replace(/\b(?:localhost|127\.0\.0\.1):8080\b/g, host);
        result.commands++;
        if (block.directive?.kind === 'background') {
          background = await shell.background(local);
          const started = background;
          await waitFor(() => shell?.read(started, 'err') !== '' || shell?.read(started, 'out') !== '', 10_000);
          continue;
        }
        const r = await shell.run(local);
        ran.push(r);
        const codes = block.directive?.kind === 'exit' ? block.directive.codes : [0];
        const want = codes[Math.min(i, codes.length - 1)];
        if (r.code !== want)
          result.failures.push(
            `${at}: \`${command}\` exited ${r.code}, the doc expects ${want}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`,
          );
      }
      for (const output of block.outputs) {
        const oat = `${doc}:${output.line}`;
        if (output.directive?.kind === 'background-output' || output.directive?.kind === 'interrupt') {
          if (background === undefined) {
            result.failures.push(`${oat}: no background command runs`);
            continue;
          }
          const bg = background;
          if (output.directive.kind === 'background-output') {
            await waitFor(() => textDiff(output.text, shell?.read(bg, 'out') ?? '').length === 0, OUTPUT_WAIT_MS);
            const missing = textDiff(output.text, shell.read(bg, 'out'));
            if (missing.length > 0)
              result.failures.push(
                `${oat}: the background command did not print:\n${missing.join('\n')}\n--- it printed\n${shell.read(bg, 'out')}`,
              );
          } else {
            const code = await shell.interrupt();
            if (code !== output.directive.code)
              result.failures.push(`${oat}: Ctrl-C made it exit ${code}, the doc says ${output.directive.code}`);
            const missing = textDiff(output.text, shell.read(bg, 'err'));
            if (missing.length > 0)
              result.failures.push(
                `${oat}: it did not print:\n${missing.join('\n')}\n--- it printed\n${shell.read(bg, 'err')}`,
              );
            background = undefined;
          }
          continue;
        }
        if (ran.length === 0) continue;
        if (output.lang === 'json') {
          const last = ran[ran.length - 1];
          const expected = parseJson(output.text);
          if (expected === undefined) {
            result.failures.push(`${oat}: the output block is not JSON`);
            continue;
          }
          const diff = jsonDiff(expected, parseJson(last.stdout));
          if (diff) result.failures.push(`${oat}: \`${last.command}\` printed other JSON: ${diff}\n${last.stdout}`);
        } else {
          const all = ran.map((r) => `${r.stdout}\n${r.stderr}`).join('\n');
          const missing = textDiff(output.text, all);
          if (missing.length > 0)
            result.failures.push(`${oat}: the block did not print:\n${missing.join('\n')}\n--- it printed\n${all}`);
        }
      }
    }
    return result;
  } catch (e) {
    result.failures.push(`${doc}: ${(e as Error).stack}`);
    return result;
  } finally {
    await shell?.close();
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
    result.seconds = (Date.now() - started) / 1000;
  }
}

const results = new Map<string, DocResult>();

beforeAll(async () => {
  await bundleCli();
  // The documents run at once, each on a stack of its own; each runs its commands in order.
  const all = await Promise.all(DOCS.map((doc) => runDoc(doc)));
  for (const r of all) results.set(r.doc, r);
  const lines = all.map(
    (r) =>
      `${r.doc}: ${r.blocks} blocks (${r.commands} commands) ran in ${r.seconds.toFixed(1)} s, ${r.skipped.length} skipped${r.skipped
        .map((s) => `\n  line ${s.line}: ${s.reason}`)
        .join('')}`,
  );
  const total = all.reduce((n, r) => n + r.commands, 0);
  const skipped = all.reduce((n, r) => n + r.skipped.length, 0);
  console.log(`doc commands: ${total} ran, ${skipped} blocks skipped\n${lines.join('\n')}`);
}, 180_000);

afterAll(() => rmSync(CLI_BUNDLE, { force: true }));

test.each(DOCS)('%s: every shell block runs and prints what the doc shows', (doc) => {
  const r = results.get(doc);
  expect(r).toBeDefined();
  expect(r?.failures).toEqual([]);
});

test('more than 50 commands ran, and every skip says why', () => {
  for (const r of results.values()) for (const s of r.skipped) expect(s.reason.length).toBeGreaterThan(3);
  expect([...results.values()].reduce((n, r) => n + r.commands, 0)).toBeGreaterThan(50);
});

test('`npx vesta` in the repository runs the CLI from its sources', async () => {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const { stdout } = await exec('npx', ['--no-install', 'vesta', '--version'], { cwd: ROOT, timeout: 30_000 });
  expect(stdout.trim()).toBe(`vesta ${version}`);
});

test('every file and folder the docs name exists', () => {
  const missing: string[] = [];
  for (const doc of DOCS) {
    const text = readFileSync(join(ROOT, doc), 'utf8');
    const base = join(ROOT, doc, '..');
    // Links, relative to the document.
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const path = target.replace(/#.*$/, '');
      if (path === '' || /^[a-z]+:/.test(path)) continue;
      if (!existsSync(join(base, path))) missing.push(`${doc}: link ${target}`);
    }
    // Repository paths in code spans, relative to the root; templates (<id>, *, $VAR) aside.
    for (const [, span] of text.matchAll(/`([^`\s]+)`/g)) {
      if (!/^(src|lib|test|bin|docs|examples|scripts|bench|packages|statemachines|lambdas)\//.test(span)) continue;
      if (/[<*$]/.test(span)) continue;
      if (!existsSync(join(ROOT, span))) missing.push(`${doc}: ${span}`);
    }
  }
  expect(missing).toEqual([]);
});
