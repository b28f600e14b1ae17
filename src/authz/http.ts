// Small HTTP helpers shared by the endpoints: the tenant of a request, cookies, no-store.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/directory.js';
import { issuerFor } from './resources.js';

export interface TenantLocals {
  tenant: Tenant;
  issuer: string;
}

export function tenantOf(res: Response): TenantLocals {
  return res.locals as TenantLocals;
}

/** Resolves `:slug`; an unknown or disabled tenant is a plain 404 (no issuer exists there). */
export function resolveTenant(services: Services): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const slug = String(req.params.slug ?? '');
    const tenant = await services.tenants.bySlug(slug);
    if (!tenant) return void res.status(404).json({ error: 'not_found', error_description: 'No such endpoint' });
    res.locals.tenant = tenant;
    res.locals.issuer = issuerFor(services.config, tenant.slug);
    next();
  };
}

export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set('Cache-Control', 'no-store');
  res.set('Pragma', 'no-cache');
  next();
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** A single string parameter; repeated parameters (RFC 6749 §3.1) are `null`. */
export function param(source: Record<string, unknown>, name: string): string | undefined | null {
  const v = source[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : null;
}
