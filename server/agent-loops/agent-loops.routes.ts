import { z } from 'zod';
import {
  agentLoopSchema,
  createAgentLoopSchema,
  executionSchema,
  runAgentLoopSchema,
  updateAgentLoopSchema,
} from '../../shared/schemas/agent-loops.js';
import { envelopeOf, objectIdSchema, pageOf, paginationQuerySchema } from '../../shared/schemas/common.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { AgentLoopsService } from './agent-loops.service.js';

const idParams = z.object({ id: objectIdSchema });
/** How long `?wait=true` waits for the execution before answering 202 with it still running. */
const WAIT_MS = 30_000;

export function mountAgentLoopRoutes(api: ApiRouter, loops: AgentLoopsService): void {
  const tag = 'Agent loops';
  api.route(
    {
      method: 'get',
      path: '/agent-loops',
      tag,
      summary: 'List agent loops',
      scope: 'agent_loops:write',
      query: paginationQuerySchema,
      response: pageOf(agentLoopSchema),
    },
    async ({ query, principal, res }) => {
      const { items, total } = await loops.list(principal.organizationId, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/agent-loops',
      tag,
      summary:
        'Create an agent loop: a goal, tools (action ids, search_knowledge), an input schema, limits and an optional cron schedule',
      scope: 'agent_loops:write',
      body: createAgentLoopSchema,
      response: envelopeOf(agentLoopSchema),
      status: 201,
      errors: ['NotFoundError', 'ValidationError'],
    },
    async ({ body, principal, res }) => {
      sendData(res, await loops.create(principal.organizationId, body), 201);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/agent-loops/:id',
      tag,
      summary: 'Get an agent loop',
      scope: 'agent_loops:write',
      params: idParams,
      response: envelopeOf(agentLoopSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await loops.get(principal.organizationId, params.id));
    },
  );
  api.route(
    {
      method: 'patch',
      path: '/agent-loops/:id',
      tag,
      summary: 'Update an agent loop',
      scope: 'agent_loops:write',
      params: idParams,
      body: updateAgentLoopSchema,
      response: envelopeOf(agentLoopSchema),
      errors: ['NotFoundError', 'ValidationError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await loops.update(principal.organizationId, params.id, body));
    },
  );
  api.route(
    {
      method: 'delete',
      path: '/agent-loops/:id',
      tag,
      summary: 'Delete an agent loop (its executions stay listed under /executions/:id)',
      scope: 'agent_loops:write',
      params: idParams,
      response: envelopeOf(z.object({ id: z.string(), deleted: z.literal(true) })),
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      await loops.remove(principal.organizationId, params.id);
      sendData(res, { id: params.id, deleted: true });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/agent-loops/:id/run',
      tag,
      summary:
        'Run an agent loop: 202 with the queued execution, or with `?wait=true` 200 with the finished one (202 if still running after 30 s)',
      scope: 'agent_loops:run',
      params: idParams,
      query: z.object({ wait: z.enum(['true', 'false']).optional() }),
      body: runAgentLoopSchema,
      response: envelopeOf(executionSchema),
      status: 202,
      errors: ['NotFoundError', 'ValidationError'],
    },
    async ({ params, query, body, principal, res }) => {
      const waitMs = query.wait === 'true' ? WAIT_MS : 0;
      const { execution, finished } = await loops.run(principal.organizationId, params.id, body.input, waitMs);
      sendData(res, execution, finished ? 200 : 202);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/agent-loops/:id/executions',
      tag,
      summary: "List a loop's executions, newest first",
      scope: 'agent_loops:run',
      params: idParams,
      query: paginationQuerySchema,
      response: pageOf(executionSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const { items, total } = await loops.executions(principal.organizationId, params.id, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'get',
      path: '/executions/:id',
      tag,
      summary: 'Get an execution: status, steps (model and tool calls with tokens and timing), output, error',
      scope: 'agent_loops:run',
      params: idParams,
      response: envelopeOf(executionSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await loops.execution(principal.organizationId, params.id));
    },
  );
}
