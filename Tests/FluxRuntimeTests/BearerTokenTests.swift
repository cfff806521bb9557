import FluxRuntime
import Hummingbird
import Testing

/// The bearer token as every API endpoint reads it: blanks around it dropped, nothing else.
@Suite("Bearer tokens")
struct BearerTokenTests {
    static func request(authorization: String?) -> Request {
        var fields = HTTPFields()
        if let authorization { fields[.authorization] = authorization }
        return Request(head: HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/", headerFields: fields), body: .init(buffer: ByteBuffer()))
    }

    @Test(arguments: [("Bearer fft_abc", "fft_abc"), ("Bearer   fft_abc \t", "fft_abc"), ("Bearer \tfft a\tb ", "fft a\tb")])
    func theTokenIsWhatFollowsBearerWithoutSurroundingBlanks(header: String, token: String) throws {
        #expect(try Authenticator.bearer(Self.request(authorization: header)) == token)
    }

    @Test(arguments: [nil, "Basic abc", "Bearer ", "Bearer  \t ", "bearer abc", "Bearer " + String(repeating: "x", count: 257)])
    func aMissingEmptyOrOversizedTokenIs401(header: String?) {
        #expect(throws: HTTPProblem.self) { try Authenticator.bearer(Self.request(authorization: header)) }
    }
}
