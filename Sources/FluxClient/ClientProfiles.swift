public import Foundation

/// Where the CLI sends its calls and with what credentials: named profiles in a config file
/// (`fluxforge login` writes them), overridden by the environment, overridden by flags — the
/// order kubectl and nomad users expect. Only the path of a token file is stored, never a token.
public struct ClientConfig: Codable, Sendable, Equatable {
    /// The profile used when none is named.
    public var current: String?
    public var profiles: [String: ClientProfile]

    public init(current: String? = nil, profiles: [String: ClientProfile] = [:]) {
        self.current = current
        self.profiles = profiles
    }
}

/// One cluster entry and identity.
public struct ClientProfile: Codable, Sendable, Equatable {
    /// The router's API, e.g. `https://127.0.0.1:7300`.
    public var url: String
    /// The tenant whose paths tenant commands call; nil for an admin profile.
    public var tenant: String?
    /// A file holding the bearer token (the tenant's API token or the admin token).
    public var tokenFile: String
    /// PEM certificates to trust for an `https://` URL (the cluster CA).
    public var caFile: String?

    public init(url: String, tenant: String?, tokenFile: String, caFile: String?) {
        self.url = url
        self.tenant = tenant
        self.tokenFile = tokenFile
        self.caFile = caFile
    }
}

/// What one CLI invocation uses, after profiles, environment and flags.
public struct ClientTarget: Sendable, Equatable {
    public var url: String
    public var tenant: String?
    public var token: String
    public var caFile: String?

    public init(url: String, tenant: String?, token: String, caFile: String?) {
        self.url = url
        self.tenant = tenant
        self.token = token
        self.caFile = caFile
    }
}

/// Values given on the command line; nil where a flag was not given.
public struct ClientOverrides: Sendable {
    public var profile: String?
    public var url: String?
    public var tenant: String?
    public var tokenFile: String?
    public var caFile: String?

    public init(profile: String? = nil, url: String? = nil, tenant: String? = nil, tokenFile: String? = nil, caFile: String? = nil) {
        self.profile = profile
        self.url = url
        self.tenant = tenant
        self.tokenFile = tokenFile
        self.caFile = caFile
    }
}

/// A problem with the CLI's own configuration, said in one line a person can act on.
public struct ClientConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ClientConfig {
    /// `$FLUXFORGE_CONFIG`, else `$XDG_CONFIG_HOME/fluxforge/config.json`, else
    /// `~/.config/fluxforge/config.json`.
    public static func path(environment: [String: String]) -> String {
        if let explicit = environment["FLUXFORGE_CONFIG"], !explicit.isEmpty { return explicit }
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/fluxforge/config.json"
    }

    /// The file's config; an empty one when there is no file yet.
    public static func load(from path: String) throws -> ClientConfig {
        guard let data = FileManager.default.contents(atPath: path) else { return ClientConfig() }
        do {
            return try JSONDecoder().decode(ClientConfig.self, from: data)
        } catch {
            throw ClientConfigError("\(path) is not a FluxForge CLI config (\(error)); fix or remove it")
        }
    }

    /// Writes the file readable by its owner only, replacing it whole (never half-written).
    public func save(to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: try encoder.encode(self), attributes: [.posixPermissions: 0o600]) else {
            throw ClientConfigError("cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else { throw ClientConfigError("cannot replace \(path) (errno \(errno))") }
    }

    /// Flags over environment (`FLUXFORGE_URL`, `FLUXFORGE_TENANT`, `FLUXFORGE_TOKEN`,
    /// `FLUXFORGE_TOKEN_FILE`, `FLUXFORGE_CA_FILE`, `FLUXFORGE_PROFILE`) over the profile.
    /// `readFile` reads a token file (injected so this stays testable).
    public func resolve(
        _ overrides: ClientOverrides, environment: [String: String], readFile: (String) throws -> String
    ) throws -> ClientTarget {
        let env = { (name: String) in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let name = overrides.profile ?? env("FLUXFORGE_PROFILE") ?? current
        var profile: ClientProfile?
        if let name {
            guard let found = profiles[name] else {
                throw ClientConfigError("no profile \"\(name)\" (known: \(profiles.keys.sorted().joined(separator: ", "))); run `fluxforge login`")
            }
            profile = found
        }
        guard let url = overrides.url ?? env("FLUXFORGE_URL") ?? profile?.url else {
            throw ClientConfigError("no API URL: run `fluxforge login --url …`, or give --url or FLUXFORGE_URL")
        }
        let token: String
        if let file = overrides.tokenFile {
            token = try Self.token(from: file, readFile)
        } else if let direct = env("FLUXFORGE_TOKEN") {
            token = direct
        } else if let file = env("FLUXFORGE_TOKEN_FILE") ?? profile?.tokenFile {
            token = try Self.token(from: file, readFile)
        } else {
            throw ClientConfigError("no token: run `fluxforge login --token-file …`, or give --token-file, FLUXFORGE_TOKEN or FLUXFORGE_TOKEN_FILE")
        }
        return ClientTarget(
            url: url, tenant: overrides.tenant ?? env("FLUXFORGE_TENANT") ?? profile?.tenant, token: token,
            caFile: overrides.caFile ?? env("FLUXFORGE_CA_FILE") ?? profile?.caFile)
    }

    static func token(from file: String, _ readFile: (String) throws -> String) throws -> String {
        let text: String
        do { text = try readFile(file) } catch { throw ClientConfigError("cannot read token file \(file): \(error)") }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw ClientConfigError("token file \(file) is empty") }
        return token
    }
}
