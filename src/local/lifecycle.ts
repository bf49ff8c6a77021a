/**
 * Ties the local stack's life to the commands that started it. `npm start` runs
 * `sh -c "exec tsx bin/local.ts"`, and tsx runs the stack in a child Node process. A signal sent to
 * npm itself reaches the stack through that chain only when every link passes it on, and a killed
 * npm (SIGKILL) passes nothing on. So the stack also watches its ancestors up to the npm that ran
 * it, and stops when one of them is gone.
 */
import { readFileSync } from 'node:fs';

function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function isNpm(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.slice(0, 2).some((a) => /(^|\/)npm(-cli\.js)?$|^npm /.test(a));
  } catch {
    return false;
  }
}

/**
 * The processes to outlive no longer: the parent, and when npm ran this stack, every process up to
 * and including that npm (at most four levels up). Where /proc is missing, only the parent.
 */
export function launchers(): number[] {
  const chain = [process.ppid];
  if (!process.env.npm_lifecycle_event) return chain;
  const up: number[] = [];
  for (let pid: number | undefined = process.ppid; pid && up.length < 4; pid = parentOf(pid)) {
    up.push(pid);
    if (isNpm(pid)) return up;
  }
  return chain;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Calls `onGone` once, when a launcher has exited or this process was orphaned. Returns a stop. */
export function whenLaunchersGone(onGone: (pid: number) => void, everyMs = 250): () => void {
  const watched = launchers();
  const parent = process.ppid;
  const timer = setInterval(() => {
    const gone = process.ppid !== parent ? parent : watched.find((pid) => !alive(pid));
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
