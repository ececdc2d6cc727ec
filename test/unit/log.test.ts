import { afterEach, describe, expect, it, vi } from 'vitest';
import { ArcGisMcpError } from '../../src/errors.js';
import { createLogger, log, parseLogLevel } from '../../src/log.js';
import type { LogLevel, Logger } from '../../src/log.js';
import { forgetSecret, registerSecret } from '../../src/redact.js';

const TOKEN = 'CANARYtok3n-A_b~c+d/e=f.g.';
const LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z arcgis-mcp (debug|info|warn|error) /;

function capture(level?: LogLevel): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ ...(level ? { level } : {}), write: (line) => lines.push(line) });
  return { logger, lines };
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('createLogger', () => {
  it('writes one line per entry: time, name, level, message, JSON fields', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-04T20:00:00.000Z'));
    const { logger, lines } = capture();
    logger.warn('message', { json: 'fields' });
    logger.info('no fields');
    expect(lines).toEqual([
      '2026-12-04T20:00:00.000Z arcgis-mcp warn message {"json":"fields"}',
      '2026-12-04T20:00:00.000Z arcgis-mcp info no fields',
    ]);
  });

  it('drops entries below the level (default info)', () => {
    const def = capture();
    def.logger.debug('hidden');
    def.logger.info('shown');
    expect(def.lines).toHaveLength(1);
    const warn = capture('warn');
    warn.logger.info('hidden');
    warn.logger.warn('w');
    warn.logger.error('e');
    expect(warn.lines.map((l) => l.split(' ')[2])).toEqual(['warn', 'error']);
    const debug = capture('debug');
    debug.logger.debug('d');
    expect(debug.lines[0]).toMatch(LINE);
  });

  it('child loggers add their fields; entry fields win', () => {
    const { logger, lines } = capture();
    const child = logger.child({ profile: 'default', tool: 'arcgis_query' }).child({ requestId: 7 });
    child.info('called', { tool: 'override' });
    expect(lines[0]).toMatch(/ called \{"profile":"default","tool":"override","requestId":7\}$/);
  });

  it('SEC-STDOUT: a newline in a message cannot forge a second log line', () => {
    const { logger, lines } = capture();
    logger.info('ArcGIS said: bad\n2026-12-04T20:00:00.000Z arcgis-mcp error forged\r\u2028x');
    logger.info('field', { message: 'a\nb\u2029c' });
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toMatch(/[\n\r\u2028\u2029]/);
      expect(line).toMatch(LINE);
    }
    expect(lines[0]).toContain('bad\\n2026');
    expect(lines[1]).toContain('"a\\nb\\u2029c"');
  });

  it('SEC-REDACT: secrets in messages and fields are redacted', () => {
    const { logger, lines } = capture('debug');
    logger.debug(`GET https://h/x?token=${TOKEN}&f=json`, {
      headers: { 'X-Esri-Authorization': `Bearer ${TOKEN}` },
      body: `refresh_token=${TOKEN}`,
      accessToken: TOKEN,
      nested: [{ url: new URL(`https://h/x?token=${TOKEN}`) }],
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('CANARY');
    expect(lines[0]).toContain('token=[REDACTED]');
    expect(lines[0]).toContain('"accessToken":"[REDACTED]"');
  });

  it('SEC-REDACT: registered secrets are redacted anywhere in the line', () => {
    registerSecret(TOKEN);
    try {
      const { logger, lines } = capture();
      logger.info(`odd place ${TOKEN}`, { note: `also ${TOKEN}`, [TOKEN]: 1 });
      expect(lines[0]).not.toContain('CANARY');
    } finally {
      forgetSecret(TOKEN);
    }
  });

  it('SEC-REDACT: an Error is logged as name, code, message, without its context', () => {
    const { logger, lines } = capture();
    const err = new ArcGisMcpError('ARCGIS_TOKEN_INVALID', `Rejected at https://h/x?token=${TOKEN}`, {
      context: { url: `https://h/x?token=${TOKEN}`, secretBody: 'CANARY-context-only' },
    });
    logger.error('request failed', { err });
    expect(lines[0]).not.toContain('CANARY');
    expect(lines[0]).not.toContain('context');
    const json = JSON.parse(lines[0]?.slice(lines[0].indexOf('{')) ?? '{}') as {
      err: Record<string, unknown>;
    };
    expect(json.err).toEqual({
      name: 'ArcGisMcpError',
      code: 'ARCGIS_TOKEN_INVALID',
      message: 'Rejected at https://h/x?token=[REDACTED]',
    });
  });

  it('never throws: cyclic fields, a throwing writer', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const { logger, lines } = capture();
    logger.info('cyclic', { cyclic, big: 10n });
    expect(lines[0]).toContain('{"cyclic":{"self":"[Circular]"},"big":"10"}');
    const broken = createLogger({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    expect(() => broken.error('x')).not.toThrow();
  });

  it('SEC-STDOUT: the default writer uses stderr, never stdout', () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    createLogger().warn('to stderr');
    log.error('shared logger');
    expect(out).not.toHaveBeenCalled();
    expect(err).toHaveBeenCalledTimes(2);
    const first = String(err.mock.calls[0]?.[0]);
    expect(first).toMatch(LINE);
    expect(first.endsWith(' to stderr\n')).toBe(true);
  });
});

describe('parseLogLevel', () => {
  it('reads ARCGIS_LOG_LEVEL values, falling back to info', () => {
    expect(parseLogLevel('DEBUG')).toBe('debug');
    expect(parseLogLevel(' warn ')).toBe('warn');
    expect(parseLogLevel('verbose')).toBe('info');
    expect(parseLogLevel(undefined)).toBe('info');
  });
});
