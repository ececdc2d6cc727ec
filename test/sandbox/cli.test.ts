import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSandboxArgs } from '../../src/sandbox/cli-args.js';
import { runSandboxCli } from '../../src/sandbox/cli.js';
import type { SandboxCliIo } from '../../src/sandbox/cli.js';
import { getJson, http } from './helpers.js';

describe('sandbox CLI arguments', () => {
  it('parses every documented flag, in both spellings', () => {
    expect(
      parseSandboxArgs([
        '--port',
        '0',
        '--token-ttl=60',
        '--refresh-ttl',
        '600',
        '--app-token-ttl',
        '30',
        '--enterprise',
        '--http-errors',
        '--latency',
        '25',
      ]),
    ).toEqual({
      kind: 'run',
      options: {
        port: 0,
        tokenTtlSeconds: 60,
        refreshTtlSeconds: 600,
        appTokenTtlSeconds: 30,
        enterprise: true,
        httpErrorStatuses: true,
        faults: { latencyMs: 25 },
      },
    });
    expect(parseSandboxArgs([])).toEqual({ kind: 'run', options: {} });
    expect(parseSandboxArgs(['--help'])).toEqual({ kind: 'help' });
  });

  it('refuses unknown flags and bad values', () => {
    for (const argv of [
      ['--nope'],
      ['--port'],
      ['--port', 'abc'],
      ['--port', '70000'],
      ['--token-ttl', '0'],
      ['--token-ttl', '-5'],
      ['--enterprise=yes'],
    ]) {
      expect(parseSandboxArgs(argv).kind, argv.join(' ')).toBe('error');
    }
  });
});

function fakeIo(): { io: SandboxCliIo; out: string[]; err: string[]; codes: number[]; stop: () => void } {
  const out: string[] = [];
  const err: string[] = [];
  const codes: number[] = [];
  let stop: () => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stop = () => resolve('SIGTERM');
  });
  return {
    io: {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      stopped: () => stopped,
      exit: (c) => codes.push(c),
    },
    out,
    err,
    codes,
    stop: () => stop(),
  };
}

describe('runSandboxCli (in process)', () => {
  it('prints exactly one JSON line once it accepts connections, then closes on a signal and exits 0', async () => {
    const fake = fakeIo();
    const running = runSandboxCli(['--port', '0', '--enterprise'], fake.io);
    await expect.poll(() => fake.out.length).toBe(1);
    const text = fake.out.join('');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
    const info = JSON.parse(text);
    expect(Object.keys(info)).toEqual(
      expect.arrayContaining(['portalUrl', 'clientId', 'clientSecret', 'users', 'services']),
    );
    expect(info.servers.federated).toMatch(/\/server$/);
    expect((await getJson(`${info.portalUrl}/sharing/rest`)).enterpriseVersion).toBe('11.3.0');
    expect(fake.err.join('')).toContain('ready');

    fake.stop();
    await running;
    expect(fake.codes).toEqual([0]);
    expect(fake.out).toHaveLength(1);
    await expect(http(`${info.portalUrl}/sharing/rest?f=json`)).rejects.toThrow();
  });

  it('a busy port: reason on stderr, no ready line, exit 1', async () => {
    const holder = fakeIo();
    const running = runSandboxCli(['--port', '0'], holder.io);
    await expect.poll(() => holder.out.length).toBe(1);
    const port = new URL(JSON.parse(holder.out.join('')).portalUrl).port;
    const fake = fakeIo();
    await runSandboxCli(['--port', port], fake.io);
    expect(fake.codes).toEqual([1]);
    expect(fake.out).toEqual([]);
    expect(fake.err.join('')).toContain('EADDRINUSE');
    holder.stop();
    await running;
  });

  it('bad flags: message on stderr, nothing on stdout, exit 2', async () => {
    const fake = fakeIo();
    await runSandboxCli(['--bogus'], fake.io);
    expect(fake.codes).toEqual([2]);
    expect(fake.out).toEqual([]);
    expect(fake.err.join('')).toContain('unknown option');
  });
});

const BUILT = resolve(process.cwd(), 'dist/index.js');
const builtReason = existsSync(BUILT) ? '' : ' (skipped: dist/index.js is not built; run `npm run build`)';

describe('node dist/index.js sandbox (spawned)', () => {
  it.skipIf(!existsSync(BUILT))(`prints one JSON line and exits 0 on SIGTERM${builtReason}`, async () => {
    const child = spawn(process.execPath, [BUILT, 'sandbox', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    const firstLine = await new Promise<string>((resolveLine, reject) => {
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        const nl = stdout.indexOf('\n');
        if (nl !== -1) resolveLine(stdout.slice(0, nl));
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const info = JSON.parse(firstLine);
    expect((await getJson(`${info.portalUrl}/sharing/rest`)).currentVersion).toBe('2024.1');
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });

  it.skipIf(!existsSync(BUILT))(`exits 2 on a bad flag${builtReason}`, async () => {
    const child = spawn(process.execPath, [BUILT, 'sandbox', '--bogus'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });
});
