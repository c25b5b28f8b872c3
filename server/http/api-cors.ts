import type { RequestHandler } from 'express';
import cors from 'cors';

export interface OpenCorsOptions {
  /** Request headers a preflight allows (default: whatever the preflight asks for). */
  allowedHeaders?: string[];
  exposedHeaders: string[];
  /** How long a browser may keep a preflight's answer, in seconds. */
  maxAge: number;
}

/**
 * CORS open to any origin (`Access-Control-Allow-Origin: *`, no credentials), as the `cors` package
 * answers it with `origin: '*'`: a preflight (`OPTIONS`) is answered by that package itself, and any other
 * request gets its two constant headers directly, without the package's per-request option merging
 * and callbacks.
 */
export function openCors(options: OpenCorsOptions): RequestHandler {
  const preflight = cors({ origin: '*', ...options });
  const exposed = options.exposedHeaders.join(',');
  return (req, res, next) => {
    if (req.method === 'OPTIONS') return preflight(req, res, next);
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (exposed) res.setHeader('Access-Control-Expose-Headers', exposed);
    next();
  };
}
