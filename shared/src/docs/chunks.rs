//! How a stored document is kept: a chain of chunks (a snapshot, then incremental changes)
//! that is rewritten as one snapshot now and then, on the server and on the phone alike.

/// A stored document is rewritten as one snapshot when it would otherwise be kept in this many
/// chunks: loading it then reads one snapshot and at most this many increments.
pub const COMPACT_AT: u32 = 16;

/// Whether the next write of a document now kept in `chunks` chunks (0: not stored yet) writes
/// the whole document instead of appending the changes.
pub fn compact_due(chunks: u32) -> bool {
    chunks == 0 || chunks + 1 >= COMPACT_AT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_document_and_a_long_chain_are_written_whole() {
        assert!(compact_due(0));
        assert!(!compact_due(1));
        assert!(!compact_due(COMPACT_AT - 2));
        assert!(compact_due(COMPACT_AT - 1));
    }
}
