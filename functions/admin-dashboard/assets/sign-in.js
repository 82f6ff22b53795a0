// The sign-in view: the form, and what it shows after a sign-out.
import { api, LOGIN_PATH } from './api.js';
import { $ } from './dom.js';
import { signedIn } from './store.js';

export function renderSignIn(message) {
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  $('login-error').textContent = message || '';
  $('login-password').value = '';
  $('login-email').focus();
}

export async function signIn(event) {
  event.preventDefault();
  const email = $('login-email').value.trim();
  const password = $('login-password').value;
  if (!email || !password) {
    $('login-error').textContent = 'Enter your email and password.';
    return;
  }
  $('login-submit').disabled = true;
  $('login-error').textContent = '';
  try {
    const data = await api('POST', LOGIN_PATH, { email, password });
    signedIn({ token: data.token, expiresAt: data.expiresAt, admin: data.admin });
  } catch (error) {
    $('login-error').textContent = error.code === 'AUTH_FAILED'
      ? 'Wrong email or password.'
      : error.message;
  } finally {
    $('login-submit').disabled = false;
  }
}
