/** pino without transports: transports spawn workers, which a compiled executable cannot. */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination ?? pino.destination({ fd: 1, sync: false }));
}

/**
 * Waits until every line given to the logger has reached the OS. pino's flush() returns at
 * once for an async destination while a write is still in flight, so an exit right after
 * it loses the last lines (about half the time, measured); SonicBoom's flushSync() skips
 * the in-flight write, hence the wait for it first.
 */
export async function flushLog(log: Logger, timeoutMs = 1000): Promise<void> {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { _writing?: boolean; flushSync?: () => void } | undefined;
  const until = Date.now() + timeoutMs;
  while (stream?._writing && Date.now() < until) await Bun.sleep(1);
  try { stream?.flushSync?.(); } catch { /* not a SonicBoom (a test's stream), or stdout is gone */ }
}
