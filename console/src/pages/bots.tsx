import { useEffect, useState } from 'preact/hooks';
import type { ChatbotDto } from '../../../shared/schemas/chatbots.js';
import { api, apiPage, hasScope } from '../api.js';
import { bots, chooseBot, chosenBot, loadBots } from '../state.js';
import { TextField } from '../components/TextField.js';
import { OkMessage } from '../components/OkMessage.js';
import { ConfirmButton, ErrorMessage, Field, useAction, useLoad } from '../ui.js';

interface Integration {
  id: string;
  name: string;
  chatModel: string | null;
}

interface BotForm {
  name: string;
  instructions: string;
  integrationId: string;
  model: string;
  allowedOrigins: string;
  status: 'active' | 'disabled';
}

const formOf = (bot: ChatbotDto | null): BotForm => ({
  name: bot?.name ?? '',
  instructions: bot?.instructions ?? '',
  integrationId: bot?.modelSettings.integrationId ?? '',
  model: bot?.modelSettings.model ?? '',
  allowedOrigins: bot?.allowedOrigins.join('\n') ?? '',
  status: bot?.status ?? 'active',
});

const bodyOf = (form: BotForm) => ({
  name: form.name,
  instructions: form.instructions,
  modelSettings: { integrationId: form.integrationId || null, model: form.model.trim() || null },
  allowedOrigins: form.allowedOrigins
    .split(/[\s,]+/)
    .map((origin) => origin.trim())
    .filter(Boolean),
  status: form.status,
});

function BotEditor({
  bot,
  integrations,
  onCreated,
}: {
  bot: ChatbotDto | null;
  integrations: Integration[];
  onCreated: () => void;
}) {
  // What was typed survives a failed save: the form only resets when another bot is chosen.
  const [form, setForm] = useState<BotForm>(formOf(bot));
  const [saved, setSaved] = useState<string | null>(null);
  const action = useAction();
  useEffect(() => {
    setForm(formOf(bot));
    setSaved(null);
    action.clear();
  }, [bot?.id]);
  const set = (patch: Partial<BotForm>) => setForm({ ...form, ...patch });
  const canEdit = hasScope('admin');
  const submit = async (event: Event) => {
    event.preventDefault();
    setSaved(null);
    await action.run(async () => {
      const result = bot
        ? await api<ChatbotDto>('PATCH', `/chatbots/${bot.id}`, bodyOf(form))
        : await api<ChatbotDto & { identitySecret: string }>('POST', '/chatbots', bodyOf(form));
      await loadBots();
      chooseBot(result.id);
      setSaved(bot ? `Saved "${result.name}".` : `Created "${result.name}".`);
      if (!bot) onCreated();
    });
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby={bot ? 'edit-bot' : 'new-bot'}>
      <h2 id={bot ? 'edit-bot' : 'new-bot'}>{bot ? `Edit ${bot.name}` : 'New bot'}</h2>
      <TextField label="Name" required maxLength={100} value={form.name} onValue={(name) => set({ name })} />
      <Field label="Instructions" hint="How the bot should answer: tone, scope, what to refuse.">
        {(p) => (
          <textarea
            {...p}
            rows={5}
            maxLength={8000}
            value={form.instructions}
            onInput={(e) => set({ instructions: e.currentTarget.value })}
          />
        )}
      </Field>
      <div class="grid2">
        <Field label="Model connection" hint="Add one on the Model connections page.">
          {(p) => (
            <select {...p} value={form.integrationId} onChange={(e) => set({ integrationId: e.currentTarget.value })}>
              <option value="">Server default</option>
              {integrations.map((i) => (
                <option key={i.id} value={i.id}>
                  {i.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Model" hint="Empty: the connection's chat model.">
          {(p) => (
            <input {...p} maxLength={100} value={form.model} onInput={(e) => set({ model: e.currentTarget.value })} />
          )}
        </Field>
      </div>
      <Field
        label="Allowed origins"
        hint="One per line, e.g. https://www.example.com. Empty: any site may embed the widget."
      >
        {(p) => (
          <textarea
            {...p}
            rows={3}
            value={form.allowedOrigins}
            onInput={(e) => set({ allowedOrigins: e.currentTarget.value })}
          />
        )}
      </Field>
      <Field label="Status">
        {(p) => (
          <select
            {...p}
            value={form.status}
            onChange={(e) => set({ status: e.currentTarget.value as BotForm['status'] })}
          >
            <option value="active">Active</option>
            <option value="disabled">Disabled</option>
          </select>
        )}
      </Field>
      <ErrorMessage error={action.error} />
      <OkMessage message={saved} />
      <div class="row">
        <button type="submit" class="primary" disabled={!canEdit || action.busy}>
          {action.busy ? 'Saving…' : bot ? 'Save' : 'Create bot'}
        </button>
        {bot && canEdit ? (
          <ConfirmButton
            label="Delete bot"
            question={`Delete "${bot.name}" with all its sources, conversations and leads? This cannot be undone.`}
            confirmLabel="Delete"
            onConfirm={() =>
              action.run(async () => {
                await api('DELETE', `/chatbots/${bot.id}`);
                chooseBot(null);
                await loadBots();
              })
            }
          />
        ) : null}
      </div>
      {!canEdit ? <p class="muted">Changing bots needs a key with the admin scope.</p> : null}
    </form>
  );
}

export function BotsPage() {
  const integrations = useLoad(
    () =>
      hasScope('admin') ? apiPage<Integration>('/integrations?perPage=100') : Promise.resolve({ items: [], total: 0 }),
    [],
  );
  const [creating, setCreating] = useState(false);
  const current = chosenBot.value;
  return (
    <div class="two-columns">
      <section aria-labelledby="bot-list">
        <h2 id="bot-list">Your bots</h2>
        {bots.value.length === 0 ? <p class="muted">No bots yet: create the first one.</p> : null}
        <ul class="list">
          {bots.value.map((bot) => (
            <li key={bot.id}>
              <button
                type="button"
                class="link"
                aria-pressed={!creating && current?.id === bot.id}
                onClick={() => {
                  setCreating(false);
                  chooseBot(bot.id);
                }}
              >
                {bot.name}
              </button>{' '}
              <span class="muted">
                {bot.slug} · {bot.status}
              </span>
            </li>
          ))}
        </ul>
        {hasScope('admin') ? (
          <button type="button" onClick={() => setCreating(true)}>
            New bot
          </button>
        ) : null}
        <ErrorMessage error={integrations.error} />
      </section>
      <BotEditor
        key={creating || !current ? 'new' : current.id}
        bot={creating ? null : current}
        integrations={integrations.data?.items ?? []}
        onCreated={() => setCreating(false)}
      />
    </div>
  );
}
