import { Types } from 'mongoose';
import type { KnowledgeModels } from '../knowledge-models.js';
import { BotIndex, toVector, type IndexedChunk } from './bot-index.js';
import { isDuplicateKeyError } from '../../errors/duplicate-key.js';
import { KeyedGroupRead } from '../../db/group-commit.js';
import { ReadCache } from '../../cache/read-cache.js';

/**
 * How long a bot's knowledge version stays cached on a sole server (a safety net: every bump, all made in
 * this process then, drops it at once).
 */
export const KNOWLEDGE_VERSION_CACHE_MS = 5_000;

/** The bot an index belongs to. */
export interface BotKey {
  organizationId: string;
  chatbotId: string;
}

/** A stored chunk as the index needs it. */
export interface StoredChunk {
  _id: Types.ObjectId;
  sourceId: Types.ObjectId;
  run: string;
  position: number;
  title: string;
  heading?: string | null;
  url?: string | null;
  anchor?: string | null;
  text: string;
  vector?: Buffer | { buffer: Buffer } | null;
  vectorModel?: string | null;
}

/** A stored chunk in its in-memory form. */
export function toIndexed(chunk: StoredChunk): IndexedChunk {
  const raw = chunk.vector;
  // Lean reads give the driver's Binary ({ buffer }); documents just built give a Buffer.
  const buffer = raw && !Buffer.isBuffer(raw) ? raw.buffer : raw;
  return {
    id: chunk._id.toString(),
    sourceId: chunk.sourceId.toString(),
    title: chunk.title,
    heading: chunk.heading ?? '',
    url: chunk.url ?? null,
    anchor: chunk.anchor ?? null,
    text: chunk.text,
    position: chunk.position,
    vector: toVector(buffer ? Buffer.from(buffer) : null),
    vectorModel: chunk.vectorModel ?? null,
  };
}

/**
 * Per-bot indexes, built lazily on a bot's first question and kept warm. Each carries
 * the bot's knowledge version; one small read per question tells whether another node
 * (or a missed update) changed the bot's chunks, and then the index is rebuilt. A sole
 * server (no other node on its database: every bump is made here) keeps the versions it
 * read instead, dropped by each bump once written, so a source is searchable on the next
 * question there too without the read.
 */
export class IndexCache {
  private readonly entries = new Map<string, BotIndex>();
  private readonly building = new Map<string, Promise<BotIndex>>();
  private readonly commits = new Map<string, Promise<void>>();
  /** Per bot, the changes waiting for the next bump (see `commit`). */
  private readonly open = new Map<string, { changes: Array<(entry: BotIndex) => void>; done: Promise<void> }>();

  /** On a sole server, each bot's knowledge version as last read, by bot id; null elsewhere (read every time). */
  private readonly versions: ReadCache<number> | null;

  constructor(
    private readonly models: KnowledgeModels,
    private readonly maxBots: number,
    options: { soleServer?: boolean } = {},
  ) {
    this.versions = options.soleServer ? new ReadCache<number>(KNOWLEDGE_VERSION_CACHE_MS) : null;
  }

  /**
   * The reads of versions (each question's, or on a sole server each miss's). Questions to one bot that arrive
   * while its version is being read share the next read (it starts after they arrived, so none misses a change
   * acknowledged before it): a burst of questions costs a few reads.
   */
  private readonly versionReads = new KeyedGroupRead<number>(async (chatbotId) => {
    const doc = await this.models.KnowledgeVersion.findOne(
      { chatbotId: new Types.ObjectId(chatbotId) },
      { version: 1 },
    ).lean();
    return doc?.version ?? 0;
  });

  /** The bot's knowledge version (kept between questions on a sole server). */
  async versionOf(chatbotId: string): Promise<number> {
    const read = () => this.versionReads.get(chatbotId.toLowerCase());
    if (!this.versions) return read();
    return (await this.versions.get(chatbotId.toLowerCase(), read)) ?? 0;
  }

  /** Drops the bot's kept version: every bump calls it, and the deletion of a bot's knowledge. */
  invalidate(chatbotId: string): void {
    this.versions?.invalidate(chatbotId.toLowerCase());
  }

  /**
   * Bumps a bot's version and returns the new one; every change to its searchable chunks calls this. The kept
   * version is dropped once the bump is written (or failed: it may have been written).
   */
  async bump(organizationId: string, chatbotId: string): Promise<number> {
    const filter = { chatbotId: new Types.ObjectId(chatbotId) };
    const update = {
      $inc: { version: 1 },
      $setOnInsert: { organizationId: new Types.ObjectId(organizationId) },
    };
    try {
      for (let attempt = 0; ; attempt += 1) {
        try {
          const doc = await this.models.KnowledgeVersion.findOneAndUpdate(filter, update, {
            upsert: true,
            returnDocument: 'after',
          });
          return doc.version;
        } catch (error) {
          // Two first bumps can both try to insert; the loser retries as an update.
          if (!isDuplicateKeyError(error) || attempt > 2) throw error;
        }
      }
    } finally {
      this.invalidate(chatbotId);
    }
  }

  /** The bot's warm index as this process holds it, without checking its version (null when none is held). */
  peek(organizationId: string, chatbotId: string): BotIndex | null {
    return this.entries.get(`${organizationId}:${chatbotId}`) ?? null;
  }

  /** The bot's current index, rebuilt when its version moved on. */
  async get(organizationId: string, chatbotId: string): Promise<BotIndex> {
    const version = await this.versionOf(chatbotId);
    // Keyed by organization too, so a bot id presented under another organization never reads this one's index.
    const key = `${organizationId}:${chatbotId}`;
    const entry = this.entries.get(key);
    if (entry && entry.version === version) {
      this.touch(key, entry);
      return entry;
    }
    const buildKey = `${key}:${version}`;
    let pending = this.building.get(buildKey);
    if (!pending) {
      pending = this.build(organizationId, chatbotId, version).finally(() => this.building.delete(buildKey));
      this.building.set(buildKey, pending);
    }
    const built = await pending;
    const current = this.entries.get(key);
    if (!current || current.version <= built.version) this.touch(key, built);
    return built;
  }

  /** Puts a source's new chunks into the warm index (a source became ready in this process). */
  applySource(target: BotKey, sourceId: string, chunks: IndexedChunk[]): Promise<void> {
    return this.commit(target, (entry) => entry.putSource(sourceId, chunks));
  }

  /** Takes a source's chunks out of the warm index at once (deleted or failed). */
  removeSource(target: BotKey, sourceId: string): Promise<void> {
    return this.commit(target, (entry) => entry.removeSource(sourceId));
  }

  /** Gives a source's chunks a new title in the warm index. */
  retitleSource(target: BotKey, sourceId: string, title: string): Promise<void> {
    return this.commit(target, (entry) =>
      entry.putSource(
        sourceId,
        entry.chunksOf(sourceId).map((chunk) => ({ ...chunk, title })),
      ),
    );
  }

  /**
   * Bumps the bot's version and applies a change to the warm index. Changes of one bot
   * are applied in order, so the index stays exactly one version behind and current
   * after each; when another node changed the bot meanwhile, the entry is dropped and
   * the next question rebuilds it from the database. Changes that arrive while a bump of
   * the bot is in flight are folded into the next one: one bump, applied together.
   */
  private commit(target: BotKey, change: (entry: BotIndex) => void): Promise<void> {
    const key = `${target.organizationId}:${target.chatbotId}`;
    const open = this.open.get(key);
    if (open) {
      open.changes.push(change);
      return open.done;
    }
    const changes = [change];
    const previous = this.commits.get(key) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        // From here on, later changes wait for the next bump.
        if (this.open.get(key)?.changes === changes) this.open.delete(key);
        const entry = this.entries.get(key);
        const current = entry?.version;
        const version = await this.bump(target.organizationId, target.chatbotId);
        if (!entry || this.entries.get(key) !== entry) return;
        if (current === version - 1) {
          for (const apply of changes) apply(entry);
          entry.version = version;
        } else this.entries.delete(key);
      });
    this.open.set(key, { changes, done: next });
    this.commits.set(key, next);
    return next.finally(() => {
      if (this.commits.get(key) === next) this.commits.delete(key);
    });
  }

  forget(target: BotKey): void {
    this.entries.delete(`${target.organizationId}:${target.chatbotId}`);
  }

  private touch(key: string, index: BotIndex): void {
    this.entries.delete(key);
    this.entries.set(key, index);
    // Least recently used bots leave first; a Map iterates in insertion order.
    while (this.entries.size > this.maxBots) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Reads the sources' active chunks; leftovers of superseded or unfinished runs are skipped. */
  private async build(organizationId: string, chatbotId: string, version: number): Promise<BotIndex> {
    const botId = new Types.ObjectId(chatbotId);
    const sources = await this.models.Source.find(
      // A source being reprocessed keeps answering from its previous run until the new one takes over.
      { organizationId: new Types.ObjectId(organizationId), chatbotId: botId, activeRun: { $ne: null } },
      { activeRun: 1 },
    ).lean();
    const activeRun = new Map(sources.map((source) => [source._id.toString(), source.activeRun]));
    const index = new BotIndex(version);
    const cursor = this.models.Chunk.find({ chatbotId: botId })
      .select({ organizationId: 0, chatbotId: 0, tokens: 0 })
      .lean<StoredChunk[]>()
      .cursor({ batchSize: 1_000 });
    for await (const chunk of cursor) {
      if (activeRun.get(chunk.sourceId.toString()) === chunk.run) index.addChunk(toIndexed(chunk));
    }
    index.trim();
    return index;
  }
}
