import { createHash } from 'node:crypto';

/** Escapes text for an HTML text node or a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

/**
 * The only stylesheet: inline, so the pages load nothing from anywhere (AUTH-LOOPBACK: no
 * external resources). The CSP allows exactly this text by its hash instead of `'unsafe-inline'`.
 */
const STYLE = `
:root{color-scheme:light dark;--bg:#f4f6f8;--card:#fff;--ink:#1c2127;--muted:#566270;--line:#d5dbe1;
--accent:#0b5cad;--accent-ink:#fff;--ok:#1f7a3a;--ok-bg:#e8f5ec;--err:#a4262c;--err-bg:#fdecea;--warn-bg:#fff6e0}
@media (prefers-color-scheme:dark){:root{--bg:#14181d;--card:#1e242b;--ink:#e8ecf0;--muted:#a5b0bc;--line:#37414b;
--accent:#4b9be8;--accent-ink:#0c1116;--ok:#7fd49a;--ok-bg:#18301f;--err:#ff9b9b;--err-bg:#3a1c1e;--warn-bg:#3a3117}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
main{max-width:44rem;margin:0 auto;padding:2rem 1.25rem 3rem}
h1{font-size:1.7rem;line-height:1.25;margin:.2rem 0 .6rem}
h2{font-size:1.2rem;margin:0 0 .5rem;display:flex;align-items:center;gap:.6rem;flex-wrap:wrap}
p{margin:.5rem 0}
ul{margin:.4rem 0 .8rem;padding-left:1.3rem}
li{margin:.3rem 0}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--bg);padding:.05rem .3rem;
border-radius:4px;overflow-wrap:break-word}
.eyebrow{color:var(--muted);font-size:.85rem;letter-spacing:.04em;text-transform:uppercase;margin:0}
.portal{font-size:1.05rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1.25rem 1.4rem;margin:1.1rem 0}
.card.primary{border:2px solid var(--accent)}
.n{display:inline-flex;align-items:center;justify-content:center;width:1.7rem;height:1.7rem;border-radius:50%;
background:var(--accent);color:var(--accent-ink);font-size:.95rem;font-weight:700}
.tag{font-size:.75rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:var(--accent);
border:1px solid var(--accent);border-radius:999px;padding:.05rem .55rem}
.fine{color:var(--muted);font-size:.9rem}
label{display:block;font-weight:600;margin:.8rem 0 .25rem}
input[type=text],input[type=password]{width:100%;font:inherit;padding:.55rem .7rem;border:1px solid var(--line);
border-radius:6px;background:var(--card);color:var(--ink)}
input:focus,.button:focus,button:focus{outline:3px solid var(--accent);outline-offset:2px}
.button,button{display:inline-block;font:inherit;font-weight:600;text-decoration:none;cursor:pointer;
background:var(--accent);color:var(--accent-ink);border:0;border-radius:6px;padding:.6rem 1.2rem;margin-top:.9rem}
.notice{border-radius:8px;padding:.9rem 1.1rem;margin:1rem 0;border:1px solid var(--line)}
.notice.error{background:var(--err-bg);border-color:var(--err)}
.notice.error strong:first-child{color:var(--err)}
.notice.ok{background:var(--ok-bg);border-color:var(--ok)}
.notice.app{background:var(--warn-bg)}
.big{font-size:1.15rem}
footer{color:var(--muted);font-size:.85rem;margin-top:2rem;border-top:1px solid var(--line);padding-top:1rem}
`;

/** `'sha256-…'` source expression for the stylesheet above (CSP Level 3 §2.3.1 hash-source). */
export const STYLE_HASH_SOURCE = `'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`;

/** A whole document: no script, no image, no link to anything outside this page. */
export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}
