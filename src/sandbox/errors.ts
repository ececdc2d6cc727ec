/**
 * The error catalogue of arcgis-protocol.md §2 and §3, byte for byte where it is [C]/[O].
 * Key order follows the captured bodies.
 */
export interface ErrorBody {
  error: {
    code: number;
    error?: string;
    error_description?: string;
    message: string;
    messageCode?: string;
    details: string[];
  };
}

/** §2: invalid or expired token. The portal says "Invalid token.", ArcGIS Server "Invalid Token". */
export function invalidToken(flavour: 'portal' | 'server' = 'portal'): ErrorBody {
  return {
    error: { code: 498, message: flavour === 'portal' ? 'Invalid token.' : 'Invalid Token', details: [] },
  };
}

/** §2: token missing on a secured resource. */
export function tokenRequired(): ErrorBody {
  return {
    error: { code: 499, message: 'Token Required', messageCode: 'GWM_0003', details: ['Token Required'] },
  };
}

/** §2: authenticated but not allowed (app tokens on org content, §6). */
export function forbidden(): ErrorBody {
  return {
    error: {
      code: 403,
      messageCode: 'GWM_0003',
      message: 'You do not have permissions to access this resource or perform this operation.',
      details: [],
    },
  };
}

/** §2: item or service missing / invisible. */
export function notFound(): ErrorBody {
  return {
    error: {
      code: 400,
      messageCode: 'CONT_0001',
      message: 'Item does not exist or is inaccessible.',
      details: [],
    },
  };
}

/** §2: bad where / field. `detail` is e.g. `'Invalid field: x' parameter is invalid`. */
export function invalidQuery(detail: string): ErrorBody {
  return {
    error: { code: 400, message: 'Cannot perform query. Invalid query parameters.', details: [detail] },
  };
}

/** §2: timeout / busy. */
export function serverBusy(code: 503 | 504): ErrorBody {
  return code === 504
    ? { error: { code: 504, message: 'Your request has timed out.', details: [] } }
    : { error: { code: 503, message: 'An error occurred.', details: [] } };
}

/** §2 [U]: the rate-limit text is not captured; the code is. */
export function rateLimited(): ErrorBody {
  return { error: { code: 429, message: 'Too many requests. Please try again later.', details: [] } };
}

/** §4: bad credentials on generateToken (also SAML/MFA users, [U]). */
export function unableToGenerateToken(): ErrorBody {
  return {
    error: { code: 400, message: 'Unable to generate token.', details: ['Invalid username or password.'] },
  };
}

/** Generic 400 for a malformed request (e.g. generateToken over GET). Text [U]. */
export function badRequest(message: string, details: string[] = []): ErrorBody {
  return { error: { code: 400, message, details } };
}

/**
 * §3: OAuth errors nest `error` and `error_description` inside the ArcGIS envelope, HTTP 200.
 * `message` repeats the description, as in the captured bodies.
 */
export function oauthError(code: number, error: string, description: string): ErrorBody {
  return { error: { code, error, error_description: description, message: description, details: [] } };
}
