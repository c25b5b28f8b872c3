import { performance } from 'node:perf_hooks';
import type { Types } from 'mongoose';
import type { SecretBox } from '../crypto/secret-box.js';
import { linkSignalWithTimeout } from '../lib/linked-signal.js';
import type { Logger } from '../logger.js';
import { refusalIn } from '../net/guarded-fetch.js';
import {
  LeaseQueue,
  scheduledBackoff,
  type FailureVerdict,
  type JobCollection,
  type LeasedJob,
} from '../queue/lease-queue.js';
import type { WebhookDeliveryRecord, WebhookModels, WebhookRecord } from './webhook.model.js';
import { messageIdOf } from './webhook-outbox.js';
import { signedHeaders } from './webhook-signer.js';

export interface WebhookDeliverySettings {
  concurrency: number;
  timeoutMs: number;
  leaseMs: number;
  pollMs: number;
  /** Waits before each retry; attempts = retries + 1. */
  retryScheduleMs: number[];
  /** An endpoint whose deliveries have all failed for this long is disabled. */
  disableAfterMs: number;
}

/** Why an attempt failed, in the owner's words; `retryable` false ends the delivery. */
class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * Sends deliveries: claims them from the shared lease queue, signs each attempt per Standard Webhooks and
 * POSTs it with the guarded fetch (address policy, no redirects, a timeout). 2xx is delivered; 410 disables
 * the endpoint; anything else is retried on the schedule, and an endpoint failing for `disableAfterMs` is
 * disabled with the reason.
 */
export class WebhookSender {
  readonly queue: LeaseQueue<WebhookDeliveryRecord>;

  constructor(
    private readonly models: WebhookModels,
    private readonly secrets: SecretBox,
    private readonly fetcher: typeof fetch,
    private readonly settings: WebhookDeliverySettings,
    private readonly logger: Logger,
    /** Announces a disabled endpoint to every node's outbox, which stops matching events to it. */
    private readonly endpointsChanged: (organizationId: Types.ObjectId) => Promise<void> = async () => undefined,
  ) {
    this.queue = new LeaseQueue<WebhookDeliveryRecord>(
      models.WebhookDelivery as unknown as JobCollection,
      {
        process: (job, signal) => this.attempt(job, signal),
        classify: (error): FailureVerdict =>
          error instanceof DeliveryError
            ? { retryable: error.retryable, reason: error.message }
            : { retryable: true, reason: 'the delivery could not be attempted (a database error); it will be retried' },
      },
      {
        name: 'webhook-deliveries',
        concurrency: settings.concurrency,
        leaseMs: settings.leaseMs,
        pollMs: settings.pollMs,
        maxAttempts: settings.retryScheduleMs.length + 1,
        retryDelayMs: scheduledBackoff(settings.retryScheduleMs),
      },
      logger,
    );
  }

  private async attempt(job: LeasedJob<WebhookDeliveryRecord>, signal: AbortSignal) {
    const { record } = job;
    const endpoint = await this.models.Webhook.findById(record.webhookId).lean();
    if (!endpoint) throw new DeliveryError('the endpoint was deleted', false);
    if (!endpoint.enabled) throw new DeliveryError('the endpoint is disabled', false);
    const now = new Date();
    const secrets = endpoint.secrets
      .filter((secret) => !secret.expiresAt || secret.expiresAt > now)
      .map((secret) => this.secrets.open(secret.sealed));
    const started = performance.now();
    let status: number;
    const timeout = linkSignalWithTimeout(signal, this.settings.timeoutMs);
    try {
      const response = await this.fetcher(endpoint.url, {
        method: 'POST',
        headers: {
          ...signedHeaders(messageIdOf(record.eventId), record.body, secrets, now),
          'content-type': 'application/json',
          'user-agent': 'Wisp-Webhooks/1.0',
        },
        body: record.body,
        redirect: 'manual',
        signal: timeout.signal,
      });
      status = response.status;
      // The answer's body is not read: only the status counts, and a large body must not hold the worker.
      await response.body?.cancel().catch(() => undefined);
    } catch (error) {
      if (signal.aborted) throw error;
      const latency = performance.now() - started;
      return this.failed(job, endpoint, null, latency, this.networkReason(error));
    } finally {
      timeout.release();
    }
    const latency = Math.round((performance.now() - started) * 10) / 10;
    if (status >= 200 && status < 300) {
      if (endpoint.failingSince) {
        await this.models.Webhook.updateOne({ _id: endpoint._id }, { $set: { failingSince: null } });
      }
      return { lastStatusCode: status, lastLatencyMs: latency, deliveredAt: new Date() };
    }
    if (status === 410) {
      await this.disable(endpoint, 'the endpoint answered 410 Gone');
      return this.failed(job, endpoint, 410, latency, 'the endpoint answered 410 Gone, so it was disabled', false);
    }
    const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
    return this.failed(job, endpoint, status, latency, `the endpoint answered ${status}${redirect}`);
  }

  /** Records a failed attempt on the delivery and the endpoint, then throws its verdict. */
  private async failed(
    job: LeasedJob<WebhookDeliveryRecord>,
    endpoint: WebhookRecord,
    statusCode: number | null,
    latencyMs: number,
    reason: string,
    retryable = true,
  ): Promise<never> {
    await this.models.WebhookDelivery.updateOne(
      { _id: job.id, lockToken: job.lockToken },
      { $set: { lastStatusCode: statusCode, lastLatencyMs: Math.round(latencyMs * 10) / 10 } },
    );
    const now = new Date();
    if (!endpoint.failingSince) {
      await this.models.Webhook.updateOne({ _id: endpoint._id, failingSince: null }, { $set: { failingSince: now } });
    } else if (now.getTime() - endpoint.failingSince.getTime() >= this.settings.disableAfterMs) {
      const days = Math.round(this.settings.disableAfterMs / 86_400_000);
      await this.disable(
        endpoint,
        `every delivery failed since ${endpoint.failingSince.toISOString()} (${days >= 1 ? `${days} days` : 'too long'}); last: ${reason}`,
      );
    }
    throw new DeliveryError(reason, retryable);
  }

  private async disable(endpoint: WebhookRecord, reason: string): Promise<void> {
    const result = await this.models.Webhook.updateOne(
      { _id: endpoint._id, enabled: true },
      { $set: { enabled: false, disabledReason: reason } },
    );
    if (result.modifiedCount === 0) return;
    this.logger.warn({ webhookId: endpoint._id, reason }, 'webhook endpoint disabled');
    await this.endpointsChanged(endpoint.organizationId);
  }

  private networkReason(error: unknown): string {
    const refused = refusalIn(error);
    if (refused) return `refused: ${refused.message}`;
    if ((error as Error).name === 'TimeoutError') return `no answer within ${this.settings.timeoutMs} ms`;
    const cause = (error as { cause?: { code?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? cause.code : null;
    return code ? `could not reach the endpoint (${code})` : 'could not reach the endpoint';
  }
}
