import { redactText, redactValue } from './redact.js';

/**
 * SEC-STDOUT: stdout carries only JSON-RPC, so the server logs to stderr, one line per entry:
 * `2026-12-04T20:00:00.000Z arcgis-mcp warn message {"json":"fields"}`.
 * SEC-REDACT: the message and every field pass through the redactor (Errors are reduced to name,
 * code and message; their request context is never logged). Foreign text cannot forge log lines:
 * control characters in the message are escaped, fields are JSON-encoded.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every entry (entry fields win on a clash). */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** Entries below this level are dropped. Default 'info'. */
  level?: LogLevel;
  /** Receives each entry as one line, without the trailing newline. Default: stderr. */
  write?: (line: string) => void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  const v = value?.trim().toLowerCase();
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : fallback;
}

/** The one sanctioned writer: stderr, never stdout. A broken pipe must not crash the server. */
function writeStderr(line: string): void {
  try {
    process.stderr.write(`${line}\n`);
  } catch {
    // Nowhere left to report it.
  }
}

/** Control characters and Unicode line separators become JSON-style escapes. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

function encodeFields(fields: Record<string, unknown>): string {
  if (Object.keys(fields).length === 0) return '';
  let json: string | undefined;
  try {
    json = JSON.stringify(redactValue(fields));
  } catch {
    json = '{"fields":"[unserialisable]"}';
  }
  // JSON.stringify leaves U+2028/U+2029 raw; some readers split lines on them.
  return json === undefined || json === '{}' ? '' : ` ${escapeControls(json)}`;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return makeLogger(options.level ?? 'info', options.write ?? writeStderr, {});
}

function makeLogger(level: LogLevel, write: (line: string) => void, bound: Record<string, unknown>): Logger {
  const min = RANK[level];
  const emit = (entryLevel: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[entryLevel] < min) return;
    try {
      const message = escapeControls(redactText(String(msg)));
      const all = fields ? { ...bound, ...fields } : bound;
      write(`${new Date().toISOString()} arcgis-mcp ${entryLevel} ${message}${encodeFields(all)}`);
    } catch {
      // Logging must never take the server down.
    }
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => makeLogger(level, write, { ...bound, ...fields }),
  };
}

/** The server's logger: stderr, level from ARCGIS_LOG_LEVEL (default 'info'). */
export const log: Logger = createLogger({ level: parseLogLevel(process.env['ARCGIS_LOG_LEVEL']) });
