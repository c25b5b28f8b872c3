import { randomUUID } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectMongo } from '../db/mongo.js';
import {
  addLeasedJobIndexes,
  LeaseQueue,
  leasedJobFields,
  queuedJobState,
  scheduledBackoff,
  type JobCollection,
  type JobHandler,
  type LeaseQueueSettings,
} from './lease-queue.js';

interface TaskRecord {
  _id: import('mongoose').Types.ObjectId;
  attempts: number;
  kind: string;
  name: string;
  status: string;
  lastError: string | null;
  result?: string;
}

const silent = pino({ level: 'silent' });

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the lease queue', () => {
  let connection: Connection;
  let Task: JobCollection;
  const queues: Array<LeaseQueue<TaskRecord>> = [];

  const settings = (overrides: Partial<LeaseQueueSettings> = {}): LeaseQueueSettings => ({
    name: 'test',
    concurrency: 4,
    leaseMs: 1_000,
    pollMs: 20,
    maxAttempts: 3,
    retryDelayMs: scheduledBackoff([10, 20]),
    ...overrides,
  });

  function queue(handler: JobHandler<TaskRecord>, overrides: Partial<LeaseQueueSettings> = {}) {
    const created = new LeaseQueue<TaskRecord>(Task, handler, settings(overrides), silent);
    queues.push(created);
    created.start();
    return created;
  }

  beforeAll(async () => {
    connection = await connectMongo(inject('mongoUri'), { dbName: `wisp_test_queue_${randomUUID().slice(0, 8)}` });
    const schema = new Schema({ kind: String, name: String, result: String, ...leasedJobFields });
    addLeasedJobIndexes(schema);
    Task = connection.model('Task', schema, 'tasks') as unknown as JobCollection;
    await Task.createCollection();
  });

  afterAll(async () => {
    await Promise.all(queues.map((q) => q.stop()));
    await connection.dropDatabase();
    await connection.close();
  });

  it('runs each job exactly once across two workers, and writes what the handler returns', async () => {
    const names = Array.from({ length: 40 }, (_, n) => `once-${n}`);
    await Task.insertMany(names.map((name) => ({ kind: 'once', name, ...queuedJobState() })));
    const seen: string[] = [];
    const handler: JobHandler<TaskRecord> = {
      process: async (job) => {
        seen.push(job.record.name);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { result: `did ${job.record.name}` };
      },
    };
    queue(handler, { filter: { kind: 'once' } });
    queue(handler, { filter: { kind: 'once' } });
    await waitUntil(async () => (await Task.countDocuments({ kind: 'once', status: 'done' })) === names.length);
    expect(seen.sort()).toEqual([...names].sort());
    const done = await Task.findOne({ kind: 'once', name: 'once-7' }).lean();
    expect(done).toMatchObject({ result: 'did once-7', attempts: 1, lockToken: null });
  });

  it('retries on its schedule, then gives up with the reason, calling the hooks once each', async () => {
    await Task.insertMany([{ kind: 'flaky', name: 'recovers', ...queuedJobState() }]);
    await Task.insertMany([{ kind: 'flaky', name: 'never', ...queuedJobState() }]);
    await Task.insertMany([{ kind: 'flaky', name: 'permanent', ...queuedJobState() }]);
    const retries: string[] = [];
    const failures: string[] = [];
    queue(
      {
        process: async (job) => {
          if (job.record.name === 'permanent') throw new Error('bad input');
          if (job.record.name === 'recovers' && job.attempts < 3) throw new Error('blip');
          if (job.record.name === 'never') throw new Error('still down');
        },
        classify: (error) => ({
          retryable: (error as Error).message !== 'bad input',
          reason: (error as Error).message,
        }),
        onRetry: async (job, reason) => void retries.push(`${job.record.name}:${reason}`),
        onFailed: async (job, reason) => void failures.push(`${job.record.name}:${reason}`),
      },
      { filter: { kind: 'flaky' } },
    );
    await waitUntil(
      async () => (await Task.countDocuments({ kind: 'flaky', status: { $in: ['done', 'failed'] } })) === 3,
    );
    const records = await Task.find({ kind: 'flaky' }).lean();
    const byName = Object.fromEntries(records.map((record) => [record.name as string, record]));
    expect(byName.recovers).toMatchObject({ status: 'done', attempts: 3, lastError: null });
    expect(byName.never).toMatchObject({ status: 'failed', attempts: 3, lastError: 'still down' });
    expect(byName.permanent).toMatchObject({ status: 'failed', attempts: 1, lastError: 'bad input' });
    expect(retries.sort()).toEqual(['never:still down', 'never:still down', 'recovers:blip', 'recovers:blip']);
    expect(failures.sort()).toEqual(['never:still down', 'permanent:bad input']);
  });

  it('retakes a job whose worker stopped renewing its lease', async () => {
    // A lease taken by a worker that died: claimed, running, its lease already over.
    await Task.insertMany([
      {
        kind: 'orphan',
        name: 'left',
        ...queuedJobState(),
        status: 'running',
        attempts: 1,
        lockToken: 'dead-worker',
        lockedUntil: new Date(Date.now() - 1),
      },
    ]);
    queue({ process: async () => ({ result: 'retaken' }) }, { filter: { kind: 'orphan' } });
    await waitUntil(async () => (await Task.countDocuments({ kind: 'orphan', status: 'done' })) === 1);
    expect(await Task.findOne({ kind: 'orphan' }).lean()).toMatchObject({ attempts: 2, result: 'retaken' });
  });
});
