import type { IncomingMessage } from 'node:http';

/** Forms on the sign-in page hold a token or a username and password: 16 KB is plenty. */
export const MAX_FORM_BYTES = 16 * 1024;

export type FormBodyProblem = 'too-large' | 'unsupported-type' | 'malformed' | 'aborted';

export class FormBodyError extends Error {
  override readonly name = 'FormBodyError';
  constructor(readonly problem: FormBodyProblem) {
    super(`form body: ${problem}`);
  }
}

/**
 * Reads an `application/x-www-form-urlencoded` body (what an HTML form posts without `enctype`),
 * stopping as soon as it exceeds `maxBytes`: a declared `Content-Length` over the cap is refused
 * before one byte is read. Field values may be secrets: this function never logs or echoes them.
 */
export async function readFormBody(
  req: IncomingMessage,
  maxBytes = MAX_FORM_BYTES,
): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new FormBodyError('unsupported-type');
  const declared = req.headers['content-length'];
  if (declared !== undefined && !(Number(declared) <= maxBytes)) throw new FormBodyError('too-large');

  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        reject(new FormBodyError('too-large'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onAbort = (): void => {
      cleanup();
      reject(new FormBodyError('aborted'));
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('aborted', onAbort);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('aborted', onAbort);
  });

  return new URLSearchParams(body.toString('utf8'));
}

/**
 * The single value of a field: `null` when absent, and a `malformed` error when repeated (a second
 * copy of `csrf` or `token` is never legitimate from our own forms).
 */
export function singleField(form: URLSearchParams, name: string): string | null {
  const all = form.getAll(name);
  if (all.length > 1) throw new FormBodyError('malformed');
  return all[0] ?? null;
}
