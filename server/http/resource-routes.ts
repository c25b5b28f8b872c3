import { z } from 'zod';
import type { ErrorName } from '../../shared/errors.js';
import type { ApiKeyScope } from '../../shared/schemas/api-keys.js';
import { envelopeOf, objectIdSchema } from '../../shared/schemas/common.js';
import type { ApiRouter } from './api-router.js';
import { sendData } from './respond.js';

/** The `:id` of a resource addressed by its 24-hex id. */
export const objectIdParams = z.object({ id: objectIdSchema });

/** What the by-id routes are declared with; the rest of their declaration is the same for every resource. */
interface ByIdSpec {
  path: string;
  tag: string;
  summary: string;
  scope: ApiKeyScope;
  /** The id's schema, when not a 24-hex id. */
  params?: z.ZodObject<{ id: z.ZodType<string> }>;
  /** Errors besides NotFoundError. */
  errors?: ErrorName[];
}

/**
 * `GET <path>` (ending in `/:id`) of one of the caller's organization's resources: `read` answers it as
 * `item` documents it, or throws (404 when the organization has no such resource).
 */
export function getByIdRoute(
  api: ApiRouter,
  spec: ByIdSpec & { item: z.ZodType },
  read: (organizationId: string, id: string) => Promise<unknown>,
): void {
  api.route(
    {
      method: 'get',
      path: spec.path,
      tag: spec.tag,
      summary: spec.summary,
      scope: spec.scope,
      params: spec.params ?? objectIdParams,
      response: envelopeOf(spec.item),
      errors: ['NotFoundError', ...(spec.errors ?? [])],
    },
    async ({ params, principal, res }) => {
      sendData(res, await read(principal.organizationId, params.id));
    },
  );
}

/**
 * `DELETE <path>` (ending in `/:id`) of one of the caller's organization's resources: `remove` deletes it
 * or throws (404 when the organization has no such resource), and the answer is `{ id, deleted: true }`.
 */
export function deleteByIdRoute(
  api: ApiRouter,
  spec: ByIdSpec,
  remove: (organizationId: string, id: string) => Promise<unknown>,
): void {
  api.route(
    {
      method: 'delete',
      path: spec.path,
      tag: spec.tag,
      summary: spec.summary,
      scope: spec.scope,
      params: spec.params ?? objectIdParams,
      response: envelopeOf(z.object({ id: z.string(), deleted: z.literal(true) })),
      errors: ['NotFoundError', ...(spec.errors ?? [])],
    },
    async ({ params, principal, res }) => {
      await remove(principal.organizationId, params.id);
      sendData(res, { id: params.id, deleted: true });
    },
  );
}
