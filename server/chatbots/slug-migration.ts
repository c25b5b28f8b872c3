import { randomBytes } from 'node:crypto';
import type { ChatbotModel } from './chatbot.model.js';

/**
 * Slugs used to be unique per organization; they are now unique across the server. Before the
 * global index is built, a slug shared by several bots stays with the oldest one (whose embed
 * worked first) and the others get a random suffix. The old per-organization index is dropped.
 */
export async function makeSlugsGloballyUnique(Chatbot: ChatbotModel): Promise<void> {
  const indexes = await Chatbot.collection.indexes().catch(() => []);
  if (indexes.some((index) => index.name === 'organizationId_1_slug_1')) {
    await Chatbot.collection.dropIndex('organizationId_1_slug_1');
  }
  if (indexes.some((index) => index.name === 'slug_1' && index.unique)) return;
  const shared = await Chatbot.aggregate<{ _id: string; count: number }>([
    { $group: { _id: '$slug', count: { $sum: 1 } } },
    { $match: { count: { $gt: 1 } } },
  ]);
  for (const { _id: slug } of shared) {
    const bots = await Chatbot.find({ slug }, { _id: 1 }).sort({ createdAt: 1, _id: 1 });
    for (const bot of bots.slice(1)) {
      const renamed = `${slug.slice(0, 50)}-${randomBytes(3).toString('hex')}`;
      await Chatbot.updateOne({ _id: bot._id }, { $set: { slug: renamed } });
    }
  }
}
