import { useState } from 'preact/hooks';
import type { ActionDto } from '../../../shared/schemas/actions.js';
import type { AgentLoopDto } from '../../../shared/schemas/agent-loops.js';
import { api, apiPage, hasScope } from '../api.js';
import { chosenBot } from '../state.js';
import { BotSelect } from '../components/BotSelect.js';
import { CodeField } from '../components/CodeField.js';
import { EditorForm } from '../components/EditorForm.js';
import { FormFooter } from '../components/FormFooter.js';
import { TextField } from '../components/TextField.js';
import { ErrorMessage, Field, parseJson, pretty, useAction, useLoad } from '../ui.js';

const SEARCH_KNOWLEDGE = 'search_knowledge';
const EMPTY_INPUT = { type: 'object', properties: {} };

interface LoopForm {
  name: string;
  chatbotId: string;
  instructions: string;
  tools: string[];
  input: string;
  cron: string;
  timezone: string;
  maxSteps: number;
  maxTokens: number;
  timeoutSeconds: number;
  enabled: boolean;
}

const formOf = (loop: AgentLoopDto | null): LoopForm => ({
  name: loop?.name ?? '',
  chatbotId: loop?.chatbotId ?? chosenBot.value?.id ?? '',
  instructions: loop?.instructions ?? '',
  tools: loop?.tools ?? [SEARCH_KNOWLEDGE],
  input: pretty(loop?.input ?? EMPTY_INPUT),
  cron: loop?.schedule?.cron ?? '',
  timezone: loop?.schedule?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC',
  maxSteps: loop?.maxSteps ?? 5,
  maxTokens: loop?.maxTokens ?? 8000,
  timeoutSeconds: Math.round((loop?.timeoutMs ?? 60_000) / 1000),
  enabled: loop?.enabled ?? true,
});

/** Creates a loop, or edits one (its bot stays: tools are that bot's actions). */
export function LoopEditor({
  loop,
  onSaved,
  onCancel,
}: {
  loop: AgentLoopDto | null;
  onSaved: (saved: AgentLoopDto) => void;
  onCancel?: () => void;
}) {
  const [form, setForm] = useState<LoopForm>(formOf(loop));
  const save = useAction();
  const set = (patch: Partial<LoopForm>) => setForm({ ...form, ...patch });
  const actions = useLoad(
    () =>
      form.chatbotId && hasScope('actions:write')
        ? apiPage<ActionDto>(`/chatbots/${form.chatbotId}/actions?perPage=100`)
        : Promise.resolve({ items: [], total: 0 }),
    [form.chatbotId],
  );
  const known = [
    { id: SEARCH_KNOWLEDGE, label: 'Search the knowledge' },
    ...(actions.data?.items ?? []).map((a) => ({ id: a.id, label: `Action ${a.name}` })),
  ];
  // A tool this page cannot name (an action it may not list) stays listed, so a save never drops it unseen.
  const tools = [
    ...known,
    ...form.tools.filter((id) => !known.some((t) => t.id === id)).map((id) => ({ id, label: `Action ${id}` })),
  ];
  const number = (label: string, key: 'maxSteps' | 'maxTokens' | 'timeoutSeconds', min: number, max: number) => (
    <Field label={label}>
      {(p) => (
        <input
          {...p}
          type="number"
          required
          min={min}
          max={max}
          value={form[key]}
          onInput={(e) => set({ [key]: Number(e.currentTarget.value) })}
        />
      )}
    </Field>
  );
  return (
    <EditorForm
      label={loop ? `Edit loop ${loop.name}` : 'New agent loop'}
      focusFirst={Boolean(loop)}
      action={save}
      onSave={async () => {
        const body = {
          name: form.name,
          instructions: form.instructions,
          tools: form.tools,
          input: parseJson('Input schema', form.input, EMPTY_INPUT),
          schedule: form.cron.trim() ? { cron: form.cron.trim(), timezone: form.timezone.trim() || 'UTC' } : null,
          maxSteps: form.maxSteps,
          maxTokens: form.maxTokens,
          timeoutMs: form.timeoutSeconds * 1000,
          enabled: form.enabled,
        };
        onSaved(
          loop
            ? await api<AgentLoopDto>('PATCH', `/agent-loops/${loop.id}`, body)
            : await api<AgentLoopDto>('POST', '/agent-loops', { ...body, chatbotId: form.chatbotId }),
        );
        if (!loop) setForm(formOf(null));
      }}
    >
      <h2>{loop ? `Edit ${loop.name}` : 'New agent loop'}</h2>
      <div class="grid2">
        <TextField label="Name" required maxLength={100} value={form.name} onValue={(name) => set({ name })} />
        <Field label="Bot" hint={loop ? 'A loop keeps its bot.' : 'Its knowledge and actions are the tools.'}>
          {(p) => (
            <BotSelect
              {...p}
              required
              disabled={Boolean(loop)}
              value={form.chatbotId}
              onValue={(chatbotId) => set({ chatbotId, tools: [SEARCH_KNOWLEDGE] })}
            />
          )}
        </Field>
      </div>
      <Field label="Goal" hint="The loop's instructions: what to find out or do, and what to answer.">
        {(p) => (
          <textarea
            {...p}
            required
            rows={4}
            maxLength={8000}
            value={form.instructions}
            onInput={(e) => set({ instructions: e.currentTarget.value })}
          />
        )}
      </Field>
      <fieldset>
        <legend>Tools</legend>
        {tools.map((tool) => (
          <label key={tool.id} class="check">
            <input
              type="checkbox"
              checked={form.tools.includes(tool.id)}
              onChange={(e) =>
                set({
                  tools: e.currentTarget.checked ? [...form.tools, tool.id] : form.tools.filter((t) => t !== tool.id),
                })
              }
            />{' '}
            {tool.label}
          </label>
        ))}
        <ErrorMessage error={actions.error} />
      </fieldset>
      <CodeField
        label="Input schema"
        hint="A JSON Schema object that each run's input must satisfy."
        rows={4}
        value={form.input}
        onValue={(input) => set({ input })}
      />
      <fieldset>
        <legend>Schedule</legend>
        <div class="grid2">
          <TextField
            label="Cron"
            hint="e.g. 0 9 * * 1-5 (weekdays at 9). Empty: run only on demand."
            maxLength={100}
            spellcheck={false}
            value={form.cron}
            onValue={(cron) => set({ cron })}
          />
          <TextField
            label="Time zone"
            hint="An IANA zone, e.g. Europe/Berlin."
            maxLength={64}
            value={form.timezone}
            onValue={(timezone) => set({ timezone })}
          />
        </div>
      </fieldset>
      <div class="grid3">
        {number('Most steps', 'maxSteps', 1, 20)}
        {number('Most tokens', 'maxTokens', 100, 200000)}
        {number('Time limit (s)', 'timeoutSeconds', 1, 600)}
      </div>
      <label class="check">
        <input type="checkbox" checked={form.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} />{' '}
        Enabled (the schedule runs it)
      </label>
      <FormFooter
        error={save.error}
        submitLabel={loop ? 'Save loop' : 'Create loop'}
        disabled={save.busy || !form.chatbotId}
        onCancel={onCancel}
      />
    </EditorForm>
  );
}
