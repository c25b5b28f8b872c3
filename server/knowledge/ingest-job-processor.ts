import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { CrawlSettings, SourceStage } from '../../shared/schemas/sources.js';
import type { BotModelSettingsLookup, KnowledgeModels } from './knowledge-models.js';
import type { ModelResolver } from '../llm/model-resolver.js';
import type { Logger } from '../logger.js';
import type { DomainEventInput, EventPublisher } from '../events/domain-events.js';
import { chunkDocument, type ChunkDraft, type ChunkOptions } from './chunker.js';
import { characterCount, type Block } from './extract/blocks.js';
import { detectKind, extractDocument } from './extract/extract.js';
import { extractMarkdown } from './extract/markdown.js';
import { readUrlSource, type Fetcher, type PageOutcome } from './fetch/crawl.js';
import { fromVector } from './index/bot-index.js';
import { toIndexed, type IndexCache } from './index/index-cache.js';
import { IngestError } from './ingest-error.js';
import { Slots } from './slots.js';
import type { ClaimedJob, JobProcessor } from './job-queue.js';
import type { SourceRecord } from './source.model.js';
import { GroupCommit, succeeded, type ItemOutcome } from '../db/group-commit.js';
import { writeErrorsOf } from '../db/write-errors.js';

export interface IngestDeps {
  models: KnowledgeModels;
  botModelSettings: BotModelSettingsLookup;
  cache: IndexCache;
  modelResolver: ModelResolver | null;
  fetcher: Fetcher;
  chunking: ChunkOptions;
  /** Page fetches, file extractions and embedding requests at once (see `Slots`). */
  fetchConcurrency: number;
  logger: Logger;
  events: EventPublisher;
}

/** What reading a source produced, before chunking. */
interface Reading {
  documents: Array<{ title: string; url: string | null; blocks: Block[] }>;
  title: string | null;
  finalUrl?: string;
  fetchedAt?: Date;
  /** What a crawl or sitemap took and skipped; unset for text and files. */
  outcomes?: PageOutcome[];
}

/** A source's stored text or file, as read beside the claim. */
type StoredContent = Awaited<ReturnType<typeof readContents>>[number];

/** Without a file's bytes, read later in the job's slot (see `read`), so a claim of many jobs stays small. */
function readContents(models: KnowledgeModels, sourceIds: Types.ObjectId[]) {
  return models.SourceContent.find({ sourceId: { $in: sourceIds } }, { data: 0 }).lean();
}

const EMBED_BATCH = 64;
const INSERT_BATCH = 500;
/** Most jobs whose writes of one kind are folded into one round trip. */
const WRITE_BATCH = 64;

/** A claimed source as it was before the claim, with its stored content. */
interface Claimed {
  before: SourceRecord;
  content: StoredContent | null;
}

/** One chunk as written. */
type ChunkInsert = Record<string, unknown>;

/** The conditional update that makes one run's chunks a source's answer, or marks it ready. */
interface RunWrite {
  sourceId: Types.ObjectId;
  revision: number;
  run: string;
}

/** The indexes of a failed `insertMany`'s documents that were not written, or null when none is known written. */
function failedIndexes(error: unknown): Set<number> | null {
  const refused = writeErrorsOf(error);
  return refused && new Set(refused.map((write) => write.index));
}

/**
 * Turns a queued source into searchable chunks: read (fetch or stored content), extract,
 * chunk, embed, store under a fresh run id, then switch the source to that run in one
 * conditional update. A run that was superseded meanwhile removes what it wrote.
 */
export class IngestJobProcessor implements JobProcessor {
  /*
   * Jobs running at the same time write together (group commit): each kind of write below is one round trip
   * for every job that reached it while the previous one was in flight. Each job still waits for its own
   * writes in the same order as alone, so the order guarantees hold per source, and each job learns its own
   * outcome: one failing source does not fail the others.
   */
  private readonly claims: GroupCommit<{ job: ClaimedJob; run: string }, Claimed | null>;
  private readonly inserts: GroupCommit<ChunkInsert[], void>;
  private readonly switches: GroupCommit<RunWrite, boolean>;
  private readonly readies: GroupCommit<RunWrite & { set: Record<string, unknown> }, boolean>;
  private readonly stages: GroupCommit<{ sourceId: Types.ObjectId; run: string; stage: SourceStage }, void>;
  /** Bounds the steps that wait on the network or hold a large document; text sources need none. */
  private readonly slots: Slots;

  constructor(private readonly deps: IngestDeps) {
    this.slots = new Slots(deps.fetchConcurrency);
    this.claims = new GroupCommit((items) => this.claimSources(items), WRITE_BATCH);
    this.inserts = new GroupCommit((items) => this.insertChunks(items), WRITE_BATCH);
    this.switches = new GroupCommit(
      (items) =>
        this.writeRuns(
          items,
          (item) => ({ activeRun: item.run }),
          (source, item) => source.activeRun === item.run,
        ),
      WRITE_BATCH,
    );
    this.stages = new GroupCommit(async (items) => {
      await this.deps.models.Source.bulkWrite(
        items.map((item) => ({
          updateOne: { filter: { _id: item.sourceId, currentRun: item.run }, update: { $set: { stage: item.stage } } },
        })),
        { ordered: false },
      );
      return items.map(() => succeeded<void>(undefined));
    }, WRITE_BATCH);
    this.readies = new GroupCommit(
      (items) =>
        this.writeRuns(
          items,
          (item) => item.set,
          (source, item) =>
            source.status === 'ready' && source.currentRun === item.run && source.revision === item.revision,
        ),
      WRITE_BATCH,
    );
  }

  async process(job: ClaimedJob, signal: AbortSignal): Promise<void> {
    const { models } = this.deps;
    const run = randomUUID();
    // The claim is conditional: a source gone, of another revision, or already ready (finished before the
    // process stopped, only the job's own completion was not written) is not claimed (see `claimSources`).
    const claimed = await this.claims.submit({ job, run });
    if (!claimed) return;
    const { before, content } = claimed;
    const source = before;
    // No run was ever started for it (a new source): it has no chunks to replace, so the scan of the
    // chunks collection that removes a previous run's is skipped.
    const fresh = !before.currentRun && !before.activeRun;
    try {
      await this.ingest(source, job, run, signal, { content, fresh });
    } catch (error) {
      // A failed cleanup is swallowed so the processing error is what gets reported; chunks of a run
      // that never became active are never searched, and the next successful run deletes them.
      await models.Chunk.deleteMany({ sourceId: source._id, run }).catch(() => undefined);
      throw error;
    }
  }

  async onRetry(job: ClaimedJob): Promise<void> {
    await this.deps.models.Source.updateOne(
      { _id: job.sourceId, revision: job.revision, status: { $ne: 'ready' } },
      { $set: { status: 'queued' } },
    );
  }

  async onFailed(job: ClaimedJob, reason: string): Promise<void> {
    const { models, cache } = this.deps;
    const current = { _id: job.sourceId, revision: job.revision };
    const before = await models.Source.findOneAndUpdate(current, {
      $set: { activeRun: null, chunks: 0, readyAt: null },
    }).lean();
    if (!before) return;
    await models.Chunk.deleteMany({ sourceId: job.sourceId });
    if (before.activeRun) await cache.removeSource(job, job.sourceId.toString());
    // `failed` is written last, once the old chunks no longer answer.
    const failed = await models.Source.updateOne(current, {
      // `currentRun` is cleared only now, once no chunk of the source is left: until then the next run
      // does not count as a new source's and removes what a crash here left behind.
      $set: { status: 'failed', failureReason: reason, currentRun: null },
    });
    if (failed.matchedCount === 0) return;
    await this.announce('source.failed', {
      organizationId: job.organizationId,
      chatbotId: job.chatbotId,
      sourceId: job.sourceId.toString(),
      type: before.type,
      title: before.title,
      reason,
    });
  }

  private async ingest(
    source: SourceRecord,
    job: ClaimedJob,
    run: string,
    signal: AbortSignal,
    prior: { content: StoredContent | null; fresh: boolean },
  ): Promise<void> {
    const { models, cache, chunking } = this.deps;
    // The slow steps are recorded for the owner watching the source (the claim already said
    // `fetching`); a superseded run's writes match nothing. Quick steps cost no write.
    const stage = (name: SourceStage) => this.stages.submit({ sourceId: source._id, run, stage: name });
    const reading = await this.read(source, prior.content, signal);
    if (source.type === 'url') await stage('chunking');
    const drafts: ChunkDraft[] = [];
    for (const document of reading.documents) drafts.push(...chunkDocument(document, chunking, drafts.length));
    if (drafts.length === 0) throw new IngestError('no readable text was found', { retryable: false });
    const embedded = await this.embed(job, drafts, signal, () => stage('embedding'));
    signal.throwIfAborted();

    const docs = drafts.map((draft, index) => ({
      _id: new Types.ObjectId(),
      organizationId: source.organizationId,
      chatbotId: source.chatbotId,
      sourceId: source._id,
      run,
      ...draft,
      vector: embedded ? fromVector(embedded.vectors[index] ?? new Float32Array()) : null,
      vectorModel: embedded?.model ?? null,
    }));
    for (let start = 0; start < docs.length; start += INSERT_BATCH) {
      signal.throwIfAborted();
      await this.inserts.submit(docs.slice(start, start + INSERT_BATCH));
    }

    // The switch to this run's chunks is one conditional update; a run superseded meanwhile
    // (edited, reindexed or deleted) matches nothing, and its chunks never become visible.
    const written = { sourceId: source._id, revision: job.revision, run };
    const switched = await this.switches.submit(written);
    if (!switched) {
      await models.Chunk.deleteMany({ sourceId: source._id, run });
      return;
    }
    if (!prior.fresh) await models.Chunk.deleteMany({ sourceId: source._id, run: { $ne: run } });
    await cache.applySource(job, source._id.toString(), docs.map(toIndexed));
    // `ready` is written last, so whoever sees it (on any node) gets the new chunks with the next question.
    const keepTitle = source.titleFromUser || !reading.title;
    const title = keepTitle ? source.title : (reading.title ?? '').slice(0, 200);
    const ready = await this.readies.submit({
      ...written,
      set: {
        status: 'ready',
        failureReason: null,
        characters: reading.documents.reduce((sum, document) => sum + characterCount(document.blocks), 0),
        chunks: docs.length,
        pages: reading.documents.length,
        pageOutcomes: reading.outcomes ?? [],
        readyAt: new Date(),
        ...(keepTitle ? {} : { title }),
        ...(reading.finalUrl ? { finalUrl: reading.finalUrl, lastFetchedAt: reading.fetchedAt } : {}),
      },
    });
    if (!ready) return;
    await this.announce('source.ready', {
      organizationId: source.organizationId.toString(),
      chatbotId: source.chatbotId.toString(),
      sourceId: source._id.toString(),
      type: source.type,
      title,
      chunkCount: docs.length,
    });
  }

  /**
   * Reads and claims the sources of several jobs: one read of the sources and one of their stored contents
   * (lookups on unique indexes; a web page has none), then one `bulkWrite` of conditional claims. Each claim
   * matches only the source as it was read (its status and runs unchanged), so it is atomic per source as
   * the former `findOneAndUpdate` was; when fewer matched than were sent, one more read tells which.
   */
  private async claimSources(
    items: Array<{ job: ClaimedJob; run: string }>,
  ): Promise<Array<ItemOutcome<Claimed | null>>> {
    const { models } = this.deps;
    const ids = items.map((item) => item.job.sourceId);
    const [sources, contents] = await Promise.all([
      // Lean: the sources are only read (the claim below is its own write), so no document per source.
      models.Source.find({ _id: { $in: ids } }).lean() as Promise<unknown> as Promise<SourceRecord[]>,
      readContents(models, ids),
    ]);
    const sourceById = new Map(sources.map((source) => [source._id.toString(), source]));
    const contentById = new Map(contents.map((content) => [content.sourceId.toString(), content]));
    const claimable = items.map(({ job }) => {
      const source = sourceById.get(job.sourceId.toString());
      if (!source || source.revision !== job.revision) return null;
      // Already ready (finished before the process stopped; only the job's own completion was not written).
      if (source.status === 'ready' && source.activeRun) return null;
      return source;
    });
    const ops = items.flatMap(({ job, run }, index) => {
      const source = claimable[index];
      if (!source) return [];
      const asRead = {
        _id: source._id,
        revision: source.revision,
        status: source.status,
        currentRun: source.currentRun ?? null,
        activeRun: source.activeRun ?? null,
      };
      const set = {
        status: 'processing',
        stage: 'fetching',
        currentRun: run,
        failureReason: null,
        attempts: job.attempts,
      };
      return [{ updateOne: { filter: asRead, update: { $set: set } } }];
    });
    let claimedRun: (index: number) => boolean = () => true;
    if (ops.length > 0) {
      const result = await models.Source.bulkWrite(ops, { ordered: false });
      if (result.matchedCount < ops.length) {
        const now = await models.Source.find({ _id: { $in: ids } }, { currentRun: 1 }).lean();
        const runs = new Set(now.map((source) => source.currentRun));
        claimedRun = (index) => runs.has(items[index]?.run);
      }
    }
    return items.map(({ job }, index) => {
      const before = claimable[index];
      // No source for a job that still exists: its source may not be written yet (a job queued beside its
      // source whose hold ran out first, see `SourceQueue.enqueueNew`), so it is tried again rather than
      // dropped; a deleted source takes its job with it.
      if (!sourceById.has(job.sourceId.toString())) {
        return { ok: false, error: new IngestError('the source is not written yet', { retryable: true }) };
      }
      if (!before || !claimedRun(index)) return succeeded(null);
      return succeeded({ before, content: contentById.get(job.sourceId.toString()) ?? null });
    });
  }

  /** Writes the chunks of several jobs with one `insertMany`; a job whose chunks were refused fails alone. */
  private async insertChunks(items: ChunkInsert[][]): Promise<Array<ItemOutcome<void>>> {
    const all = items.flat();
    try {
      // Built here with every field set and typed, so mongoose's document construction and validation
      // (a noticeable share of the CPU per chunk) are skipped: the driver writes them as they are.
      await this.deps.models.Chunk.insertMany(all, { ordered: false, lean: true });
      return items.map(() => succeeded<void>(undefined));
    } catch (error) {
      const failed = failedIndexes(error);
      if (!failed) throw error;
      let start = 0;
      return items.map((docs) => {
        const from = start;
        start += docs.length;
        for (let index = from; index < start; index += 1) if (failed.has(index)) return { ok: false, error };
        return succeeded<void>(undefined);
      });
    }
  }

  /**
   * Writes several jobs' conditional run updates (`{ _id, revision, currentRun: run }`) with one `bulkWrite`.
   * When fewer matched than were sent, one read tells which did: `took` recognizes a source that carries
   * this run's write (a run id is never reused, so only this write can have put it there).
   */
  private async writeRuns<W extends RunWrite>(
    items: W[],
    set: (item: W) => Record<string, unknown>,
    took: (
      source: { activeRun?: string | null; currentRun?: string | null; status?: string; revision?: number },
      item: W,
    ) => boolean,
  ): Promise<Array<ItemOutcome<boolean>>> {
    const { models } = this.deps;
    const result = await models.Source.bulkWrite(
      items.map((item) => ({
        updateOne: {
          filter: { _id: item.sourceId, revision: item.revision, currentRun: item.run },
          update: { $set: set(item) },
        },
      })),
      { ordered: false },
    );
    if (result.matchedCount === items.length) return items.map(() => succeeded(true));
    const now = await models.Source.find(
      { _id: { $in: items.map((item) => item.sourceId) } },
      { activeRun: 1, currentRun: 1, status: 1, revision: 1 },
    ).lean();
    const byId = new Map(now.map((source) => [source._id.toString(), source]));
    return items.map((item) => {
      const source = byId.get(item.sourceId.toString());
      return succeeded(Boolean(source && took(source, item)));
    });
  }

  /** Stored for webhooks before the job is marked done; a failure to store is logged, the source's state stands. */
  private async announce<K extends 'source.ready' | 'source.failed'>(
    type: K,
    event: DomainEventInput<K>,
  ): Promise<void> {
    await this.deps.events
      .notifyDurably(type, event)
      .catch((error: unknown) =>
        this.deps.logger.error({ err: error, sourceId: event.sourceId }, `could not record ${type}`),
      );
  }

  private async read(source: SourceRecord, content: StoredContent | null, signal: AbortSignal): Promise<Reading> {
    const { fetcher } = this.deps;
    if (source.type === 'url') {
      const crawl = { mode: source.crawl?.mode ?? 'page', maxPages: source.crawl?.maxPages ?? 1 } as CrawlSettings;
      const reading = await this.slots.run(() => readUrlSource(fetcher, source.url ?? '', crawl, signal), signal);
      const single = reading.pages.length === 1;
      return {
        documents: reading.pages.map((page) => ({
          // A one-page source cited under the owner's title when they gave one.
          title: single && source.titleFromUser ? source.title : page.title,
          url: page.url,
          blocks: page.blocks,
        })),
        title: reading.pages[0]?.title ?? null,
        outcomes: reading.outcomes,
        finalUrl: reading.finalUrl,
        fetchedAt: reading.fetchedAt,
      };
    }
    if (!content) throw new IngestError('the source content is missing', { retryable: false });
    if (source.type === 'text') {
      const document = extractMarkdown(content.text ?? '');
      return { documents: [{ title: source.title, url: null, blocks: document.blocks }], title: null };
    }
    // A file's bytes are read and extracted in a slot, so only so many large files are in memory at once.
    return this.slots.run(async () => {
      const stored = await this.deps.models.SourceContent.findOne({ sourceId: source._id }, { data: 1 }).lean();
      const data = Buffer.from(stored?.data?.buffer ?? []);
      const kind = detectKind(data, content.mimeType ?? '', source.file?.name ?? null);
      if (!kind) throw new IngestError('the file is not a supported document type', { retryable: false });
      const document = await extractDocument(kind, data).catch((error: unknown) => {
        throw new IngestError(`the ${kind.toUpperCase()} file could not be read`, { retryable: false, cause: error });
      });
      const title = source.titleFromUser ? source.title : (document.title ?? source.title);
      return { documents: [{ title, url: null, blocks: document.blocks }], title: document.title ?? null };
    }, signal);
  }

  /** Embeds every chunk with the bot's embedding model, or returns null when it has none. */
  private async embed(job: ClaimedJob, drafts: ChunkDraft[], signal: AbortSignal, starting: () => Promise<void>) {
    const resolver = this.deps.modelResolver;
    if (!resolver) return null;
    const bot = await this.deps.botModelSettings(job.chatbotId.toString());
    if (!bot) throw new IngestError('the chatbot no longer exists', { retryable: false });
    const { embeddings } = await resolver.forChatbot(bot);
    if (!embeddings) return null;
    await starting();
    const vectors: Float32Array[] = [];
    try {
      for (let start = 0; start < drafts.length; start += EMBED_BATCH) {
        const batch = drafts.slice(start, start + EMBED_BATCH);
        vectors.push(...(await this.slots.run(() => embeddings.embed(batch.map(embeddingInput), signal), signal)));
      }
    } catch (error) {
      if (signal.aborted) throw error;
      throw new IngestError('the embedding model failed', { retryable: true, cause: error });
    }
    return { model: embeddings.model, vectors };
  }
}

/** The text embedded for a chunk: its titles give it context the passage alone may lack. */
function embeddingInput(draft: ChunkDraft): string {
  return [draft.title, draft.heading, draft.text].filter(Boolean).join('\n');
}
