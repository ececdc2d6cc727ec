import { describe, expect, it } from 'vitest';
import { ArcGisMcpError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { errorResult, iso, okResult, runTool } from '../../src/mcp/tool-result.js';
import { registerSecret } from '../../src/redact.js';

const quiet = createLogger({ write: () => undefined });
const textOf = (r: { content: unknown[] }) => (r.content[0] as { text: string }).text;

describe('tool results', () => {
  it('okResult carries the structured content and the same data as text', () => {
    const r = okResult({ username: 'alice', count: 3 }, 'Signed in as alice.');
    expect(r.structuredContent).toEqual({ username: 'alice', count: 3 });
    expect(textOf(r)).toContain('Signed in as alice.');
    expect(textOf(r)).toContain('"count": 3');
    expect(r.isError).toBeUndefined();
  });

  it('errorResult turns an ArcGisMcpError into an isError text with its code and next step, no structuredContent', () => {
    const r = errorResult(
      new ArcGisMcpError('ARCGIS_SIGN_IN_REQUIRED', 'Nobody is signed in.', {
        nextStep: 'Call arcgis_auth_url.',
      }),
    );
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toBeUndefined();
    expect(textOf(r)).toBe('ARCGIS_SIGN_IN_REQUIRED: Nobody is signed in.\nNext step: Call arcgis_auth_url.');
  });

  it('REL-BAD-INPUT: an unexpected exception is an INTERNAL_ERROR result that does not echo its message', () => {
    const r = errorResult(new TypeError('cannot read x of secret-internal-detail'));
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^INTERNAL_ERROR/);
    expect(textOf(r)).not.toContain('secret-internal-detail');
  });

  it('SEC-REDACT: a registered secret that slipped into an error message is redacted in the result', () => {
    const secret = 'canary-access-token-7f3a9c.';
    registerSecret(secret);
    const r = errorResult(new ArcGisMcpError('ARCGIS_BAD_REQUEST', `bad request with ${secret} inside`));
    expect(textOf(r)).not.toContain(secret);
  });

  it('SEC-REDACT: a registered secret in structured data is redacted in the text copy', () => {
    const secret = 'canary-refresh-token-91bd.';
    registerSecret(secret);
    expect(textOf(okResult({ leaked: secret }, 'done'))).not.toContain(secret);
  });

  it('NET-TIMEOUTS: a tool call that outlives its deadline ends with a retryable ARCGIS_TIMEOUT result', async () => {
    const started = Date.now();
    const r = await runTool(
      { name: 'arcgis_query', deadlineMs: 100, signal: new AbortController().signal, log: quiet },
      () => new Promise(() => undefined),
    );
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^ARCGIS_TIMEOUT: arcgis_query did not finish/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a cancelled tool call ends with CANCELLED', async () => {
    const controller = new AbortController();
    const p = runTool(
      { name: 'arcgis_query', deadlineMs: 10_000, signal: controller.signal, log: quiet },
      () => new Promise(() => undefined),
    );
    controller.abort();
    expect(textOf(await p)).toMatch(/^CANCELLED/);
  });

  it('the tool body receives a signal that aborts at the deadline', async () => {
    let seen: AbortSignal | undefined;
    await runTool(
      { name: 't', deadlineMs: 50, signal: new AbortController().signal, log: quiet },
      (signal) => {
        seen = signal;
        return new Promise(() => undefined);
      },
    );
    expect(seen?.aborted).toBe(true);
  });

  it('REL-BAD-INPUT: a throwing tool body becomes an error result, the server keeps serving', async () => {
    const r = await runTool(
      { name: 't', deadlineMs: 1000, signal: new AbortController().signal, log: quiet },
      async () => {
        throw new ArcGisMcpError('ARCGIS_INVALID_URL', 'not a URL');
      },
    );
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^ARCGIS_INVALID_URL/);
  });

  it('iso turns epoch ms into ISO 8601 and anything else into null', () => {
    expect(iso(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(iso(null)).toBeNull();
    expect(iso(Number.NaN)).toBeNull();
  });
});
