import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Types } from 'mongoose';
import { idempotencyKeyOf } from '../actions/action-runner.js';
import { collectGarbage } from '../test/collect-garbage.js';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startFakeShop, type FakeShop } from '../test/fake-shop.js';
import { startSecondNode, startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

interface Execution {
  id: string;
  status: string;
  output: string | null;
  error: string | null;
  attempts: number;
  interruptions: number;
  scheduledFor: string | null;
  steps: Array<{ type: string; name: string | null; status: string | null; result: unknown }>;
}

async function until<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('agent loops', () => {
  let fake: FakeLlm;
  let shop: FakeShop;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  let actionId: string;
  const env = {
    OPENAI_BASE_URL: '',
    OPENAI_API_KEY: 'test',
    OPENAI_MODEL: 'fake-chat',
    MODEL_RETRY_BACKOFF_MS: '10',
    URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1',
    AGENT_LOOP_POLL_MS: '50',
    AGENT_LOOP_LEASE_MS: '1000',
  };

  beforeAll(async () => {
    [fake, shop] = await Promise.all([startFakeLlm(), startFakeShop()]);
    env.OPENAI_BASE_URL = fake.url;
    t = await startTestApp({ env });
    org = await t.createOrg();
    botId = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Ops' })).body.data.id;
    const action = await org.api.post<{ id: string }>(`/api/v1/chatbots/${botId}/actions`, {
      name: 'order_status',
      description: 'Status of an order',
      parameters: { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] },
      request: { method: 'GET', url: `${shop.url}/api/orders/{params.orderNumber}` },
      responseFields: ['status'],
    });
    actionId = action.body.data.id;
  });
  afterAll(async () => {
    await t.stop();
    await Promise.all([fake.stop(), shop.stop()]);
  });

  const createLoop = (body: Record<string, unknown> = {}) =>
    org.api.post<{ id: string; nextRunAt: string | null }>('/api/v1/agent-loops', {
      name: 'Order check',
      chatbotId: botId,
      instructions: 'Check the order #tool:order_status {"orderNumber":"1001"}',
      tools: [actionId, 'search_knowledge'],
      ...body,
    });

  it('refuses an unknown tool, a bad cron or time zone and a bad input schema with 422', async () => {
    for (const [body, field] of [
      [{ tools: ['665f1c2ab9d4e8f0a1b2c3d4'] }, 'tools.0'],
      [{ schedule: { cron: 'every day', timezone: 'UTC' } }, 'schedule'],
      [{ schedule: { cron: '0 6 * * *', timezone: 'Mars/Olympus' } }, 'schedule'],
      [{ input: { type: 'array' } }, 'input.type'],
    ] as const) {
      const res = await createLoop(body);
      expect(res.status, field).toBe(422);
      expect(JSON.stringify(res.body.error), field).toContain(field);
    }
    const scheduled = await createLoop({ schedule: { cron: '0 6 * * *', timezone: 'Europe/Berlin' } });
    expect(scheduled.status).toBe(201);
    expect(scheduled.body.data.nextRunAt).toMatch(/T0[45]:00:00\.000Z$/);
  });

  it('runs on demand with ?wait=true: calls the action, answers from it, and lists each step', async () => {
    const loop = await createLoop();
    const res = await org.api.post<Execution>(`/api/v1/agent-loops/${loop.body.data.id}/run?wait=true`, { input: {} });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ status: 'completed', attempts: 1, interruptions: 0 });
    expect(res.body.data.output).toContain('shipped');
    expect(res.body.data.steps).toEqual([
      expect.objectContaining({ type: 'tool', name: 'order_status', status: 'succeeded' }),
      expect.objectContaining({ type: 'model', status: 'stop' }),
    ]);
    const runs = await org.api.get<Array<{ source: string }>>(`/api/v1/actions/${actionId}/runs`);
    expect(runs.body.data[0]?.source).toBe('loop');
  });

  it('answers 202 with a queued execution, which completes; a step limit is a status of its own', async () => {
    const loop = await createLoop({ maxSteps: 1 });
    const res = await org.api.post<Execution>(`/api/v1/agent-loops/${loop.body.data.id}/run`, { input: {} });
    expect(res.status).toBe(202);
    const done = await until(async () => {
      const got = await org.api.get<Execution>(`/api/v1/executions/${res.body.data.id}`);
      return ['queued', 'running'].includes(got.body.data.status) ? null : got.body.data;
    });
    expect(done.status).toBe('step_limit');
    expect(done.error).toContain('maxSteps');
  });

  it('retries an execution whose server died mid-run once, marked interrupted; a second death ends it', async () => {
    const loop = await createLoop();
    const dead = (attempts: number) =>
      t.app.models.AgentLoopExecution.create({
        organizationId: org.id,
        chatbotId: botId,
        loopId: loop.body.data.id,
        trigger: 'api',
        dedupeKey: `api:dead-${attempts}`,
        input: {},
        // What a killed process leaves: running, its lease run out.
        status: 'running',
        attempts,
        runAt: new Date(0),
        lockedUntil: new Date(Date.now() - 1),
        lockToken: 'dead-process',
      });
    const once = await dead(1);
    const retried = await until(async () => {
      const got = await org.api.get<Execution>(`/api/v1/executions/${once._id.toString()}`);
      return got.body.data.status === 'completed' ? got.body.data : null;
    });
    expect(retried).toMatchObject({ attempts: 2, interruptions: 1 });
    const twice = await dead(2);
    const ended = await until(async () => {
      const got = await org.api.get<Execution>(`/api/v1/executions/${twice._id.toString()}`);
      return got.body.data.status === 'interrupted' ? got.body.data : null;
    });
    expect(ended.error).toContain('gave up');
    expect(ended).toMatchObject({ attempts: 2, interruptions: 2 });
  });

  describe('a retried execution resumes from its saved progress', () => {
    // What a process killed inside its tool call leaves: the model asked for `call_cut` at step 1, no result yet.
    const cut = async (orderNumber: string) => {
      const loop = await createLoop();
      const executionId = new Types.ObjectId();
      const call = { id: 'call_cut', name: 'order_status', arguments: JSON.stringify({ orderNumber }) };
      const progress = {
        step: 1,
        messages: [
          { role: 'system', content: 'You run an automated workflow for Ops. Use the tools when they help.' },
          { role: 'user', content: `Check the order ${orderNumber}\n\nInput: {}` },
          { role: 'assistant', content: null, toolCalls: [] },
        ],
        toolCalls: [],
        tokens: { prompt: 40, completion: 5 },
        retries: 0,
        planned: [call],
      };
      const create = (attempts = 1) =>
        t.app.models.AgentLoopExecution.create({
          _id: executionId,
          organizationId: org.id,
          chatbotId: botId,
          loopId: loop.body.data.id,
          trigger: 'api',
          dedupeKey: `api:${executionId.toString()}`,
          input: {},
          progress,
          status: 'running',
          attempts,
          runAt: new Date(0),
          lockedUntil: new Date(Date.now() - 1),
          lockToken: 'dead-process',
        });
      return { executionId: executionId.toString(), create };
    };
    const finished = (id: string) =>
      until(async () => {
        const got = await org.api.get<Execution>(`/api/v1/executions/${id}`);
        return ['queued', 'running'].includes(got.body.data.status) ? null : got.body.data;
      });

    it('reuses a stored answer: the call is not sent again and the model is not asked again for it', async () => {
      const { executionId, create } = await cut('2002');
      const runId = new Types.ObjectId();
      await t.app.models.ActionCallIntent.create({
        executionId,
        chatbotId: botId,
        callKey: '1:call_cut',
        actionId,
        runId,
        idempotencyKey: idempotencyKeyOf(executionId, '1:call_cut'),
        sends: 1,
        outcome: {
          status: 'succeeded',
          httpStatus: 200,
          result: { status: 'stored-answer' },
          error: null,
          problems: [],
        },
      });
      const before = fake.calls.length;
      await create();
      const done = await finished(executionId);
      expect(done).toMatchObject({ status: 'completed', attempts: 2, interruptions: 1 });
      expect(done.output).toContain('stored-answer');
      expect(done.steps).toEqual([
        expect.objectContaining({ type: 'tool', name: 'order_status', result: { status: 'stored-answer' } }),
        expect.objectContaining({
          type: 'model',
          tokens: { prompt: expect.any(Number), completion: expect.any(Number) },
        }),
      ]);
      // The saved step's tokens count with the retry's.
      expect((done.steps[1] as unknown as { tokens: { prompt: number } }).tokens.prompt).toBeGreaterThan(40);
      expect(shop.requests.filter((r) => r.target.includes('2002'))).toHaveLength(0);
      // One model call: the answer from the result; the step that asked for the call was not asked again.
      expect(fake.calls.slice(before).filter((c) => c.path === '/v1/chat/completions')).toHaveLength(1);
    });

    it('resends an intent without an answer once, with the same Idempotency-Key, and the run counts both sends', async () => {
      const { executionId, create } = await cut('2003');
      const runId = new Types.ObjectId();
      const key = idempotencyKeyOf(executionId, '1:call_cut');
      await t.app.models.ActionCallIntent.create({
        executionId,
        chatbotId: botId,
        callKey: '1:call_cut',
        actionId,
        runId,
        idempotencyKey: key,
        sends: 1,
      });
      await t.app.models.ActionRun.create({
        _id: runId,
        organizationId: org.id,
        chatbotId: botId,
        actionId,
        source: 'loop',
        status: 'sending',
        durationMs: 0,
        executionId,
        arguments: { orderNumber: '2003' },
        idempotencyKey: key,
        sends: 1,
      });
      await create();
      const done = await finished(executionId);
      expect(done).toMatchObject({ status: 'completed', attempts: 2, interruptions: 1 });
      const sent = shop.requests.filter((r) => r.target.includes('2003'));
      expect(sent).toHaveLength(1);
      expect(sent[0]!.headers['idempotency-key']).toBe(key);
      const runs = await org.api.get<Array<{ id: string; status: string; sends: number; idempotencyKey: string }>>(
        `/api/v1/actions/${actionId}/runs?perPage=100`,
      );
      expect(runs.body.data.filter((r) => r.id === runId.toString())).toEqual([
        expect.objectContaining({ status: 'succeeded', sends: 2, idempotencyKey: key }),
      ]);
    });

    it('sends every loop call with an Idempotency-Key derived from the execution', async () => {
      const loop = await createLoop();
      const res = await org.api.post<Execution>(`/api/v1/agent-loops/${loop.body.data.id}/run?wait=true`, {
        input: {},
      });
      expect(res.body.data.status).toBe('completed');
      const run = await t.app.models.ActionRun.findOne({ executionId: res.body.data.id }).lean();
      expect(run).toMatchObject({ status: 'succeeded', sends: 1 });
      expect(run!.idempotencyKey).toMatch(new RegExp(`^wisp-${res.body.data.id}-[0-9a-f]{24}$`));
      expect(shop.requests.at(-1)!.headers['idempotency-key']).toBe(run!.idempotencyKey);
    });

    it('a call cut by the loop’s time limit keeps no made-up answer: the run is interrupted, the status timeout', async () => {
      const held: ServerResponse[] = [];
      const silent = createServer((_req, res) => held.push(res));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const action = await org.api.post<{ id: string }>(`/api/v1/chatbots/${botId}/actions`, {
          name: 'slow_status',
          description: 'Status from a system that never answers',
          parameters: { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] },
          request: {
            method: 'GET',
            url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/orders/{params.orderNumber}`,
          },
          timeoutMs: 30_000,
        });
        expect(action.status).toBe(201);
        const loop = await createLoop({
          instructions: 'Check the order #tool:slow_status {"orderNumber":"3001"}',
          tools: [action.body.data.id],
          timeoutMs: 1_000,
        });
        const res = await org.api.post<Execution>(`/api/v1/agent-loops/${loop.body.data.id}/run`, { input: {} });
        // Collections during the wait once lost the time limit's timer (AbortSignal.any of AbortSignal.timeout).
        const collecting = setInterval(collectGarbage, 50);
        const done = await finished(res.body.data.id).finally(() => clearInterval(collecting));
        expect(done.status).toBe('timeout');
        const run = await t.app.models.ActionRun.findOne({ executionId: res.body.data.id }).lean();
        expect(run).toMatchObject({ status: 'interrupted', sends: 1 });
        // The saved progress holds the model's call and no result for it.
        const execution = await t.app.models.AgentLoopExecution.findById(res.body.data.id).lean();
        const progress = execution!.progress as { planned: unknown[]; toolCalls: unknown[] };
        expect(progress.planned).toHaveLength(1);
        expect(progress.toolCalls).toHaveLength(0);
      } finally {
        for (const res of held) res.destroy();
        silent.closeAllConnections();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('marks a call still out when its execution ends (cut twice) as interrupted', async () => {
      const { executionId, create } = await cut('2004');
      const runId = new Types.ObjectId();
      await t.app.models.ActionRun.create({
        _id: runId,
        organizationId: org.id,
        chatbotId: botId,
        actionId,
        source: 'loop',
        status: 'sending',
        durationMs: 0,
        executionId,
        arguments: { orderNumber: '2004' },
        sends: 2,
      });
      // Cut twice: the claim past the last attempt ends it.
      await create(2);
      const ended = await finished(executionId);
      expect(ended.status).toBe('interrupted');
      const run = await until(async () => {
        const found = await t.app.models.ActionRun.findById(runId).lean();
        return found?.status === 'interrupted' ? found : null;
      });
      expect(run.error).toContain('whether it acted is unknown');
      expect(shop.requests.filter((r) => r.target.includes('2004'))).toHaveLength(0);
    });
  });

  it('runs a schedule once per due time across two server processes', async () => {
    // A second node on the same database.
    const second = await startSecondNode(t, { config: { ...t.config, PORT: 0 } });
    try {
      const loop = await createLoop({ schedule: { cron: '* * * * * *', timezone: 'UTC' } });
      const loopId = loop.body.data.id;
      await until(async () => (await t.app.models.AgentLoopExecution.countDocuments({ loopId, status: 'done' })) >= 3);
      await org.api.patch(`/api/v1/agent-loops/${loopId}`, { enabled: false });
      const executions = await t.app.models.AgentLoopExecution.find({ loopId, trigger: 'schedule' }).lean();
      const dueTimes = executions.map((e) => e.scheduledFor!.toISOString());
      expect(new Set(dueTimes).size).toBe(dueTimes.length);
      for (const execution of executions.filter((e) => e.status === 'done')) expect(execution.attempts).toBe(1);
    } finally {
      await second.stop();
    }
  });
});
