/// The dashboard's three files, compiled into the router (issue 14): one page, one script, one
/// stylesheet, plain HTML, JavaScript and CSS with no framework and no build step. The page
/// holds no data; the script fills it from the router's API (docs/dashboard.md).
///
/// The page has no inline script or style (the Content-Security-Policy of `DashboardRoutes`
/// forbids both), and the script puts API data into the page only as text nodes.
enum DashboardAssets {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>FluxForge dashboard</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/ui/app.css">
    <script type="module" src="/ui/app.js"></script>
    </head>
    <body>
    <header class="topbar">
      <h1>FluxForge</h1>
      <span id="who" class="who" data-testid="who"></span>
      <span id="updated" class="muted" data-testid="updated"></span>
      <button id="logout" type="button" hidden>Sign out</button>
    </header>
    <div id="banner" class="banner" data-testid="banner" role="alert" hidden></div>
    <main>
      <section id="login" class="card login" data-testid="login" hidden>
        <h2>Sign in</h2>
        <form id="login-form" autocomplete="off">
          <label>Token <input id="login-token" type="password" required spellcheck="false"></label>
          <label>Tenant <input id="login-tenant" placeholder="empty for the cluster's admin token" spellcheck="false"></label>
          <button type="submit">Sign in</button>
        </form>
        <p class="muted">The token stays in this tab (sessionStorage) and is sent only to this router, as
        <code>Authorization: Bearer</code>. The admin token shows the cluster; a tenant's token shows that
        tenant's nodes and tasks.</p>
        <p id="login-error" class="error" data-testid="login-error" hidden></p>
      </section>

      <section id="admin" data-testid="admin-panels" hidden>
        <section class="card" data-testid="cluster-panel">
          <h2>Cluster map</h2>
          <p id="cluster-summary" class="summary" data-testid="cluster-summary"></p>
          <div id="slot-strip" class="slot-strip" data-testid="slot-strip"></div>
          <div id="shards" class="shards"></div>
          <p class="panel-error error" hidden></p>
        </section>
        <div class="stack">
          <section class="card" data-testid="tenants-panel">
            <h2>Tenants</h2>
            <table>
              <thead><tr><th>tenant</th><th>status</th><th>shard</th><th class="num">queue depth</th><th class="num">oldest waiting</th><th>budgets in use</th></tr></thead>
              <tbody id="tenants-body"></tbody>
            </table>
            <p class="panel-error error" hidden></p>
          </section>
          <section class="card" data-testid="domains-panel">
            <h2>Failure domains</h2>
            <table>
              <thead><tr><th>domain</th><th>shard</th><th>failure rate</th><th class="num">throttle above / recover below</th><th>state</th><th class="num">tokens</th><th class="num">nodes</th></tr></thead>
              <tbody id="domains-body"></tbody>
            </table>
            <p class="panel-error error" hidden></p>
          </section>
        </div>
        <section class="card" data-testid="quarantine-panel">
          <h2>Quarantined nodes, every tenant</h2>
          <table>
            <thead><tr><th>tenant</th><th>node</th><th>state</th><th class="num">score</th><th class="num">observed failure rate</th><th class="num">consecutive failures</th><th>shard</th></tr></thead>
            <tbody id="quarantine-body"></tbody>
          </table>
          <p class="muted">The full health of each node (its three score parts) is on the tenant's own view: sign in with the tenant's token.</p>
          <p class="panel-error error" hidden></p>
        </section>
      </section>

      <section id="tenant" data-testid="tenant-panels" hidden>
        <section class="card" data-testid="nodes-panel">
          <h2>Node health</h2>
          <table>
            <thead><tr><th>node</th><th>zone / rack</th><th>session</th><th class="num">running</th><th>score</th><th class="num">agent report</th><th class="num">observed failure rate</th><th class="num">probe</th><th>state</th><th>reasons</th></tr></thead>
            <tbody id="nodes-body"></tbody>
          </table>
          <p class="muted">score = 0.2 × agent report + 0.5 × (1 − observed failure rate) + 0.3 × probe; a quarantined node gets no work until its score recovers.</p>
          <p class="panel-error error" hidden></p>
        </section>
        <div class="columns">
          <section class="card tasks" data-testid="tasks-panel">
            <h2>Tasks</h2>
            <form id="search-form" class="search" autocomplete="off">
              <input id="search-id" placeholder="task id" spellcheck="false" data-testid="search-id">
              <button type="submit">Show</button>
            </form>
            <table>
              <thead><tr><th>task</th><th>state</th><th>node</th><th class="num">attempt</th><th>created</th></tr></thead>
              <tbody id="tasks-body" data-testid="recent-tasks"></tbody>
            </table>
            <p id="tasks-note" class="muted"></p>
            <p class="panel-error error" hidden></p>
          </section>
          <section id="task-view" class="card" data-testid="task-view" hidden>
            <h2>Task <code id="task-id" data-testid="task-id"></code> <span id="task-state"></span></h2>
            <p id="task-live" class="muted" data-testid="task-live"></p>
            <dl id="task-facts" class="facts"></dl>
            <h3>Explain</h3>
            <p id="explain-summary" data-testid="explain-summary"></p>
            <ul id="explain-blockers" class="blockers"></ul>
            <h3>Timeline</h3>
            <table>
              <thead><tr><th>time</th><th class="num">+ms</th><th>from</th><th>to</th><th>reason</th><th>shard / epoch</th><th>node</th><th class="num">attempt</th></tr></thead>
              <tbody id="timeline-body" data-testid="timeline"></tbody>
            </table>
            <p class="panel-error error" hidden></p>
          </section>
        </div>
      </section>
    </main>
    </body>
    </html>
    """#
}
