import { useState } from 'preact/hooks';
import type { ActionDto } from '../../../shared/schemas/actions.js';
import { api } from '../api.js';
import { CodeField } from '../components/CodeField.js';
import { EditorForm } from '../components/EditorForm.js';
import { FormFooter } from '../components/FormFooter.js';
import { TextField } from '../components/TextField.js';
import { Field, parseJson, pretty, useAction } from '../ui.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type AuthType = ActionDto['auth']['type'];

interface ActionForm {
  name: string;
  description: string;
  method: (typeof METHODS)[number];
  url: string;
  query: string;
  headers: string;
  body: string;
  parameters: string;
  authType: AuthType | 'keep';
  token: string;
  username: string;
  password: string;
  headerName: string;
  headerValue: string;
  requiresUser: boolean;
  requiresConfirmation: boolean;
  responseFields: string;
  timeoutMs: number;
}

const EMPTY_SCHEMA = { type: 'object', properties: {}, additionalProperties: false };

const formOf = (action: ActionDto | null): ActionForm => ({
  name: action?.name ?? '',
  description: action?.description ?? '',
  method: action?.request.method ?? 'GET',
  url: action?.request.url ?? '',
  query: action && Object.keys(action.request.query).length ? pretty(action.request.query) : '',
  headers: action && Object.keys(action.request.headers).length ? pretty(action.request.headers) : '',
  body: action ? pretty(action.request.body) : '',
  parameters: pretty(action?.parameters ?? EMPTY_SCHEMA),
  // The stored secret is never sent back: editing keeps it unless another is typed.
  authType: action ? 'keep' : 'none',
  token: '',
  username: '',
  password: '',
  headerName: action?.auth.headerName ?? '',
  headerValue: '',
  requiresUser: action?.requiresUser ?? false,
  requiresConfirmation: action?.requiresConfirmation ?? false,
  responseFields: action?.responseFields.join('\n') ?? '',
  timeoutMs: action?.timeoutMs ?? 10_000,
});

function authOf(form: ActionForm): unknown {
  switch (form.authType) {
    case 'keep':
      return undefined;
    case 'none':
      return { type: 'none' };
    case 'bearer':
      return { type: 'bearer', token: form.token };
    case 'basic':
      return { type: 'basic', username: form.username, password: form.password };
    case 'header':
      return { type: 'header', name: form.headerName, value: form.headerValue };
  }
}

function bodyOf(form: ActionForm) {
  const auth = authOf(form);
  const body = parseJson('Request body', form.body);
  return {
    name: form.name.trim(),
    description: form.description,
    parameters: parseJson('Parameters', form.parameters, EMPTY_SCHEMA),
    request: {
      method: form.method,
      url: form.url.trim(),
      query: parseJson('Query', form.query, {}),
      headers: parseJson('Headers', form.headers, {}),
      ...(body === undefined ? {} : { body }),
    },
    ...(auth === undefined ? {} : { auth }),
    requiresUser: form.requiresUser,
    requiresConfirmation: form.requiresConfirmation,
    responseFields: form.responseFields
      .split(/[\s,]+/)
      .map((field) => field.trim())
      .filter(Boolean),
    timeoutMs: form.timeoutMs,
  };
}

/** An action from scratch, or an existing one: one HTTP request, its JSON Schema parameters, its auth. */
export function ActionEditor({
  botId,
  action: existing,
  onSaved,
  onCancel,
}: {
  botId: string;
  action: ActionDto | null;
  onSaved: (saved: ActionDto) => void;
  onCancel?: () => void;
}) {
  const [form, setForm] = useState<ActionForm>(formOf(existing));
  const save = useAction();
  const set = (patch: Partial<ActionForm>) => setForm({ ...form, ...patch });
  const text = (
    label: string,
    key: 'name' | 'url' | 'description',
    hint: string,
    extra: { maxLength: number; placeholder?: string },
  ) => <TextField label={label} hint={hint} required {...extra} value={form[key]} onValue={(v) => set({ [key]: v })} />;
  const area = (label: string, key: 'query' | 'headers' | 'body' | 'parameters' | 'responseFields', hint: string) => (
    <CodeField
      label={label}
      hint={hint}
      rows={key === 'parameters' ? 8 : 3}
      value={form[key]}
      onValue={(v) => set({ [key]: v })}
    />
  );
  const secret = (label: string, key: 'token' | 'password' | 'headerValue') => (
    <Field label={label}>
      {(p) => (
        <input
          {...p}
          type="password"
          autoComplete="off"
          required
          value={form[key]}
          onInput={(e) => set({ [key]: e.currentTarget.value })}
        />
      )}
    </Field>
  );
  return (
    <EditorForm
      label={existing ? `Edit action ${existing.name}` : 'New action from scratch'}
      focusFirst={Boolean(existing)}
      action={save}
      onSave={async () => {
        const body = bodyOf(form);
        onSaved(
          existing
            ? await api<ActionDto>('PATCH', `/actions/${existing.id}`, body)
            : await api<ActionDto>('POST', `/chatbots/${botId}/actions`, body),
        );
      }}
    >
      <h3>{existing ? `Edit ${existing.name}` : 'From scratch'}</h3>
      <div class="grid2">
        {text('Tool name', 'name', 'What the model calls, e.g. order_status.', { maxLength: 64 })}
        <Field label="Method">
          {(p) => (
            <select
              {...p}
              value={form.method}
              onChange={(e) => {
                const method = e.currentTarget.value as ActionForm['method'];
                // A new action that changes something asks first, as the API would decide.
                set(existing ? { method } : { method, requiresConfirmation: method !== 'GET' });
              }}
            >
              {METHODS.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {text('Description', 'description', 'When the model should use it.', { maxLength: 1000 })}
      {text('URL', 'url', 'Fixed scheme and host; {params.x} and {user.sub} may fill the path.', {
        maxLength: 1000,
        placeholder: 'https://api.example.com/orders/{params.orderId}',
      })}
      {area('Parameters', 'parameters', 'A JSON Schema object for the arguments the model passes.')}
      <div class="grid2">
        {area('Query', 'query', 'JSON object of query parameters; values may hold placeholders.')}
        {area('Headers', 'headers', 'JSON object of extra headers.')}
      </div>
      {form.method !== 'GET'
        ? area('Request body', 'body', 'JSON; a string that is one placeholder keeps its type.')
        : null}
      <fieldset>
        <legend>Authentication</legend>
        <Field label="Kind" hint={existing ? `Stored: ${existing.auth.type} (never shown).` : undefined}>
          {(p) => (
            <select
              {...p}
              value={form.authType}
              onChange={(e) => set({ authType: e.currentTarget.value as ActionForm['authType'] })}
            >
              {existing ? <option value="keep">Keep the stored one</option> : null}
              <option value="none">None</option>
              <option value="bearer">Bearer token</option>
              <option value="basic">Basic (user and password)</option>
              <option value="header">A header</option>
            </select>
          )}
        </Field>
        {form.authType === 'bearer' ? secret('Token', 'token') : null}
        {form.authType === 'basic' ? (
          <div class="grid2">
            <Field label="User name">
              {(p) => <input {...p} value={form.username} onInput={(e) => set({ username: e.currentTarget.value })} />}
            </Field>
            {secret('Password', 'password')}
          </div>
        ) : null}
        {form.authType === 'header' ? (
          <div class="grid2">
            <Field label="Header name">
              {(p) => (
                <input
                  {...p}
                  required
                  value={form.headerName}
                  onInput={(e) => set({ headerName: e.currentTarget.value })}
                />
              )}
            </Field>
            {secret('Header value', 'headerValue')}
          </div>
        ) : null}
      </fieldset>
      {area('Response fields', 'responseFields', 'Dot paths of the answer the model sees, one per line (empty: all).')}
      <div class="grid2">
        <label class="check">
          <input
            type="checkbox"
            checked={form.requiresConfirmation}
            onChange={(e) => set({ requiresConfirmation: e.currentTarget.checked })}
          />{' '}
          Ask the visitor to confirm before each call
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={form.requiresUser}
            onChange={(e) => set({ requiresUser: e.currentTarget.checked })}
          />{' '}
          Only for identified visitors ({'{user.*}'})
        </label>
      </div>
      <Field label="Timeout (ms)">
        {(p) => (
          <input
            {...p}
            type="number"
            min={100}
            max={30000}
            value={form.timeoutMs}
            onInput={(e) => set({ timeoutMs: Number(e.currentTarget.value) })}
          />
        )}
      </Field>
      <FormFooter
        error={save.error}
        submitLabel={existing ? 'Save action' : 'Create action'}
        disabled={save.busy}
        onCancel={onCancel}
      />
    </EditorForm>
  );
}
