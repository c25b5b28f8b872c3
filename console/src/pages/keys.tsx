import { useState } from 'preact/hooks';
import { API_KEY_SCOPES } from '../../../shared/api-key-scopes.js';
import type { ApiKeyDto, CreatedApiKeyDto } from '../../../shared/schemas/api-keys.js';
import type { ConsoleSessionDto } from '../../../shared/schemas/console-sessions.js';
import { api, apiPage, hasScope } from '../api.js';
import { DataTable } from '../components/DataTable.js';
import { ItemLabel } from '../components/ItemLabel.js';
import { ListStatus } from '../components/ListStatus.js';
import { ConfirmButton, CopyButton, ErrorMessage, Field, formatDate, useAction, useLoad } from '../ui.js';

/** A new key, shown once: after this it is only its prefix. */
function ShownOnce({ created, onDismiss }: { created: CreatedApiKeyDto; onDismiss: () => void }) {
  return (
    <div class="card shown-once" role="status">
      <p>
        <strong>{created.name}</strong>: copy this key now. It is shown only once.
      </p>
      <code class="secret" data-testid="new-key">
        {created.key}
      </code>
      <div class="row">
        <CopyButton text={created.key} label="Copy key" />
        <button type="button" onClick={onDismiss}>
          Done
        </button>
      </div>
    </div>
  );
}

function CreateKey({ onCreated }: { onCreated: (key: CreatedApiKeyDto) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['chat']);
  const action = useAction();
  return (
    <form
      class="card"
      aria-labelledby="new-key-title"
      onSubmit={async (e) => {
        e.preventDefault();
        await action.run(async () => {
          onCreated(await api<CreatedApiKeyDto>('POST', '/api-keys', { name, scopes }));
          setName('');
        });
      }}
    >
      <h2 id="new-key-title">New key</h2>
      <Field label="Name" hint="Where it is used, e.g. Website or Zapier.">
        {(p) => <input {...p} required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <fieldset>
        <legend>Scopes</legend>
        <div class="scopes">
          {API_KEY_SCOPES.map((scope) => (
            <label key={scope} class="check">
              <input
                type="checkbox"
                checked={scopes.includes(scope)}
                onChange={(e) =>
                  setScopes(e.currentTarget.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))
                }
              />{' '}
              {scope}
            </label>
          ))}
        </div>
      </fieldset>
      <ErrorMessage error={action.error} />
      <button type="submit" class="primary" disabled={action.busy}>
        Create key
      </button>
    </form>
  );
}

function Sessions() {
  const sessions = useLoad(() => apiPage<ConsoleSessionDto>('/console/sessions?perPage=20'), []);
  const action = useAction();
  const active = (s: ConsoleSessionDto) => !s.revokedAt && new Date(s.expiresAt).getTime() > Date.now();
  return (
    <section aria-labelledby="sessions">
      <h2 id="sessions">Console sessions</h2>
      <ListStatus list={sessions} error={action.error} />
      <DataTable label="Console sessions" columns={['Signed in', 'With', 'Browser', 'State', 'Actions']}>
        {sessions.data?.items.map((s) => (
          <tr key={s.id}>
            <td>{formatDate(s.createdAt)}</td>
            <td>{s.via === 'link' ? 'one-time link' : 'API key'}</td>
            <td class="ua">{s.userAgent ?? '—'}</td>
            <td>
              {s.current
                ? 'this session'
                : s.revokedAt
                  ? 'signed out'
                  : active(s)
                    ? `until ${formatDate(s.expiresAt)}`
                    : 'expired'}
            </td>
            <td>
              {active(s) && !s.current ? (
                <button
                  type="button"
                  onClick={() =>
                    void action.run(() => api('DELETE', `/console/sessions/${s.id}`)).then(() => sessions.reload())
                  }
                >
                  End session
                </button>
              ) : null}
            </td>
          </tr>
        ))}
      </DataTable>
    </section>
  );
}

export function KeysPage() {
  const keys = useLoad(() => apiPage<ApiKeyDto>('/api-keys?perPage=100'), []);
  const [shown, setShown] = useState<CreatedApiKeyDto | null>(null);
  const action = useAction();
  if (!hasScope('admin')) return <p>Managing API keys needs a key with the admin scope.</p>;
  const created = (key: CreatedApiKeyDto) => {
    setShown(key);
    void keys.reload();
  };
  return (
    <div class="stack">
      {shown ? <ShownOnce created={shown} onDismiss={() => setShown(null)} /> : null}
      <CreateKey onCreated={created} />
      <section aria-labelledby="keys">
        <h2 id="keys">Keys</h2>
        <ListStatus list={keys} error={action.error} />
        <DataTable label="API keys" columns={['Name', 'Key', 'Scopes', 'Last used', 'Actions']}>
          {keys.data?.items.map((key) => (
            <tr key={key.id} class={key.revokedAt ? 'revoked' : ''}>
              <td>{key.name}</td>
              <td>
                <code>{key.prefix}…</code>
              </td>
              <td>{key.scopes.join(', ')}</td>
              <td>{key.revokedAt ? `revoked ${formatDate(key.revokedAt)}` : formatDate(key.lastUsedAt)}</td>
              <td class="row">
                {key.revokedAt ? null : (
                  <>
                    <ConfirmButton
                      class=""
                      label={<ItemLabel text="Rotate" name={key.name} />}
                      question={`Rotate "${key.name}"? A new key with the same scopes is made and the old one stops working now.`}
                      confirmLabel="Rotate key"
                      onConfirm={() =>
                        action.run(async () =>
                          created(await api<CreatedApiKeyDto>('POST', `/api-keys/${key.id}/rotate`)),
                        )
                      }
                    />
                    <ConfirmButton
                      label={<ItemLabel text="Revoke" name={key.name} />}
                      question={`Revoke "${key.name}"? Everything using it stops working now, including console sessions opened with it.`}
                      confirmLabel="Revoke key"
                      onConfirm={() => action.run(() => api('DELETE', `/api-keys/${key.id}`)).then(() => keys.reload())}
                    />
                  </>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      </section>
      <Sessions />
    </div>
  );
}
