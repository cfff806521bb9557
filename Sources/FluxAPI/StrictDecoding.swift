/// A coding key that accepts any string, used to see every key a client sent.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Thrown while decoding when the client sent a key the type does not know.
///
/// FluxForge rejects unknown fields instead of ignoring them: on a control plane a typo such as
/// `"timout_ms"` silently ignored means a task that runs with a default the author did not want.
public struct UnknownFieldError: Error, Sendable {
    public var field: String
}

extension Decoder {
    /// Throws `UnknownFieldError` if the object being decoded holds a key outside `known`.
    func rejectUnknownKeys<Key: CodingKey & CaseIterable>(_ known: Key.Type) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let allowed = Set(Key.allCases.map(\.stringValue))
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            let path = (codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw UnknownFieldError(field: path)
        }
    }
}

extension KeyedDecodingContainer {
    /// An integer field. Foundation's decoder reports a valid JSON number that is not an integer
    /// (`2.5`, `1e400`) with an internal error that surfaces as "not valid JSON", naming no
    /// field; this names it, so the client gets `invalid_field` for `priority`, not `invalid_json`.
    func decodeInteger<T: FixedWidthInteger & Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let mismatch = DecodingError.typeMismatch(T.self, .init(codingPath: codingPath + [key], debugDescription: "expected an integer"))
        do {
            return try decode(T.self, forKey: key)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty { throw mismatch }
            throw error
        } catch {
            throw mismatch
        }
    }

    /// `decodeInteger` for an optional field.
    func decodeIntegerIfPresent<T: FixedWidthInteger & Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        return try decodeInteger(T.self, forKey: key)
    }
}
