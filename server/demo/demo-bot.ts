import type { Logger } from '../logger.js';
import type { Services } from '../services.js';

const DEMO_KNOWLEDGE = `Northwind Outdoor ships to every address in the EU within 3 working days; shipping is free above 50 euros.
Returns: unused items can be returned within 30 days for a full refund. Start a return from your order page; the label is free.
The Ridge 2 tent weighs 1.6 kg, sleeps two and is rated for three seasons. Spare poles are sold separately.
The Summit 40 pack holds forty litres, has an adjustable back length and comes with a rain cover.
Opening hours of the Bergen store: Monday to Saturday, 9:00 to 18:00.`;

/**
 * Gives the default organization a demo bot when it has none, so the demo page shows a working
 * widget on a fresh install. With no model configured it answers from this knowledge alone.
 */
export async function ensureDemoBot(
  services: Pick<Services, 'organizations' | 'chatbots' | 'knowledge' | 'widgetSettings'>,
  logger: Logger,
) {
  const org = await services.organizations.first();
  if (!org || (await services.chatbots.hasAny(org._id))) return null;
  const organizationId = org._id.toString();
  // Slugs are unique across the server: another organization may already use `demo`.
  const slug = (await services.chatbots.slugTaken('demo')) ? undefined : 'demo';
  const bot = await services.chatbots.create(organizationId, {
    name: 'Northwind helper',
    slug,
    instructions:
      'You are the friendly support assistant of Northwind Outdoor, a shop for tents, packs and trail gear.',
    modelSettings: { integrationId: null, model: null, temperature: 0.3, maxTokens: 800 },
    allowedOrigins: [],
    status: 'active',
  });
  const actor = { apiKeyId: null };
  await services.widgetSettings.patch(
    organizationId,
    bot.id,
    {
      welcomeMessage: 'Hi! I am the Northwind helper. Ask me about shipping, returns or our gear.',
      quickPrompts: ['How long does shipping take?', 'Can I return a tent?'],
      primaryColor: '#14532d',
    },
    actor,
  );
  await services.knowledge.sources.create(
    organizationId,
    bot.id,
    { type: 'text', title: 'Northwind Outdoor help', content: DEMO_KNOWLEDGE },
    null,
  );
  logger.info({ chatbotId: bot.id }, 'created the demo chatbot');
  return bot;
}
