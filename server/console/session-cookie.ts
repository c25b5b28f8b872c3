import type { Request, Response } from 'express';

/** The console's session cookie: HttpOnly, SameSite=Strict, sent only to the API. */
export const SESSION_COOKIE = 'wisp_console';
const COOKIE_PATH = '/api/v1';

/** The session token from the request's cookies, if any. */
export function sessionTokenOf(req: Request): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

export function setSessionCookie(req: Request, res: Response, token: string, expiresAt: Date): void {
  // Secure whenever the console is reached over HTTPS (directly, or behind a proxy that says so).
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    secure: req.secure,
    sameSite: 'strict',
    path: COOKIE_PATH,
    expires: expiresAt,
  });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, secure: req.secure, sameSite: 'strict', path: COOKIE_PATH });
}

/** Methods that change nothing, and so need no CSRF token. */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
