public import FluxAPI
public import Foundation

/// Something tests talk to over HTTP on loopback — a shard, or a router in front of shards —
/// with the calls every integration test needs (tenants, agents, submissions, polling).
public protocol FluxEndpoint: AnyObject, Sendable {
    var baseURL: String { get }
    var agentURL: String { get }
    var adminToken: String { get }
    /// Where agent logs go.
    var directory: URL { get }
    /// Log tails to print when a wait times out.
    func diagnostics() -> String
    /// Keeps a started agent so the harness stops it.
    func track(_ agent: FluxProcess, as key: String)
}

extension FluxEndpoint {
    /// Creates a tenant; returns its API and agent tokens.
    public func createTenant(_ name: String, settings: TenantSettings = TenantSettings()) async throws -> (token: String, agentToken: String) {
        // A shard that just took the slot's lease answers 421 until it has loaded the slot: the
        // router retries that; a test talking to a shard directly does the same, briefly.
        var response = try await request("PUT", "/v1/admin/tenants/\(name)", token: adminToken, json: settings)
        let deadline = ContinuousClock.now + .seconds(10)
        // Through the router, `503 no_owner` means the same while a shard is still taking its slots.
        while response.status == 421 || (response.status == 503 && response.text.contains("no_owner")), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            response = try await request("PUT", "/v1/admin/tenants/\(name)", token: adminToken, json: settings)
        }
        guard response.status == 201, let created = try? JSONDecoder().decode(TenantCreated.self, from: response.body),
              let token = created.token, let agentToken = created.agentToken
        else { throw HarnessError("tenant creation answered \(response.status): \(response.text)") }
        return (token, agentToken)
    }

    /// Starts a real agent process for `tenant` and waits until the shard lists its node.
    @discardableResult
    public func startAgent(
        tenant: String, token: String, agentToken: String, node: String, zone: String = "zone-a",
        rack: String = "rack-1", capacity: Int = 4, extraArguments: [String] = []
    ) async throws -> FluxProcess {
        let arguments = [
            "agent", "--url", agentURL, "--tenant", tenant, "--node", node, "--zone", zone, "--rack", rack,
            "--capacity", String(capacity), "--reconnect-min-ms", "50", "--reconnect-max-ms", "500",
        ] + extraArguments
        let agent = try FluxProcess(name: "agent-\(node)", arguments: arguments, environment: ["FLUXFORGE_AGENT_TOKEN": agentToken], directory: directory)
        // Keyed by tenant too: two tenants may both name a node edge-1, and replacing one
        // process with the other would kill it.
        track(agent, as: tenant + "/" + node)
        try await waitForNode(tenant: tenant, token: token, node: node, connected: true)
        return agent
    }

    /// Waits until `node` is (or is no longer) listed as connected.
    public func waitForNode(tenant: String, token: String, node: String, connected: Bool, timeout: Duration = .seconds(20)) async throws {
        try await eventually(timeout: timeout, "node \(node) connected=\(connected)") {
            let response = try await self.request("GET", "/v1/tenants/\(tenant)/nodes", token: token)
            let nodes = (try? JSONDecoder().decode(NodeList.self, from: response.body))?.nodes ?? []
            return nodes.contains { $0.node == node && $0.connected } == connected
        }
    }

    /// Submits a task and returns its id (fails unless the answer is 202). A `429 degraded` is
    /// retried as a client would, after its `Retry-After` (at most 2 s a time, 30 s in all): a
    /// shard of a test on two loaded cores may go DEGRADED for overload, which closes the door to
    /// tenants at their share, and that is backpressure, not what the test is about. Tests of
    /// the door itself send with `request`.
    public func submit(tenant: String, token: String, _ submission: TaskSubmission) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while true {
            let response = try await request("POST", "/v1/tenants/\(tenant)/tasks", token: token, json: submission)
            if response.status == 429, response.errorCode == "degraded", clock.now < deadline {
                let seconds = response.headers["retry-after"].flatMap(Int.init) ?? 1
                try await Task.sleep(for: .seconds(min(max(seconds, 1), 2)))
                continue
            }
            guard response.status == 202, let accepted = try? JSONDecoder().decode(SubmissionAccepted.self, from: response.body) else {
                throw HarnessError("submission answered \(response.status): \(response.text)")
            }
            return accepted.id
        }
    }

    /// Reads a task (nil on 404).
    public func task(tenant: String, token: String, id: String) async throws -> TaskView? {
        let response = try await request("GET", "/v1/tenants/\(tenant)/tasks/\(id)", token: token)
        return response.status == 200 ? try JSONDecoder().decode(TaskView.self, from: response.body) : nil
    }

    /// The task's timeline, oldest first.
    public func timeline(tenant: String, token: String, id: String) async throws -> [TimelineEntry] {
        let response = try await request("GET", "/v1/tenants/\(tenant)/tasks/\(id)/timeline", token: token)
        return (try? JSONDecoder().decode(TimelinePage.self, from: response.body))?.entries ?? []
    }

    /// Polls until the task is in one of `states`; returns it.
    public func waitForState(tenant: String, token: String, id: String, _ states: Set<String>, timeout: Duration = .seconds(30)) async throws -> TaskView {
        var last: TaskView?
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            last = try? await task(tenant: tenant, token: token, id: id)
            if let last, states.contains(last.state) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("task \(id) not in \(states.sorted()) within \(timeout); last state \(last?.state ?? "none")\n\(diagnostics())")
    }

    /// Polls `condition` until true (bounded).
    public func eventually(timeout: Duration = .seconds(20), _ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("timed out waiting for \(what)\n\(diagnostics())")
    }

}
