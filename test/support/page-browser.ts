// Pages of a service driven the way a browser would: the attack suite's cookie jar and bounded,
// never-redirecting HTTP (attack/http.ts), paths relative to one base, each answer's body read.
import { Browser, Http } from '../../attack/http.js';

export class PageBrowser {
  readonly #browser: Browser;

  /** `origin` is what form posts send as their Origin (by default the base's own). */
  constructor(readonly base: string, readonly origin = base) {
    this.#browser = new Browser(new Http({ timeoutMs: 30_000 }), origin);
  }

  get cookies(): Map<string, string> {
    return this.#browser.cookies;
  }

  set cookies(jar: Map<string, string>) {
    this.#browser.cookies = jar;
  }

  async get(path: string): Promise<{ res: Response; body: string }> {
    const res = await this.#browser.fetch(this.base + path);
    return { res, body: await res.text() };
  }

  async post(path: string, form: Record<string, string>, origin = this.origin): Promise<{ res: Response; body: string }> {
    const res = await this.#browser.post(this.base + path, form, { origin });
    return { res, body: await res.text() };
  }
}
