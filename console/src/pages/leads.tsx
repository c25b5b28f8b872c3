import { useState } from 'preact/hooks';
import type { LeadListItem } from '../../../shared/schemas/leads.js';
import { api, apiPage, hasScope, query } from '../api.js';
import { href } from '../router.js';
import { botName } from '../state.js';
import { DataTable } from '../components/DataTable.js';
import { ListStatus } from '../components/ListStatus.js';
import { ConfirmButton, formatDate, Pager, useAction, useLoad } from '../ui.js';
import { filterParams, Filters, NO_FILTERS, type ListFilters } from './filters.js';

const PER_PAGE = 25;

export function LeadsPage() {
  const [filters, setFilters] = useState<ListFilters>(NO_FILTERS);
  const [page, setPage] = useState(1);
  const leads = useLoad(
    () => apiPage<LeadListItem>(`/leads${query({ ...filterParams(filters), page, perPage: PER_PAGE })}`),
    [JSON.stringify(filters), page],
  );
  const action = useAction();
  // The cookie goes with a plain link, so the export streams straight to a download.
  const exportUrl = `/api/v1/leads/export.csv${query(filterParams(filters))}`;
  return (
    <>
      <Filters
        value={filters}
        searchLabel="Search name, email, company"
        onChange={(next) => {
          setFilters(next);
          setPage(1);
        }}
      />
      <p>
        <a class="button" href={exportUrl} download="leads.csv">
          Export CSV
        </a>{' '}
        <span class="muted">{leads.data ? `${leads.data.total} leads match` : ''}</span>
      </p>
      <ListStatus list={leads} error={action.error} empty="No leads match." />
      <DataTable
        label="Leads"
        caption="Leads, newest first"
        columns={[
          'Name',
          'Email',
          'Phone',
          'Company',
          'Bot',
          'When',
          'Conversation',
          hasScope('leads:write') && 'Actions',
        ]}
      >
        {leads.data?.items.map((lead) => (
          <tr key={lead.id}>
            <td>{lead.name ?? '—'}</td>
            <td>{lead.email ?? '—'}</td>
            <td>{lead.phone ?? '—'}</td>
            <td>{lead.company ?? '—'}</td>
            <td>{botName(lead.chatbotId)}</td>
            <td>{formatDate(lead.createdAt)}</td>
            <td>
              {lead.conversation ? (
                <a href={href('conversations', lead.conversation.id)}>{lead.conversation.messageCount} messages</a>
              ) : (
                '—'
              )}
            </td>
            {hasScope('leads:write') ? (
              <td>
                <ConfirmButton
                  label={
                    <span>
                      Delete<span class="visually-hidden"> lead {lead.email ?? lead.name ?? lead.id}</span>
                    </span>
                  }
                  question={`Delete the lead ${lead.email ?? lead.name ?? ''}? Their details are erased and their conversations keep no name or email.`}
                  confirmLabel="Delete lead"
                  onConfirm={() => action.run(() => api('DELETE', `/leads/${lead.id}`)).then(() => leads.reload())}
                />
              </td>
            ) : null}
          </tr>
        ))}
      </DataTable>
      <Pager page={page} perPage={PER_PAGE} total={leads.data?.total ?? 0} onPage={setPage} />
    </>
  );
}
