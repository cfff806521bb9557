extension DashboardAssets {
    /// The tenant's panels: node health (`GET /v1/tenants/{t}/nodes`) and its newest tasks
    /// (`GET /v1/tenants/{t}/tasks`, followed page by page from the last one read).
    static let scriptTenant = #"""
    // ---- Tenant panels ------------------------------------------------------------------------

    const SHOWN_TASKS = 50;
    const PAGE_SIZE = 200;
    const PAGES_PER_REFRESH = 10;

    /** The listing is oldest first: `tail` is the cursor of the last non-empty page read, so each
     *  refresh re-reads that page (states move on) and whatever came after it. */
    let taskList = { tail: null, tasks: new Map(), catchingUp: false };

    function resetTenantPanels() {
      taskList = { tail: null, tasks: new Map(), catchingUp: false };
      $('tasks-note').textContent = '';
    }

    async function refreshTenant(mine) {
      const [nodes, tasks] = await Promise.allSettled([api(tenantPath('nodes')), readNewTasks(mine)]);
      if (mine !== generation) return;
      settle('nodes-panel', [nodes], (list) => renderNodes(list.nodes));
      settle('tasks-panel', [tasks], renderTasks);
    }

    async function readNewTasks(mine) {
      let cursor = taskList.tail;
      let tail = taskList.tail;
      const read = [];
      let pages = 0;
      for (; pages < PAGES_PER_REFRESH; pages += 1) {
        const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
        if (cursor) query.set('cursor', cursor);
        const page = await api(tenantPath(`tasks?${query}`));
        if (mine !== generation) return;
        if (page.tasks.length) {
          tail = cursor;
          read.push(...page.tasks);
        }
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      taskList.tail = tail;
      taskList.catchingUp = pages === PAGES_PER_REFRESH;
      for (const task of read) taskList.tasks.set(task.id, task);
      const newest = [...taskList.tasks.values()].sort((a, b) => b.createdAtMs - a.createdAtMs || b.id.localeCompare(a.id));
      taskList.tasks = new Map(newest.slice(0, SHOWN_TASKS).map((task) => [task.id, task]));
    }

    function renderTasks() {
      const tasks = [...taskList.tasks.values()];
      fill($('tasks-body'), tasks.map((task) => h('tr', { 'data-testid': 'task-row', 'data-task': task.id },
        h('td', {}, taskLink(task.id)), h('td', {}, stateBadge(task.state)),
        h('td', {}, task.assignedNode || task.node || '—'), h('td', { class: 'num' }, task.attempt),
        h('td', {}, fmtDateTime(task.createdAtMs)))), 'no tasks yet');
      $('tasks-note').textContent = taskList.catchingUp
        ? 'still reading older pages of the listing; the newest tasks follow within a few refreshes'
        : `the newest ${SHOWN_TASKS} tasks, newest first`;
    }

    function taskLink(id) {
      const button = h('button', { type: 'button', class: 'link', title: 'show its timeline' }, id);
      button.addEventListener('click', () => openTask(id));
      return button;
    }

    function renderNodes(nodes) {
      const sorted = [...nodes].sort((a, b) => (b.quarantined - a.quarantined) || a.node.localeCompare(b.node));
      fill($('nodes-body'), sorted.map((n) => h('tr', { class: n.quarantined ? 'flagged' : '', 'data-testid': 'node-row', 'data-node': n.node },
        h('td', { class: 'mono' }, n.node), h('td', {}, `${n.zone} / ${n.rack}`),
        h('td', {}, n.connected ? badge('connected', 'good') : badge('disconnected', 'warn')),
        h('td', { class: 'num' }, `${n.running}/${n.capacity}`),
        h('td', {}, meter(n.score, n.quarantined ? 'bad' : n.score < 0.7 ? 'warn' : ''), fixed(n.score)),
        h('td', { class: 'num' }, n.selfReportIgnored ? `${fixed(n.agentReport)} (ignored)` : fixed(n.agentReport)),
        h('td', { class: 'num' }, pct(n.observedFailureRate)), h('td', { class: 'num' }, fixed(n.externalProbe)),
        h('td', { 'data-testid': 'node-state' }, n.quarantined ? badge('QUARANTINED', 'bad') : badge('healthy', 'good')),
        h('td', { class: 'wrap' }, h('ul', { class: 'reasons' }, nodeReasons(n).map((reason) => h('li', {}, reason)))))),
        'no node has connected yet');
    }

    /** Why a node's score is what it is, from its parts. */
    function nodeReasons(n) {
      const reasons = [];
      if (n.quarantined) reasons.push(`quarantined at score ${fixed(n.score)}: no new work until the score recovers`);
      if (n.selfReportIgnored) reasons.push('its own report counts as 0: its jobs fail while it reports itself healthy');
      if (n.observedFailureRate >= 0.05) reasons.push(`observed failure rate ${pct(n.observedFailureRate)}`);
      if (n.externalProbe < 0.99) reasons.push(`probe ${fixed(n.externalProbe)}: slow or failed round trips`);
      if (!n.selfReportIgnored && n.agentReport < 0.99) reasons.push(`the agent reports ${fixed(n.agentReport)}`);
      if (!n.connected) reasons.push('no session: gets no work');
      return reasons;
    }
    """#
}
