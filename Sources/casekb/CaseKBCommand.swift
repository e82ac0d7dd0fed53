import ArgumentParser
import CaseKB
import Foundation

@main
struct CaseKBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "casekb",
        abstract: "Turn Windows crash-support mail threads into a searchable knowledge base.",
        subcommands: [ParseCommand.self, GenerateCommand.self]
    )
}
