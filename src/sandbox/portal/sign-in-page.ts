import { escapeHtml, page } from './html.js';

/** The authorize parameters the form carries through hidden inputs (§3 authorize). */
export interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  responseType: string;
  state: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: string | undefined;
  expiration: string | undefined;
}

/**
 * product.md contract: a plain HTML form, method POST, inputs named `username` and `password`.
 * The Sign In button comes first so pressing Enter signs in; Cancel skips validation.
 */
export function signInPage(
  action: string,
  appTitle: string,
  params: AuthorizeParams,
  error?: string,
): string {
  const hidden: [string, string | undefined][] = [
    ['client_id', params.clientId],
    ['redirect_uri', params.redirectUri],
    ['response_type', params.responseType],
    ['state', params.state],
    ['code_challenge', params.codeChallenge],
    ['code_challenge_method', params.codeChallengeMethod],
    ['expiration', params.expiration],
  ];
  const hiddenInputs = hidden
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('');
  const errorBlock =
    error === undefined ? '' : `<p class="error" id="error" role="alert">${escapeHtml(error)}</p>`;
  return page(
    'Sign in - ArcGIS Sandbox',
    `<h1>Sign in</h1><p><strong>${escapeHtml(appTitle)}</strong> would like to access your ArcGIS Sandbox account.</p>` +
      errorBlock +
      `<form method="POST" action="${escapeHtml(action)}">${hiddenInputs}` +
      `<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required>` +
      `<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>` +
      `<button type="submit" id="signin" name="action" value="signin">Sign In</button>` +
      `<button type="submit" id="cancel" name="action" value="cancel" formnovalidate>Cancel</button>` +
      `</form>`,
  );
}

/** §3 OOB: the code is shown for the user to copy (exact markup [U]); contract: element `id="code"`. */
export function oobCodePage(code: string): string {
  return page(
    'Sign in complete - ArcGIS Sandbox',
    `<h1>Signed in</h1><p>Copy this code and paste it into your application:</p>` +
      `<p><code id="code">${escapeHtml(code)}</code></p>`,
  );
}

export function oobDeniedPage(description: string): string {
  return page(
    'Access denied - ArcGIS Sandbox',
    `<h1>Access denied</h1><p id="error" data-error="access_denied">${escapeHtml(description)}</p>`,
  );
}

/** Bad client_id or redirect_uri: an error page, never a redirect (RFC 6749 §4.1.2.1). */
export function authorizeErrorPage(message: string): string {
  return page(
    'Error - ArcGIS Sandbox',
    `<h1>Error</h1><p class="error" id="error">${escapeHtml(message)}</p>`,
  );
}
