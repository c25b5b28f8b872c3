import { bots } from '../state.js';

/** A choice among the organization's bots, with `anyLabel` first (the empty value) when any bot will do. */
export function BotSelect({
  value,
  onValue,
  anyLabel,
  ...props
}: {
  id: string;
  'aria-describedby'?: string;
  value: string;
  onValue: (chatbotId: string) => void;
  anyLabel?: string;
  required?: boolean;
  disabled?: boolean;
}) {
  return (
    <select {...props} value={value} onChange={(e) => onValue(e.currentTarget.value)}>
      {anyLabel !== undefined ? <option value="">{anyLabel}</option> : null}
      {bots.value.map((bot) => (
        <option key={bot.id} value={bot.id}>
          {bot.name}
        </option>
      ))}
    </select>
  );
}
