import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  type RetryPolicy,
} from '../../src/arcgis/retry.js';

const policy = (random: number, over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  ...DEFAULT_RETRY_POLICY,
  random: () => random,
  ...over,
});

describe('backoffDelayMs (REL-BACKOFF)', () => {
  it('REL-BACKOFF: the ceiling doubles with each attempt (exponential)', () => {
    const p = policy(1, { baseDelayMs: 100, maxDelayMs: 100_000 });
    expect([0, 1, 2, 3].map((a) => backoffDelayMs(a, p))).toEqual([100, 200, 400, 800]);
  });

  it('REL-BACKOFF: the delay is jittered below the ceiling', () => {
    const p = policy(0.5, { baseDelayMs: 100, maxDelayMs: 100_000 });
    expect(backoffDelayMs(2, p)).toBe(200);
    expect(backoffDelayMs(2, policy(0, { baseDelayMs: 100 }))).toBe(0);
  });

  it('REL-BACKOFF: the delay is bounded by maxDelayMs however many attempts', () => {
    const p = policy(1, { baseDelayMs: 250, maxDelayMs: 4000 });
    expect(backoffDelayMs(30, p)).toBe(4000);
  });

  it('REL-BACKOFF: Retry-After wins over the computed delay', () => {
    expect(backoffDelayMs(0, policy(1), 2)).toBe(2000);
  });

  it('REL-BACKOFF: a Retry-After longer than we wait gives up (null)', () => {
    expect(backoffDelayMs(0, policy(1, { maxRetryAfterMs: 20_000 }), 61)).toBeNull();
  });
});

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('2')).toBe(2);
    expect(parseRetryAfter(' 120 ')).toBe(120);
  });

  it('reads an HTTP date relative to now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
  });

  it('a date in the past means no wait', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  // Regression: V8's Date.parse reads '-5' as the year -5 and '2.5' as a date in 2001, which
  // turned a malformed header into "retry now".
  it('treats a malformed Retry-After (-5, 2.5) as absent, not as "retry now"', () => {
    expect(parseRetryAfter('-5')).toBeUndefined();
    expect(parseRetryAfter('2.5')).toBeUndefined();
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['3', '9'])).toBe(3);
  });
});
