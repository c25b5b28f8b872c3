import { useState } from 'preact/hooks';
import type { AgentLoopDto, ExecutionDto } from '../../../shared/schemas/agent-loops.js';
import { api, apiPage } from '../api.js';
import { DataTable } from '../components/DataTable.js';
import { ListStatus } from '../components/ListStatus.js';
import { ErrorMessage, formatDate, Loading, pretty, useLoad, usePoll } from '../ui.js';

const KIND: Partial<Record<ExecutionDto['status'], string>> = {
  completed: 'ready',
  failed: 'failed',
  timeout: 'failed',
};
const LABEL: Record<ExecutionDto['status'], string> = {
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  step_limit: 'Stopped at the step limit',
  token_limit: 'Stopped at the token limit',
  timeout: 'Timed out',
  interrupted: 'Interrupted',
};

const inProgress = (e: ExecutionDto) => e.status === 'queued' || e.status === 'running';

export function ExecutionStatus({ execution }: { execution: ExecutionDto }) {
  return <span class={`badge ${KIND[execution.status] ?? ''}`}>{LABEL[execution.status]}</span>;
}

/** One execution's steps (model and tool calls), output and error. */
function ExecutionDetail({ id }: { id: string }) {
  const execution = useLoad(() => api<ExecutionDto>('GET', `/executions/${id}`), [id]);
  const data = execution.data;
  usePoll(Boolean(data && inProgress(data)), execution.reload);
  return (
    <div class="execution">
      <Loading when={execution.loading && !data} />
      <ErrorMessage error={execution.error} />
      {data ? (
        <>
          {data.error ? <p class="error">{data.error}</p> : null}
          {data.output ? (
            <>
              <h4>Output</h4>
              <p class="content">{data.output}</p>
            </>
          ) : null}
          <h4>Steps</h4>
          {data.steps.length === 0 ? <p class="muted">No steps yet.</p> : null}
          <ol>
            {data.steps.map((step, index) => (
              <li key={index}>
                <strong>{step.type === 'model' ? 'Model' : `Tool ${step.name ?? ''}`}</strong>
                {step.status ? ` · ${step.status}` : ''}
                {step.tokens ? ` · ${step.tokens.prompt + step.tokens.completion} tokens` : ''}
                {step.durationMs !== null ? ` · ${step.durationMs} ms` : ''}
                {step.arguments !== null && step.arguments !== undefined ? <pre>{pretty(step.arguments)}</pre> : null}
                {step.type === 'tool' && step.result !== null && step.result !== undefined ? (
                  <pre>{pretty(step.result)}</pre>
                ) : null}
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </div>
  );
}

/** A loop's executions, newest first, refreshed while one is queued or running. */
export function Executions({ loop, version }: { loop: AgentLoopDto; version: number }) {
  const list = useLoad(
    () => apiPage<ExecutionDto>(`/agent-loops/${loop.id}/executions?perPage=10`),
    [loop.id, version],
  );
  const [open, setOpen] = useState<string | null>(null);
  usePoll(Boolean(list.data?.items.some(inProgress)), list.reload);
  return (
    <section aria-label={`Executions of ${loop.name}`}>
      <h3>Executions</h3>
      <ListStatus list={list} empty="Not run yet." />
      {list.data?.items.length ? (
        <DataTable label={`Executions of ${loop.name}`} columns={['Started', 'By', 'Status', 'Took', 'Steps']}>
          {list.data.items.map((e) => (
            <tr key={e.id}>
              <td>{formatDate(e.createdAt)}</td>
              <td>{e.trigger === 'schedule' ? 'schedule' : 'on demand'}</td>
              <td>
                <ExecutionStatus execution={e} />
              </td>
              <td>{e.durationMs !== null ? `${(e.durationMs / 1000).toFixed(1)} s` : '—'}</td>
              <td>
                <button
                  type="button"
                  aria-expanded={open === e.id}
                  onClick={() => setOpen(open === e.id ? null : e.id)}
                >
                  {e.steps.length} {e.steps.length === 1 ? 'step' : 'steps'}
                  <span class="visually-hidden">, details of the run of {formatDate(e.createdAt)}</span>
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {open ? <ExecutionDetail key={open} id={open} /> : null}
    </section>
  );
}
