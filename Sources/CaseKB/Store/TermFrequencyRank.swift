import Foundation
import GRDB
import GRDBSQLite

/// FTS5 ranking functions for a query of one word, registered on every connection.
///
/// bm25 first counts every document that holds each query word, for its IDF: for a word in 60,000 messages (蓝屏)
/// that walk is most of a search (≈ 5 ms at 100k messages), and the search walks the same list once more for its
/// exact total. With one word, the IDF is one factor common to every row, so the order is the order of the
/// per-row part alone: `casekb_tf(message_fts, w…)` is bm25 without the IDF, and `KnowledgeBase.search` multiplies
/// the page's scores by the IDF of the total it counts anyway. `casekb_fts_rows(message_fts)` is the row count that
/// IDF needs. The arithmetic is FTS5's bm25 (fts5_aux.c) step for step, so the scores equal
/// bm25's to the last bit.
enum TermFrequencyRank {
    static let k1 = 1.2
    static let b = 0.75

    static func register(_ db: Database) throws {
        let api = UnsafeMutablePointer(mutating: FTS5.api(db))
        for (name, function) in [("casekb_tf", termFrequencyPart), ("casekb_fts_rows", rowCount)] {
            let code = api.pointee.xCreateFunction(api, name, nil, function, nil)
            guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot register \(name)") }
        }
    }

    /// bm25 of one row without the IDF factor: Σ over phrases of f·(k1+1) / (f + k1·(1 − b + b·D/avgdl)), negated.
    static let termFrequencyPart: fts5_extension_function = { api, fts, ctx, argCount, args in
        guard let api = api?.pointee, let instCount = api.xInstCount, let inst = api.xInst, let columnSize = api.xColumnSize,
              let phraseCount = api.xPhraseCount, let rowCount = api.xRowCount, let totalSize = api.xColumnTotalSize else {
            sqlite3_result_error(ctx, "casekb_tf: FTS5 API incomplete", -1)
            return
        }
        var rows: sqlite3_int64 = 0, tokens: sqlite3_int64 = 0
        guard rowCount(fts, &rows) == SQLITE_OK, totalSize(fts, -1, &tokens) == SQLITE_OK, rows > 0 else {
            sqlite3_result_double(ctx, 0)
            return
        }
        let averageLength = Double(tokens) / Double(rows)
        var frequencies = [Double](repeating: 0, count: Int(max(0, phraseCount(fts))))
        var count: Int32 = 0
        guard instCount(fts, &count) == SQLITE_OK else { sqlite3_result_error(ctx, "casekb_tf: no instances", -1); return }
        for i in 0..<count {
            var phrase: Int32 = 0, column: Int32 = 0, offset: Int32 = 0
            guard inst(fts, i, &phrase, &column, &offset) == SQLITE_OK, Int(phrase) < frequencies.count else { continue }
            let weight = argCount > column ? sqlite3_value_double(args?[Int(column)]) : 1.0
            frequencies[Int(phrase)] += weight
        }
        var rowTokens: Int32 = 0
        guard columnSize(fts, -1, &rowTokens) == SQLITE_OK else { sqlite3_result_error(ctx, "casekb_tf: no column size", -1); return }
        let length = Double(rowTokens)
        var score = 0.0
        for f in frequencies {
            score += (f * (k1 + 1.0)) / (f + k1 * (1 - b + b * length / averageLength))
        }
        sqlite3_result_double(ctx, -1.0 * score)
    }

    /// The number of rows in the full-text table (bm25's N).
    static let rowCount: fts5_extension_function = { api, fts, ctx, _, _ in
        var rows: sqlite3_int64 = 0
        guard let count = api?.pointee.xRowCount, count(fts, &rows) == SQLITE_OK else {
            sqlite3_result_error(ctx, "casekb_fts_rows: no row count", -1)
            return
        }
        sqlite3_result_int64(ctx, rows)
    }

    /// bm25's IDF of a word held by `documents` of `rows` rows (fts5_aux.c: never below 1e-6).
    static func inverseDocumentFrequency(documents: Int64, rows: Int64) -> Double {
        let idf = log((Double(rows) - Double(documents) + 0.5) / (Double(documents) + 0.5))
        return idf <= 0.0 ? 1e-6 : idf
    }
}
