import { Types } from 'mongoose';
import type {
  CreateSourceInput,
  CreateSourcesBatchInput,
  SourceChunkDto,
  SourceDto,
  SourcePageDto,
  SourceStatus,
  SourceType,
  UpdateSourceInput,
} from '../../shared/schemas/sources.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { ChatbotRecord } from '../chatbots/chatbot.model.js';
import type { FieldIssue } from '../../shared/errors.js';
import { failValidation } from '../errors/parse.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import type { KnowledgeModels } from './knowledge-models.js';
import { AppError } from '../errors/app-error.js';
import type { StorageCounter } from '../usage/usage.service.js';
import { detectKind, KIND_MIME } from './extract/extract.js';
import { literalAddress, type AddressPolicy } from '../net/address-policy.js';
import type { IndexCache } from './index/index-cache.js';
import type { SourceQueue } from './job-queue.js';
import type { SourceRecord } from './source.model.js';
import { asInserted } from '../db/as-inserted.js';
import { GroupCommit, succeeded, type ItemOutcome } from '../db/group-commit.js';

/** Most requests whose new sources are written together. */
const WRITE_REQUESTS = 64;

/** An uploaded file, as the transport hands it over. */
export interface UploadedFile {
  name: string;
  mimeType: string;
  data: Buffer;
}

/** A new source and its stored content (text or file; none for a URL), built before anything is written. */
interface NewSource {
  source: {
    _id: Types.ObjectId;
    organizationId: Types.ObjectId;
    chatbotId: Types.ObjectId;
    revision: number;
    type: SourceType;
  } & Record<string, unknown>;
  content: Record<string, unknown> | null;
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

function toSourceDto(doc: SourceRecord): SourceDto {
  return {
    id: doc._id.toString(),
    chatbotId: doc.chatbotId.toString(),
    type: doc.type as SourceType,
    title: doc.title,
    status: doc.status as SourceStatus,
    failureReason: doc.status === 'failed' ? (doc.failureReason ?? 'processing failed') : null,
    stage: doc.status === 'processing' ? ((doc.stage as SourceDto['stage']) ?? 'fetching') : null,
    url: doc.url ?? null,
    crawl: doc.crawl?.mode
      ? { mode: doc.crawl.mode as 'page' | 'sitemap' | 'site', maxPages: doc.crawl.maxPages ?? 1 }
      : null,
    finalUrl: doc.finalUrl ?? null,
    lastFetchedAt: iso(doc.lastFetchedAt),
    file: doc.file?.name ? { name: doc.file.name, mimeType: doc.file.mimeType ?? '', size: doc.file.size ?? 0 } : null,
    counts: { characters: doc.characters ?? 0, chunks: doc.chunks ?? 0, pages: doc.pages ?? 0 },
    attempts: doc.attempts ?? 0,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    readyAt: iso(doc.readyAt),
  };
}

function notFoundSource(id: string): AppError {
  return new AppError('NotFoundError', { message: `No source with id "${id}"` });
}

/** The filter for one source of this organization; an id that cannot exist is simply not found. */
function ownSource(organizationId: string, id: string) {
  if (!Types.ObjectId.isValid(id)) throw notFoundSource(id);
  return { _id: new Types.ObjectId(id), organizationId: new Types.ObjectId(organizationId) };
}

/** A bot's sources: written at once, processed by the queue; reads and writes are scoped to the organization. */
export class SourcesService {
  /*
   * Requests adding sources at the same time write together (group commit): one insert of contents, sources
   * and jobs for all of them. When such a shared write fails, each request's sources are written again alone,
   * so one request's failure stays its own.
   */
  private readonly writes = new GroupCommit<NewSource[], SourceRecord[]>(async (requests) => {
    const [only] = requests;
    if (requests.length === 1 && only) return [succeeded(await this.write(only))];
    try {
      const written = await this.write(requests.flat());
      let at = 0;
      return requests.map((built) => succeeded(written.slice(at, (at += built.length))));
    } catch {
      return Promise.all(
        requests.map((built) =>
          this.write(built).then(succeeded, (error: unknown): ItemOutcome<SourceRecord[]> => ({ ok: false, error })),
        ),
      );
    }
  }, WRITE_REQUESTS);

  constructor(
    private readonly models: KnowledgeModels,
    private readonly chatbots: ChatbotsService,
    private readonly queue: SourceQueue,
    private readonly cache: IndexCache,
    private readonly policy: AddressPolicy,
  ) {}

  async create(
    organizationId: string,
    chatbot: string,
    input: CreateSourceInput,
    file: UploadedFile | null,
  ): Promise<SourceDto> {
    const bot = await this.chatbots.find(organizationId, chatbot);
    const [source] = await this.writes.submit([this.build(bot, input, file, '')]);
    if (!source) throw new Error('the source was not written');
    return toSourceDto(source);
  }

  /**
   * Adds several text and URL sources at once, all or nothing: every item is checked first (a refusal names
   * each failing item's field by its path, `sources.3.url`), then the contents, the sources and their jobs
   * are written with one insert each.
   */
  async createMany(organizationId: string, chatbot: string, input: CreateSourcesBatchInput): Promise<SourceDto[]> {
    const bot = await this.chatbots.find(organizationId, chatbot);
    const fields: FieldIssue[] = [];
    const built = input.sources.flatMap((item, index) => {
      try {
        return [this.build(bot, item, null, `sources.${index}.`)];
      } catch (error) {
        const issues =
          error instanceof AppError ? (error.details as { fields?: FieldIssue[] } | undefined)?.fields : null;
        if (!issues) throw error;
        fields.push(...issues);
        return [];
      }
    });
    if (fields.length > 0) {
      failValidation(
        `Invalid body: ${fields
          .slice(0, 3)
          .map((field) => `${field.path}: ${field.message}`)
          .join('; ')}`,
        fields,
      );
    }
    return (await this.writes.submit(built)).map(toSourceDto);
  }

  /** A new source's documents as they will be written (nothing is written yet); `at` prefixes field paths. */
  private build(bot: ChatbotRecord, input: CreateSourceInput, file: UploadedFile | null, at: string): NewSource {
    const base = { _id: new Types.ObjectId(), organizationId: bot.organizationId, chatbotId: bot._id, revision: 1 };
    if (input.type === 'text') {
      return {
        source: { ...base, type: 'text', title: input.title },
        content: { ...this.contentOwner(base), text: input.content },
      };
    }
    if (input.type === 'url') {
      this.assertFetchable(input.url, `${at}url`);
      const source = {
        ...base,
        type: 'url' as const,
        title: input.title ?? new URL(input.url).hostname,
        titleFromUser: Boolean(input.title),
        url: input.url,
        crawl: input.crawl,
      };
      return { source, content: null };
    }
    if (!file) {
      throw new AppError('ValidationError', {
        message: 'Upload the document as multipart/form-data in a field named "file"',
        details: { fields: [{ path: 'file', message: 'required' }] },
      });
    }
    const kind = detectKind(file.data, file.mimeType, file.name);
    if (!kind) {
      throw new AppError('UnsupportedMediaTypeError', {
        message: 'Upload a PDF, DOCX, Markdown, HTML or plain text file',
        details: { fileName: file.name.slice(0, 200), mimeType: file.mimeType.slice(0, 100) },
      });
    }
    const mimeType = KIND_MIME[kind];
    return {
      source: {
        ...base,
        type: 'file',
        title: input.title ?? file.name.slice(0, 200),
        titleFromUser: Boolean(input.title),
        file: { name: file.name.slice(0, 200), mimeType, size: file.data.length },
      },
      content: { ...this.contentOwner(base), data: file.data, mimeType },
    };
  }

  /**
   * Writes new sources: their stored contents first, then the sources and their jobs side by side (the jobs
   * held back from every worker until both are written, so no worker looks for a source or its content
   * before they exist). One insert each, however many sources. A failed write removes what the others wrote
   * and is reported: the caller was not told the sources exist, so none is left behind to surprise them.
   */
  private async write(built: NewSource[]): Promise<SourceRecord[]> {
    const { SourceContent, Source, KnowledgeJob } = this.models;
    const ids = built.map((item) => item.source._id);
    const contents = built.flatMap((item) => (item.content ? [item.content] : []));
    const now = new Date();
    const reservation = this.queue.reserve(now);
    // Built as inserted (defaults and timestamps) and written lean: every field was checked by the request's
    // schema or set here, so a mongoose document per item would only cost CPU.
    const sources = built.map((item) => asInserted(Source, item.source, now));
    try {
      if (contents.length > 0) {
        await SourceContent.insertMany(
          contents.map((content) => asInserted(SourceContent, content, now)),
          { lean: true },
        );
      }
      const [, jobIds] = await Promise.all([
        Source.insertMany(sources, { lean: true }),
        this.queue.enqueueNew(sources, reservation, now),
      ]);
      this.queue.release(jobIds, reservation);
      return sources as unknown as SourceRecord[];
    } catch (error) {
      // Best effort: what is left (the process died meanwhile) is a content no source points at, or a
      // job that finds no source; a source whose job is missing is queued again at the next start.
      const bySource = { sourceId: { $in: ids } };
      await Promise.allSettled([
        Source.deleteMany({ _id: { $in: ids } }),
        KnowledgeJob.deleteMany(bySource),
        SourceContent.deleteMany(bySource),
      ]);
      throw error;
    }
  }

  /** One bot's sources, or with `chatbot` null every source of the organization. */
  async list(
    organizationId: string,
    chatbot: string | null,
    filters: { status?: SourceStatus; type?: SourceType },
    page: number,
    perPage: number,
  ) {
    const bot = chatbot === null ? null : await this.chatbots.find(organizationId, chatbot);
    const filter = {
      organizationId: new Types.ObjectId(organizationId),
      ...(bot ? { chatbotId: bot._id } : {}),
      ...(filters.status ? { status: filters.status } : {}),
      ...(filters.type ? { type: filters.type } : {}),
    };
    const { items: docs, total } = await findPage(
      this.models.Source.find(filter).sort(NEWEST_FIRST),
      this.models.Source.countDocuments(filter),
      page,
      perPage,
    );
    return { items: docs.map(toSourceDto), total };
  }

  /** A source of this organization; another organization's source is simply not found. */
  async find(organizationId: string, id: string): Promise<SourceRecord> {
    const doc = await this.models.Source.findOne(ownSource(organizationId, id));
    if (!doc) throw notFoundSource(id);
    return doc;
  }

  async get(organizationId: string, id: string): Promise<SourceDto> {
    return toSourceDto(await this.find(organizationId, id));
  }

  /** The passages that answer questions now (the active run's), in document order. */
  async chunks(organizationId: string, id: string, page: number, perPage: number) {
    const source = await this.find(organizationId, id);
    const filter = { sourceId: source._id, run: source.activeRun ?? '' };
    const { items, total } = await findPage(
      this.models.Chunk.find(filter, { vector: 0 }).sort({ position: 1 }),
      this.models.Chunk.countDocuments(filter),
      page,
      perPage,
    );
    const dtos: SourceChunkDto[] = items.map((chunk) => ({
      id: chunk._id.toString(),
      position: chunk.position,
      title: chunk.title,
      heading: chunk.heading ?? '',
      url: chunk.url ?? null,
      text: chunk.text,
      characters: chunk.text.length,
      tokens: chunk.tokens,
      embedded: chunk.vectorModel != null,
    }));
    return { items: dtos, total };
  }

  /** The pages the last successful crawl or sitemap read took and skipped, with reasons. */
  async pages(organizationId: string, id: string, page: number, perPage: number) {
    const source = await this.find(organizationId, id);
    const all: SourcePageDto[] = (source.pageOutcomes ?? []).map((outcome) => ({
      url: outcome.url ?? '',
      status: outcome.status === 'taken' ? 'taken' : 'skipped',
      reason: outcome.reason ?? null,
    }));
    return { items: all.slice((page - 1) * perPage, page * perPage), total: all.length };
  }

  /** Renames in place; new content or a new address reprocesses the source (`requeued`). */
  async update(organizationId: string, id: string, input: UpdateSourceInput) {
    const doc = await this.find(organizationId, id);
    const wrongField = (field: string, type: string) =>
      new AppError('ValidationError', {
        message: `"${field}" can only be changed on ${type} sources`,
        details: { fields: [{ path: field, message: `not a ${type} source` }] },
      });
    if (input.content !== undefined && doc.type !== 'text') throw wrongField('content', 'text');
    if ((input.url !== undefined || input.crawl !== undefined) && doc.type !== 'url') throw wrongField('url', 'url');
    if (input.url) this.assertFetchable(input.url);
    const requeue = input.content !== undefined || input.url !== undefined || input.crawl !== undefined;
    if (input.content !== undefined) {
      await this.models.SourceContent.updateOne({ sourceId: doc._id }, { $set: { text: input.content } });
    }
    const set: Record<string, unknown> = {};
    if (input.title) Object.assign(set, { title: input.title, titleFromUser: true });
    if (input.url) set.url = input.url;
    if (input.crawl) set.crawl = input.crawl;
    if (requeue) Object.assign(set, { status: 'queued', failureReason: null, attempts: 0 });
    const updated = await this.models.Source.findOneAndUpdate(
      { _id: doc._id },
      { $set: set, ...(requeue ? { $inc: { revision: 1 } } : {}) },
      { returnDocument: 'after' },
    );
    if (!updated) throw notFoundSource(id);
    if (requeue) await this.queue.enqueue(updated);
    else if (input.title && doc.type !== 'url') await this.retitleChunks(updated, input.title);
    return { source: toSourceDto(updated), requeued: requeue };
  }

  /** Processes the source again from its stored content or its address. */
  async reindex(organizationId: string, id: string): Promise<SourceDto> {
    const updated = await this.models.Source.findOneAndUpdate(
      ownSource(organizationId, id),
      { $set: { status: 'queued', failureReason: null, attempts: 0 }, $inc: { revision: 1 } },
      { returnDocument: 'after' },
    );
    if (!updated) throw notFoundSource(id);
    await this.queue.enqueue(updated);
    return toSourceDto(updated);
  }

  /** Deletes the source and its chunks; the next question, on any node, no longer sees them. */
  async remove(organizationId: string, id: string): Promise<void> {
    const doc = await this.find(organizationId, id);
    await this.models.Source.deleteOne({ _id: doc._id });
    await this.queue.cancel(doc._id);
    const target = { organizationId, chatbotId: doc.chatbotId.toString() };
    await this.cache.removeSource(target, doc._id.toString());
    await Promise.all([
      this.models.Chunk.deleteMany({ sourceId: doc._id }),
      this.models.SourceContent.deleteOne({ sourceId: doc._id }),
    ]);
  }

  /** The organization's knowledge totals for the usage report. */
  readonly countStorage: StorageCounter = async (organizationId) => {
    const [totals] = await this.models.Source.aggregate<{ sources: number; characters: number; chunks: number }>([
      { $match: { organizationId } },
      {
        $group: {
          _id: null,
          sources: { $sum: 1 },
          characters: { $sum: '$characters' },
          chunks: { $sum: '$chunks' },
        },
      },
    ]);
    return { sources: totals?.sources ?? 0, characters: totals?.characters ?? 0, chunks: totals?.chunks ?? 0 };
  };

  private contentOwner(base: { _id: Types.ObjectId; organizationId: Types.ObjectId; chatbotId: Types.ObjectId }) {
    return { organizationId: base.organizationId, chatbotId: base.chatbotId, sourceId: base._id };
  }

  private async retitleChunks(source: SourceRecord, title: string): Promise<void> {
    await this.models.Chunk.updateMany({ sourceId: source._id }, { $set: { title } });
    const target = { organizationId: source.organizationId.toString(), chatbotId: source.chatbotId.toString() };
    await this.cache.retitleSource(target, source._id.toString(), title);
  }

  /** Refuses a URL whose host is a literal private address before it is even queued. */
  private assertFetchable(url: string, path = 'url'): void {
    const address = literalAddress(new URL(url).hostname);
    const reason = address ? this.policy.refuse(address) : null;
    if (reason) {
      throw new AppError('ValidationError', {
        message: `This URL cannot be fetched: ${reason}`,
        details: { fields: [{ path, message: 'private, loopback, link-local or reserved address' }] },
      });
    }
  }
}
