import { useState } from 'preact/hooks';
import { WEBHOOK_EVENT_TYPES } from '../../../shared/webhook-event-types.js';
import type { WebhookDto } from '../../../shared/schemas/webhooks.js';
import { api, apiPage, hasScope } from '../api.js';
import { botName } from '../state.js';
import { BotSelect } from '../components/BotSelect.js';
import { DeleteItemButton } from '../components/DeleteItemButton.js';
import { EditButton, useEditInPlace } from '../components/EditButton.js';
import { EditorForm } from '../components/EditorForm.js';
import { FormFooter } from '../components/FormFooter.js';
import { ItemLabel } from '../components/ItemLabel.js';
import { ListStatus } from '../components/ListStatus.js';
import { OkMessage } from '../components/OkMessage.js';
import { ConfirmButton, ErrorMessage, Field, SecretOnce, formatDate, useAction, useLoad } from '../ui.js';
import { Deliveries } from './webhook-deliveries.js';

interface WebhookForm {
  url: string;
  description: string;
  events: string[];
  chatbotId: string;
}

const formOf = (hook: WebhookDto | null): WebhookForm => ({
  url: hook?.url ?? '',
  description: hook?.description ?? '',
  events: hook?.events ?? ['*'],
  chatbotId: hook?.chatbotId ?? '',
});

/** The events as checkboxes, with "every event" first (which the API spells `["*"]`). */
function EventPicker({ events, onChange }: { events: string[]; onChange: (events: string[]) => void }) {
  const all = events.includes('*');
  return (
    <fieldset>
      <legend>Events</legend>
      <label class="check">
        <input type="checkbox" checked={all} onChange={(e) => onChange(e.currentTarget.checked ? ['*'] : [])} /> Every
        event, including ones added later
      </label>
      <div class="scopes">
        {WEBHOOK_EVENT_TYPES.map((type) => (
          <label key={type} class="check">
            <input
              type="checkbox"
              disabled={all}
              checked={all || events.includes(type)}
              onChange={(e) =>
                onChange(e.currentTarget.checked ? [...events, type] : events.filter((event) => event !== type))
              }
            />{' '}
            {type}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function WebhookEditor({
  hook,
  onSaved,
  onCancel,
}: {
  hook: WebhookDto | null;
  onSaved: (saved: WebhookDto & { secret?: string }) => void;
  onCancel?: () => void;
}) {
  const [form, setForm] = useState<WebhookForm>(formOf(hook));
  const action = useAction();
  const set = (patch: Partial<WebhookForm>) => setForm({ ...form, ...patch });
  return (
    <EditorForm
      label={hook ? `Edit webhook ${hook.url}` : 'New webhook'}
      focusFirst={Boolean(hook)}
      action={action}
      onSave={async () => {
        const body = {
          url: form.url.trim(),
          description: form.description,
          events: form.events,
          chatbotId: form.chatbotId || null,
        };
        const saved = hook
          ? await api<WebhookDto>('PATCH', `/webhooks/${hook.id}`, body)
          : await api<WebhookDto & { secret: string }>('POST', '/webhooks', body);
        if (!hook) setForm(formOf(null));
        onSaved(saved);
      }}
    >
      <h2>{hook ? 'Edit webhook' : 'New webhook'}</h2>
      <Field label="Endpoint URL" hint="Events are POSTed here, signed per Standard Webhooks.">
        {(p) => (
          <input
            {...p}
            type="url"
            required
            maxLength={2000}
            placeholder="https://example.com/wisp-events"
            value={form.url}
            onInput={(e) => set({ url: e.currentTarget.value })}
          />
        )}
      </Field>
      <div class="grid2">
        <Field label="Description">
          {(p) => (
            <input
              {...p}
              maxLength={500}
              value={form.description}
              onInput={(e) => set({ description: e.currentTarget.value })}
            />
          )}
        </Field>
        <Field label="Only events of" hint="One bot's events leave out organization-wide ones (quota warnings).">
          {(p) => (
            <BotSelect {...p} anyLabel="Every bot" value={form.chatbotId} onValue={(chatbotId) => set({ chatbotId })} />
          )}
        </Field>
      </div>
      <EventPicker events={form.events} onChange={(events) => set({ events })} />
      <FormFooter
        error={action.error}
        submitLabel={hook ? 'Save webhook' : 'Add webhook'}
        disabled={action.busy || form.events.length === 0}
        onCancel={onCancel}
      />
      {form.events.length === 0 ? <p class="muted">Choose at least one event.</p> : null}
    </EditorForm>
  );
}

function stateOf(hook: WebhookDto): { label: string; kind: string } {
  if (!hook.enabled)
    return { label: hook.disabledReason ? `Disabled: ${hook.disabledReason}` : 'Disabled', kind: 'failed' };
  if (hook.failingSince) return { label: `Failing since ${formatDate(hook.failingSince)}`, kind: 'failed' };
  return { label: 'Enabled', kind: 'ready' };
}

function WebhookItem({
  hook,
  onChanged,
  onSecret,
}: {
  hook: WebhookDto;
  onChanged: () => void;
  onSecret: (title: string, secret: string) => void;
}) {
  const edit = useEditInPlace(onChanged);
  const [showDeliveries, setShowDeliveries] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const action = useAction();
  const canWrite = hasScope('webhooks:write');
  const state = stateOf(hook);
  const named = (text: string) => <ItemLabel text={text} name={hook.url} />;
  if (edit.editing) {
    return (
      <li>
        <WebhookEditor hook={hook} onCancel={edit.cancel} onSaved={edit.saved} />
      </li>
    );
  }
  return (
    <li class="item">
      <div class="row wrap">
        <strong class="url">{hook.url}</strong>
        <span class={`badge ${state.kind}`}>{state.label}</span>
      </div>
      {hook.description ? <p class="muted">{hook.description}</p> : null}
      <p class="muted">
        {hook.events.includes('*') ? 'Every event' : hook.events.join(', ')} ·{' '}
        {hook.chatbotId ? `only ${botName(hook.chatbotId)}` : 'every bot'} · added {formatDate(hook.createdAt)}
      </p>
      <div class="row wrap">
        <button type="button" aria-expanded={showDeliveries} onClick={() => setShowDeliveries(!showDeliveries)}>
          {named('Deliveries')}
        </button>
        {canWrite ? (
          <>
            <button
              type="button"
              disabled={action.busy || !hook.enabled}
              onClick={() =>
                void action.run(async () => {
                  await api('POST', `/webhooks/${hook.id}/test`);
                  setSent('Test event queued: see the deliveries.');
                  setShowDeliveries(true);
                })
              }
            >
              {named('Send test')}
            </button>
            <button
              type="button"
              disabled={action.busy}
              onClick={() =>
                void action
                  .run(() => api('PATCH', `/webhooks/${hook.id}`, { enabled: !hook.enabled }))
                  .then((ok) => ok && onChanged())
              }
            >
              {named(hook.enabled ? 'Disable' : 'Enable')}
            </button>
            <EditButton name={hook.url} edit={edit} />
            <ConfirmButton
              class=""
              label={named('Rotate secret')}
              question={`Issue a new signing secret for ${hook.url}? The old one keeps signing beside it for 24 hours.`}
              confirmLabel="Rotate secret"
              onConfirm={() =>
                action.run(async () => {
                  const rotated = await api<WebhookDto & { secret: string }>(
                    'POST',
                    `/webhooks/${hook.id}/rotate-secret`,
                  );
                  onSecret(`New secret for ${hook.url}`, rotated.secret);
                })
              }
            />
            <DeleteItemButton
              name={hook.url}
              path={`/webhooks/${hook.id}`}
              question={`Delete the webhook ${hook.url} and its delivery history?`}
              confirmLabel="Delete webhook"
              action={action}
              onDeleted={onChanged}
            />
          </>
        ) : null}
      </div>
      <ErrorMessage error={action.error} />
      <OkMessage message={sent} />
      {showDeliveries ? <Deliveries hook={hook} /> : null}
    </li>
  );
}

export function WebhooksPage() {
  const hooks = useLoad(() => apiPage<WebhookDto>('/webhooks?perPage=100'), []);
  const [secret, setSecret] = useState<{ title: string; secret: string } | null>(null);
  if (!hasScope('webhooks:read')) return <p>Webhooks need a key with the webhooks:read scope.</p>;
  const reload = () => void hooks.reload();
  return (
    <div class="stack">
      {secret ? <SecretOnce title={secret.title} secret={secret.secret} onDismiss={() => setSecret(null)} /> : null}
      {hasScope('webhooks:write') ? (
        <WebhookEditor
          hook={null}
          onSaved={(saved) => {
            if (saved.secret) setSecret({ title: `Signing secret for ${saved.url}`, secret: saved.secret });
            reload();
          }}
        />
      ) : null}
      <section aria-labelledby="webhook-list">
        <h2 id="webhook-list">Endpoints</h2>
        <ListStatus list={hooks} empty="No webhooks yet." />
        <ul class="list webhooks">
          {hooks.data?.items.map((hook) => (
            <WebhookItem
              key={hook.id}
              hook={hook}
              onChanged={reload}
              onSecret={(title, value) => setSecret({ title, secret: value })}
            />
          ))}
        </ul>
      </section>
    </div>
  );
}
