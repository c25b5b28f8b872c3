import { useState } from 'preact/hooks';
import type { IntegrationDto } from '../../../shared/schemas/integrations.js';
import { api, apiPage, hasScope } from '../api.js';
import {
  ConfirmButton,
  ErrorMessage,
  Field,
  Loading,
  TextInput,
  formatDate,
  useAction,
  useFocusFirstField,
  useFocusReturn,
  useLoad,
} from '../ui.js';

interface ModelForm {
  name: string;
  baseUrl: string;
  apiKey: string;
  chatModel: string;
  embeddingModel: string;
}

const formOf = (model: IntegrationDto | null): ModelForm => ({
  name: model?.name ?? '',
  baseUrl: model?.baseUrl ?? 'https://api.openai.com/v1',
  apiKey: '',
  chatModel: model?.chatModel ?? '',
  embeddingModel: model?.embeddingModel ?? '',
});

/** An OpenAI-compatible model connection; its API key is sent once and never shown back. */
function ModelEditor({
  model,
  onSaved,
  onCancel,
}: {
  model: IntegrationDto | null;
  onSaved: (saved: IntegrationDto) => void;
  onCancel?: () => void;
}) {
  const [form, setForm] = useState<ModelForm>(formOf(model));
  const formRef = useFocusFirstField(Boolean(model));
  const save = useAction();
  const set = (patch: Partial<ModelForm>) => setForm({ ...form, ...patch });
  const input = (label: string, key: keyof ModelForm, hint?: string, required = false) => (
    <Field label={label} hint={hint}>
      {(p) => (
        <TextInput
          {...p}
          secret={key === 'apiKey'}
          required={required}
          value={form[key]}
          onInput={(e) => set({ [key]: e.currentTarget.value })}
        />
      )}
    </Field>
  );
  return (
    <form
      ref={formRef}
      class="card"
      aria-label={model ? `Edit model connection ${model.name}` : 'New model connection'}
      onSubmit={async (e) => {
        e.preventDefault();
        await save.run(async () => {
          const body = {
            name: form.name.trim(),
            baseUrl: form.baseUrl.trim(),
            ...(form.apiKey ? { apiKey: form.apiKey } : {}),
            chatModel: form.chatModel.trim() || null,
            embeddingModel: form.embeddingModel.trim() || null,
          };
          onSaved(
            model
              ? await api<IntegrationDto>('PATCH', `/integrations/${model.id}`, body)
              : await api<IntegrationDto>('POST', '/integrations', body),
          );
          if (!model) setForm(formOf(null));
        });
      }}
    >
      <h2>{model ? `Edit ${model.name}` : 'New model connection'}</h2>
      <div class="grid2">
        {input('Connection name', 'name', 'e.g. OpenAI, Azure, local Ollama.', true)}
        {input('Base URL', 'baseUrl', 'Any OpenAI-compatible endpoint.', true)}
      </div>
      {input(
        'Provider API key',
        'apiKey',
        model ? 'Leave empty to keep the stored key.' : 'Stored encrypted, never shown again.',
        !model,
      )}
      <div class="grid2">
        {input('Chat model', 'chatModel', 'e.g. gpt-4o-mini. Empty: answers from knowledge alone.')}
        {input('Embedding model', 'embeddingModel', 'e.g. text-embedding-3-small. Empty: lexical search.')}
      </div>
      <ErrorMessage error={save.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={save.busy}>
          {model ? 'Save connection' : 'Add connection'}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

function ModelItem({ model, onChanged }: { model: IntegrationDto; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const editButton = useFocusReturn(editing);
  const remove = useAction();
  if (editing) {
    return (
      <li>
        <ModelEditor
          model={model}
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
        <strong>{model.name}</strong>
        <code class="url">{model.baseUrl}</code>
      </div>
      <p class="muted">
        chat: {model.chatModel ?? '—'} · embeddings: {model.embeddingModel ?? '—'} ·{' '}
        {model.hasApiKey ? 'key stored' : 'no key'} · added {formatDate(model.createdAt)}
      </p>
      <div class="row wrap">
        <button type="button" ref={editButton} onClick={() => setEditing(true)}>
          Edit<span class="visually-hidden"> {model.name}</span>
        </button>
        <ConfirmButton
          label={
            <span>
              Delete<span class="visually-hidden"> {model.name}</span>
            </span>
          }
          question={`Delete the model connection ${model.name}? A connection a bot still uses cannot be deleted.`}
          confirmLabel="Delete connection"
          onConfirm={() => remove.run(() => api('DELETE', `/integrations/${model.id}`)).then((ok) => ok && onChanged())}
        />
      </div>
      <ErrorMessage error={remove.error} />
    </li>
  );
}

export function ModelsPage() {
  const models = useLoad(
    () =>
      hasScope('admin')
        ? apiPage<IntegrationDto>('/integrations?perPage=100')
        : Promise.resolve({ items: [], total: 0 }),
    [],
  );
  const [added, setAdded] = useState<string | null>(null);
  if (!hasScope('admin')) return <p>Model connections need a key with the admin scope.</p>;
  return (
    <div class="stack">
      <p class="muted">
        Bots answer with the server's default model unless one of these connections is chosen on the Bots page.
      </p>
      <ModelEditor
        model={null}
        onSaved={(model) => {
          setAdded(`Added ${model.name}: choose it for a bot on the Bots page.`);
          void models.reload();
        }}
      />
      {added ? (
        <p class="ok" role="status">
          {added}
        </p>
      ) : null}
      <section aria-labelledby="model-list">
        <h2 id="model-list">Connections</h2>
        <Loading when={models.loading && !models.data} />
        <ErrorMessage error={models.error} />
        {models.data?.items.length === 0 ? <p class="muted">No model connections yet.</p> : null}
        <ul class="list models">
          {models.data?.items.map((model) => (
            <ModelItem key={model.id} model={model} onChanged={() => void models.reload()} />
          ))}
        </ul>
      </section>
    </div>
  );
}
