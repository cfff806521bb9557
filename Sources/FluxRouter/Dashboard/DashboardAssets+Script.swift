extension DashboardAssets {
    /// `GET /ui/app.js`: one ES module, kept in parts by concern (this file: API calls, DOM
    /// helpers, sign-in and the polling loop; then the cluster panels, the tenant panels and
    /// the task view). Every value from the API enters the page as text (text nodes, `title`,
    /// `data-*`), never as markup.
    static let script = [scriptCore, scriptCluster, scriptTenant, scriptTask, scriptBoot].joined(separator: "\n")

    static let scriptCore = #"""
    // FluxForge dashboard (issue 14): plain JavaScript, no framework, no build step. Served by the
    // router; docs/dashboard.md says what each panel shows and where its data comes from.
    'use strict';

    const POLL_MS = 2000;
    const STORAGE_KEY = 'fluxforge.dashboard';
    const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'SHED', 'CANCELLED', 'DEADLINE_EXCEEDED', 'VERIFIED']);

    const $ = (id) => document.getElementById(id);
    const panel = (name) => document.querySelector(`[data-testid="${name}"]`);

    /** Who is signed in: `{token, tenant}`, tenant '' for the admin token; null when nobody is. */
    let session = null;
    /** Bumped at every sign-in and sign-out: work started for an older one renders nothing. */
    let generation = 0;
    let pollTimer = null;

    /** A failed API call: the `{"error": {"code", "message"}}` body, or what stood in for it. */
    class ApiError extends Error {
      constructor(status, code, message) {
        super(message);
        this.status = status;
        this.code = code;
      }
      toString() { return `${this.code}: ${this.message}`; }
    }

    /** One call to the router's API with the session's bearer token; throws ApiError unless 2xx. */
    async function apiFetch(path, options = {}) {
      const headers = { Accept: 'application/json', ...(options.headers || {}), Authorization: `Bearer ${session.token}` };
      let response;
      try {
        response = await fetch(path, { ...options, headers, cache: 'no-store' });
      } catch (error) {
        if (error.name === 'AbortError') throw error;
        throw new ApiError(0, 'unreachable', 'the router did not answer (network error)');
      }
      if (!response.ok) throw await problemOf(response);
      return response;
    }

    async function api(path, options = {}) {
      return (await apiFetch(path, options)).json();
    }

    async function problemOf(response) {
      let code = `http_${response.status}`;
      let message = response.statusText || 'request failed';
      try {
        const body = await response.json();
        if (body && body.error) {
          code = String(body.error.code || code);
          message = String(body.error.message || message);
        }
      } catch (_) {
        // Not a JSON problem body: the status says it.
      }
      return new ApiError(response.status, code, message);
    }

    function tenantPath(rest) {
      return `/v1/tenants/${encodeURIComponent(session.tenant)}/${rest}`;
    }

    /** `h('td', {class: 'num'}, 'text', node)`: an element whose children are nodes or text. */
    function h(tag, attributes, ...children) {
      const node = document.createElement(tag);
      for (const [name, value] of Object.entries(attributes || {})) {
        if (value === undefined || value === null || value === false) continue;
        if (name === 'class') node.className = value;
        else node.setAttribute(name, value === true ? '' : String(value));
      }
      for (const child of children.flat(Infinity)) {
        if (child === undefined || child === null || child === false) continue;
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
      return node;
    }

    function fill(tbody, rows, emptyText) {
      const columns = tbody.closest('table').querySelectorAll('thead th').length;
      tbody.replaceChildren(...(rows.length ? rows : [h('tr', { class: 'empty' }, h('td', { colspan: columns }, emptyText))]));
    }

    function badge(text, kind) {
      return h('span', { class: `badge ${kind}` }, text);
    }

    function meter(fraction, kind) {
      const bar = h('span');
      bar.style.width = `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
      return h('span', { class: `meter ${kind || ''}` }, bar);
    }

    function stateBadge(state) {
      if (state === 'SUCCEEDED' || state === 'VERIFIED') return badge(state, 'good');
      if (['FAILED', 'REJECTED', 'SHED', 'CANCELLED', 'DEADLINE_EXCEEDED'].includes(state)) return badge(state, 'bad');
      if (['SUSPENDED', 'RETRY_WAIT', 'DEFERRED'].includes(state)) return badge(state, 'warn');
      return badge(state, 'info');
    }

    /** Shows `error` (code and message) in the panel's error line, or hides the line. */
    function report(name, error) {
      const line = panel(name).querySelector(':scope > .panel-error');
      line.textContent = error ? describe(error) : '';
      line.hidden = !error;
      if (error && (error.status === 401 || error.status === 403)) banner(`${describe(error)}: sign in again with a valid token`);
    }

    function describe(error) {
      return error instanceof ApiError ? `${error.code}: ${error.message}` : `error: ${error.message || error}`;
    }

    function banner(text) {
      $('banner').textContent = text || '';
      $('banner').hidden = !text;
    }

    function fmtAge(ms) {
      if (ms === null || ms === undefined) return '—';
      if (ms < 1000) return `${ms} ms`;
      const seconds = ms / 1000;
      if (seconds < 60) return `${seconds.toFixed(1)} s`;
      if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
      return `${(seconds / 3600).toFixed(1)} h`;
    }

    function fmtTime(ms) {
      const date = new Date(ms);
      return `${date.toLocaleTimeString([], { hour12: false })}.${String(date.getMilliseconds()).padStart(3, '0')}`;
    }

    /** The time alone for today, date and time otherwise. */
    function fmtDateTime(ms) {
      if (!ms) return '—';
      const date = new Date(ms);
      const today = date.toDateString() === new Date().toDateString();
      return today ? date.toLocaleTimeString([], { hour12: false }) : date.toLocaleString([], { hour12: false });
    }

    const pct = (x) => `${(x * 100).toFixed(1)} %`;
    const fixed = (x) => Number(x).toFixed(2);

    function range(values, unit = '') {
      if (!values.length) return '—';
      const low = Math.min(...values);
      const high = Math.max(...values);
      return low === high ? `${low}${unit}` : `${low}…${high}${unit}`;
    }
    """#

    static let scriptBoot = #"""
    // Sign-in. Credentials come from the form, from the URL fragment (`#token=…&tenant=…&task=…`,
    // which browsers never send to a server) or from this tab's sessionStorage; they are checked
    // with one API call before anything is shown.
    function fromFragment() {
      const fragment = new URLSearchParams(location.hash.slice(1));
      if (!fragment.get('token')) return null;
      // The token leaves the address bar (and the history entry) at once.
      history.replaceState(null, '', location.pathname + location.search);
      return { credentials: { token: fragment.get('token'), tenant: fragment.get('tenant') || '' }, task: fragment.get('task') || '' };
    }

    function fromStorage() {
      try {
        const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
        if (stored && typeof stored.token === 'string' && stored.token) return { token: stored.token, tenant: String(stored.tenant || '') };
      } catch (_) {
        sessionStorage.removeItem(STORAGE_KEY);
      }
      return null;
    }

    async function signIn(credentials, task) {
      stop();
      session = credentials;
      const mine = generation;
      try {
        if (credentials.tenant) await api(tenantPath('tasks?limit=1'));
        else await api('/v1/admin/cluster');
      } catch (error) {
        if (mine !== generation) return;
        signOut();
        const hint = !credentials.tenant && error.status === 403 ? ' (a tenant\'s token needs the tenant\'s name)' : '';
        showLogin(credentials.tenant, `${describe(error)}${hint}`);
        return;
      }
      if (mine !== generation) return;
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
      showPanels();
      refresh(mine);
      if (task && credentials.tenant) openTask(task);
    }

    function signOut() {
      stop();
      session = null;
      sessionStorage.removeItem(STORAGE_KEY);
      showLogin('', '');
    }

    function stop() {
      generation += 1;
      clearTimeout(pollTimer);
      closeTask();
      resetTenantPanels();
      for (const tbody of document.querySelectorAll('tbody')) tbody.replaceChildren();
      for (const line of document.querySelectorAll('.panel-error')) line.hidden = true;
      $('shards').replaceChildren();
      $('slot-strip').replaceChildren();
      $('cluster-summary').textContent = '';
      $('updated').textContent = '';
      banner('');
    }

    function showLogin(tenant, error) {
      $('admin').hidden = true;
      $('tenant').hidden = true;
      $('logout').hidden = true;
      $('who').textContent = '';
      $('login').hidden = false;
      $('login-tenant').value = tenant || '';
      $('login-error').textContent = error || '';
      $('login-error').hidden = !error;
    }

    function showPanels() {
      $('login').hidden = true;
      $('login-token').value = '';
      $('admin').hidden = Boolean(session.tenant);
      $('tenant').hidden = !session.tenant;
      $('logout').hidden = false;
      $('who').textContent = session.tenant ? `tenant ${session.tenant}` : 'cluster admin';
    }

    /** Every 2 s: the admin's cluster panels, or the tenant's nodes and tasks. */
    async function refresh(mine) {
      if (mine !== generation) return;
      if (session.tenant) await refreshTenant(mine);
      else await refreshAdmin(mine);
      if (mine !== generation) return;
      $('updated').textContent = `updated ${fmtTime(Date.now())}, every ${POLL_MS / 1000} s`;
      pollTimer = setTimeout(() => refresh(mine), POLL_MS);
    }

    function start() {
      const link = fromFragment();
      if (link) return signIn(link.credentials, link.task);
      const stored = fromStorage();
      if (stored) return signIn(stored, '');
      showLogin('', '');
    }

    $('login-form').addEventListener('submit', (event) => {
      event.preventDefault();
      signIn({ token: $('login-token').value.trim(), tenant: $('login-tenant').value.trim() }, '');
    });
    $('logout').addEventListener('click', signOut);
    $('search-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const id = $('search-id').value.trim();
      if (id) openTask(id);
    });
    window.addEventListener('hashchange', start);
    start();
    """#
}
