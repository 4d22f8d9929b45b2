/**
 * Who may use the dashboard, and how the browser proves it (issue 22, item 6):
 * - Bound to a loopback address without a token, anyone on this host may use it (as with the
 *   Temporal UI); the Host header must then name a loopback host, so a web page elsewhere cannot
 *   reach the server through DNS rebinding.
 * - With a token (required for any other address), every request needs it. It comes once in the
 *   page's URL (`?token=`); the server answers with an HttpOnly, SameSite=Strict cookie and a
 *   redirect to the same URL without it, so it stays out of the history, and page scripts never
 *   see it. Scripts may send `Authorization: Bearer <token>` instead.
 * - Controls (every method but GET/HEAD) need a same-origin request: an Origin header equal to
 *   this server's own origin and a JSON body, which no cross-site form can send without a
 *   preflight we never grant. That is the CSRF defence, with the cookie's SameSite=Strict.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

export type UiAccess = {
  /** The token every request must carry, or null for an open loopback server. */
  token: string | null;
  /** The address the server listens on (the --host flag). */
  host: string;
  port: number;
};

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** Cookies are not scoped by port: two dashboards on one host must not overwrite each other's. */
export const cookieName = (port: number): string => `autocoder_ui_${port}`;

function sameSecret(given: string, expected: string): boolean {
  // Equal-length digests, so the comparison takes the same time whatever was given.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Security headers for every response: nothing runs but our own files, nothing frames us. */
export const securityHeaders: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function deny(c: Context, status: 401 | 403, message: string): Response {
  return c.json({ error: message }, status);
}

const UNAUTHORIZED =
  'unauthorized: open the link `autocoder ui` printed (it carries ?token=), or send Authorization: Bearer <token>';

export function accessControl(access: UiAccess): MiddlewareHandler {
  const name = cookieName(access.port);
  const openLoopback = access.token === null;
  return async (c, next) => {
    for (const [header, value] of Object.entries(securityHeaders)) c.header(header, value);
    const url = new URL(c.req.url);
    const hostHeader = c.req.header('host') ?? '';
    if (openLoopback && !isLoopbackHost(hostHeader.replace(/:\d+$/, ''))) {
      return deny(c, 403, `forbidden: host ${JSON.stringify(hostHeader)} is not a loopback name`);
    }
    let viaHeader = false;
    if (access.token !== null) {
      const fromQuery = url.searchParams.get('token');
      if (fromQuery !== null && c.req.method === 'GET') {
        if (!sameSecret(fromQuery, access.token)) return deny(c, 401, UNAUTHORIZED);
        setCookie(c, name, access.token, { httpOnly: true, sameSite: 'Strict', path: '/' });
        url.searchParams.delete('token');
        return c.redirect(`${url.pathname}${url.search}`, 303);
      }
      const bearer = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
      const cookie = getCookie(c, name);
      viaHeader = bearer !== undefined && sameSecret(bearer, access.token);
      if (!viaHeader && !(cookie !== undefined && sameSecret(cookie, access.token))) {
        return deny(c, 401, UNAUTHORIZED);
      }
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && !viaHeader) {
      // A browser always sends Origin on a POST; a header-authenticated script is no CSRF risk.
      const origin = c.req.header('origin');
      if (origin !== `${url.protocol}//${hostHeader}`) {
        return deny(
          c,
          403,
          `forbidden: controls need a same-origin request (Origin ${JSON.stringify(origin ?? null)})`,
        );
      }
      if (!(c.req.header('content-type') ?? '').startsWith('application/json')) {
        return deny(c, 403, 'forbidden: controls take a JSON body (Content-Type: application/json)');
      }
    }
    await next();
  };
}
