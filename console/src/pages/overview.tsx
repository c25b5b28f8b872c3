import { useEffect, useRef } from 'preact/hooks';
import type { ConversationSummary } from '../../../shared/schemas/conversations.js';
import { api, ApiError, apiPage, hasScope } from '../api.js';
import { href } from '../router.js';
import { botName, chosenBot } from '../state.js';
import { ErrorMessage, formatDate, Loading, useLoad } from '../ui.js';
import type { Gap } from './gaps.js';

interface Usage {
  period: string;
  plan: string;
  messages: { used: number; limit: number | null; resetsAt: string };
  tokens: { total: number };
  sources: number;
  storage: { characters: number; chunks: number };
}

/** One bucket of the analytics series; only `bucket` and numbers are relied on. */
type SeriesPoint = { bucket: string } & Record<string, unknown>;
interface Analytics {
  series?: SeriesPoint[];
  top?: Record<string, unknown>;
}

const SERIES = ['conversations', 'messages', 'answers'] as const;
const COLORS = ['#2563eb', '#16a34a', '#d97706'];

function UsageCard({ usage }: { usage: Usage }) {
  const { used, limit, resetsAt } = usage.messages;
  return (
    <section class="card" aria-labelledby="usage">
      <h2 id="usage">Usage this month</h2>
      <p>
        <strong>{used.toLocaleString()}</strong> of {limit === null ? 'unlimited' : limit.toLocaleString()} messages (
        {usage.plan} plan, resets {formatDate(resetsAt)})
      </p>
      {limit ? <progress max={limit} value={used} aria-label="Messages used of the monthly quota" /> : null}
      <p class="muted">
        {usage.tokens.total.toLocaleString()} tokens · {usage.sources} sources · {usage.storage.chunks.toLocaleString()}{' '}
        chunks
      </p>
    </section>
  );
}

/** The analytics series as a line chart (uPlot, loaded only when there is something to draw). */
function SeriesChart({ series }: { series: SeriesPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let chart: { destroy(): void } | null = null;
    let cancelled = false;
    void Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([{ default: UPlot }]) => {
      if (cancelled || !box.current) return;
      const present = SERIES.filter((name) => series.some((point) => typeof point[name] === 'number'));
      const x = series.map((point) => new Date(point.bucket).getTime() / 1000);
      const data = [x, ...present.map((name) => series.map((point) => Number(point[name] ?? 0)))];
      chart = new UPlot(
        {
          width: Math.max(280, box.current.clientWidth),
          height: 220,
          series: [{}, ...present.map((name, i) => ({ label: name, stroke: COLORS[i], width: 2 }))],
          axes: [{}, { size: 50 }],
        },
        data as never,
        box.current,
      );
    });
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [JSON.stringify(series)]);
  const totals = SERIES.map((name) => [name, series.reduce((sum, p) => sum + Number(p[name] ?? 0), 0)] as const);
  return (
    <>
      <div
        ref={box}
        class="chart"
        role="img"
        aria-label={`Activity over time: ${totals.map(([n, v]) => `${v} ${n}`).join(', ')}`}
      />
      <p class="muted">{totals.map(([name, value]) => `${value.toLocaleString()} ${name}`).join(' · ')}</p>
    </>
  );
}

/** Top lists as the analytics answer them: each an array of items with a label and a count. */
function TopLists({ top }: { top: Record<string, unknown> }) {
  const lists = Object.entries(top).filter((entry): entry is [string, Array<Record<string, unknown>>] =>
    Array.isArray(entry[1]),
  );
  return (
    <div class="grid2">
      {lists.map(([name, items]) => (
        <div key={name}>
          <h3>{name.replace(/([A-Z])/g, ' $1').toLowerCase()}</h3>
          <ol>
            {items.slice(0, 5).map((item, i) => {
              const label = Object.values(item).find((v) => typeof v === 'string') ?? '';
              const count = Object.values(item).find((v) => typeof v === 'number');
              return (
                <li key={i}>
                  {String(label)} {count !== undefined ? <span class="muted">({String(count)})</span> : null}
                </li>
              );
            })}
          </ol>
        </div>
      ))}
    </div>
  );
}

function AnalyticsCard() {
  const analytics = useLoad(
    () =>
      api<Analytics>('GET', '/analytics').catch((error: unknown) => {
        // Not every server has analytics yet: the overview says so quietly instead of failing.
        if (error instanceof ApiError && error.status !== 0) return null;
        throw error;
      }),
    [],
  );
  const series = analytics.data?.series;
  return (
    <section class="card" aria-labelledby="activity">
      <h2 id="activity">Activity</h2>
      <Loading when={analytics.loading && analytics.data === undefined} />
      <ErrorMessage error={analytics.error} />
      {analytics.data === null ? <p class="muted">Analytics are not available on this server.</p> : null}
      {series && series.length > 0 ? <SeriesChart series={series} /> : null}
      {series && series.length === 0 ? <p class="muted">No activity in this period yet.</p> : null}
      {analytics.data?.top ? <TopLists top={analytics.data.top} /> : null}
    </section>
  );
}

export function OverviewPage() {
  const bot = chosenBot.value;
  const usage = useLoad(() => (hasScope('admin') ? api<Usage>('GET', '/usage') : Promise.resolve(null)), []);
  const recent = useLoad(
    () =>
      hasScope('conversations:read')
        ? apiPage<ConversationSummary>('/conversations?perPage=5')
        : Promise.resolve({ items: [], total: 0 }),
    [],
  );
  const gaps = useLoad(
    () =>
      bot && hasScope('conversations:read')
        ? apiPage<Gap>(`/chatbots/${bot.id}/unanswered?perPage=5`)
        : Promise.resolve({ items: [], total: 0 }),
    [bot?.id],
  );
  return (
    <div class="stack">
      <ErrorMessage error={usage.error} />
      {usage.data ? <UsageCard usage={usage.data} /> : null}
      <AnalyticsCard />
      <div class="grid2">
        <section class="card" aria-labelledby="recent">
          <h2 id="recent">Recent conversations</h2>
          <ErrorMessage error={recent.error} />
          {recent.data?.items.length === 0 ? <p class="muted">None yet.</p> : null}
          <ul class="list">
            {recent.data?.items.map((c) => (
              <li key={c.id}>
                <a href={href('conversations', c.id)}>{c.lastMessage?.preview ?? 'Empty conversation'}</a>{' '}
                <span class="muted">
                  {botName(c.chatbotId)} · {formatDate(c.lastMessage?.at ?? c.updatedAt)}
                </span>
              </li>
            ))}
          </ul>
        </section>
        <section class="card" aria-labelledby="recent-gaps">
          <h2 id="recent-gaps">Recent gaps{bot ? ` of ${bot.name}` : ''}</h2>
          <ErrorMessage error={gaps.error} />
          {gaps.data?.items.length === 0 ? <p class="muted">No unanswered questions.</p> : null}
          <ul class="list">
            {gaps.data?.items.map((gap) => (
              <li key={gap.question}>
                {gap.question} <span class="muted">({gap.count}×)</span>
              </li>
            ))}
          </ul>
          {gaps.data && gaps.data.total > 0 ? <a href={href('gaps')}>All gaps</a> : null}
        </section>
      </div>
    </div>
  );
}
