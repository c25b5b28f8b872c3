import { useEffect, useRef, useState } from 'preact/hooks';
import type { RetrievalPreviewDto, SourceChunkDto, SourceDto } from '../../../shared/schemas/sources.js';
import { api, apiPage, hasScope, messageOf } from '../api.js';
import { chosenBot } from '../state.js';
import { ConfirmButton, ErrorMessage, Field, Loading, useAction, useLoad } from '../ui.js';

const STEPS = ['queued', 'fetching', 'chunking', 'embedding', 'ready'] as const;

/** Where a source is, as one word: queued, a processing step, ready or failed. */
function stepOf(source: SourceDto): string {
  if (source.status === 'processing') return source.stage ?? 'fetching';
  return source.status;
}

function SourceProgress({ source }: { source: SourceDto }) {
  const step = stepOf(source);
  if (source.status === 'failed') {
    return <span class="badge failed">Failed: {source.failureReason}</span>;
  }
  const index = STEPS.indexOf(step as (typeof STEPS)[number]);
  return (
    <span class={`badge ${source.status}`}>
      {source.status === 'ready' ? null : (
        <progress max={STEPS.length - 1} value={Math.max(0, index)} aria-label={`${source.title}: ${step}`} />
      )}{' '}
      {step[0]!.toUpperCase() + step.slice(1)}
      {source.status === 'ready' ? ` · ${source.counts.chunks} ${source.counts.chunks === 1 ? 'chunk' : 'chunks'}` : ''}
      {source.attempts > 1 && source.status !== 'ready' ? ` (attempt ${source.attempts})` : ''}
    </span>
  );
}

function AddText({ botId, onAdded }: { botId: string; onAdded: () => void }) {
  const [title, setTitle] = useState('');
  const [content, setContent] = useState('');
  const action = useAction();
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        const ok = await action.run(() => api('POST', `/chatbots/${botId}/sources`, { type: 'text', title, content }));
        if (ok) {
          setTitle('');
          setContent('');
          onAdded();
        }
      }}
    >
      <Field label="Title">
        {(p) => (
          <input {...p} required maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        )}
      </Field>
      <Field label="Text" hint="Plain text or Markdown.">
        {(p) => (
          <textarea {...p} required rows={6} value={content} onInput={(e) => setContent(e.currentTarget.value)} />
        )}
      </Field>
      <ErrorMessage error={action.error} />
      <button type="submit" class="primary" disabled={action.busy}>
        Add text
      </button>
    </form>
  );
}

function AddUrl({ botId, onAdded }: { botId: string; onAdded: () => void }) {
  const [url, setUrl] = useState('');
  const [mode, setMode] = useState<'page' | 'sitemap' | 'site'>('page');
  const [maxPages, setMaxPages] = useState(25);
  const action = useAction();
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        const ok = await action.run(() =>
          api('POST', `/chatbots/${botId}/sources`, { type: 'url', url, crawl: { mode, maxPages } }),
        );
        if (ok) {
          setUrl('');
          onAdded();
        }
      }}
    >
      <Field label="Address">
        {(p) => (
          <input
            {...p}
            type="url"
            required
            placeholder="https://www.example.com/help"
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
        )}
      </Field>
      <div class="grid2">
        <Field label="What to read">
          {(p) => (
            <select {...p} value={mode} onChange={(e) => setMode(e.currentTarget.value as typeof mode)}>
              <option value="page">This page</option>
              <option value="sitemap">Its sitemap</option>
              <option value="site">Crawl the site</option>
            </select>
          )}
        </Field>
        <Field label="At most pages">
          {(p) => (
            <input
              {...p}
              type="number"
              min={1}
              max={500}
              value={maxPages}
              disabled={mode === 'page'}
              onInput={(e) => setMaxPages(Number(e.currentTarget.value))}
            />
          )}
        </Field>
      </div>
      <ErrorMessage error={action.error} />
      <button type="submit" class="primary" disabled={action.busy}>
        Add address
      </button>
    </form>
  );
}

/** Several files at once, dropped or chosen; each is uploaded on its own and reports its own failure. */
function AddFiles({ botId, onAdded }: { botId: string; onAdded: () => void }) {
  const [results, setResults] = useState<Array<{ name: string; error: string | null }>>([]);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const upload = async (files: FileList | File[]) => {
    const list = [...files];
    setResults(list.map((file) => ({ name: file.name, error: null })));
    const outcomes = await Promise.all(
      list.map(async (file) => {
        const form = new FormData();
        form.append('file', file);
        try {
          await api('POST', `/chatbots/${botId}/sources`, form);
          return { name: file.name, error: null };
        } catch (error) {
          return { name: file.name, error: messageOf(error) };
        }
      }),
    );
    setResults(outcomes);
    onAdded();
  };
  return (
    <div>
      <div
        class={`drop ${over ? 'over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          if (e.dataTransfer?.files.length) void upload(e.dataTransfer.files);
        }}
      >
        <p>Drop PDF, DOCX, Markdown, HTML or text files here, or</p>
        <label class="button">
          Choose files
          <input
            ref={input}
            type="file"
            multiple
            class="visually-hidden"
            accept=".pdf,.docx,.md,.markdown,.html,.htm,.txt,text/*,application/pdf"
            onChange={(e) => {
              const files = e.currentTarget.files;
              if (files?.length) void upload(files);
              e.currentTarget.value = '';
            }}
          />
        </label>
      </div>
      <ul class="list" aria-live="polite">
        {results.map((r) => (
          <li key={r.name}>
            {r.name}: {r.error ? <span class="error">{r.error}</span> : 'uploaded'}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Chunks({ source }: { source: SourceDto }) {
  const chunks = useLoad(() => apiPage<SourceChunkDto>(`/sources/${source.id}/chunks?perPage=20`), [source.id]);
  return (
    <div class="chunks">
      <Loading when={chunks.loading && !chunks.data} />
      <ErrorMessage error={chunks.error} />
      {chunks.data ? (
        <p class="muted">
          {chunks.data.total} chunks{chunks.data.total > 20 ? ', the first 20:' : ':'}
        </p>
      ) : null}
      <ol>
        {chunks.data?.items.map((chunk) => (
          <li key={chunk.id}>
            {chunk.heading ? <strong>{chunk.heading}</strong> : null}
            <p>{chunk.text}</p>
            <small class="muted">
              {chunk.tokens} tokens{chunk.embedded ? ' · embedded' : ''}
            </small>
          </li>
        ))}
      </ol>
    </div>
  );
}

function SourceRow({ source, onChange }: { source: SourceDto; onChange: () => void }) {
  const [open, setOpen] = useState(false);
  const action = useAction();
  const canWrite = hasScope('knowledge:write');
  return (
    <li class="source">
      <div class="row wrap">
        <strong>{source.title}</strong>
        <span class="muted">{source.url ?? source.file?.name ?? source.type}</span>
        <SourceProgress source={source} />
      </div>
      <div class="row wrap">
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? 'Hide chunks' : 'Preview chunks'}
        </button>
        {canWrite ? (
          <>
            <button
              type="button"
              disabled={action.busy}
              onClick={() => void action.run(() => api('POST', `/sources/${source.id}/reindex`)).then(onChange)}
            >
              Reindex
            </button>
            <ConfirmButton
              label="Delete"
              question={`Delete the source "${source.title}"? Its passages stop appearing in answers at once.`}
              confirmLabel="Delete source"
              onConfirm={() => action.run(() => api('DELETE', `/sources/${source.id}`)).then(onChange)}
            />
          </>
        ) : null}
      </div>
      <ErrorMessage error={action.error} />
      {open ? <Chunks source={source} /> : null}
    </li>
  );
}

function TryQuestion({ botId }: { botId: string }) {
  const [question, setQuestion] = useState('');
  const [result, setResult] = useState<RetrievalPreviewDto | null>(null);
  const action = useAction();
  return (
    <section aria-labelledby="try" class="card">
      <h2 id="try">Try a question</h2>
      <form
        class="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () =>
            setResult(
              await api<RetrievalPreviewDto>('POST', `/chatbots/${botId}/retrieval-preview`, { query: question }),
            ),
          );
        }}
      >
        <Field label="Question">
          {(p) => <input {...p} required value={question} onInput={(e) => setQuestion(e.currentTarget.value)} />}
        </Field>
        <button type="submit" disabled={action.busy}>
          Look up
        </button>
      </form>
      <ErrorMessage error={action.error} />
      {result ? (
        <div aria-live="polite">
          <p>
            Confidence <strong>{result.confidence.toFixed(2)}</strong>
            {result.passages.length === 0 ? ': nothing in the knowledge matches.' : ''}
          </p>
          <ol class="passages">
            {result.passages.map((passage) => (
              <li key={passage.chunkId}>
                <strong>{passage.title}</strong> <span class="score">score {passage.score.toFixed(3)}</span>
                <p>{passage.excerpt}</p>
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </section>
  );
}

export function KnowledgePage() {
  const bot = chosenBot.value;
  const [tab, setTab] = useState<'text' | 'url' | 'files'>('text');
  const sources = useLoad(
    () =>
      bot ? apiPage<SourceDto>(`/chatbots/${bot.id}/sources?perPage=100`) : Promise.resolve({ items: [], total: 0 }),
    [bot?.id],
  );
  const busy = sources.data?.items.some((s) => s.status === 'queued' || s.status === 'processing') ?? false;
  // While anything is being processed, its progress is fetched again every second.
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => void sources.reload(), 1000);
    return () => clearInterval(timer);
  }, [busy, sources.reload]);
  if (!bot) return <p>Create a bot first, on the Bots page.</p>;
  const tabs = [
    ['text', 'Text'],
    ['url', 'Web address'],
    ['files', 'Files'],
  ] as const;
  return (
    <div class="stack">
      {hasScope('knowledge:write') ? (
        <section aria-labelledby="add" class="card">
          <h2 id="add">Add knowledge to {bot.name}</h2>
          <div
            role="tablist"
            aria-label="Kind of source"
            class="row"
            onKeyDown={(e) => {
              // Arrow keys move between the tabs; Tab goes on to the form.
              const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
              if (!step) return;
              const index = tabs.findIndex(([id]) => id === tab);
              const [next] = tabs[(index + step + tabs.length) % tabs.length]!;
              setTab(next);
              document.getElementById(`tab-${next}`)?.focus();
            }}
          >
            {tabs.map(([id, label]) => (
              <button
                key={id}
                type="button"
                role="tab"
                id={`tab-${id}`}
                aria-selected={tab === id}
                aria-controls={`panel-${id}`}
                tabIndex={tab === id ? 0 : -1}
                onClick={() => setTab(id)}
              >
                {label}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
            {tab === 'text' ? <AddText botId={bot.id} onAdded={() => void sources.reload()} /> : null}
            {tab === 'url' ? <AddUrl botId={bot.id} onAdded={() => void sources.reload()} /> : null}
            {tab === 'files' ? <AddFiles botId={bot.id} onAdded={() => void sources.reload()} /> : null}
          </div>
        </section>
      ) : null}
      <section aria-labelledby="sources">
        <h2 id="sources">Sources ({sources.data?.total ?? 0})</h2>
        <Loading when={sources.loading && !sources.data} />
        <ErrorMessage error={sources.error} />
        <ul class="list sources">
          {sources.data?.items.map((source) => (
            <SourceRow key={source.id} source={source} onChange={() => void sources.reload()} />
          ))}
        </ul>
      </section>
      <TryQuestion botId={bot.id} />
    </div>
  );
}
