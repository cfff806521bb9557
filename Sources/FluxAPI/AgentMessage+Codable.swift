extension AgentMessage: Codable {
    private enum TypeKey: String, CodingKey { case type }

    /// The `type` value of each frame, as it appears on the wire.
    public var type: String {
        switch self {
        case .hello: "hello"
        case .accepted: "accepted"
        case .started: "started"
        case .finished: "finished"
        case .rejected: "rejected"
        case .health: "health"
        case .pong: "pong"
        case .welcome: "welcome"
        case .dispatch: "dispatch"
        case .cancel: "cancel"
        case .ping: "ping"
        case .ack: "ack"
        case .moved: "moved"
        case .error: "error"
        case .renew: "renew"
        case .renewed: "renewed"
        }
    }

    public init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .type)
        switch type {
        case "hello": self = .hello(try Hello(from: decoder))
        case "accepted": self = .accepted(try TaskAttempt(from: decoder))
        case "started": self = .started(try TaskAttempt(from: decoder))
        case "finished": self = .finished(try Finished(from: decoder))
        case "rejected": self = .rejected(try Rejected(from: decoder))
        case "health": self = .health(try Health(from: decoder))
        case "pong": self = .pong(try Probe(from: decoder))
        case "welcome": self = .welcome(try Welcome(from: decoder))
        case "dispatch": self = .dispatch(try Dispatch(from: decoder))
        case "cancel": self = .cancel(try TaskAttempt(from: decoder))
        case "ping": self = .ping(try Probe(from: decoder))
        case "ack": self = .ack(try TaskAttempt(from: decoder))
        case "moved": self = .moved(try Moved(from: decoder))
        case "error": self = .error(try APIProblem(from: decoder))
        case "renew": self = .renew(try Renew(from: decoder))
        case "renewed": self = .renewed(try EnrollmentIssued(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: try decoder.container(keyedBy: TypeKey.self),
                debugDescription: "unknown agent message type \(type)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode(type, forKey: .type)
        try payload.encode(to: encoder)
    }

    private var payload: any Encodable {
        switch self {
        case .hello(let m): m
        case .accepted(let m), .started(let m), .cancel(let m), .ack(let m): m
        case .finished(let m): m
        case .rejected(let m): m
        case .health(let m): m
        case .pong(let m), .ping(let m): m
        case .welcome(let m): m
        case .dispatch(let m): m
        case .moved(let m): m
        case .error(let m): m
        case .renew(let m): m
        case .renewed(let m): m
        }
    }
}
