import { BotSelect } from '../components/BotSelect.js';
import { Field } from '../ui.js';

export interface ListFilters {
  chatbotId: string;
  from: string;
  to: string;
  q: string;
}

export const NO_FILTERS: ListFilters = { chatbotId: '', from: '', to: '', q: '' };

/** Bot, date range and text: the filters conversations and leads share. */
export function Filters({
  value,
  onChange,
  searchLabel,
}: {
  value: ListFilters;
  onChange: (filters: ListFilters) => void;
  searchLabel: string;
}) {
  const set = (patch: Partial<ListFilters>) => onChange({ ...value, ...patch });
  return (
    <form class="filters row wrap" role="search" onSubmit={(e) => e.preventDefault()}>
      <Field label="Bot">
        {(p) => (
          <BotSelect {...p} anyLabel="All bots" value={value.chatbotId} onValue={(chatbotId) => set({ chatbotId })} />
        )}
      </Field>
      <Field label="From">
        {(p) => <input {...p} type="date" value={value.from} onChange={(e) => set({ from: e.currentTarget.value })} />}
      </Field>
      <Field label="To">
        {(p) => <input {...p} type="date" value={value.to} onChange={(e) => set({ to: e.currentTarget.value })} />}
      </Field>
      <Field label={searchLabel}>
        {(p) => <input {...p} type="search" value={value.q} onInput={(e) => set({ q: e.currentTarget.value })} />}
      </Field>
    </form>
  );
}

/** The filters as API query parameters (`to` covers its whole day). */
export function filterParams(filters: ListFilters): Record<string, string> {
  return {
    chatbotId: filters.chatbotId,
    from: filters.from,
    to: filters.to ? `${filters.to}T23:59:59.999Z` : '',
    q: filters.q.trim(),
  };
}
