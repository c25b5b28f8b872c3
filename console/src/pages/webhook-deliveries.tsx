import type { WebhookDeliveryDto, WebhookDto } from '../../../shared/schemas/webhooks.js';
import { api, apiPage, hasScope } from '../api.js';
import { DataTable } from '../components/DataTable.js';
import { ListStatus } from '../components/ListStatus.js';
import { formatDate, useAction, useLoad, usePoll } from '../ui.js';

const KIND: Record<WebhookDeliveryDto['status'], string> = {
  queued: '',
  running: '',
  delivered: 'ready',
  failed: 'failed',
};

/** An endpoint's recent deliveries, refreshed while some are still on their way. */
export function Deliveries({ hook }: { hook: WebhookDto }) {
  const deliveries = useLoad(
    () => apiPage<WebhookDeliveryDto>(`/webhooks/${hook.id}/deliveries?perPage=20`),
    [hook.id],
  );
  const action = useAction();
  // Refreshed while a delivery is on its way now; a retry hours away is not worth a request a second.
  const pending = deliveries.data?.items.some(
    (d) =>
      d.status === 'running' ||
      (d.status === 'queued' && (!d.nextAttemptAt || Date.parse(d.nextAttemptAt) - Date.now() < 60_000)),
  );
  usePoll(Boolean(pending), deliveries.reload, 2000);
  return (
    <section class="deliveries" aria-label={`Deliveries to ${hook.url}`}>
      <ListStatus list={deliveries} error={action.error} empty="No deliveries yet." />
      {deliveries.data?.items.length ? (
        <DataTable
          label={`Deliveries to ${hook.url}`}
          columns={['Event', 'Status', 'Attempts', 'Last answer', 'When', 'Actions']}
        >
          {deliveries.data.items.map((d) => (
            <tr key={d.id}>
              <td>{d.eventType}</td>
              <td>
                <span class={`badge ${KIND[d.status]}`}>{d.status}</span>
                {d.status !== 'delivered' && d.nextAttemptAt ? (
                  <small class="muted"> next try {formatDate(d.nextAttemptAt)}</small>
                ) : null}
              </td>
              <td>{d.attempts}</td>
              <td>
                {d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : '—'}
                {d.lastLatencyMs !== null ? ` · ${Math.round(d.lastLatencyMs)} ms` : ''}
                {d.lastError ? <div class="muted">{d.lastError}</div> : null}
              </td>
              <td>{formatDate(d.deliveredAt ?? d.createdAt)}</td>
              <td>
                {hasScope('webhooks:write') && d.status !== 'queued' && d.status !== 'running' ? (
                  <button
                    type="button"
                    disabled={action.busy}
                    onClick={() =>
                      void action
                        .run(() => api('POST', `/webhooks/${hook.id}/deliveries/${d.id}/redeliver`))
                        .then(() => deliveries.reload())
                    }
                  >
                    Redeliver<span class="visually-hidden"> {d.eventType}</span>
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      <button type="button" onClick={() => void deliveries.reload()}>
        Refresh deliveries
      </button>
    </section>
  );
}
