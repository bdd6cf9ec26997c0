//! The tamper-evident chain: each stored event of a pod carries the SHA-256 of its position,
//! its body and its predecessor's hash, so editing, removing or reordering a stored event
//! breaks every hash after it. Pure: the store feeds it rows, [`verify`] says where a chain
//! breaks. It must not read a database or a clock.
//!
//! A chain proves that stored events were not changed after they were stored, against anyone
//! who cannot recompute all later hashes. Someone with write access to the database can
//! rebuild a whole chain; the sinks copy every event with its hash elsewhere as they are
//! stored, and a head hash kept there is what such a rebuild cannot match.

use sha2::{Digest, Sha256};

/// The hash a pod's first event follows.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of the event at `seq` of a chain, whose body is `body`, after `prev`.
pub fn link(prev: &str, seq: i64, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    format!("{:x}", h.finalize())
}

/// One stored event, as verification reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub seq: i64,
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
    /// The columns the store derived from the body (id, name, actor, object, published),
    /// so an edit to a column is caught like an edit to the body.
    pub columns: Columns,
}

/// What the store keeps beside the body, for filtering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub id: String,
    pub name: String,
    pub actor: Option<String>,
    pub object: String,
    pub published_ms: i64,
}

/// Where a chain starts (after retention) and where it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ends {
    pub pruned_seq: i64,
    pub pruned_hash: String,
    pub head_seq: i64,
    pub head_hash: String,
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("event {seq} is missing")]
    Missing { seq: i64 },
    #[error("event {seq} does not follow its predecessor's hash")]
    Unlinked { seq: i64 },
    #[error("event {seq} does not match its hash (edited)")]
    Edited { seq: i64 },
    #[error("the stored columns of event {seq} do not match its body (edited)")]
    ColumnsEdited { seq: i64 },
    #[error("the chain ends at {found} but its head says {head} (events removed at the end)")]
    Truncated { found: i64, head: i64 },
}

/// Checks a pod's chain: `links` in `seq` order, `columns_of` re-deriving the columns from a
/// body. Returns how many events verified.
pub fn verify(
    ends: &Ends,
    links: impl IntoIterator<Item = Link>,
    columns_of: impl Fn(&str) -> Option<Columns>,
) -> Result<u64, Broken> {
    let (mut seq, mut prev) = (ends.pruned_seq, ends.pruned_hash.clone());
    let mut count = 0;
    for link in links {
        if link.seq != seq + 1 {
            return Err(Broken::Missing { seq: seq + 1 });
        }
        seq = link.seq;
        if link.prev_hash != prev {
            return Err(Broken::Unlinked { seq });
        }
        if self::link(&prev, seq, &link.body) != link.hash {
            return Err(Broken::Edited { seq });
        }
        if columns_of(&link.body).as_ref() != Some(&link.columns) {
            return Err(Broken::ColumnsEdited { seq });
        }
        prev = link.hash;
        count += 1;
    }
    if seq != ends.head_seq || prev != ends.head_hash {
        return Err(Broken::Truncated {
            found: seq,
            head: ends.head_seq,
        });
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(body: &str) -> Option<Columns> {
        Some(Columns {
            id: body.to_owned(),
            name: "n".into(),
            actor: None,
            object: "o".into(),
            published_ms: 1,
        })
    }

    fn chain(bodies: &[&str]) -> (Ends, Vec<Link>) {
        let mut prev = GENESIS.to_owned();
        let mut links = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            let seq = i as i64 + 1;
            let hash = link(&prev, seq, body);
            links.push(Link {
                seq,
                body: (*body).to_owned(),
                prev_hash: prev.clone(),
                hash: hash.clone(),
                columns: columns(body).unwrap(),
            });
            prev = hash;
        }
        let ends = Ends {
            pruned_seq: 0,
            pruned_hash: GENESIS.into(),
            head_seq: bodies.len() as i64,
            head_hash: prev,
        };
        (ends, links)
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let (ends, links) = chain(&["a", "b", "c"]);
        assert_eq!(verify(&ends, links, columns), Ok(3));
        let (ends, links) = chain(&[]);
        assert_eq!(verify(&ends, links, columns), Ok(0));
    }

    #[test]
    fn an_edited_body_or_column_breaks_it() {
        let (ends, mut links) = chain(&["a", "b", "c"]);
        links[1].body = "B".into();
        assert_eq!(
            verify(&ends, links, columns),
            Err(Broken::Edited { seq: 2 })
        );
        let (ends, mut links) = chain(&["a", "b", "c"]);
        links[2].columns.actor = Some("https://mallory.example/#me".into());
        assert_eq!(
            verify(&ends, links, columns),
            Err(Broken::ColumnsEdited { seq: 3 })
        );
    }

    #[test]
    fn a_rehashed_edit_no_longer_links() {
        let (ends, mut links) = chain(&["a", "b", "c"]);
        links[1].body = "B".into();
        links[1].hash = link(&links[1].prev_hash, 2, "B");
        links[1].columns = columns("B").unwrap();
        assert_eq!(
            verify(&ends, links, columns),
            Err(Broken::Unlinked { seq: 3 })
        );
    }

    #[test]
    fn removed_events_are_noticed_anywhere() {
        let (ends, mut links) = chain(&["a", "b", "c"]);
        links.remove(1);
        assert_eq!(
            verify(&ends, links, columns),
            Err(Broken::Missing { seq: 2 })
        );
        let (ends, mut links) = chain(&["a", "b", "c"]);
        links.remove(0);
        assert_eq!(
            verify(&ends, links, columns),
            Err(Broken::Missing { seq: 1 })
        );
        let (ends, mut links) = chain(&["a", "b", "c"]);
        links.pop();
        assert_eq!(
            verify(&ends, links, columns),
            Err(Broken::Truncated { found: 2, head: 3 })
        );
    }

    #[test]
    fn a_pruned_chain_verifies_from_where_it_was_cut() {
        let (mut ends, mut links) = chain(&["a", "b", "c"]);
        let first = links.remove(0);
        ends.pruned_seq = 1;
        ends.pruned_hash = first.hash;
        assert_eq!(verify(&ends, links, columns), Ok(2));
    }
}
