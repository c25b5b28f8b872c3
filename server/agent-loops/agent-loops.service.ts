import { Cron } from 'croner';
import { Types } from 'mongoose';
import {
  SEARCH_KNOWLEDGE,
  type AgentLoopDto,
  type CreateAgentLoopInput,
  type ExecutionDto,
  type ExecutionStatus,
  type UpdateAgentLoopInput,
} from '../../shared/schemas/agent-loops.js';
import type { ActionsService } from '../actions/actions.service.js';
import { linkSignalWithTimeout } from '../lib/linked-signal.js';
import { checkParameterSchema, validateArguments, type SchemaProblem } from '../actions/parameter-schema.js';
import { runToolTurn, type TurnProgress } from '../actions/tool-turn.js';
import type { Retriever } from '../chat/retriever.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import { AppError, notFound } from '../errors/app-error.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { EventPublisher } from '../events/domain-events.js';
import type { ModelResolver } from '../llm/model-resolver.js';
import type { Logger } from '../logger.js';
import { LeaseQueue, queuedJobState, type JobCollection, type LeasedJob } from '../queue/lease-queue.js';
import type { UsageService } from '../usage/usage.service.js';
import type { AgentLoopModel, AgentLoopRecord, ExecutionModel, ExecutionRecord } from './agent-loop.model.js';

export interface AgentLoopSettings {
  leaseMs: number;
  pollMs: number;
  /** How often each node looks for due schedules. */
  schedulePollMs: number;
  /** The longest `?wait=true` waits before answering 202 anyway. */
  maxWaitMs: number;
}

export interface AgentLoopsDeps {
  models: { AgentLoop: AgentLoopModel; Execution: ExecutionModel };
  chatbots: ChatbotsService;
  actions: ActionsService;
  modelResolver: ModelResolver;
  retriever: Retriever;
  usage: UsageService;
  events: EventPublisher;
  logger: Logger;
  settings: AgentLoopSettings;
}

/** Attempts an execution gets: the first, and one retry after an interruption (a crash or a stop mid-run). */
const MAX_ATTEMPTS = 2;

/**
 * How an execution the queue gave up on ended: interrupted when every attempt was cut (the claim past the last
 * attempt only ends it), failed when an attempt itself failed.
 */
function endedAs(job: { attempts: number }): ExecutionStatus {
  return job.attempts > MAX_ATTEMPTS ? 'interrupted' : 'failed';
}

/** A limit stopped the run: a status of its own, not a retryable failure. */
class LoopStopped extends Error {
  constructor(
    readonly status: ExecutionStatus,
    message: string,
  ) {
    super(message);
  }
}

function invalid(problems: SchemaProblem[]): AppError {
  return new AppError('ValidationError', {
    message: `Invalid body: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    details: { fields: problems },
  });
}

/** The next due time of a schedule after `from`, or a 422 naming the field. */
function nextRun(schedule: { cron: string; timezone: string }, from = new Date()): Date {
  let next: Date | null;
  try {
    next = new Cron(schedule.cron, { timezone: schedule.timezone, paused: true }).nextRun(from);
  } catch (error) {
    throw invalid([
      { path: 'schedule', message: error instanceof Error ? error.message : 'invalid cron or time zone' },
    ]);
  }
  if (!next) throw invalid([{ path: 'schedule.cron', message: 'never runs again' }]);
  return next;
}

function toDto(doc: AgentLoopRecord): AgentLoopDto {
  const schedule = doc.schedule as { cron: string; timezone: string } | null;
  return {
    id: doc._id.toString(),
    name: doc.name,
    chatbotId: doc.chatbotId.toString(),
    instructions: doc.instructions,
    tools: doc.tools,
    input: doc.input as Record<string, unknown>,
    schedule: schedule ? { cron: schedule.cron, timezone: schedule.timezone } : null,
    nextRunAt: doc.enabled && doc.nextRunAt ? doc.nextRunAt.toISOString() : null,
    maxSteps: doc.maxSteps,
    maxTokens: doc.maxTokens,
    timeoutMs: doc.timeoutMs,
    enabled: doc.enabled,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

export function toExecutionDto(doc: ExecutionRecord): ExecutionDto {
  const status: ExecutionStatus =
    doc.status === 'queued' || doc.status === 'running'
      ? doc.status
      : ((doc.outcome as ExecutionStatus | null) ?? (doc.status === 'done' ? 'completed' : 'failed'));
  return {
    id: doc._id.toString(),
    loopId: doc.loopId.toString(),
    trigger: doc.trigger as ExecutionDto['trigger'],
    status,
    input: doc.input ?? {},
    steps: (doc.steps ?? []) as ExecutionDto['steps'],
    output: doc.output ?? null,
    error: doc.error ?? doc.lastError ?? null,
    attempts: doc.attempts,
    interruptions: doc.interruptions ?? 0,
    scheduledFor: doc.scheduledFor?.toISOString() ?? null,
    durationMs: doc.durationMs ?? null,
    createdAt: doc.createdAt.toISOString(),
    finishedAt: doc.finishedAt?.toISOString() ?? null,
  };
}

/**
 * Agent loops: saved goals with tools and limits, run on demand or on a schedule as durable jobs on the lease
 * queue. A due schedule is enqueued once across nodes (a unique `scheduledFor` per loop), and an execution
 * whose server stopped mid-run is marked interrupted and retried once.
 */
export class AgentLoopsService {
  private readonly queue: LeaseQueue<ExecutionRecord & { attempts: number }>;
  private scheduleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: AgentLoopsDeps) {
    this.queue = new LeaseQueue(
      deps.models.Execution as unknown as JobCollection,
      {
        process: (job, signal) => this.execute(job, signal),
        classify: () => ({ retryable: false, reason: 'the execution failed' }),
        onFailed: (job, reason) => this.onGaveUp(job, reason),
        failedFields: (job, reason) => ({
          outcome: endedAs(job),
          error: reason,
          // Each attempt was cut; the last one is counted here, as no attempt follows it.
          ...(endedAs(job) === 'interrupted' ? { interruptions: MAX_ATTEMPTS } : {}),
        }),
      },
      {
        name: 'agent-loops',
        concurrency: 2,
        leaseMs: deps.settings.leaseMs,
        pollMs: deps.settings.pollMs,
        maxAttempts: MAX_ATTEMPTS,
        retryDelayMs: () => 0,
      },
      deps.logger,
    );
  }

  start(): void {
    this.queue.start();
    const tick = () => {
      this.enqueueDue()
        .catch((error: unknown) => this.deps.logger.error({ err: error }, 'scheduling agent loops failed'))
        .finally(() => {
          if (this.scheduleTimer) this.scheduleTimer = setTimeout(tick, this.deps.settings.schedulePollMs);
        });
    };
    this.scheduleTimer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    if (this.scheduleTimer) clearTimeout(this.scheduleTimer);
    this.scheduleTimer = null;
    await this.queue.stop();
  }

  async create(organizationId: string, input: CreateAgentLoopInput): Promise<AgentLoopDto> {
    const bot = await this.deps.chatbots.find(organizationId, input.chatbotId);
    await this.check(organizationId, bot._id.toString(), input.tools, input.input);
    const doc = await this.deps.models.AgentLoop.create({
      ...input,
      organizationId: bot.organizationId,
      chatbotId: bot._id,
      nextRunAt: input.schedule ? nextRun(input.schedule) : null,
    });
    return toDto(doc);
  }

  async list(organizationId: string, page: number, perPage: number) {
    const filter = { organizationId: new Types.ObjectId(organizationId) };
    const { items, total } = await findPage(
      this.deps.models.AgentLoop.find(filter).sort(NEWEST_FIRST),
      this.deps.models.AgentLoop.countDocuments(filter),
      page,
      perPage,
    );
    return { items: items.map(toDto), total };
  }

  async get(organizationId: string, id: string): Promise<AgentLoopDto> {
    return toDto(await this.find(organizationId, id));
  }

  async update(organizationId: string, id: string, input: UpdateAgentLoopInput): Promise<AgentLoopDto> {
    const doc = await this.find(organizationId, id);
    if (input.tools || input.input)
      await this.check(
        organizationId,
        doc.chatbotId.toString(),
        input.tools ?? doc.tools,
        input.input ?? (doc.input as Record<string, unknown>),
      );
    doc.set(input);
    if (input.input) doc.markModified('input');
    if (input.schedule !== undefined) {
      doc.markModified('schedule');
      doc.nextRunAt = input.schedule ? nextRun(input.schedule) : null;
    }
    await doc.save();
    return toDto(doc);
  }

  async remove(organizationId: string, id: string): Promise<void> {
    const doc = await this.find(organizationId, id);
    await this.deps.models.AgentLoop.deleteOne({ _id: doc._id });
  }

  /** Queues a run; with `waitMs`, waits (condition-based) for it to finish and returns it either way. */
  async run(
    organizationId: string,
    id: string,
    input: Record<string, unknown>,
    waitMs: number,
  ): Promise<{ execution: ExecutionDto; finished: boolean }> {
    const loop = await this.find(organizationId, id);
    const problems = validateArguments(loop.input as Record<string, unknown>, input);
    if (problems.length > 0)
      throw invalid(problems.map((p) => ({ ...p, path: p.path.replace(/^parameters/, 'input') })));
    const executionId = new Types.ObjectId();
    await this.deps.models.Execution.create({
      _id: executionId,
      organizationId: loop.organizationId,
      chatbotId: loop.chatbotId,
      loopId: loop._id,
      trigger: 'api',
      dedupeKey: `api:${executionId.toString()}`,
      input,
      ...queuedJobState(),
    });
    this.queue.notify();
    const deadline = Date.now() + Math.min(waitMs, this.deps.settings.maxWaitMs);
    for (;;) {
      const doc = await this.deps.models.Execution.findById(executionId);
      const finished = doc!.status === 'done' || doc!.status === 'failed';
      if (finished || Date.now() >= deadline) return { execution: toExecutionDto(doc!), finished };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async executions(organizationId: string, loopId: string, page: number, perPage: number) {
    const loop = await this.find(organizationId, loopId);
    const filter = { loopId: loop._id };
    const { items, total } = await findPage(
      this.deps.models.Execution.find(filter).sort(NEWEST_FIRST),
      this.deps.models.Execution.countDocuments(filter),
      page,
      perPage,
    );
    return { items: items.map(toExecutionDto), total };
  }

  async execution(organizationId: string, id: string): Promise<ExecutionDto> {
    const doc = Types.ObjectId.isValid(id)
      ? await this.deps.models.Execution.findOne({ _id: id, organizationId: new Types.ObjectId(organizationId) })
      : null;
    if (!doc) throw notFound('execution', id);
    return toExecutionDto(doc);
  }

  async deleteForChatbot(chatbotId: string): Promise<void> {
    const filter = { chatbotId: new Types.ObjectId(chatbotId) };
    await Promise.all([this.deps.models.AgentLoop.deleteMany(filter), this.deps.models.Execution.deleteMany(filter)]);
  }

  /** Enqueues every due schedule once: the execution insert is unique per (loop, due time) across nodes. */
  async enqueueDue(now = new Date()): Promise<void> {
    const due = await this.deps.models.AgentLoop.find({ enabled: true, nextRunAt: { $lte: now } }).limit(50);
    for (const loop of due) {
      const scheduledFor = loop.nextRunAt!;
      try {
        await this.deps.models.Execution.create({
          organizationId: loop.organizationId,
          chatbotId: loop.chatbotId,
          loopId: loop._id,
          trigger: 'schedule',
          scheduledFor,
          dedupeKey: `schedule:${scheduledFor.toISOString()}`,
          input: {},
          ...queuedJobState(),
        });
        this.queue.notify();
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      // Conditional on the due time read, so two nodes advance it once.
      await this.deps.models.AgentLoop.updateOne(
        { _id: loop._id, nextRunAt: scheduledFor },
        { $set: { nextRunAt: nextRun(loop.schedule as { cron: string; timezone: string }, now) } },
      );
    }
  }

  private async execute(
    job: LeasedJob<ExecutionRecord & { attempts: number }>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const execution = job.record;
    const started = Date.now();
    if (job.attempts > 1) {
      // The previous attempt's server stopped or crashed mid-run: say so, and go on once from its last saved
      // step (`progress`); its action calls are not made again (see `ActionRunner.runOnce`).
      await this.deps.models.Execution.updateOne(
        { _id: execution._id, lockToken: job.lockToken },
        { $inc: { interruptions: 1 }, $set: { steps: [] } },
      );
    }
    await this.deps.models.Execution.updateOne({ _id: execution._id }, { $set: { startedAt: new Date() } });
    const loop = await this.deps.models.AgentLoop.findById(execution.loopId);
    let outcome: { status: ExecutionStatus; output: string | null; error: string | null; steps: unknown[] };
    try {
      if (!loop) throw new LoopStopped('failed', 'the agent loop was deleted');
      outcome = await this.think(loop, job, signal);
    } catch (error) {
      if (signal.aborted && !(error instanceof LoopStopped)) throw error;
      outcome = {
        status: error instanceof LoopStopped ? error.status : 'failed',
        output: null,
        error: error instanceof Error ? error.message : 'the execution failed',
        steps: [],
      };
    }
    await this.deps.actions.runner.closeOpenCalls(execution._id.toString());
    const durationMs = Date.now() - started;
    const event = {
      organizationId: execution.organizationId.toString(),
      chatbotId: execution.chatbotId.toString(),
      loopId: execution.loopId.toString(),
      executionId: execution._id.toString(),
      status: outcome.status,
      output: outcome.output,
      error: outcome.error,
      steps: outcome.steps.length,
      durationMs,
    };
    // Stored for webhooks before the queue marks the execution done, so a crash cannot drop the event.
    await this.deps.events.notifyDurably(
      outcome.status === 'completed' ? 'agent_loop.completed' : 'agent_loop.failed',
      event,
    );
    return { outcome: outcome.status, output: outcome.output, error: outcome.error, steps: outcome.steps, durationMs };
  }

  private async think(
    loop: AgentLoopRecord,
    job: LeasedJob<ExecutionRecord & { attempts: number }>,
    outer: AbortSignal,
  ) {
    const execution = job.record;
    const bot = await this.deps.chatbots.find(loop.organizationId.toString(), loop.chatbotId.toString());
    const models = await this.deps.modelResolver.forChatbot(bot);
    if (!models.chat) throw new LoopStopped('failed', 'the chatbot has no chat model configured');
    const actionIds = loop.tools.filter((tool) => tool !== SEARCH_KNOWLEDGE);
    const actions = await this.deps.actions.byIds(loop.organizationId.toString(), actionIds);
    const builtins = loop.tools.includes(SEARCH_KNOWLEDGE)
      ? [
          {
            name: SEARCH_KNOWLEDGE,
            description: "Searches the bot's knowledge base; returns the best passages.",
            parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
            run: async (args: Record<string, unknown>) => {
              const found = await this.deps.retriever.retrieve(
                { chatbotId: bot._id.toString(), organizationId: bot.organizationId.toString() },
                String(args.query ?? ''),
                { limit: 5, embeddings: models.embeddings },
              );
              return found.passages.map((p) => ({ title: p.title, excerpt: p.excerpt }));
            },
          },
        ]
      : [];
    const timeout = linkSignalWithTimeout(outer, loop.timeoutMs);
    const signal = timeout.signal;
    const started = performance.now();
    let result;
    try {
      const turn = runToolTurn({
        model: models.chat,
        prompt: [
          { role: 'system', content: `You run an automated workflow for ${bot.name}. Use the tools when they help.` },
          { role: 'user', content: `${loop.instructions}\n\nInput: ${JSON.stringify(execution.input ?? {})}` },
        ],
        actions,
        runner: this.deps.actions.runner,
        user: null,
        conversationId: null,
        executionId: execution._id.toString(),
        source: 'loop',
        temperature: 0.2,
        maxTokens: Math.min(loop.maxTokens, 4_000),
        maxSteps: loop.maxSteps,
        signal,
        builtins,
        resume: (execution.progress as TurnProgress | null) ?? null,
        // Each model step and each tool result is kept with the execution, by the attempt holding it.
        checkpoint: async (progress) => {
          await this.deps.models.Execution.updateOne(
            { _id: execution._id, lockToken: job.lockToken },
            { $set: { progress } },
          );
        },
      });
      let step = await turn.next();
      while (!step.done) step = await turn.next();
      result = step.value;
    } catch (error) {
      if (!outer.aborted && signal.aborted)
        throw new LoopStopped('timeout', `stopped after timeoutMs (${loop.timeoutMs} ms)`);
      throw error;
    } finally {
      timeout.release();
    }
    const tokens = result.tokens;
    await this.deps.usage.increment(loop.organizationId.toString(), {
      promptTokens: tokens.prompt,
      completionTokens: tokens.completion,
    });
    const steps = [
      ...result.toolCalls.map((call) => ({
        type: 'tool',
        name: call.name,
        arguments: call.arguments,
        result: call.result,
        status: call.status,
        tokens: null,
        durationMs: null,
      })),
      {
        type: 'model',
        name: null,
        arguments: null,
        result: result.text,
        status: result.finishReason,
        tokens,
        durationMs: Math.round(performance.now() - started),
      },
    ];
    const stopped = (status: ExecutionStatus, error: string) => ({ status, output: null, error, steps });
    if (result.finishReason === 'step_limit') return stopped('step_limit', `stopped after maxSteps (${loop.maxSteps})`);
    if (result.pending)
      return stopped('failed', `the action ${result.pending.name} needs a confirmation, which a loop cannot give`);
    if (tokens.prompt + tokens.completion > loop.maxTokens)
      return stopped(
        'token_limit',
        `used ${tokens.prompt + tokens.completion} tokens, over maxTokens (${loop.maxTokens})`,
      );
    return { status: 'completed' as const, output: result.text, error: null, steps };
  }

  /** Announces an execution the queue gave up on (its outcome was written with the failure, see `endedAs`). */
  private async onGaveUp(job: LeasedJob<ExecutionRecord & { attempts: number }>, reason: string): Promise<void> {
    const execution = job.record;
    await this.deps.actions.runner.closeOpenCalls(execution._id.toString());
    await this.deps.events.notifyDurably('agent_loop.failed', {
      organizationId: execution.organizationId.toString(),
      chatbotId: execution.chatbotId.toString(),
      loopId: execution.loopId.toString(),
      executionId: execution._id.toString(),
      status: endedAs(job),
      output: null,
      error: reason,
      steps: 0,
      durationMs: 0,
    });
  }

  private async check(organizationId: string, chatbotId: string, tools: string[], input: Record<string, unknown>) {
    const problems = checkParameterSchema(input).map((p) => ({ ...p, path: p.path.replace(/^parameters/, 'input') }));
    const actionIds = tools.filter((tool) => tool !== SEARCH_KNOWLEDGE);
    const found = await this.deps.actions.byIds(organizationId, actionIds);
    for (const [i, tool] of tools.entries()) {
      if (tool === SEARCH_KNOWLEDGE) continue;
      const action = found.find((a) => a._id.toString() === tool);
      if (!action || action.chatbotId.toString() !== chatbotId)
        problems.push({
          path: `tools.${i}`,
          message: `"${tool}" is not an action of this chatbot nor ${SEARCH_KNOWLEDGE}`,
        });
    }
    if (problems.length > 0) throw invalid(problems);
  }

  private async find(organizationId: string, id: string): Promise<AgentLoopRecord> {
    const doc = Types.ObjectId.isValid(id)
      ? await this.deps.models.AgentLoop.findOne({ _id: id, organizationId: new Types.ObjectId(organizationId) })
      : null;
    if (!doc) throw notFound('agent loop', id);
    return doc;
  }
}
