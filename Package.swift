// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "casekb",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CaseKB", targets: ["CaseKB"]),
        .executable(name: "casekb", targets: ["casekb"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // libxml2's HTML parser, imported through a shim that hides its ICU headers (see Sources/CLibXML2/shim.h).
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // OpenSSL's libcrypto: SHA-256 content hashes with the CPU's SHA extensions.
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // mimalloc replaces malloc/free in the casekb executable (see Sources/CMimalloc/shim.h).
        .systemLibrary(name: "CMimalloc", providers: [.apt(["libmimalloc-dev"])]),
        // SQLite settings made once per process before SQLite starts (sqlite3_config cannot be called from Swift).
        .target(name: "CSQLiteSetup", linkerSettings: [.linkedLibrary("sqlite3")]),
        // The pipeline: mail sources → messages → extraction → (signatures → store → reports in later stages).
        .target(
            name: "CaseKB",
            dependencies: ["CLibXML2", "CCrypto", "CSQLiteSetup", .product(name: "GRDB", package: "GRDB.swift"),
                           // SQLite's C API, for binding the ingest's hot inserts directly (Store/DirectBinding.swift)
                           .product(name: "GRDBSQLite", package: "GRDB.swift")],
            resources: [.copy("Resources"), .copy("Schema")]
        ),
        // The local web UI and JSON API (Hummingbird), read-only over the knowledge base.
        .target(
            name: "CaseKBServer",
            dependencies: ["CaseKB", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "HTTPTypes", package: "swift-http-types")]
        ),
        // Thin command-line front end.
        .executableTarget(
            name: "casekb",
            dependencies: ["CaseKB", "CaseKBServer", "CMimalloc", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        // Benchmarks that print figures (never timed unit tests).
        .executableTarget(
            name: "casekb-bench",
            dependencies: ["CaseKB"]
        ),
        .testTarget(
            name: "CaseKBTests",
            dependencies: ["CaseKB", "CaseKBServer", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
