import Foundation

/// Limits of a desired state (docs/reconciliation.md).
public enum DesiredLimits {
    public static let intervalRange = 1...86_400
    public static let verifyDeadlineRange = 1...86_400
    public static let verifyEveryRange = 1...3_600
    public static let maxParallelRange = 1...10_000
    public static let checkTimeoutRange = 1...3_600
    public static let applyTimeoutRange = 1...86_400
    public static let haltAfterRange = 1...1_000
    public static let maxNodes = 1_000
    /// Desired states one tenant may declare.
    public static let maxItemsPerTenant = 256
}

extension DesiredStateSpec {
    /// Checks every field; the first problem found is thrown, naming its field.
    public func validate() throws(APIProblem) {
        try validateCommands()
        try validateNodes()
        typealias S = TaskSubmission
        try S.check(intervalSeconds, in: DesiredLimits.intervalRange, field: "intervalSeconds")
        try S.check(verifyDeadlineSeconds, in: DesiredLimits.verifyDeadlineRange, field: "verifyDeadlineSeconds")
        try S.check(verifyEverySeconds, in: DesiredLimits.verifyEveryRange, field: "verifyEverySeconds")
        try S.check(maxParallel, in: DesiredLimits.maxParallelRange, field: "maxParallel")
        try S.check(maxParallelPerDomain, in: DesiredLimits.maxParallelRange, field: "maxParallelPerDomain")
        try S.check(priority, in: TaskLimits.priorityRange, field: "priority")
        try S.check(checkPriority, in: TaskLimits.priorityRange, field: "checkPriority")
        try S.check(cpuCost, in: TaskLimits.cpuCostRange, field: "cpuCost")
        try S.check(checkTimeoutSeconds, in: DesiredLimits.checkTimeoutRange, field: "checkTimeoutSeconds")
        try S.check(applyTimeoutSeconds, in: DesiredLimits.applyTimeoutRange, field: "applyTimeoutSeconds")
        try S.check(haltDomainAfterFailures, in: DesiredLimits.haltAfterRange, field: "haltDomainAfterFailures")
        try retry?.validate()
    }

    /// The task a check or an apply becomes (validated like any submission: argv and env limits).
    public func submission(apply isApply: Bool, node: String, deadlineAfterMs: Int) -> TaskSubmission {
        TaskSubmission(
            command: isApply ? apply : check, env: env, priority: isApply ? priority : checkPriority,
            cpuCost: isApply ? cpuCost : 0, timeoutMs: (isApply ? applyTimeoutSeconds : checkTimeoutSeconds) * 1_000,
            deadlineAfterMs: min(deadlineAfterMs, TaskLimits.deadlineRange.upperBound), node: node,
            // One attempt: the engine decides what happens next, not the task's retry policy.
            retry: RetrySpec(maxAttempts: 1, backoff: "none", baseDelayMs: 0, maxDelayMs: 0))
    }

    private func validateCommands() throws(APIProblem) {
        for (field, isApply) in [("check", false), ("apply", true)] {
            do {
                try submission(apply: isApply, node: "n", deadlineAfterMs: 1_000).validate()
            } catch {
                // Name the desired state's field, not the task's.
                let path = error.field.map { $0.replacingOccurrences(of: "command", with: field) } ?? field
                throw APIProblem(code: error.code, message: error.message.replacingOccurrences(of: "command", with: field), field: path)
            }
        }
    }

    private func validateNodes() throws(APIProblem) {
        if let nodes {
            guard selector == nil else { throw .invalid("nodes", "give either nodes or selector, not both") }
            guard !nodes.isEmpty, nodes.count <= DesiredLimits.maxNodes else {
                throw .invalid("nodes", "must name 1…\(DesiredLimits.maxNodes) nodes")
            }
            for (index, node) in nodes.enumerated() { try NameRules.validate(node, field: "nodes[\(index)]") }
        }
        if let selector {
            if let zone = selector.zone { try NameRules.validate(zone, field: "selector.zone") }
            guard selector.labels.count <= TaskLimits.maxSelectorEntries else {
                throw .invalid("selector.labels", "at most \(TaskLimits.maxSelectorEntries) labels")
            }
            for (key, value) in selector.labels where !NameRules.isValidLabel(key) || !NameRules.isValidLabel(value) {
                throw .invalid("selector.labels.\(key)", "labels must match [A-Za-z0-9._-]{1,63}")
            }
        }
    }

    /// True when the node is one this desired state is about.
    public func selects(node: String, zone: String, labels: [String: String]) -> Bool {
        if let nodes { return nodes.contains(node) }
        return selector?.matches(zone: zone, labels: labels) ?? true
    }
}
