import { html } from './html';
import { page } from './layout';

export function loginPage(o: { loginCsrf: string; error?: string; tokenRequired: boolean }): string {
  return page(
    { title: 'Log in' },
    html`${o.error ? html`<p class="flash flash-error" role="alert">${o.error}</p>` : ''}
<form method="post" action="/login" class="login">
<input type="hidden" name="csrf" value="${o.loginCsrf}">
<label>Console token <input type="password" name="token" autocomplete="current-password" ${o.tokenRequired ? 'required' : ''} autofocus></label>
<button type="submit">Log in</button>
</form>
<p class="note">${o.tokenRequired ? 'The token is CONSOLE_TOKEN of the console process.' : 'No CONSOLE_TOKEN is set: this console listens on loopback only; log in with an empty token.'}</p>`,
  );
}

export function errorPage(title: string, message: string): string {
  return page({ title }, html`<p class="unavailable">${message}</p><p><a href="/">Back to the overview</a></p>`);
}
