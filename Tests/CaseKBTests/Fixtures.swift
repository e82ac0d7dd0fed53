import Foundation
@testable import CaseKB

/// Paths to the project's Corpus and the shared reference material beside the checkout.
enum Fixtures {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func corpus(_ rel: String) -> String { packageRoot.appendingPathComponent("Corpus").appendingPathComponent(rel).path }
    static let shared: URL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static var seedPath: String { shared.appendingPathComponent("seed/000_a48089f2710e0f3a.txt").path }
    static var goldPath: String { shared.appendingPathComponent("seed/gold.json").path }
    static var mailSamples: URL { shared.appendingPathComponent("mail-samples") }
    static var hasShared: Bool { FileManager.default.fileExists(atPath: goldPath) }

    static func gold() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: goldPath))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// Parse files or folders and group them into cases.
    static func cases(_ paths: String...) -> [CaseThread] { ThreadParser.parse(paths: paths).cases }

    static func tempDir() -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("casekb-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}
