extension DashboardAssets {
    /// The task view: the task, its explanation and its timeline, kept live by the task's event
    /// stream (`GET …/tasks/{id}/events`, read with `fetch` because EventSource cannot send an
    /// Authorization header), or by polling the timeline every 2 s where that stream is absent.
    static let scriptTask = #"""
    // ---- Task view ----------------------------------------------------------------------------

    /** The open task: its id, the AbortController of its stream or poll, its timeline by entry id. */
    let taskView = { id: null, controller: null, entries: new Map(), timer: null, explainTimer: null, state: null };

    function closeTask() {
      if (taskView.controller) taskView.controller.abort();
      clearTimeout(taskView.timer);
      clearTimeout(taskView.explainTimer);
      taskView = { id: null, controller: null, entries: new Map(), timer: null, explainTimer: null, state: null };
      $('task-view').hidden = true;
      for (const id of ['task-id', 'task-state', 'task-live', 'task-facts', 'explain-summary', 'explain-blockers', 'timeline-body']) {
        $(id).replaceChildren();
      }
    }

    async function openTask(id) {
      closeTask();
      const mine = generation;
      const controller = new AbortController();
      taskView.id = id;
      taskView.controller = controller;
      $('task-view').hidden = false;
      $('task-id').textContent = id;
      live('loading…');
      report('task-view', null);
      try {
        const [task, timeline] = await Promise.all([
          api(tenantPath(`tasks/${encodeURIComponent(id)}`), { signal: controller.signal }),
          api(tenantPath(`tasks/${encodeURIComponent(id)}/timeline`), { signal: controller.signal }),
        ]);
        if (controller.signal.aborted) return;
        renderTask(task);
        mergeTimeline(timeline.entries);
        await refreshExplain(controller);
        if (TERMINAL.has(task.state)) return live(`finished: ${task.state}`);
        follow(id, controller, mine);
      } catch (error) {
        if (controller.signal.aborted) return;
        live('');
        report('task-view', error);
      }
    }

    function live(text) {
      $('task-live').textContent = text;
    }

    /** The event stream while it lasts; polling when the router has none (404) or it broke. */
    async function follow(id, controller, mine) {
      live('live: following the task\'s event stream');
      let outcome;
      try {
        outcome = await streamEvents(id, controller.signal);
      } catch (error) {
        if (controller.signal.aborted) return;
        report('task-view', error);
        outcome = 'broken';
      }
      if (controller.signal.aborted || mine !== generation) return;
      if (outcome === 'ended') {
        try {
          await refreshTask(controller);
        } catch (error) {
          if (!controller.signal.aborted) report('task-view', error);
        }
        return live(`finished: ${taskView.state}`);
      }
      poll(id, controller, outcome === 'unsupported'
        ? 'live: polling the timeline every 2 s (this router has no event stream)'
        : 'live: polling the timeline every 2 s (the event stream ended early)');
    }

    /** Reads `text/event-stream`: `transition` events carry a timeline entry, `end` the final state. */
    async function streamEvents(id, signal) {
      const headers = { Accept: 'text/event-stream' };
      const last = [...taskView.entries.keys()].pop();
      if (last) headers['Last-Event-ID'] = last;
      let response;
      try {
        response = await apiFetch(tenantPath(`tasks/${encodeURIComponent(id)}/events`), { headers, signal });
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return 'unsupported';
        throw error;
      }
      if (!(response.headers.get('Content-Type') || '').startsWith('text/event-stream')) return 'unsupported';
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'broken';
        buffer += value;
        let boundary;
        while ((boundary = buffer.search(/\r\n\r\n|\n\n|\r\r/)) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + (buffer.startsWith('\r\n\r\n', boundary) ? 4 : 2));
          if (handleEvent(parseEvent(block))) {
            reader.cancel().catch(() => {});
            return 'ended';
          }
        }
      }
    }

    function parseEvent(block) {
      const event = { type: 'message', id: null, data: [] };
      for (const line of block.split(/\r\n|\n|\r/)) {
        if (!line || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event.type = value;
        else if (field === 'id') event.id = value;
        else if (field === 'data') event.data.push(value);
      }
      return { type: event.type, id: event.id, data: event.data.join('\n') };
    }

    /** Applies one event; true once the stream says the task is finished. */
    function handleEvent(event) {
      if (event.type === 'transition') {
        const entry = JSON.parse(event.data);
        mergeTimeline([entry]);
        setState(entry.to);
        explainSoon();
        return false;
      }
      if (event.type === 'end') {
        const end = event.data ? JSON.parse(event.data) : {};
        if (end.state) setState(end.state);
        return true;
      }
      return false;
    }

    function poll(id, controller, note) {
      live(note);
      const tick = async () => {
        if (controller.signal.aborted) return;
        try {
          const timeline = await api(tenantPath(`tasks/${encodeURIComponent(id)}/timeline`), { signal: controller.signal });
          mergeTimeline(timeline.entries);
          await refreshTask(controller);
          report('task-view', null);
          if (TERMINAL.has(taskView.state)) return live(`finished: ${taskView.state}`);
        } catch (error) {
          if (controller.signal.aborted) return;
          report('task-view', error);
        }
        taskView.timer = setTimeout(tick, POLL_MS);
      };
      taskView.timer = setTimeout(tick, POLL_MS);
    }

    async function refreshTask(controller) {
      const task = await api(tenantPath(`tasks/${encodeURIComponent(taskView.id)}`), { signal: controller.signal });
      if (controller.signal.aborted) return;
      renderTask(task);
      await refreshExplain(controller);
    }

    function explainSoon() {
      clearTimeout(taskView.explainTimer);
      const controller = taskView.controller;
      taskView.explainTimer = setTimeout(() => refreshTask(controller).catch((error) => {
        if (!controller.signal.aborted) report('task-view', error);
      }), 300);
    }

    function setState(state) {
      taskView.state = state;
      $('task-state').replaceChildren(stateBadge(state));
    }

    function renderTask(task) {
      setState(task.state);
      const facts = [
        ['state', `${task.state}${task.reason ? ` (${task.reason})` : ''}`],
        ['command', h('code', {}, JSON.stringify(task.command))],
        ['priority / cpu cost', `${task.priority} / ${task.cpuCost}`],
        ['placement', task.node ? `pinned to ${task.node}` : Object.keys(task.selector).length
          ? Object.entries(task.selector).map(([k, v]) => `${k}=${v}`).join(', ') : 'any node'],
        ['attempt', `${task.attempt}${task.assignedNode ? ` on ${task.assignedNode}` : ''}`],
        ['created / updated', `${fmtDateTime(task.createdAtMs)} / ${fmtDateTime(task.updatedAtMs)}`],
        ['deadline', task.deadlineAtMs ? fmtDateTime(task.deadlineAtMs) : 'none'],
      ];
      if (task.result) {
        facts.push(['result', `exit ${task.result.exitCode} after ${task.result.durationMs} ms`]);
        facts.push(['output tail', h('pre', { class: 'output' }, task.result.outputTail || '(none)')]);
      }
      $('task-facts').replaceChildren(...facts.flatMap(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]));
    }

    async function refreshExplain(controller) {
      const why = await api(tenantPath(`tasks/${encodeURIComponent(taskView.id)}/explain`), { signal: controller.signal });
      if (controller.signal.aborted) return;
      $('explain-summary').replaceChildren(why.summary, ' ', h('span', { class: 'muted' },
        `(${why.reason}: ${why.reasonMessage}; from the ${why.source}, mode ${why.mode})`));
      $('explain-blockers').replaceChildren(...why.blockers.map((b) => h('li', {}, h('code', {}, b.code), ` ${b.message}`)));
    }

    /** Timeline order: the entries' stream ids (`<ms>-<seq>`), as the timeline endpoint lists them. */
    function entryOrder(a, b) {
      const [aMs, aSeq] = a.id.split('-').map(Number);
      const [bMs, bSeq] = b.id.split('-').map(Number);
      if (Number.isFinite(aMs) && Number.isFinite(bMs)) return aMs - bMs || (aSeq || 0) - (bSeq || 0);
      return a.atMs - b.atMs;
    }

    function mergeTimeline(entries) {
      for (const entry of entries) taskView.entries.set(entry.id, entry);
      const sorted = [...taskView.entries.values()].sort(entryOrder);
      taskView.entries = new Map(sorted.map((entry) => [entry.id, entry]));
      const first = sorted.length ? sorted[0].atMs : 0;
      fill($('timeline-body'), sorted.map((e) => h('tr', { 'data-testid': 'timeline-row', 'data-to': e.to },
        h('td', { class: 'mono' }, fmtTime(e.atMs)), h('td', { class: 'num' }, e.atMs - first),
        h('td', {}, e.from || '—'), h('td', {}, stateBadge(e.to)), h('td', { class: 'wrap' }, e.reason),
        h('td', {}, e.shard ? `${e.shard} / ${e.epoch}` : '—'), h('td', {}, e.node || '—'), h('td', { class: 'num' }, e.attempt))),
        'no transitions yet');
    }
    """#
}
