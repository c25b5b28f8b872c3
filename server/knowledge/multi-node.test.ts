import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../test/api-client.js';
import { startAppOnDatabase, type AppOnDatabase } from './test/app-on-database.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from './test/knowledge-client.js';

describe('knowledge across several server nodes', () => {
  let nodeA: AppOnDatabase;
  let nodeB: AppOnDatabase;
  let apiA: ApiClient;
  let orgId: string;
  let botId: string;

  beforeAll(async () => {
    const dbName = `wisp_test_nodes_${randomUUID().slice(0, 8)}`;
    nodeA = await startAppOnDatabase(dbName, FAST_QUEUE_ENV);
    nodeB = await startAppOnDatabase(dbName, FAST_QUEUE_ENV);
    const org = await nodeA.app.services.organizations.create('Nodes');
    orgId = org.id;
    apiA = new ApiClient(nodeA.app.url, org.adminKey);
    botId = await createBot(apiA);
  });
  afterAll(async () => {
    await nodeA?.stop();
    await nodeB?.stop();
  });

  const retrieveOnB = (query: string) =>
    nodeB.app.services.knowledge.retriever.retrieve({ chatbotId: botId, organizationId: orgId }, query);

  it("sees another node's new and deleted sources on its next question, with its index already warm", async () => {
    const first = await addSource(apiA, botId, {
      type: 'text',
      title: 'Lighthouse',
      content: 'The lighthouse keeper is Mira.',
    });
    await waitForSource(apiA, first.id);
    expect((await retrieveOnB('Who keeps the lighthouse?')).passages[0]?.sourceId).toBe(first.id);

    const second = await addSource(apiA, botId, {
      type: 'text',
      title: 'Harbour',
      content: 'The harbour master is Tomas.',
    });
    await waitForSource(apiA, second.id);
    expect((await retrieveOnB('Who is the harbour master?')).passages[0]?.sourceId).toBe(second.id);

    expect((await apiA.delete(`/api/v1/sources/${first.id}`)).status).toBe(200);
    const after = await retrieveOnB('Who keeps the lighthouse?');
    expect(after.passages.some((p) => p.sourceId === first.id)).toBe(false);
  });
});
