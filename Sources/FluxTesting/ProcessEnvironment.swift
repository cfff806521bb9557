import Foundation

/// Reads the process environment (Foundation stays out of FluxTesting's public surface).
enum ProcessEnvironment {
    static var current: [String: String] { ProcessInfo.processInfo.environment }
}
