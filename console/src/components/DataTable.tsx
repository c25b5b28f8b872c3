import type { ComponentChildren } from 'preact';
import { TableWrap } from '../ui.js';

/** A table of records under column headings (a `false` column is left out), scrollable sideways on a phone. */
export function DataTable({
  label,
  caption,
  columns,
  children,
}: {
  label: string;
  caption?: string;
  columns: (string | false)[];
  children: ComponentChildren;
}) {
  return (
    <TableWrap label={label}>
      <table>
        {caption ? <caption class="visually-hidden">{caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((column) =>
              column === false ? null : (
                <th key={column} scope="col">
                  {column}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </TableWrap>
  );
}
