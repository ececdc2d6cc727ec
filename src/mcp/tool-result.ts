import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ArcGisMcpError, isArcGisMcpError } from '../errors.js';
import type { Logger } from '../log.js';
import { redactText } from '../redact.js';

/**
 * Tool results: `structuredContent` matching the tool's outputSchema plus the same content as
 * text (product.md contract). Errors: `isError`, an actionable text, no structuredContent (the SDK
 * client validates structuredContent against outputSchema even on errors, environment.md).
 * SEC-NO-SECRETS-IN-RESULTS: every text passes through the redactor as a last line of defence.
 */
export function okResult<T extends Record<string, unknown>>(structured: T, summary: string): CallToolResult {
  // Large answers (thousands of rows) go out compact: the text repeats the structured content, and
  // indentation would add a third to its size.
  const json = JSON.stringify(structured, null, 2);
  const text = redactText(`${summary}\n\n${json.length > 20_000 ? JSON.stringify(structured) : json}`);
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

export function errorResult(e: unknown, log?: Logger): CallToolResult {
  let text: string;
  if (isArcGisMcpError(e)) {
    text = `${e.code}: ${e.toUserText()}`;
  } else {
    // Unknown failures are bugs: say so without echoing internals that might carry data.
    log?.error('unexpected tool failure', { error: e });
    text = `INTERNAL_ERROR: The server hit an unexpected problem (${e instanceof Error ? e.name : 'error'}). It keeps running.\nNext step: Try again; if it repeats, ask the user to check the server log (stderr).`;
  }
  return { content: [{ type: 'text', text: redactText(text) }], isError: true };
}

/**
 * Runs a tool body with a deadline (NET-TIMEOUTS: every tool call has one) and the client's
 * cancellation, and turns every failure into an error result: bad input never stops the server.
 */
export async function runTool(
  options: {
    name: string;
    deadlineMs: number;
    signal: AbortSignal;
    log: Logger;
    /** Start-up work (session restore, environment sign-in) that calls must not overtake. */
    ready?: Promise<unknown>;
  },
  body: (signal: AbortSignal) => Promise<CallToolResult>,
): Promise<CallToolResult> {
  const deadline = AbortSignal.timeout(options.deadlineMs);
  const signal = AbortSignal.any([options.signal, deadline]);
  const started = Date.now();
  try {
    const result = await Promise.race([
      (async () => {
        await options.ready;
        return body(signal);
      })(),
      new Promise<never>((_, reject) => {
        const onAbort = () =>
          reject(
            deadline.aborted
              ? new ArcGisMcpError(
                  'ARCGIS_TIMEOUT',
                  `${options.name} did not finish within ${Math.round(options.deadlineMs / 1000)} s.`,
                  {
                    nextStep: 'Try again, with a smaller limit or a narrower where clause.',
                  },
                )
              : new ArcGisMcpError('CANCELLED', `${options.name} was cancelled.`),
          );
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    options.log.debug('tool done', {
      tool: options.name,
      ms: Date.now() - started,
      isError: !!result.isError,
    });
    return result;
  } catch (e) {
    options.log.info('tool failed', {
      tool: options.name,
      ms: Date.now() - started,
      code: isArcGisMcpError(e) ? e.code : 'INTERNAL_ERROR',
    });
    return errorResult(e, options.log);
  }
}

/** Epoch ms → ISO 8601, for people and models alike. */
export function iso(ms: number | null | undefined): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** The usual runTool options of a tool of this server: the configured deadline, the client's cancellation, start-up readiness. */
export function toolOptions(
  ctx: { config: { toolDeadlineMs: number }; log: Logger; ready: Promise<unknown> },
  name: string,
  extra: { signal: AbortSignal },
): { name: string; deadlineMs: number; signal: AbortSignal; log: Logger; ready: Promise<unknown> } {
  return {
    name,
    deadlineMs: ctx.config.toolDeadlineMs,
    signal: extra.signal,
    log: ctx.log,
    ready: ctx.ready,
  };
}
