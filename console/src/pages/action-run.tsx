import { useState } from 'preact/hooks';
import type { ActionDto, ActionRunDto } from '../../../shared/schemas/actions.js';
import { api, apiPage } from '../api.js';
import { CodeField } from '../components/CodeField.js';
import { DataTable } from '../components/DataTable.js';
import { ListStatus } from '../components/ListStatus.js';
import { ErrorMessage, Field, formatDate, parseJson, pretty, useAction, useLoad } from '../ui.js';

interface RunOutcome {
  runId: string;
  status: 'succeeded' | 'failed' | 'refused';
  httpStatus: number | null;
  result: unknown;
  error: string | null;
  durationMs: number;
}

/** Arguments to start from: each declared parameter, empty. */
function skeletonOf(action: ActionDto): string {
  const properties = (action.parameters as { properties?: Record<string, { type?: string }> }).properties ?? {};
  const entries = Object.entries(properties).map(([name, schema]) => [
    name,
    schema.type === 'number' || schema.type === 'integer' ? 0 : schema.type === 'boolean' ? false : '',
  ]);
  return pretty(Object.fromEntries(entries));
}

const KIND: Record<string, string> = {
  succeeded: 'ready',
  failed: 'failed',
  refused: 'failed',
  declined: 'failed',
  interrupted: 'failed',
};

/** Runs an action by hand (the run is its own confirmation) and shows what the model would have seen. */
export function ActionRunner({ action, onRan }: { action: ActionDto; onRan: () => void }) {
  const [parameters, setParameters] = useState(skeletonOf(action));
  const [userToken, setUserToken] = useState('');
  const [outcome, setOutcome] = useState<RunOutcome | null>(null);
  const run = useAction();
  return (
    <form
      class="card"
      aria-label={`Test ${action.name}`}
      onSubmit={async (e) => {
        e.preventDefault();
        setOutcome(null);
        await run.run(async () => {
          const body = {
            parameters: parseJson('Arguments', parameters, {}),
            ...(userToken.trim() ? { userToken: userToken.trim() } : {}),
          };
          setOutcome(await api<RunOutcome>('POST', `/actions/${action.id}/run`, body));
          onRan();
        });
      }}
    >
      <CodeField
        label="Arguments"
        hint="JSON, checked against the action's parameters."
        rows={4}
        value={parameters}
        onValue={setParameters}
      />
      {action.requiresUser ? (
        <Field label="End-user token" hint="A JWT signed with the bot's identity secret, for {user.*}.">
          {(p) => (
            <input
              {...p}
              type="password"
              autoComplete="off"
              value={userToken}
              onInput={(e) => setUserToken(e.currentTarget.value)}
            />
          )}
        </Field>
      ) : null}
      <ErrorMessage error={run.error} />
      <button type="submit" class="primary" disabled={run.busy}>
        {run.busy ? 'Running…' : 'Run now'}
      </button>
      {outcome ? (
        <div role="status" class="outcome">
          <p>
            <span class={`badge ${KIND[outcome.status] ?? ''}`}>{outcome.status}</span>{' '}
            {outcome.httpStatus ? `HTTP ${outcome.httpStatus} · ` : ''}
            {outcome.durationMs} ms
          </p>
          {outcome.error ? <p class="error">{outcome.error}</p> : null}
          {outcome.result !== undefined && outcome.result !== null ? <pre>{pretty(outcome.result)}</pre> : null}
        </div>
      ) : null}
    </form>
  );
}

/** Invocations from chats, loops and the API, newest first. */
export function ActionRuns({ action, version }: { action: ActionDto; version: number }) {
  const runs = useLoad(() => apiPage<ActionRunDto>(`/actions/${action.id}/runs?perPage=10`), [action.id, version]);
  return (
    <section aria-label={`Runs of ${action.name}`}>
      <h3>Recent runs</h3>
      <ListStatus list={runs} empty="Not run yet." />
      {runs.data?.items.length ? (
        <DataTable label={`Runs of ${action.name}`} columns={['When', 'From', 'Status', 'Answer']}>
          {runs.data.items.map((r) => (
            <tr key={r.id}>
              <td>{formatDate(r.createdAt)}</td>
              <td>{r.source}</td>
              <td>
                <span class={`badge ${KIND[r.status] ?? ''}`}>{r.status}</span>
              </td>
              <td>
                {r.httpStatus ? `HTTP ${r.httpStatus} · ` : ''}
                {r.durationMs} ms
                {r.sends > 1 ? ` · sent ${r.sends} times (resent after an interruption)` : ''}
                {r.error ? <div class="muted">{r.error}</div> : null}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
    </section>
  );
}
