// Small HTTP helpers shared by the endpoints: the tenant of a request, cookies, no-store.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/directory.js';
import { findTextDefect } from '../text/defects.js';
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
    // E1: a NUL or unpaired surrogate in any query parameter is the client's mistake, never a 500.
    if (findTextDefect(req.query)) return void res.status(400).json({ error: 'invalid_request', error_description: 'Request parameters contain characters that are not text' });
    res.locals.tenant = tenant;
    res.locals.issuer = issuerFor(services.config, tenant.slug);
    next();
  };
}

/**
 * E1: after a body parser, a NUL or unpaired surrogate anywhere in the body (names included) is
 * refused with 400 invalid_request before any handler (or PostgreSQL, which cannot store NUL) sees it.
 */
export function refuseDefectiveBody(req: Request, res: Response, next: NextFunction): void {
  const defect = findTextDefect(req.body);
  if (defect) return void res.status(400).json({ error: 'invalid_request', error_description: `Parameter ${defect.path} contains characters that are not text` });
  next();
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
