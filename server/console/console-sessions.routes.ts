import { z } from 'zod';
import { envelopeOf, objectIdSchema, pageOf, paginationQuerySchema } from '../../shared/schemas/common.js';
import {
  consoleSessionSchema,
  createConsoleSessionSchema,
  currentConsoleSessionSchema,
} from '../../shared/schemas/console-sessions.js';
import type { ApiKeyPrincipal } from '../api-keys/api-keys.service.js';
import { AppError } from '../errors/app-error.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { ConsoleSessionsService, SessionPrincipal } from './console-sessions.service.js';
import { clearSessionCookie, sessionTokenOf, setSessionCookie } from './session-cookie.js';

const idParams = z.object({ id: objectIdSchema });

const sessionIdOf = (principal: ApiKeyPrincipal): string | null =>
  (principal as Partial<SessionPrincipal>).sessionId ?? null;

/** The owner console's sign-in: an API key or one-time link exchanged for an HttpOnly session cookie. */
export function mountConsoleSessionRoutes(api: ApiRouter, sessions: ConsoleSessionsService): void {
  const tag = 'Console sessions';
  const requireSession = (principal: ApiKeyPrincipal, token: string | null): { id: string; token: string } => {
    const id = sessionIdOf(principal);
    if (!id || !token) {
      throw new AppError('BadRequestError', {
        message: 'This request was made with an API key, not a console session: sign in at /console first',
      });
    }
    return { id, token };
  };
  api.route(
    {
      method: 'post',
      path: '/console/sessions',
      tag,
      summary:
        'Sign in to the owner console: exchanges an API key (or a one-time console link) for an HttpOnly session cookie with the key’s scopes; answers the CSRF token to send as X-CSRF-Token on every change',
      scope: 'public',
      body: createConsoleSessionSchema,
      response: envelopeOf(currentConsoleSessionSchema),
      status: 201,
      errors: ['UnauthorizedError'],
    },
    async ({ body, req, res }) => {
      const { token, session } = await sessions.create(body, req.get('user-agent') ?? null);
      setSessionCookie(req, res, token, new Date(session.expiresAt));
      res.setHeader('Cache-Control', 'no-store');
      sendData(res, session, 201);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/console/sessions/current',
      tag,
      summary: 'The console session this request carries, with its scopes and CSRF token',
      scope: 'any',
      response: envelopeOf(currentConsoleSessionSchema),
    },
    async ({ principal, req, res }) => {
      const { token } = requireSession(principal, sessionTokenOf(req));
      res.setHeader('Cache-Control', 'no-store');
      sendData(res, await sessions.current(token));
    },
  );
  api.route(
    {
      method: 'delete',
      path: '/console/sessions/current',
      tag,
      summary: 'Sign out: revokes the console session this request carries and clears its cookie',
      scope: 'any',
      response: envelopeOf(consoleSessionSchema),
    },
    async ({ principal, req, res }) => {
      const { id } = requireSession(principal, sessionTokenOf(req));
      const revoked = await sessions.revoke(principal.organizationId, id, id);
      clearSessionCookie(req, res);
      sendData(res, revoked);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/console/sessions',
      tag,
      summary: "List the organization's console sessions, newest first (active, expired and revoked)",
      scope: 'admin',
      query: paginationQuerySchema,
      response: pageOf(consoleSessionSchema),
    },
    async ({ query, principal, res }) => {
      const { items, total } = await sessions.list(
        principal.organizationId,
        sessionIdOf(principal),
        query.page,
        query.perPage,
      );
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'delete',
      path: '/console/sessions/:id',
      tag,
      summary: 'Revoke a console session: its next request answers 401',
      scope: 'admin',
      params: idParams,
      response: envelopeOf(consoleSessionSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await sessions.revoke(principal.organizationId, params.id, sessionIdOf(principal)));
    },
  );
}
