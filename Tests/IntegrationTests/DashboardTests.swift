import FluxAPI
import FluxTesting
import Foundation
import Testing

/// The dashboard (issue 14) in a real browser: headless Chromium, driven over the DevTools
/// protocol, loads `/ui` from the router of a real cluster (two shards, real agents) and must
/// show what the API says — both shards with their slot counts, a finished task with its whole
/// timeline, a quarantined node as quarantined — and, to a tenant, none of the admin panels.
@Suite("Dashboard", .serialized)
struct DashboardTests {
    /// What the page shows, read from its DOM as text (what a person sees), not from its state.
    struct Reading: Decodable, CustomStringConvertible {
        struct Row: Decodable { var cells: [String] }
        struct Shard: Decodable {
            var id: String
            var slots: String
        }

        var signInShown: Bool
        var signInError: String
        var adminShown: Bool
        var tenantShown: Bool
        var shards: [Shard]
        var tenants: [Row]
        var quarantined: [Row]
        var nodes: [Row]
        var tasks: [Row]
        var taskShown: Bool
        var taskID: String
        var taskLive: String
        var timeline: [Row]
        var explain: String
        var panelErrors: [String]
        /// Paths of every request the page made.
        var requests: [String]

        var description: String {
            "sign-in \(signInShown) \(signInError) admin \(adminShown) tenant \(tenantShown) shards \(shards.map { "\($0.id)=\($0.slots)" }) "
                + "quarantined \(quarantined.map(\.cells)) nodes \(nodes.map(\.cells)) tasks \(tasks.map(\.cells)) task \(taskID) "
                + "(\(taskLive)) timeline \(timeline.map(\.cells)) errors \(panelErrors)"
        }
    }

    static let read = #"""
    (() => {
      const shown = (id) => {
        const element = document.querySelector(`[data-testid="${id}"]`);
        return Boolean(element) && !element.hidden;
      };
      const text = (selector) => (document.querySelector(selector) || { innerText: '' }).innerText.trim();
      const rows = (testid) => [...document.querySelectorAll(`[data-testid="${testid}"]`)]
        .filter((row) => row.offsetParent !== null)
        .map((row) => ({ cells: [...row.cells].map((cell) => cell.innerText.trim()) }));
      return JSON.stringify({
        signInShown: shown('login'), signInError: text('[data-testid="login-error"]'),
        adminShown: shown('admin-panels'), tenantShown: shown('tenant-panels'),
        shards: [...document.querySelectorAll('[data-testid="shard"]')].filter((card) => card.offsetParent !== null).map((card) => ({
          id: card.querySelector('[data-testid="shard-id"]').innerText.trim(),
          slots: card.querySelector('[data-testid="shard-slots"]').innerText.trim(),
        })),
        tenants: rows('tenant-row'), quarantined: rows('quarantined-node'), nodes: rows('node-row'), tasks: rows('task-row'),
        taskShown: shown('task-view'), taskID: text('[data-testid="task-id"]'), taskLive: text('[data-testid="task-live"]'),
        timeline: rows('timeline-row'), explain: text('[data-testid="explain-summary"]'),
        panelErrors: [...document.querySelectorAll('.panel-error')].filter((line) => !line.hidden).map((line) => line.innerText),
        requests: performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname),
      });
    })()
    """#

    @Test(.timeLimit(.minutes(3)))
    func theDashboardShowsShardsATaskTimelineAndAQuarantinedNodeInARealBrowser() async throws {
        // Failure rates fade slowly here, so the quarantined node stays quarantined while the
        // browser looks (at the default 10 s it would be released about a minute later).
        let cluster = try await RouterHarness(shardIDs: ["shard-a", "shard-b"], shardArguments: ["--failure-fade-ms", "600000"])
        defer { cluster.stopAll() }
        let (token, agentToken) = try await cluster.createTenant("acme")
        try await Self.quarantineALiar(cluster, token: token, agentToken: agentToken)
        try await cluster.startAgent(tenant: "acme", token: token, agentToken: agentToken, node: "edge-1")
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "echo shown in the dashboard"], priority: 2, node: "edge-1"))
        let done = try await cluster.waitForState(tenant: "acme", token: token, id: id, ["SUCCEEDED", "FAILED"])
        try #require(done.state == "SUCCEEDED", "\(done)")
        let states = try await cluster.timeline(tenant: "acme", token: token, id: id).map(\.to)
        try #require(states.first == "QUEUED" && states.last == "SUCCEEDED", "\(states)")
        let view = try await cluster.clusterView()
        try #require(view.members.count == 2)

        let page = try await cluster.request("GET", "/ui")
        #expect(page.status == 200 && page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
        #expect(try await cluster.request("GET", "/ui/app.js").headers["content-type"] == "text/javascript; charset=utf-8")

        let browser = try await HeadlessChromium.launch(in: cluster.directory)
        defer { browser.stop() }
        let url = cluster.baseURL + "/ui"
        let adminToken = cluster.adminToken
        let screenshots = ProcessInfo.processInfo.environment["FLUXFORGE_SCREENSHOT_DIR"].map(URL.init(fileURLWithPath:))
        try await browser.withDevTools(limit: .seconds(90)) { devTools in
            try await Self.checkAdminView(devTools, url: url, token: adminToken, cluster: view, screenshots: screenshots)
            try await Self.checkTenantView(devTools, url: url, token: token, task: id, states: states, screenshots: screenshots)
            try await Self.checkLiveTask(devTools, url: url, cluster: cluster, token: token)
            try await Self.checkRefusedToken(devTools, url: url)
        }
    }

    /// Makes the node `liar` fail every job while reporting itself healthy, until the shard
    /// quarantines it (as OperationTests does on a single shard).
    static func quarantineALiar(_ cluster: RouterHarness, token: String, agentToken: String) async throws {
        try await cluster.startAgent(
            tenant: "acme", token: token, agentToken: agentToken, node: "liar", capacity: 1, extraArguments: ["--chaos-self-score", "1.0"])
        let retry = RetrySpec(maxAttempts: 20, backoff: "linear", baseDelayMs: 100, maxDelayMs: 100)
        for _ in 0..<4 {
            _ = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "test \"$FLUX_NODE\" != liar"], priority: 2, retry: retry))
        }
        try await cluster.eventually(timeout: .seconds(30), "liar quarantined") {
            let response = try await cluster.request("GET", "/v1/tenants/acme/nodes", token: token)
            let nodes = (try? JSONDecoder().decode(NodeList.self, from: response.body))?.nodes ?? []
            return nodes.contains { $0.node == "liar" && $0.quarantined }
        }
    }

    static func checkAdminView(_ devTools: DevTools, url: String, token: String, cluster: ClusterView, screenshots: URL?) async throws {
        let tab = try await devTools.newPage()
        try await tab.navigate("\(url)#token=\(token)")
        let expected = Dictionary(uniqueKeysWithValues: cluster.members.map { ($0.id, String($0.slotsHeld)) })
        let reading = try await tab.waitFor("both shards, the tenant and the quarantined node", Reading.self, read) { reading in
            reading.adminShown && reading.shards.count == 2 && !reading.quarantined.isEmpty && !reading.tenants.isEmpty
        }
        #expect(!reading.signInShown && !reading.tenantShown)
        #expect(Dictionary(uniqueKeysWithValues: reading.shards.map { ($0.id, $0.slots) }) == expected, "\(reading)")
        #expect(reading.tenants.map { $0.cells.first } == ["acme"], "\(reading)")
        let liar = try #require(reading.quarantined.first { $0.cells.prefix(2) == ["acme", "liar"] }, "\(reading)")
        #expect(liar.cells.contains("QUARANTINED"), "\(liar.cells)")
        #expect(reading.panelErrors.isEmpty, "\(reading.panelErrors)")
        try await save(tab, as: "dashboard-admin.png", in: screenshots)
    }

    static func checkTenantView(
        _ devTools: DevTools, url: String, token: String, task id: String, states: [String], screenshots: URL?
    ) async throws {
        let tab = try await devTools.newPage()
        try await tab.navigate("\(url)#token=\(token)&tenant=acme")
        let listed = try await tab.waitFor("the task and both nodes", Reading.self, read) { reading in
            reading.tasks.contains { $0.cells.first == id } && reading.nodes.count == 2
        }
        #expect(listed.tenantShown && !listed.adminShown, "a tenant sees no admin panel: \(listed)")
        #expect(listed.shards.isEmpty && listed.quarantined.isEmpty)
        #expect(!listed.requests.contains { $0.hasPrefix("/v1/admin") || $0.hasPrefix("/scheduler") }, "\(listed.requests)")
        let liar = try #require(listed.nodes.first { $0.cells.first == "liar" })
        let edge = try #require(listed.nodes.first { $0.cells.first == "edge-1" })
        #expect(liar.cells.contains("QUARANTINED") && !edge.cells.contains("QUARANTINED"), "\(listed.nodes.map(\.cells))")
        #expect(listed.tasks.first { $0.cells.first == id }?.cells.contains("SUCCEEDED") == true)

        // The search box opens the task: its timeline, state by state, as the API has it.
        _ = try await tab.evaluate("""
            document.getElementById('search-id').value = '\(id)';
            document.getElementById('search-form').requestSubmit();
            """)
        let shown = try await tab.waitFor("the task's timeline", Reading.self, read) { reading in
            // The view has settled: the timeline to its end, the status and the explanation.
            reading.taskShown && reading.taskID == id && reading.timeline.last?.cells.dropFirst(3).first == "SUCCEEDED"
                && reading.taskLive == "finished: SUCCEEDED" && !reading.explain.isEmpty
        }
        #expect(shown.timeline.map { $0.cells[3] } == states, "\(shown.timeline.map(\.cells))")
        #expect(shown.taskLive == "finished: SUCCEEDED" && !shown.explain.isEmpty, "\(shown)")
        #expect(shown.panelErrors.isEmpty, "\(shown.panelErrors)")
        try await save(tab, as: "dashboard-tenant.png", in: screenshots)
    }

    /// A task opened from a link while it runs: the view follows it live (the task's event
    /// stream, or polling where the router has none) until it shows the whole timeline.
    static func checkLiveTask(_ devTools: DevTools, url: String, cluster: RouterHarness, token: String) async throws {
        let id = try await cluster.submit(tenant: "acme", token: token, TaskSubmission(command: ["sh", "-c", "sleep 3; echo late"], priority: 2, node: "edge-1"))
        let tab = try await devTools.newPage()
        try await tab.navigate("\(url)#token=\(token)&tenant=acme&task=\(id)")
        let following = try await tab.waitFor("the running task followed", Reading.self, read) { reading in
            reading.taskID == id && reading.taskLive.hasPrefix("live: ")
        }
        #expect(!following.timeline.contains { $0.cells[3] == "SUCCEEDED" }, "\(following)")
        // By its event stream, not by polling: the router serves one while the task runs.
        #expect(following.taskLive == "live: following the task's event stream", "\(following.taskLive)")
        let metrics = try PrometheusText(try await cluster.request("GET", "/metrics").text)
        #expect((metrics.value("flux_router_event_streams") ?? 0) >= 1, "no open event stream at the router")
        let finished = try await tab.waitFor("the task finished", Reading.self, read) { $0.taskLive == "finished: SUCCEEDED" }
        let states = try await cluster.timeline(tenant: "acme", token: token, id: id).map(\.to)
        #expect(finished.timeline.map { $0.cells[3] } == states && states.last == "SUCCEEDED", "\(finished.timeline.map(\.cells))")
        #expect(finished.panelErrors.isEmpty, "\(finished.panelErrors)")
    }

    /// A token that is not the tenant's: the sign-in form again, with the API's code and message.
    static func checkRefusedToken(_ devTools: DevTools, url: String) async throws {
        let tab = try await devTools.newPage()
        try await tab.navigate("\(url)#token=not-a-token&tenant=acme")
        let refused = try await tab.waitFor("the refusal", Reading.self, read) { $0.signInShown && !$0.signInError.isEmpty }
        #expect(refused.signInError.hasPrefix("forbidden: "), "\(refused.signInError)")
        #expect(!refused.adminShown && !refused.tenantShown)
    }

    static func save(_ tab: BrowserPage, as name: String, in directory: URL?) async throws {
        let png = try await tab.screenshot()
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        guard let directory else { return }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try png.write(to: directory.appendingPathComponent(name))
    }
}
