import { useState } from 'preact/hooks';
import { api, apiPage, hasScope } from '../api.js';
import { chosenBot } from '../state.js';
import { OkMessage } from '../components/OkMessage.js';
import { ErrorMessage, Field, formatDate, Loading, Pager, useAction, useLoad } from '../ui.js';

export interface Gap {
  question: string;
  count: number;
  lastConfidence: number;
  firstAskedAt: string;
  lastAskedAt: string;
}

const PER_PAGE = 20;

/** Answering a gap adds a text source holding the question and the owner's answer. */
function AnswerForm({ botId, gap, onDone }: { botId: string; gap: Gap; onDone: () => void }) {
  const [answer, setAnswer] = useState('');
  const action = useAction();
  return (
    <form
      class="answer"
      onSubmit={async (e) => {
        e.preventDefault();
        const ok = await action.run(() =>
          api('POST', `/chatbots/${botId}/sources`, {
            type: 'text',
            title: gap.question.slice(0, 200),
            content: `${gap.question}\n\n${answer}`,
          }),
        );
        if (ok) onDone();
      }}
    >
      <Field label={`Answer to "${gap.question}"`}>
        {(p) => <textarea {...p} required rows={3} value={answer} onInput={(e) => setAnswer(e.currentTarget.value)} />}
      </Field>
      <ErrorMessage error={action.error} />
      <button type="submit" class="primary" disabled={action.busy}>
        Add as knowledge
      </button>
    </form>
  );
}

export function GapsPage() {
  const bot = chosenBot.value;
  const [page, setPage] = useState(1);
  const [answering, setAnswering] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const gaps = useLoad(
    () =>
      bot
        ? apiPage<Gap>(`/chatbots/${bot.id}/unanswered?page=${page}&perPage=${PER_PAGE}`)
        : Promise.resolve({ items: [], total: 0 }),
    [bot?.id, page],
  );
  if (!bot) return <p>Create a bot first, on the Bots page.</p>;
  return (
    <>
      <p class="muted">Questions {bot.name} answered with low confidence or not at all, most asked first.</p>
      <Loading when={gaps.loading && !gaps.data} />
      <ErrorMessage error={gaps.error} />
      <OkMessage message={added} />
      {gaps.data?.items.length === 0 ? <p class="muted">No gaps: every question found an answer.</p> : null}
      <ul class="list gaps">
        {gaps.data?.items.map((gap) => (
          <li key={gap.question}>
            <div class="row wrap">
              <strong>{gap.question}</strong>
              <span class="muted">
                asked {gap.count}× · last {formatDate(gap.lastAskedAt)} · confidence {gap.lastConfidence.toFixed(2)}
              </span>
              {hasScope('knowledge:write') ? (
                <button
                  type="button"
                  aria-expanded={answering === gap.question}
                  onClick={() => setAnswering(answering === gap.question ? null : gap.question)}
                >
                  Answer this
                </button>
              ) : null}
            </div>
            {answering === gap.question ? (
              <AnswerForm
                botId={bot.id}
                gap={gap}
                onDone={() => {
                  setAnswering(null);
                  setAdded(`Added an answer to "${gap.question}" as knowledge; it is being indexed.`);
                }}
              />
            ) : null}
          </li>
        ))}
      </ul>
      <Pager page={page} perPage={PER_PAGE} total={gaps.data?.total ?? 0} onPage={setPage} />
    </>
  );
}
