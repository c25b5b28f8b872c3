import { useState } from 'preact/hooks';
import type { ActionDto } from '../../../shared/schemas/actions.js';
import type { AgentLoopDto } from '../../../shared/schemas/agent-loops.js';
import { api, apiPage, hasScope } from '../api.js';
import { bots, chosenBot } from '../state.js';
import { ErrorMessage, Field, parseJson, pretty, useAction, useFocusFirstField, useLoad } from '../ui.js';

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
  const formRef = useFocusFirstField(Boolean(loop));
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
    <form
      ref={formRef}
      class="card"
      aria-label={loop ? `Edit loop ${loop.name}` : 'New agent loop'}
      onSubmit={async (e) => {
        e.preventDefault();
        await save.run(async () => {
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
        });
      }}
    >
      <h2>{loop ? `Edit ${loop.name}` : 'New agent loop'}</h2>
      <div class="grid2">
        <Field label="Name">
          {(p) => (
            <input
              {...p}
              required
              maxLength={100}
              value={form.name}
              onInput={(e) => set({ name: e.currentTarget.value })}
            />
          )}
        </Field>
        <Field label="Bot" hint={loop ? 'A loop keeps its bot.' : 'Its knowledge and actions are the tools.'}>
          {(p) => (
            <select
              {...p}
              required
              disabled={Boolean(loop)}
              value={form.chatbotId}
              onChange={(e) => set({ chatbotId: e.currentTarget.value, tools: [SEARCH_KNOWLEDGE] })}
            >
              {bots.value.map((bot) => (
                <option key={bot.id} value={bot.id}>
                  {bot.name}
                </option>
              ))}
            </select>
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
      <Field label="Input schema" hint="A JSON Schema object that each run's input must satisfy.">
        {(p) => (
          <textarea
            {...p}
            class="code"
            rows={4}
            spellcheck={false}
            value={form.input}
            onInput={(e) => set({ input: e.currentTarget.value })}
          />
        )}
      </Field>
      <fieldset>
        <legend>Schedule</legend>
        <div class="grid2">
          <Field label="Cron" hint="e.g. 0 9 * * 1-5 (weekdays at 9). Empty: run only on demand.">
            {(p) => (
              <input
                {...p}
                maxLength={100}
                spellcheck={false}
                value={form.cron}
                onInput={(e) => set({ cron: e.currentTarget.value })}
              />
            )}
          </Field>
          <Field label="Time zone" hint="An IANA zone, e.g. Europe/Berlin.">
            {(p) => (
              <input
                {...p}
                maxLength={64}
                value={form.timezone}
                onInput={(e) => set({ timezone: e.currentTarget.value })}
              />
            )}
          </Field>
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
      <ErrorMessage error={save.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={save.busy || !form.chatbotId}>
          {loop ? 'Save loop' : 'Create loop'}
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
