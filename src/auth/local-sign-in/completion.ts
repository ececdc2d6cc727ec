import { ArcGisMcpError } from '../../errors.js';

type Settled<T> = { ok: true; value: T } | { ok: false; error: Error };

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/**
 * A result that settles once and that any number of callers may await, before or after it
 * settles (late callers get the same outcome). Each caller's `AbortSignal` cancels only that
 * caller's wait. Nothing here rejects a promise nobody holds, so a timeout with no waiter is not
 * an unhandled rejection.
 */
export class Completion<T> {
  private result: Settled<T> | undefined;
  private readonly waiters = new Set<Waiter<T>>();

  get settled(): boolean {
    return this.result !== undefined;
  }

  /** First call wins; later calls are ignored and return false. */
  settle(result: Settled<T>): boolean {
    if (this.result) return false;
    this.result = result;
    for (const w of this.waiters) {
      if (result.ok) w.resolve(result.value);
      else w.reject(result.error);
    }
    this.waiters.clear();
    return true;
  }

  wait(signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelled());
    const done = this.result;
    if (done) return done.ok ? Promise.resolve(done.value) : Promise.reject(done.error);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(waiter);
        reject(cancelled());
      };
      const waiter: Waiter<T> = {
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function cancelled(): ArcGisMcpError {
  return new ArcGisMcpError('CANCELLED', 'Waiting for the sign-in was cancelled.', {
    nextStep: 'The sign-in page stays open until it times out; ask again once the user has signed in.',
  });
}
