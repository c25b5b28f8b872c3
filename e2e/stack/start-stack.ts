/**
 * The e2e stack, started by Playwright's webServer: the embedded database in memory, the real
 * app (API, widget socket, widget files) with the test model server behind it, seeded bots,
 * and the host pages on a second origin. It builds nothing: run `npm run build:widget` first
 * (`npm run test:e2e` does).
 */
import { existsSync } from 'node:fs';
import { Types } from 'mongoose';
import { pino } from 'pino';
import { createActionSchema } from '../../shared/schemas/actions.js';
import { API_KEY_SCOPES } from '../../shared/schemas/api-keys.js';
import type { WidgetSettingsPatch } from '../../shared/schemas/widget-settings.js';
import { hashApiKey } from '../../server/api-keys/api-keys.service.js';
import { startApp, type RunningApp } from '../../server/app.js';
import { parseEnv } from '../../server/config.js';
import { UNLIMITED_RATE_ENV, UNLIMITED_WIDGET_ENV } from '../../server/test/unlimited-limits.js';
import { startEmbeddedDb } from '../../server/db/embedded-db.js';
import { connectMongo } from '../../server/db/mongo.js';
import { startFakeLlm } from '../../server/test/fake-llm/fake-llm.server.js';
import { WIDGET_DIST } from '../../server/widget/widget-assets.routes.js';
import { API_PORT, BOTS, E2E_ADMIN_KEY, HOST_ORIGIN } from './ports.js';
import { startHostPages } from './host-pages.js';

async function seed(app: RunningApp): Promise<void> {
  const { services, models } = app;
  const org = await services.organizations.create('E2E organization');
  const actor = { apiKeyId: null };
  await models.ApiKey.create({
    organizationId: new Types.ObjectId(org.id),
    name: 'E2E admin key',
    hash: hashApiKey(E2E_ADMIN_KEY),
    prefix: E2E_ADMIN_KEY.slice(0, 14),
    scopes: [...API_KEY_SCOPES],
  });
  const bot = async (slug: string, name: string, allowedOrigins: string[], extra: WidgetSettingsPatch = {}) => {
    const created = await services.chatbots.create(org.id, {
      name,
      slug,
      instructions: '',
      modelSettings: { integrationId: null, model: null, temperature: 0.3, maxTokens: 800 },
      allowedOrigins,
      status: 'active',
    });
    await services.widgetSettings.patch(
      org.id,
      created.id,
      {
        welcomeMessage: `Hi! I am ${name}. How can I help?`,
        quickPrompts: ['What are your opening hours?', 'Do you ship abroad?'],
        primaryColor: '#0f766e',
        ...extra,
      },
      actor,
    );
    return created;
  };
  await bot(BOTS.echo, 'Echo helper', [HOST_ORIGIN]);
  const docs = await bot(BOTS.docs, 'Docs helper', [HOST_ORIGIN]);
  await bot(BOTS.locked, 'Locked helper', ['https://shop.example']);
  await bot(BOTS.restyle, 'Restyle helper', [HOST_ORIGIN]);
  const email = { key: 'email', label: 'Email', type: 'email', required: true } as const;
  await bot(BOTS.leadFirst, 'Lead first helper', [HOST_ORIGIN], {
    leadCapture: {
      enabled: true,
      trigger: 'before_first_message',
      fields: [{ key: 'name', label: 'Your name', type: 'name', required: true }, email],
      consentText: 'I agree to be contacted about my question.',
    },
  });
  await bot(BOTS.leadAfter, 'Lead after helper', [HOST_ORIGIN], {
    leadCapture: {
      enabled: true,
      trigger: 'after_messages',
      afterMessages: 2,
      fields: [
        { ...email, required: false },
        { key: 'phone', label: 'Phone', type: 'phone', required: false },
      ],
    },
  });
  const unsure: WidgetSettingsPatch = {
    leadCapture: {
      enabled: true,
      trigger: 'cannot_answer',
      fields: [{ key: 'name', label: 'Name', type: 'name', required: false }, email],
    },
  };
  await bot(BOTS.leadUnsure, 'Lead unsure helper', [HOST_ORIGIN], unsure);
  const leadDocs = await bot(BOTS.leadDocs, 'Lead docs helper', [HOST_ORIGIN], unsure);
  await bot(BOTS.leadHuman, 'Lead human helper', [HOST_ORIGIN], {
    leadCapture: { enabled: true, trigger: 'human_requested', fields: [email] },
  });
  const actions = await bot(BOTS.actions, 'Actions helper', [HOST_ORIGIN]);
  await services.actions.create(
    org.id,
    actions.id,
    createActionSchema.parse({
      name: 'cancel_order',
      description: 'Cancel the order',
      parameters: { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] },
      request: {
        method: 'POST',
        url: `${HOST_ORIGIN}/api/orders/{params.orderNumber}/cancel`,
        body: { reason: 'visitor' },
      },
    }),
  );
  await services.knowledge.sources.create(
    org.id,
    docs.id,
    { type: 'url', url: `${HOST_ORIGIN}/returns.html`, crawl: { mode: 'page', maxPages: 1 } },
    null,
  );
  await services.knowledge.sources.create(
    org.id,
    docs.id,
    {
      type: 'text',
      title: 'Shipping guide',
      content: 'Orders ship within 3 working days. Shipping is free above 50 euros.',
    },
    null,
  );
  await services.knowledge.sources.create(
    org.id,
    leadDocs.id,
    {
      type: 'text',
      title: 'Shipping guide',
      content: 'Orders ship within 3 working days. Shipping is free above 50 euros.',
    },
    null,
  );
  // Citations need processed sources: wait for the worker.
  const deadline = Date.now() + 60_000;
  const knowledgeBots = [docs.id, leadDocs.id];
  while ((await models.Source.countDocuments({ chatbotId: { $in: knowledgeBots }, status: { $ne: 'ready' } })) > 0) {
    if (Date.now() > deadline) throw new Error('e2e sources were not processed in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<void> {
  if (!existsSync(`${WIDGET_DIST}/widget.js`)) throw new Error('widget/dist is missing: run `npm run build:widget`');
  const hostPages = await startHostPages();
  const fake = await startFakeLlm({ tokenDelayMs: 40 });
  const db = await startEmbeddedDb();
  const connection = await connectMongo(db.uri, { dbName: 'wisp_e2e' });
  const config = {
    ...parseEnv({
      PORT: String(API_PORT),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'silent',
      NODE_ENV: 'development',
      OPENAI_BASE_URL: fake.url,
      OPENAI_MODEL: 'fake-chat',
      // The citation source is a page on the host-page server, on loopback.
      ALLOW_PRIVATE_URLS: 'true',
      // Many browser tests share one loopback address: the widget's flood limits are tested elsewhere.
      ...UNLIMITED_WIDGET_ENV,
      ...UNLIMITED_RATE_ENV,
    }),
    SECRET_KEY: 'e2e-secret-key-e2e-secret-key-0123456789',
  };
  const app = await startApp({
    config,
    logger: pino({ level: config.LOG_LEVEL }),
    connection,
    embeddedDatabase: true,
  });
  await seed(app);
  process.stdout.write(`e2e stack ready: api ${app.url}, host pages ${HOST_ORIGIN}\n`);

  const stop = async () => {
    await app.stop(0).catch(() => undefined);
    await connection.close().catch(() => undefined);
    await db.stop();
    await fake.stop();
    hostPages.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`e2e stack failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
