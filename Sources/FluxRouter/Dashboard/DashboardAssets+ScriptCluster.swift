extension DashboardAssets {
    /// The admin's panels: the cluster map (`GET /v1/admin/cluster` and the aggregated
    /// `GET /scheduler/debug/snapshot`), tenants with their queues (`GET /v1/admin/tenants` and
    /// the snapshot), failure domains and quarantined nodes (the snapshot).
    static let scriptCluster = #"""
    // ---- Admin panels -------------------------------------------------------------------------

    async function refreshAdmin(mine) {
      const [cluster, snapshot, tenants] = await Promise.allSettled([
        api('/v1/admin/cluster'), api('/scheduler/debug/snapshot'), api('/v1/admin/tenants'),
      ]);
      if (mine !== generation) return;
      const snap = snapshot.status === 'fulfilled' ? snapshot.value : null;
      settle('cluster-panel', [cluster], (view) => renderCluster(view, snap));
      settle('tenants-panel', [tenants, snapshot], renderTenants);
      settle('domains-panel', [snapshot], renderDomains);
      settle('quarantine-panel', [snapshot], renderQuarantined);
    }

    /** Renders a panel from settled calls, or shows the first failure in it. */
    function settle(name, results, render) {
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) return report(name, failed.reason);
      try {
        render(...results.map((result) => result.value));
        report(name, null);
      } catch (error) {
        report(name, error);
      }
    }

    function renderCluster(view, snap) {
      const ids = [...new Set([...view.members.map((m) => m.id), ...view.leases.map((l) => l.holder)])].sort();
      const colour = new Map(ids.map((id, index) => [id, `c${index % 8}`]));
      const moving = new Set(view.movingSlots || []);
      const shots = new Map((snap ? snap.shards : []).map((shot) => [shot.shard, shot]));
      const unreachable = snap ? snap.unreachable : {};
      const totals = snap ? snap.totals : null;
      $('cluster-summary').replaceChildren(
        `${view.slotCount} slots: ${view.leases.length} leased, ${view.unownedSlots.length} unowned, ${moving.size} moving`,
        totals ? ` · agents ${totals.agentsConnected} · waiting ${totals.waitingTasks} · in flight ${totals.inFlightTasks} · quarantined nodes ${totals.quarantinedNodes}` : '',
      );
      $('slot-strip').replaceChildren(...slotCells(view, colour, moving));
      $('shards').replaceChildren(...ids.map((id) => {
        const member = view.members.find((m) => m.id === id);
        const leases = view.leases.filter((l) => l.holder === id);
        const movingOut = leases.filter((l) => moving.has(l.slot)).length;
        return shardCard(id, member, leases, shots.get(id), unreachable[id], colour.get(id), movingOut);
      }));
    }

    /** One cell per slot, coloured by the lease holder; hatched while moving, hollow when unowned. */
    function slotCells(view, colour, moving) {
      const bySlot = new Map(view.leases.map((lease) => [lease.slot, lease]));
      const cells = [];
      for (let slot = 0; slot < view.slotCount; slot += 1) {
        const lease = bySlot.get(slot);
        const kind = lease ? `${colour.get(lease.holder)}${moving.has(slot) ? ' moving' : ''}` : 'unowned';
        const title = lease
          ? `slot ${slot}: ${lease.holder}, epoch ${lease.epoch}, lease ${lease.ttlMs} ms left${moving.has(slot) ? ', moving' : ''}`
          : `slot ${slot}: unowned`;
        cells.push(h('div', { class: `slot ${kind}`, title }));
      }
      return cells;
    }

    function shardCard(id, member, leases, shot, missing, colour, movingOut) {
      const liveness = !member ? badge('NOT A MEMBER', 'bad') : member.live ? badge('LIVE', 'good') : badge('DEAD', 'bad');
      const facts = [
        ['mode', shot ? modeText(shot.mode) : missing ? `no snapshot (${missing})` : '—'],
        ['lease epochs', range(leases.map((l) => l.epoch))],
        ['lease ttl left', range(leases.map((l) => l.ttlMs), ' ms')],
        ['moving', movingOut ? `${movingOut} slots to hand over` : 'none'],
        ['agents', shot ? shot.agentsConnected : '—'],
        ['waiting / in flight', shot ? `${shot.waitingTasks} / ${shot.inFlightTasks}` : '—'],
        ['heartbeat', member ? `${fmtAge(member.heartbeatAgeMs)} ago` : '—'],
        ['api', member ? member.api : '—'],
        ['version', member ? member.version : '—'],
      ];
      return h('article', { class: 'shard', 'data-testid': 'shard', 'data-shard': id },
        h('header', {}, h('span', { class: `swatch ${colour}` }), h('span', { class: 'name', 'data-testid': 'shard-id' }, id),
          liveness, shot ? modeBadge(shot.mode.mode) : null),
        h('div', {}, h('span', { class: 'slots', 'data-testid': 'shard-slots' }, member ? member.slotsHeld : leases.length), ' slots held'),
        h('dl', {}, facts.map(([name, value]) => [h('dt', {}, name), h('dd', {}, value)])));
    }

    function modeBadge(mode) {
      return badge(mode, mode === 'NORMAL' ? 'good' : mode === 'DEGRADED' ? 'warn' : 'bad');
    }

    function modeText(mode) {
      const causes = [
        mode.override ? `operator override ${mode.override}` : null,
        mode.queueDepthHigh ? 'queue depth high' : null,
        mode.redisLatencyHigh ? `Redis latency high (p99 ${fixed(mode.redisLatencyP99Ms || 0)} ms)` : null,
        mode.redisUnreachable ? 'Redis unreachable' : null,
        mode.shardOverloaded ? `shard lag high (p99 ${fixed(mode.shardLagP99Ms || 0)} ms)` : null,
      ].filter(Boolean);
      return causes.length ? `${mode.mode}: ${causes.join(', ')}` : mode.mode;
    }

    /** Every tenant of the cluster, with its queue as the shard holding it reports it. */
    function renderTenants(list, snap) {
      const queues = new Map();
      for (const shot of snap.shards) {
        for (const queue of shot.tenants) queues.set(queue.tenant, { ...queue, shard: shot.shard });
      }
      const names = [...new Set([...list.tenants.map((t) => t.tenant), ...queues.keys()])].sort();
      fill($('tenants-body'), names.map((name) => {
        const summary = list.tenants.find((t) => t.tenant === name);
        const queue = queues.get(name);
        const status = !summary ? badge('UNLISTED', 'warn') : summary.deleting ? badge('DELETING', 'bad')
          : summary.suspended ? badge('SUSPENDED', 'warn') : badge('active', 'good');
        const budgets = queue ? queue.budgets.map((b) => `${b.name} ${b.text}`).join(' · ') : '—';
        return h('tr', { 'data-testid': 'tenant-row', 'data-tenant': name },
          h('td', {}, name), h('td', {}, status), h('td', {}, queue ? queue.shard : '—'),
          h('td', { class: 'num', 'data-testid': 'queue-depth' }, queue ? queue.waiting : 0),
          h('td', { class: 'num' }, queue ? fmtAge(queue.oldestWaitingAgeMs) : '—'), h('td', { class: 'wrap' }, budgets));
      }), 'no tenants yet');
    }

    function renderDomains(snap) {
      const rows = snap.shards.flatMap((shot) => shot.domains.map((domain) => ({ ...domain, shard: shot.shard })));
      rows.sort((a, b) => (b.throttled - a.throttled) || (b.failureRate - a.failureRate) || a.domain.localeCompare(b.domain));
      fill($('domains-body'), rows.map((d) => {
        const kind = d.throttled || d.failureRate > d.throttleAbove ? 'bad' : d.failureRate > d.recoverBelow ? 'warn' : '';
        return h('tr', { class: d.throttled ? 'flagged' : '', 'data-testid': 'domain-row', 'data-domain': d.domain },
          h('td', {}, d.domain), h('td', {}, d.shard), h('td', {}, meter(d.failureRate, kind), pct(d.failureRate)),
          h('td', { class: 'num' }, `${pct(d.throttleAbove)} / ${pct(d.recoverBelow)}`),
          h('td', {}, d.throttled ? badge('THROTTLED', 'bad') : badge('open', 'good')),
          h('td', { class: 'num' }, d.throttled ? d.tokens : '—'), h('td', { class: 'num' }, d.nodes));
      }), 'no failure domain has nodes yet');
    }

    function renderQuarantined(snap) {
      const rows = snap.shards.flatMap((shot) => shot.quarantinedNodes.map((node) => ({ ...node, shard: shot.shard })));
      rows.sort((a, b) => a.tenant.localeCompare(b.tenant) || a.node.localeCompare(b.node));
      fill($('quarantine-body'), rows.map((n) => h('tr', { class: 'flagged', 'data-testid': 'quarantined-node', 'data-tenant': n.tenant, 'data-node': n.node },
        h('td', {}, n.tenant), h('td', { class: 'mono' }, n.node), h('td', {}, badge('QUARANTINED', 'bad')),
        h('td', { class: 'num' }, fixed(n.score)), h('td', { class: 'num' }, pct(n.observedFailureRate)),
        h('td', { class: 'num' }, n.consecutiveFailures), h('td', {}, n.shard))), 'no node is quarantined');
    }
    """#
}
