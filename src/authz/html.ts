// Server-rendered pages (login, consent, error). Every interpolated value goes through `escapeHtml`
// (the OWASP XSS cheat sheet's five characters, plus the backtick); nothing else is ever concatenated
// into markup. Pages work without JavaScript and contain none.
import type { Response } from 'express';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

/** A template tag that escapes every interpolation unless it is already `Html`. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string { return this.value; }
}
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    const part = v instanceof Html ? v.value
      : Array.isArray(v) ? v.map((x) => (x instanceof Html ? x.value : escapeHtml(String(x)))).join('')
      : escapeHtml(String(v ?? ''));
    out += part + strings[i + 1]!;
  });
  return new Html(out);
}

/**
 * O9: not frameable, no script, forms post only to us. Browsers apply `form-action` to the redirect
 * that follows a form POST too, so a page whose form ends in a 303 to the client names that one
 * origin (`redirectOrigin`, already checked against the client's registration).
 */
export function setPageSecurityHeaders(res: Response, redirectOrigin?: string): void {
  const formAction = redirectOrigin && /^https?:\/\/[^\s;,'"]+$/.test(redirectOrigin) ? `'self' ${redirectOrigin}` : "'self'";
  res.set('Content-Security-Policy', `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`);
  res.set('X-Frame-Options', 'DENY');
  res.set('X-Content-Type-Options', 'nosniff');
  // same-origin, not no-referrer: with no-referrer, browsers send `Origin: null` on our own form POSTs.
  res.set('Referrer-Policy', 'same-origin');
  res.set('Cache-Control', 'no-store');
  res.set('Pragma', 'no-cache');
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input[type=email],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}
button,a.button{margin-top:1rem;padding:.5rem 1rem;margin-right:.5rem}a.button{display:inline-block;border:1px solid #555;border-radius:3px;color:inherit;text-decoration:none}.error{color:#b00020}.muted{color:#555;font-size:.9rem}ul{padding-left:1.2rem}`;

export function sendPage(res: Response, status: number, title: string, body: Html, redirectOrigin?: string): void {
  setPageSecurityHeaders(res, redirectOrigin);
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${new Html(STYLE)}</style></head>
<body>${body}</body></html>`;
  res.status(status).type('html').send(page.value);
}

export function sendErrorPage(res: Response, status: number, message: string): void {
  sendPage(res, status, 'Sign-in error', html`<h1>Sign-in cannot continue</h1><p class="error">${message}</p>
<p class="muted">Return to the application and try again.</p>`);
}
