// Calls to the chat API, as the signed-in agent. A 401 on any call but the sign-in signs out.
import { signOut, state } from './store.js';

export const LOGIN_PATH = '/api/admin/auth/login';
// Where the API is mounted as this page was reached: '/v1' on the execute-api URL, '' behind a
// custom domain. The server writes it into the page; every API call starts with it.
export const BASE_PATH = document.querySelector('meta[name="api-base"]')?.content ?? '';

export class ApiError extends Error {
  constructor(code, message, status, details) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (state.auth) headers.Authorization = `Bearer ${state.auth.token}`;
  let response;
  try {
    response = await fetch(BASE_PATH + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError('NETWORK', 'Cannot reach the server. Check your connection.', 0);
  }
  let payload = null;
  try { payload = await response.json(); } catch { /* not JSON */ }
  if (response.status === 401 && path !== LOGIN_PATH) {
    signOut('Your sign-in has expired or was revoked. Please sign in again.');
    throw new ApiError('SIGNED_OUT', 'Signed out', 401);
  }
  if (!payload || payload.success !== true) {
    const error = (payload && payload.error) || {};
    throw new ApiError(error.code || `HTTP_${response.status}`, error.message || `Request failed (${response.status})`, response.status, error.details);
  }
  return payload.data;
}
