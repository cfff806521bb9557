extension DashboardAssets {
    /// `GET /ui/app.css`. Shard colours: `.c0` … `.c7`, by the shard's place in the sorted ids.
    static let style = #"""
    :root {
      --bg: #f4f5f7; --card: #fff; --ink: #1d2330; --muted: #6b7280; --line: #e3e6ea;
      --ok: #1f8a4c; --warn: #b7791f; --bad: #c53030; --accent: #2b6cb0;
      font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
      color: var(--ink); background: var(--bg);
    }
    * { box-sizing: border-box; }
    body { margin: 0; }
    code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
    .topbar { display: flex; align-items: baseline; gap: 16px; padding: 10px 20px; background: #1d2330; color: #fff; }
    .topbar h1 { margin: 0; font-size: 18px; letter-spacing: .02em; }
    .topbar .muted { color: #b8c0cc; }
    .topbar button { margin-left: auto; }
    .who { font-weight: 600; }
    main { padding: 16px 20px; display: grid; gap: 16px; }
    #admin, #tenant { display: grid; gap: 16px; }
    [hidden] { display: none !important; }
    .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; overflow-x: auto; }
    .card h2 { margin: 0 0 10px; font-size: 15px; }
    .card h3 { margin: 14px 0 6px; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
    .stack { display: grid; gap: 16px; }
    .columns { display: grid; grid-template-columns: minmax(500px, 1fr) minmax(0, 2fr); gap: 16px; align-items: start; }
    @media (max-width: 1100px) { .columns { grid-template-columns: 1fr; } }
    .login { max-width: 560px; }
    .login form { display: grid; gap: 8px; }
    .login label { display: grid; gap: 2px; font-weight: 600; }
    input { font: inherit; padding: 5px 8px; border: 1px solid #c7cdd4; border-radius: 5px; }
    button { font: inherit; padding: 5px 12px; border: 1px solid #9aa4b1; border-radius: 5px; background: #fff; cursor: pointer; }
    .muted { color: var(--muted); }
    .error { color: var(--bad); font-weight: 600; }
    .banner { margin: 12px 20px 0; padding: 8px 12px; border-radius: 6px; background: #fdecec; color: var(--bad); border: 1px solid #f3b4b4; }
    table { width: 100%; border-collapse: collapse; }
    th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
    td.wrap { white-space: normal; min-width: 180px; }
    th { font-size: 12px; font-weight: 600; color: var(--muted); }
    .num { text-align: right; font-variant-numeric: tabular-nums; }
    tr.flagged td { background: #fff5f5; }
    .empty td { color: var(--muted); font-style: italic; }
    .summary { margin: 0 0 8px; }
    .badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 11.5px; font-weight: 700; letter-spacing: .03em; border: 1px solid transparent; }
    .badge.good { background: #e6f4ea; color: var(--ok); border-color: #b7dfc3; }
    .badge.warn { background: #fdf3e1; color: var(--warn); border-color: #f0d29c; }
    .badge.bad { background: #fdecec; color: var(--bad); border-color: #f3b4b4; }
    .badge.info { background: #e8f0fa; color: var(--accent); border-color: #bcd2ee; }
    .badge.plain { background: #eef0f3; color: #4a5463; }
    .slot-strip { display: grid; grid-template-columns: repeat(64, 1fr); gap: 2px; margin: 6px 0 12px; }
    .slot { height: 14px; border-radius: 2px; background: #d5d9df; }
    .slot.moving { background-image: repeating-linear-gradient(45deg, rgba(255,255,255,.85) 0 3px, transparent 3px 6px); outline: 1px solid #1d2330; }
    .slot.unowned { background: #fff; outline: 1px dashed var(--bad); }
    .c0 { background: #2b6cb0; } .c1 { background: #dd6b20; } .c2 { background: #38a169; } .c3 { background: #805ad5; }
    .c4 { background: #d53f8c; } .c5 { background: #319795; } .c6 { background: #975a16; } .c7 { background: #4a5568; }
    .shards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 10px; }
    .shard { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
    .shard header { display: flex; align-items: center; gap: 6px; margin-bottom: 6px; }
    .shard .swatch { width: 12px; height: 12px; border-radius: 3px; }
    .shard .name { font-weight: 700; }
    .shard .slots { font-size: 26px; font-weight: 700; line-height: 1.1; }
    .shard dl, .facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 6px 0 0; }
    .shard dt, .facts dt { color: var(--muted); }
    .shard dd, .facts dd { margin: 0; overflow-wrap: anywhere; }
    .meter { display: inline-block; width: 60px; height: 8px; background: #e3e6ea; border-radius: 4px; vertical-align: middle; margin-right: 6px; overflow: hidden; }
    .meter span { display: block; height: 100%; background: var(--ok); }
    .meter.warn span { background: var(--warn); }
    .meter.bad span { background: var(--bad); }
    .reasons { margin: 0; padding-left: 16px; }
    .search { display: flex; gap: 6px; margin-bottom: 8px; }
    .search input { flex: 1; }
    .link { background: none; border: none; padding: 0; color: var(--accent); cursor: pointer; text-decoration: underline; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
    .blockers { margin: 4px 0; padding-left: 18px; }
    pre.output { margin: 0; white-space: pre-wrap; max-height: 160px; overflow: auto; background: #f7f7f9; padding: 6px; border-radius: 4px; }
    """#
}
