import ArgumentParser
import CaseKB
import CaseKBServer
import Foundation
import Hummingbird
import Logging

/// `casekb serve`: the local web UI and JSON API.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the web UI and JSON API (read-only; an ingest can run alongside).")

    @Option(help: "Address to listen on (loopback unless you mean it).") var host: String = "127.0.0.1"
    @Option(help: "Port.") var port: Int = 8080
    @Option(name: .long, help: "Knowledge base file (default: $CASEKB_DB, else ./casekb.sqlite).") var db: String?

    func run() async throws {
        let kb = try plainErrors { try KnowledgeBase(path: KnowledgeBase.defaultPath(db), readOnly: true) }
        if !(host == "127.0.0.1" || host == "::1" || host == "localhost") {
            FileHandle.standardError.write(Data("warning: serving on \(host), not loopback: anyone who can reach this address can read the knowledge base\n".utf8))
        }
        var logger = Logger(label: "casekb")
        logger.logLevel = .info
        let app = Application(router: WebApp.router(kb: kb), configuration: .init(address: .hostname(host, port: port)), logger: logger)
        print("casekb serving \(kb.path) on http://\(host):\(port)/ (Ctrl-C stops)")
        try await app.runService()
    }
}
