import { useState } from 'preact/hooks';
import type { IntegrationDto } from '../../../shared/schemas/integrations.js';
import { api, apiPage, hasScope } from '../api.js';
import { DeleteItemButton } from '../components/DeleteItemButton.js';
import { EditButton, useEditInPlace } from '../components/EditButton.js';
import { EditorForm } from '../components/EditorForm.js';
import { FormFooter } from '../components/FormFooter.js';
import { ListStatus } from '../components/ListStatus.js';
import { OkMessage } from '../components/OkMessage.js';
import { ErrorMessage, Field, TextInput, formatDate, useAction, useLoad } from '../ui.js';

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
    <EditorForm
      label={model ? `Edit model connection ${model.name}` : 'New model connection'}
      focusFirst={Boolean(model)}
      action={save}
      onSave={async () => {
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
      <FormFooter
        error={save.error}
        submitLabel={model ? 'Save connection' : 'Add connection'}
        disabled={save.busy}
        onCancel={onCancel}
      />
    </EditorForm>
  );
}

function ModelItem({ model, onChanged }: { model: IntegrationDto; onChanged: () => void }) {
  const edit = useEditInPlace(onChanged);
  const remove = useAction();
  if (edit.editing) {
    return (
      <li>
        <ModelEditor model={model} onCancel={edit.cancel} onSaved={edit.saved} />
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
        <EditButton name={model.name} edit={edit} />
        <DeleteItemButton
          name={model.name}
          path={`/integrations/${model.id}`}
          question={`Delete the model connection ${model.name}? A connection a bot still uses cannot be deleted.`}
          confirmLabel="Delete connection"
          action={remove}
          onDeleted={onChanged}
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
      <OkMessage message={added} />
      <section aria-labelledby="model-list">
        <h2 id="model-list">Connections</h2>
        <ListStatus list={models} empty="No model connections yet." />
        <ul class="list models">
          {models.data?.items.map((model) => (
            <ModelItem key={model.id} model={model} onChanged={() => void models.reload()} />
          ))}
        </ul>
      </section>
    </div>
  );
}
