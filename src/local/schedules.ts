/**
 * Local stand-in for EventBridge schedules: runs jobs one after another every `ms`, never two
 * runs at once, logging failures instead of crashing the stack. Returns a stop function.
 */
export function every(ms: number, jobs: readonly (() => Promise<unknown>)[]): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      for (const job of jobs) await job();
    } catch (e) {
      console.error(`scheduled job failed: ${(e as Error).message}`);
    } finally {
      running = false;
    }
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
