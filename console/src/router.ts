import { signal } from '@preact/signals';

/** The page and its parameters, from the address's hash (`#/conversations/ID?q=…`). */
export interface Route {
  page: string;
  id: string | null;
  params: URLSearchParams;
}

function parse(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const [page = '', id = null] = path.split('/');
  return { page: page || 'overview', id: id || null, params: new URLSearchParams(search) };
}

export const route = signal<Route>(parse(location.hash));
window.addEventListener('hashchange', () => {
  route.value = parse(location.hash);
});

export function href(page: string, id?: string | null, params?: Record<string, string>): string {
  const search = params ? new URLSearchParams(params).toString() : '';
  return `#/${page}${id ? `/${id}` : ''}${search ? `?${search}` : ''}`;
}

export function navigate(page: string, id?: string | null, params?: Record<string, string>): void {
  location.hash = href(page, id, params);
}
