import { useState } from 'preact/hooks';
import type { AgentLoopDto, ExecutionDto } from '../../../shared/schemas/agent-loops.js';
import { api, apiPage, hasScope } from '../api.js';
import { botName } from '../state.js';
import { CodeField } from '../components/CodeField.js';
import { DeleteItemButton } from '../components/DeleteItemButton.js';
import { EditButton, useEditInPlace } from '../components/EditButton.js';
import { ItemLabel } from '../components/ItemLabel.js';
import { ListStatus } from '../components/ListStatus.js';
import { OkMessage } from '../components/OkMessage.js';
import { ErrorMessage, formatDate, parseJson, useAction, useLoad } from '../ui.js';
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
      <CodeField
        label="Input"
        hint="JSON matching the loop's input schema."
        rows={2}
        value={input}
        onValue={setInput}
      />
      <button type="submit" class="primary" disabled={run.busy}>
        Run now<span class="visually-hidden"> {loop.name}</span>
      </button>
      <ErrorMessage error={run.error} />
      <OkMessage message={started} />
    </form>
  );
}

function LoopItem({ loop, onChanged }: { loop: AgentLoopDto; onChanged: () => void }) {
  const edit = useEditInPlace(onChanged);
  const [showRuns, setShowRuns] = useState(false);
  const [version, setVersion] = useState(0);
  const remove = useAction();
  const canRun = hasScope('agent_loops:run');
  if (edit.editing) {
    return (
      <li>
        <LoopEditor loop={loop} onCancel={edit.cancel} onSaved={edit.saved} />
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
            <ItemLabel text="Runs" name={loop.name} />
          </button>
        ) : null}
        <EditButton name={loop.name} edit={edit} />
        <DeleteItemButton
          name={loop.name}
          path={`/agent-loops/${loop.id}`}
          question={`Delete the agent loop ${loop.name}? Its schedule stops; past executions stay.`}
          confirmLabel="Delete loop"
          action={remove}
          onDeleted={onChanged}
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
      <OkMessage message={created} />
      <section aria-labelledby="loop-list">
        <h2 id="loop-list">Loops</h2>
        <ListStatus list={loops} empty="No agent loops yet." />
        <ul class="list loops">
          {loops.data?.items.map((loop) => (
            <LoopItem key={loop.id} loop={loop} onChanged={() => void loops.reload()} />
          ))}
        </ul>
      </section>
    </div>
  );
}
