import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /ui`, `/ui/app.js`, `/ui/app.css`: the operator dashboard (issue 14, docs/dashboard.md).
///
/// The three files are compiled into the binary (`DashboardAssets`), so a router serves its own
/// dashboard with no files to deploy and no JavaScript toolchain to build. They are static and
/// carry no data, so they need no token; every call the page makes afterwards goes to the
/// router's API with the bearer token the user typed in, and the API decides what it may see.
struct DashboardRoutes: Sendable {
    /// One served file: its bytes, computed once, and its media type.
    struct Asset: Sendable {
        let path: String
        let contentType: String
        let body: ByteBuffer

        init(path: String, contentType: String, text: String) {
            self.path = path
            self.contentType = contentType
            self.body = ByteBuffer(string: text)
        }
    }

    static let assets = [
        Asset(path: "ui", contentType: "text/html; charset=utf-8", text: DashboardAssets.html),
        Asset(path: "ui/app.js", contentType: "text/javascript; charset=utf-8", text: DashboardAssets.script),
        Asset(path: "ui/app.css", contentType: "text/css; charset=utf-8", text: DashboardAssets.style),
    ]

    /// Scripts and styles only from these three files (no inline script, no `eval`, no inline
    /// style attribute), data only from this origin, never framed, no form posts anywhere: a
    /// value that slipped past the page's escaping still could not run or leak.
    static let contentSecurityPolicy = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
        "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    func register(on router: Router<BasicRequestContext>) {
        for asset in Self.assets {
            router.get(RouterPath(asset.path)) { _, _ in Self.response(asset) }
        }
    }

    /// The asset with headers that make the browser revalidate it on every load (a router
    /// upgrade changes it) and hold it to the policy above.
    static func response(_ asset: Asset) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.cacheControl] = "no-cache"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
}
