import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { KEYCHAIN_HELPER_SOURCE } from './keychain-helper-source.js';
import { ensureSessionBusAddress } from './session-bus.js';

export type KeychainOperation =
  | { op: 'get'; service: string; account: string }
  | { op: 'set'; service: string; account: string; value: string }
  | { op: 'delete'; service: string; account: string };

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

/** Why a keychain call failed: the store said no (`failed`), or nobody answered in time (`timeout`). */
export class KeychainCallError extends Error {
  constructor(
    readonly reason: 'failed' | 'timeout',
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: KeychainCallError) => void;
  timer: NodeJS.Timeout;
}

/**
 * One long-lived helper process per server runs the keychain calls (see keychain-helper-source.ts
 * for why it is a process). It is started on first use; a call that outlives its deadline kills it
 * (it may be wedged inside libdbus) and the next call starts a fresh one (STORE-TIMEOUT).
 */
class KeychainHelper {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  call(operation: KeychainOperation, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      // The timer also keeps the event loop alive while the call is pending: the child and its
      // IPC channel are unref'd so that an idle helper never keeps the server from exiting.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new KeychainCallError('timeout', `no answer within ${timeoutMs} ms`));
        this.kill();
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        const child = this.ensureChild();
        child.send({ id, ...operation }, (error) => {
          if (error)
            this.settle({ id, ok: false, message: `cannot reach the keychain helper: ${error.message}` });
        });
      } catch (error) {
        this.settle({ id, ok: false, message: `cannot start the keychain helper: ${String(error)}` });
      }
    });
  }

  /** Stops the helper; pending calls fail. The next call starts a new one. */
  kill(): void {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    this.failAll('the keychain helper was stopped');
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    // Before the first keychain call, so that the helper inherits the address (session-bus.ts).
    ensureSessionBusAddress();
    const keyringPath = createRequire(import.meta.url).resolve('@napi-rs/keyring');
    const child = spawn(process.execPath, ['-e', KEYCHAIN_HELPER_SOURCE, keyringPath], {
      // stdout stays free for JSON-RPC (SEC-STDOUT); the helper's stderr (gcr-prompter warnings)
      // is noise, its errors come back as replies.
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: process.env,
      windowsHide: true,
    });
    child.on('message', (reply: Reply) => this.settle(reply));
    // Pending calls always belong to the current child: a replaced child's late events are ignored.
    child.on('error', (error) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.failAll(`the keychain helper failed: ${error.message}`);
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.failAll(`the keychain helper exited (${signal ?? `code ${code}`})`);
    });
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }

  private settle(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(new KeychainCallError('failed', reply.message));
  }

  private failAll(message: string): void {
    for (const [id] of this.pending) this.settle({ id, ok: false, message });
  }
}

let helper: KeychainHelper | undefined;

/** Runs one keychain operation in the helper process, bounded by `timeoutMs`. */
export function callKeychain(operation: KeychainOperation, timeoutMs: number): Promise<unknown> {
  helper ??= new KeychainHelper();
  return helper.call(operation, timeoutMs);
}

/** Stops the helper process (tests, shutdown). Safe to call at any time. */
export function stopKeychainHelper(): void {
  helper?.kill();
}
