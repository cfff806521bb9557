import ArgumentParser
import AsyncHTTPClient
import FluxAPI
import FluxClient
import Foundation

/// How a command prints what it got: a table for people, or the API's JSON for scripts.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// Flags every client command takes; each overrides the environment and the profile
/// (docs/cli.md).
struct ClientOptions: ParsableArguments {
    @Option(help: "Profile of the CLI config to use (default: the one `login` saved last).")
    var profile: String?
    @Option(help: "The router's API URL (overrides the profile and FLUXFORGE_URL).")
    var url: String?
    @Option(help: "Tenant whose paths to call (overrides the profile and FLUXFORGE_TENANT).")
    var tenant: String?
    @Option(help: "File holding the bearer token (overrides the profile, FLUXFORGE_TOKEN and FLUXFORGE_TOKEN_FILE).")
    var tokenFile: String?
    @Option(help: "PEM CA certificates to trust for https (overrides the profile and FLUXFORGE_CA_FILE).")
    var caFile: String?
    @Option(name: [.customShort("o"), .customLong("output")], help: "Output: table or json.")
    var output: OutputFormat = .table

    /// Resolves the target and opens a connection pool; `body` runs with it, and any API or
    /// configuration error becomes one line on stderr and exit status 1.
    func withSession<T>(_ body: (CLISession) async throws -> T) async throws -> T {
        let session: CLISession
        do {
            let environment = ProcessInfo.processInfo.environment
            let config = try ClientConfig.load(from: ClientConfig.path(environment: environment))
            let target = try config.resolve(
                ClientOverrides(profile: profile, url: url, tenant: tenant, tokenFile: tokenFile, caFile: caFile),
                environment: environment, readFile: { try String(contentsOfFile: $0, encoding: .utf8) })
            session = try CLISession(target: target, output: output)
        } catch {
            CLISession.fail(error)
        }
        do {
            let result = try await body(session)
            await session.close()
            return result
        } catch let exit as ExitCode {
            await session.close()
            throw exit
        } catch {
            await session.close()
            CLISession.fail(error)
        }
    }
}

/// One invocation's connection to the API, and how it prints.
struct CLISession: Sendable {
    let target: ClientTarget
    let api: APIClient
    let http: HTTPClient
    let output: OutputFormat
    /// Colours only on a terminal, and never with `NO_COLOR` set.
    let painter: Painter

    init(target: ClientTarget, output: OutputFormat) throws {
        self.target = target
        http = try APIClient.makeHTTPClient(caFile: target.caFile)
        api = APIClient(baseURL: target.url, token: target.token, http: http)
        self.output = output
        painter = Painter.forTerminal(STDOUT_FILENO)
    }

    /// The tenant tenant commands call, or a usage error naming how to give one.
    func tenant() throws -> String {
        guard let tenant = target.tenant else {
            throw ClientConfigError("no tenant: give --tenant, FLUXFORGE_TENANT, or log in with --tenant")
        }
        do { try NameRules.validate(tenant, field: "tenant") } catch { throw ClientConfigError("tenant: \(error.message)") }
        return tenant
    }

    /// `/v1/tenants/<tenant>` + `path`.
    func tenantPath(_ path: String) throws -> String { "/v1/tenants/\(try tenant())\(path)" }

    /// Prints `value` as the API would send it, indented: `-o json`.
    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// `-o json` prints the value; `-o table` prints what `table` renders.
    func show<T: Encodable>(_ value: T, table: (T) -> String) throws {
        switch output {
        case .json: try printJSON(value)
        case .table: print(table(value))
        }
    }

    func close() async {
        try? await http.shutdown()
    }

    /// Prints the error the way people read it (`error: quota_exceeded: …`) and exits 1.
    static func fail(_ error: any Error) -> Never {
        let text: String
        switch error {
        case let api as APIError: text = "\(api)"
        case let config as ClientConfigError: text = config.description
        case let client as HTTPClientError: text = "cannot reach the API: \(client)"
        default: text = "\(error)"
        }
        FileHandle.standardError.write(Data("error: \(text)\n".utf8))
        exit(1)
    }
}

/// A task id from the command line, checked before any call.
func checkedTaskID(_ id: String) throws -> String {
    guard id.count == 15, id.allSatisfy({ "0123456789abcdefghjkmnpqrstvwxyz".contains($0) }) else {
        throw ClientConfigError("\(id.prefix(40)) is not a task id (15 lowercase letters and digits, as `tasks submit` prints)")
    }
    return id
}

/// Milliseconds since the epoch → local wall time for tables, with the date when not today.
func clock(_ ms: Int64?) -> String {
    guard let ms, ms > 0 else { return "-" }
    let date = Date(timeIntervalSince1970: Double(ms) / 1_000)
    let formatter = DateFormatter()
    formatter.dateFormat = Calendar.current.isDateInToday(date) ? "HH:mm:ss.SSS" : "yyyy-MM-dd HH:mm:ss"
    return formatter.string(from: date)
}

/// A duration in milliseconds as a person reads it: 850ms, 12.3s, 4m05s.
func age(_ ms: Int64?) -> String {
    guard let ms else { return "-" }
    if ms < 1_000 { return "\(ms)ms" }
    if ms < 60_000 { return String(format: "%.1fs", Double(ms) / 1_000) }
    return String(format: "%dm%02ds", ms / 60_000, (ms / 1_000) % 60)
}
