/** Forms that call the REST API: run a pipeline (ref + variables), create a user. */
import { pathOf } from '../views/status';
import { api, ApiError } from './api';

function showError(form: HTMLElement, err: unknown) {
  const box = form.querySelector<HTMLElement>('[data-error]')!;
  box.replaceChildren();
  const lines = err instanceof ApiError ? err.lines : [(err as Error).message];
  for (const l of lines.length ? lines : ['The request failed']) {
    const p = document.createElement('div');
    p.textContent = l;
    box.append(p);
  }
  box.hidden = false;
}

export function initRunPipeline() {
  const form = document.querySelector<HTMLFormElement>('form[data-run-pipeline]');
  if (!form) return;
  const vars = form.querySelector<HTMLElement>('[data-vars]')!;
  const template = vars.firstElementChild!.cloneNode(true) as HTMLElement;
  form.querySelector('[data-add-var]')!.addEventListener('click', () => {
    const row = template.cloneNode(true) as HTMLElement;
    for (const i of row.querySelectorAll('input')) i.value = '';
    vars.append(row);
    row.querySelector('input')!.focus();
  });
  vars.addEventListener('click', (e) => {
    const btn = (e.target as Element).closest('[data-remove-var]');
    if (!btn) return;
    const row = btn.closest('.var-row')!;
    if (vars.children.length > 1) row.remove();
    else for (const i of row.querySelectorAll('input')) i.value = '';
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const ref = (form.elements.namedItem('ref') as HTMLInputElement).value.trim();
    const variables = [...vars.querySelectorAll('.var-row')].map((row) => {
      const [k, v] = row.querySelectorAll('input');
      return { key: k.value.trim(), value: v.value };
    }).filter((v) => v.key !== '');
    const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    submit.disabled = true;
    try {
      const p = await api<{ web_url: string }>('POST', `${document.body.dataset.api}/pipeline`, { ref, variables });
      location.href = pathOf(p.web_url);
    } catch (err) {
      submit.disabled = false;
      showError(form, err);
    }
  });
}

export function initNewUser() {
  const form = document.querySelector<HTMLFormElement>('form[data-new-user]');
  if (!form) return;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const body: Record<string, unknown> = {
      username: f.get('username'), name: f.get('name'), password: f.get('password'), admin: f.get('admin') === 'on',
    };
    if (f.get('email')) body.email = f.get('email');
    try {
      await api('POST', '/api/v4/users', body);
      location.reload();
    } catch (err) {
      showError(form, err);
    }
  });
}
