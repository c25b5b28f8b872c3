import { useState } from 'preact/hooks';
import type { AgentLoopDto, ExecutionDto } from '../../../shared/schemas/agent-loops.js';
import { api, apiPage, hasScope } from '../api.js';
import { botName } from '../state.js';
import {
  ConfirmButton,
  ErrorMessage,
  Field,
  Loading,
  formatDate,
  parseJson,
  useAction,
  useFocusReturn,
  useLoad,
} from '../ui.js';
import { Executions } from './executions.js';
import { LoopEditor } from './loop-editor.js';

function RunForm({ loop, onStarted }: { loop: AgentLoopDto; onStarted: () => void }) {
  const [input, setInput] = useState('{}');
  const run = useAction();
  const [started, setStarted] = useState<string | null>(null);
  return (
    <form
      class="row wrap run-form"
      aria-label={`Run ${loop.name}`}
      onSubmit={async (e) => {
        e.preventDefault();
        setStarted(null);
        await run.run(async () => {
          await api<ExecutionDto>('POST', `/agent-loops/${loop.id}/run`, { input: parseJson('Input', input, {}) });
          setStarted('Started: its progress shows below.');
          onStarted();
        });
      }}
    >
      <Field label="Input" hint="JSON matching the loop's input schema.">
        {(p) => (
          <textarea
            {...p}
            class="code"
            rows={2}
            spellcheck={false}
            value={input}
            onInput={(e) => setInput(e.currentTarget.value)}
          />
        )}
      </Field>
      <button type="submit" class="primary" disabled={run.busy}>
        Run now<span class="visually-hidden"> {loop.name}</span>
      </button>
      <ErrorMessage error={run.error} />
      {started ? (
        <p class="ok" role="status">
          {started}
        </p>
      ) : null}
    </form>
  );
}

function LoopItem({ loop, onChanged }: { loop: AgentLoopDto; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const editButton = useFocusReturn(editing);
  const [showRuns, setShowRuns] = useState(false);
  const [version, setVersion] = useState(0);
  const remove = useAction();
  const canRun = hasScope('agent_loops:run');
  const named = (text: string) => (
    <span>
      {text}
      <span class="visually-hidden"> {loop.name}</span>
    </span>
  );
  if (editing) {
    return (
      <li>
        <LoopEditor
          loop={loop}
          onCancel={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
        />
      </li>
    );
  }
  return (
    <li class="item">
      <div class="row wrap">
        <strong>{loop.name}</strong>
        <span class={`badge ${loop.enabled ? 'ready' : ''}`}>{loop.enabled ? 'Enabled' : 'Disabled'}</span>
      </div>
      <p class="muted">
        {botName(loop.chatbotId)} ·{' '}
        {loop.schedule
          ? `${loop.schedule.cron} (${loop.schedule.timezone}), next ${formatDate(loop.nextRunAt)}`
          : 'on demand only'}{' '}
        · {loop.tools.length} tools · up to {loop.maxSteps} steps
      </p>
      <p class="clip">{loop.instructions}</p>
      <div class="row wrap">
        {canRun ? (
          <button type="button" aria-expanded={showRuns} onClick={() => setShowRuns(!showRuns)}>
            {named('Runs')}
          </button>
        ) : null}
        <button type="button" ref={editButton} onClick={() => setEditing(true)}>
          {named('Edit')}
        </button>
        <ConfirmButton
          label={named('Delete')}
          question={`Delete the agent loop ${loop.name}? Its schedule stops; past executions stay.`}
          confirmLabel="Delete loop"
          onConfirm={() => remove.run(() => api('DELETE', `/agent-loops/${loop.id}`)).then((ok) => ok && onChanged())}
        />
      </div>
      <ErrorMessage error={remove.error} />
      {showRuns ? (
        <>
          <RunForm loop={loop} onStarted={() => setVersion(version + 1)} />
          <Executions loop={loop} version={version} />
        </>
      ) : null}
    </li>
  );
}

export function AgentLoopsPage() {
  const loops = useLoad(
    () =>
      hasScope('agent_loops:write')
        ? apiPage<AgentLoopDto>('/agent-loops?perPage=100')
        : Promise.resolve({ items: [], total: 0 }),
    [],
  );
  const [created, setCreated] = useState<string | null>(null);
  if (!hasScope('agent_loops:write')) return <p>Agent loops need a key with the agent_loops:write scope.</p>;
  return (
    <div class="stack">
      <p class="muted">
        An agent loop works toward a goal on its own, with a bot's knowledge and actions as tools: on demand or on a
        schedule, within the step, token and time limits you set.
      </p>
      <LoopEditor
        loop={null}
        onSaved={(loop) => {
          setCreated(`Created the loop ${loop.name}.`);
          void loops.reload();
        }}
      />
      {created ? (
        <p class="ok" role="status">
          {created}
        </p>
      ) : null}
      <section aria-labelledby="loop-list">
        <h2 id="loop-list">Loops</h2>
        <Loading when={loops.loading && !loops.data} />
        <ErrorMessage error={loops.error} />
        {loops.data?.items.length === 0 ? <p class="muted">No agent loops yet.</p> : null}
        <ul class="list loops">
          {loops.data?.items.map((loop) => (
            <LoopItem key={loop.id} loop={loop} onChanged={() => void loops.reload()} />
          ))}
        </ul>
      </section>
    </div>
  );
}
