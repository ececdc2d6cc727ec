import type { FaultSwitches } from '../types.js';

export function defaultFaults(): FaultSwitches {
  return {
    latencyMs: 0,
    rateLimitNext: 0,
    rateLimitAsBody: false,
    retryAfterSeconds: null,
    serverErrorNext: 0,
    serverErrorCode: 503,
    dropNext: 0,
    htmlNext: 0,
    scope: 'all',
    pathIncludes: '',
  };
}
