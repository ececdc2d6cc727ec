/**
 * The local sign-in page driven the way a browser without JavaScript does it: GET the page, read
 * its CSRF field, POST the chosen form back from the same origin. For tests that need no Chromium.
 */
export interface PageSubmission {
  /** The page as first served. */
  pageHtml: string;
  status: number;
  /** The answer to the POST (outcome page, or the page again with a notice). */
  html: string;
}

export async function submitLocalSignInForm(
  link: string,
  form: 'token' | 'password',
  fields: Record<string, string>,
): Promise<PageSubmission> {
  const pageHtml = await (await fetch(link)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(pageHtml)?.[1];
  if (!csrf) throw new Error(`the sign-in page carries no CSRF field:\n${pageHtml.slice(0, 500)}`);
  const res = await fetch(`${link}/${form}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: new URL(link).origin,
      'sec-fetch-site': 'same-origin',
    },
    body: new URLSearchParams({ csrf, ...fields }).toString(),
  });
  return { pageHtml, status: res.status, html: await res.text() };
}
