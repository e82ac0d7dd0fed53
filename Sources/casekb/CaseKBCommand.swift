import ArgumentParser
import CaseKB
import Foundation

@main
struct CaseKBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "casekb",
        abstract: "Turn Windows crash-support mail threads into a searchable knowledge base.",
        subcommands: [IngestCommand.self, SearchCommand.self, ShowCommand.self, SimilarCommand.self, DigestCommand.self, ServeCommand.self, CasesCommand.self, StatsCommand.self, ParseCommand.self, GenerateCommand.self, EvalSimilarCommand.self]
    )
}
