// Device cookies (OWASP Credential Stuffing Prevention Cheat Sheet, "Device cookies"; docs/ATTACK-CATALOGUE.md
// O13). After a successful sign-in the browser gets a cookie that says "this browser signed in to
// this account before": HMAC-SHA256 over the account, a random nonce and the time of issue, keyed by
// a server secret. It holds no email and no session: it only lets the browser past the account-wide
// sign-in delay (each cookie has its own small budget, sign-in-delay.ts), never past the password.
// The key is SIGN_IN_DEVICE_KEY when configured (the same on every instance), else a random key kept
// in DATA_DIR/sign-in-device-key (mode 0600), made on first use. A cookie the key does not verify is
// simply no cookie: the browser is throttled like any other.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Config } from '../config.js';
import { dataDirKey } from './data-dir-key.js';
import { readCookie } from './http.js';

export const DEVICE_COOKIE_MAX_AGE_SECONDS = 90 * 24 * 3600;
const VALUE = /^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;
const KEY_FILE = 'sign-in-device-key';

/** The HMAC key: configured, or DATA_DIR's (created once, never overwritten). */
export function deviceCookieKey(config: Pick<Config, 'dataDir' | 'signInDeviceKey'>): Promise<Buffer> {
  return dataDirKey(config.dataDir, KEY_FILE, config.signInDeviceKey);
}

export class DeviceCookies {
  constructor(readonly key: Buffer, readonly secure: boolean) {}

  #mac(...parts: string[]): string {
    return createHmac('sha256', this.key).update(['sign-in-device', ...parts].join('\n')).digest('base64url');
  }

  /** One cookie per account (a shared browser may hold several), named so the name tells nothing. */
  name(account: string): string {
    return `cmcp_device_${this.#mac('name', account).slice(0, 16)}`;
  }

  /** The nonce of this browser's valid, unexpired device cookie for `account`, or null. */
  verify(req: Request, account: string, now = new Date()): string | null {
    const value = readCookie(req, this.name(account));
    const m = value ? VALUE.exec(value) : null;
    if (!m) return null;
    const [, nonce, issued, mac] = m as unknown as [string, string, string, string];
    const age = now.getTime() / 1000 - Number(issued);
    if (age < -60 || age > DEVICE_COOKIE_MAX_AGE_SECONDS) return null;
    const a = Buffer.from(this.#mac('cookie', account, nonce, issued));
    const b = Buffer.from(mac);
    return a.length === b.length && timingSafeEqual(a, b) ? nonce : null;
  }

  /** A new device cookie for `account`, scoped to the sign-in form's path. */
  issue(res: Response, account: string, path: string, now = new Date()): void {
    const nonce = randomBytes(16).toString('base64url');
    const issued = String(Math.floor(now.getTime() / 1000));
    const value = `${nonce}.${issued}.${this.#mac('cookie', account, nonce, issued)}`;
    res.append('Set-Cookie', `${this.name(account)}=${value}; Path=${path}; Max-Age=${DEVICE_COOKIE_MAX_AGE_SECONDS}; HttpOnly; SameSite=Strict${this.secure ? '; Secure' : ''}`);
  }
}
