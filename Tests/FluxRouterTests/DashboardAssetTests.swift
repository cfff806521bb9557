import Hummingbird
import Testing

@testable import FluxRouter

/// The dashboard's files without a browser: the headers that hold the page to its policy, and
/// the rules the policy relies on (no inline script or style, no markup built from strings),
/// and that the script only names elements the page has. DashboardTests runs it in Chromium.
@Suite("Dashboard assets")
struct DashboardAssetTests {
    @Test func everyAssetIsServedWithItsTypeNoCacheAndAStrictPolicy() throws {
        let types = Dictionary(uniqueKeysWithValues: DashboardRoutes.assets.map { ($0.path, $0.contentType) })
        #expect(types == [
            "ui": "text/html; charset=utf-8", "ui/app.js": "text/javascript; charset=utf-8", "ui/app.css": "text/css; charset=utf-8",
        ])
        for asset in DashboardRoutes.assets {
            let response = DashboardRoutes.response(asset)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == asset.contentType)
            #expect(response.headers[.cacheControl] == "no-cache")
            #expect(response.headers[.xContentTypeOptions] == "nosniff")
            let policy = try #require(response.headers[.contentSecurityPolicy])
            for directive in ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"] {
                #expect(policy.contains(directive), "\(policy)")
            }
            #expect(!policy.contains("unsafe"), "\(policy)")
        }
    }

    @Test func thePageHasNoInlineScriptStyleOrHandler() {
        let html = DashboardAssets.html
        let scripts = html.matches(of: /<script[^>]*>/).map { String($0.output) }
        #expect(scripts == [#"<script type="module" src="/ui/app.js">"#])
        #expect(html.contains(#"<link rel="stylesheet" href="/ui/app.css">"#))
        #expect(html.firstMatch(of: /\sstyle=/) == nil)
        #expect(html.firstMatch(of: /\son[a-z]+=/) == nil)
    }

    @Test func theScriptBuildsNoMarkupFromStrings() {
        for construct in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "EventSource("] {
            #expect(!DashboardAssets.script.contains(construct), "app.js uses \(construct)")
        }
    }

    @Test func theScriptNamesOnlyElementsThePageHas() {
        let html = DashboardAssets.html
        let ids = Set(html.matches(of: /\sid="([a-z-]+)"/).map { String($0.output.1) })
        let testIDs = Set(html.matches(of: /data-testid="([a-z-]+)"/).map { String($0.output.1) })
        let script = DashboardAssets.script
        let named = Set(script.matches(of: /\$\('([a-z-]+)'\)/).map { String($0.output.1) })
        #expect(named.count >= 20)
        #expect(named.subtracting(ids).isEmpty, "app.js names ids the page lacks: \(named.subtracting(ids).sorted())")
        let panels = Set(script.matches(of: /(?:report|settle)\('([a-z-]+)'/).map { String($0.output.1) })
        #expect(panels.subtracting(testIDs).isEmpty, "app.js names panels the page lacks: \(panels.subtracting(testIDs).sorted())")
    }
}
