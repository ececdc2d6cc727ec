import { ArcGisMcpError } from '../errors.js';
import { quoteUntrusted } from '../redact.js';

/**
 * What a user pastes after an out-of-band sign-in (product.md Section A), read the same way by the
 * MCP tool and the command line: the bare code, or the whole redirect URL (which then carries the
 * state too, checked by the caller: AUTH-STATE).
 */
export function readPastedCode(input: string): { code: string; state: string | null } {
  const text = input.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.startsWith('urn:')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw badCode();
    }
    const error = url.searchParams.get('error');
    if (error) {
      throw new ArcGisMcpError(
        'OAUTH_ACCESS_DENIED',
        `The sign-in was not completed (ArcGIS said ${quoteUntrusted(error, 200)}).`,
        {
          nextStep:
            'Start a new sign-in if the user wants to sign in (arcgis_auth_url, or `arcgis-mcp login`).',
        },
      );
    }
    const code = url.searchParams.get('code');
    if (!code) throw badCode();
    return { code, state: url.searchParams.get('state') };
  }
  if (!/^[A-Za-z0-9._~+/=-]{8,2048}$/.test(text)) throw badCode();
  return { code: text, state: null };
}

function badCode(): ArcGisMcpError {
  return new ArcGisMcpError('OAUTH_CODE_REJECTED', 'That does not look like an ArcGIS authorization code.', {
    nextStep:
      'Copy the code exactly as the ArcGIS page shows it (or the whole address of the page) and try again.',
  });
}
