import { describe, expect, it } from 'vitest';
import { DomainEventBus, type DomainEvent, type DomainEvents } from './domain-events.js';

const deleted = { organizationId: 'org-1', chatbotId: 'bot-1' };

describe('the domain event bus', () => {
  it('publish runs every subscriber, stamps occurredAt and resolves once all have finished', async () => {
    const bus = new DomainEventBus();
    const done: string[] = [];
    bus.subscribe('chatbot.deleted', async (event) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      done.push(`slow ${event.chatbotId}`);
    });
    bus.subscribe('chatbot.deleted', (event) => void done.push(`fast ${event.occurredAt}`));
    await bus.publish('chatbot.deleted', deleted);
    expect(done).toHaveLength(2);
    expect(done).toContain('slow bot-1');
    const stamped = done.find((entry) => entry.startsWith('fast '))!.slice(5);
    expect(new Date(stamped).toISOString()).toBe(stamped);
  });

  it('keeps the occurredAt the publisher gave', async () => {
    const bus = new DomainEventBus();
    const seen: Array<DomainEvents['chatbot.deleted']> = [];
    bus.subscribe('chatbot.deleted', (event) => void seen.push(event));
    await bus.publish('chatbot.deleted', { ...deleted, occurredAt: '2026-01-02T03:04:05.000Z' });
    expect(seen).toEqual([{ ...deleted, occurredAt: '2026-01-02T03:04:05.000Z' }]);
  });

  it('hands subscribers the payload as catalogued, also its own `type` field', async () => {
    const bus = new DomainEventBus();
    const seen: Array<DomainEvents['source.ready']> = [];
    bus.subscribe('source.ready', (event) => void seen.push(event));
    const ready = { organizationId: 'o', chatbotId: 'b', sourceId: 's', type: 'url', title: 'Docs', chunkCount: 3 };
    bus.notify('source.ready', ready);
    await bus.settled();
    expect(seen).toEqual([{ ...ready, occurredAt: expect.any(String) }]);
  });

  it('publish rejects with the first failure, after the other subscribers have run', async () => {
    const bus = new DomainEventBus();
    let ran = false;
    bus.subscribe('chatbot.deleted', () => {
      throw new Error('first down');
    });
    bus.subscribe('chatbot.deleted', async () => {
      ran = true;
    });
    await expect(bus.publish('chatbot.deleted', deleted)).rejects.toThrow('first down');
    expect(ran).toBe(true);
  });

  it('notify returns before any subscriber runs and reports failures instead of throwing', async () => {
    const failures: Array<{ message: string; event: DomainEvent }> = [];
    const bus = new DomainEventBus((error, event) => failures.push({ message: (error as Error).message, event }));
    const order: string[] = [];
    bus.subscribe('chatbot.deleted', () => {
      order.push('sync subscriber');
      throw new Error('sync down');
    });
    bus.subscribe('chatbot.deleted', async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      order.push('async subscriber');
      throw new Error('async down');
    });
    expect(() => bus.notify('chatbot.deleted', deleted)).not.toThrow();
    order.push('publisher');
    await bus.settled();
    expect(order).toEqual(['publisher', 'sync subscriber', 'async subscriber']);
    const event = { type: 'chatbot.deleted', payload: { ...deleted, occurredAt: expect.any(String) } };
    expect(failures).toEqual([
      { message: 'sync down', event },
      { message: 'async down', event },
    ]);
  });

  it('a failing failure report does not escape either', async () => {
    const bus = new DomainEventBus(() => {
      throw new Error('logger down');
    });
    bus.subscribe('chatbot.deleted', () => {
      throw new Error('subscriber down');
    });
    bus.notify('chatbot.deleted', deleted);
    await expect(bus.settled()).resolves.toBeUndefined();
  });

  it('delivers only to subscribers of the event, and not after they unsubscribe', async () => {
    const bus = new DomainEventBus();
    const seen: string[] = [];
    const unsubscribe = bus.subscribe('chatbot.deleted', () => void seen.push('chatbot.deleted'));
    bus.subscribe('quota.warning', () => void seen.push('quota.warning'));
    await bus.publish('chatbot.deleted', deleted);
    unsubscribe();
    await bus.publish('chatbot.deleted', deleted);
    bus.notify('quota.warning', {
      organizationId: 'org-1',
      quota: 'messages',
      period: '2026-12',
      used: 8,
      limit: 10,
      ratio: 0.8,
    });
    await bus.settled();
    expect(seen).toEqual(['chatbot.deleted', 'quota.warning']);
  });

  it('notifyDurably resolves once the durable subscribers have stored the event, without waiting for the rest', async () => {
    const bus = new DomainEventBus();
    const order: string[] = [];
    let releaseSlow: () => void = () => {};
    bus.subscribe('chatbot.deleted', async () => {
      await new Promise<void>((resolve) => (releaseSlow = resolve));
      order.push('plain subscriber');
    });
    bus.subscribe(
      'chatbot.deleted',
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        order.push('durable subscriber');
      },
      { durable: true },
    );
    await bus.notifyDurably('chatbot.deleted', deleted);
    order.push('publisher');
    releaseSlow();
    await bus.settled();
    expect(order).toEqual(['durable subscriber', 'publisher', 'plain subscriber']);
  });

  it('notifyDurably rejects when a durable subscriber could not store the event; notify only reports it', async () => {
    const failures: string[] = [];
    const bus = new DomainEventBus((error) => failures.push((error as Error).message));
    bus.subscribe(
      'chatbot.deleted',
      () => {
        throw new Error('outbox down');
      },
      { durable: true },
    );
    await expect(bus.notifyDurably('chatbot.deleted', deleted)).rejects.toThrow('outbox down');
    bus.notify('chatbot.deleted', deleted);
    await bus.settled();
    expect(failures).toEqual(['outbox down']);
  });
});
