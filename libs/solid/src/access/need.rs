//! The operation → access mode table: what a request needs, on its target, on the target's
//! parent container, and over the target's access control. One pure function for every
//! method, PATCH included; the storage service evaluates it against what the requester holds.
//!
//! It must not look anything up: whether the target exists and what a patch does are inputs.

use super::Modes;
use crate::path::Auxiliary;

/// What a PATCH body does, as far as access goes (both patch languages report it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PatchShape {
    /// It matches against the document (`WHERE`, `solid:where`) or deletes: Read.
    pub reads: bool,
    /// It removes triples: Write (inserting only is Append).
    pub deletes: bool,
}

impl PatchShape {
    /// Before the body is read: the least any patch needs (an insert-only one).
    pub const INSERT_ONLY: PatchShape = PatchShape {
        reads: false,
        deletes: false,
    };

    /// What it needs beyond Append.
    fn beyond_adding(self) -> Modes {
        let write = if self.deletes {
            Modes::WRITE
        } else {
            Modes::NONE
        };
        if self.reads {
            write.union(Modes::READ)
        } else {
            write
        }
    }

    /// Everything it needs: beyond Append, and Append itself unless Write (which implies it)
    /// is needed anyway.
    fn modes(self) -> Modes {
        if self.deletes {
            self.beyond_adding()
        } else {
            self.beyond_adding().union(Modes::APPEND)
        }
    }
}

/// A request, as far as authorization cares. `exists`: whether the target exists now (a PUT
/// or PATCH to a free name creates, which the parent container allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// GET, HEAD.
    Read,
    /// POST into a container.
    Post,
    Put {
        exists: bool,
    },
    Patch {
        exists: bool,
        shape: PatchShape,
    },
    Delete,
    /// Any other method: it needs nothing (it is answered 405 without touching anything).
    Other,
}

/// The modes an operation needs. Every set must be held (Write implies Append).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// On the target resource (for a description resource, on its subject).
    pub target: Modes,
    /// On the target's parent container (`NONE` when the target is a pod root).
    pub parent: Modes,
    /// Over the target's access control: the modes an ACL/ACR itself is read or written with
    /// (WAC's Control; ACP's `acp:access` modes).
    pub control: Modes,
}

impl Need {
    const fn on_target(target: Modes) -> Need {
        Need {
            target,
            parent: Modes::NONE,
            control: Modes::NONE,
        }
    }

    /// Whether a requester holding these modes may proceed. `parent`: the modes held on the
    /// parent container (only looked at when [`Need::parent`] is not empty, so a caller may
    /// skip computing them then).
    pub fn met_by(&self, target: Modes, parent: Modes, control: Modes) -> bool {
        target.contains(self.target)
            && control.contains(self.control)
            && (self.parent.is_empty() || parent.contains(self.parent))
    }

    /// The mode to name when refusing: Control for access control documents, else the
    /// strongest one needed.
    pub fn named(&self) -> Modes {
        if !self.control.is_empty() {
            Modes::CONTROL
        } else {
            self.target.union(self.parent)
        }
    }

    /// Whether this is a create's need, allowed by the container's Append: the creator then
    /// holds what the new resource's inherited access says, plus Append (it is adding it).
    pub fn creates(&self) -> bool {
        self.parent == Modes::APPEND
    }
}

/// The WAC specification's table (also what ESS documents for ACP): reading needs Read;
/// replacing needs Write; a patch needs Append, Write if it deletes, and Read if it reads;
/// creating needs Append on the container (what the new resource's own access then says
/// covers the rest of a patch); POST needs Append on the container; DELETE needs Write on the
/// resource and on its container. Access control documents are read and written with the
/// modes held over the subject's access control; description resources with the subject's
/// Write. `aux`: the target's kind when it is an auxiliary resource; `pod_root`: the target
/// (or the subject of an auxiliary) is a pod's root, which has no parent to ask.
pub fn need(op: Operation, aux: Option<Auxiliary>, pod_root: bool) -> Need {
    if aux == Some(Auxiliary::AccessControl) {
        let control = match op {
            Operation::Read => Modes::READ,
            _ => Modes::WRITE,
        };
        return Need {
            control,
            ..Need::on_target(Modes::NONE)
        };
    }
    let described = aux == Some(Auxiliary::Description);
    match op {
        Operation::Read => Need::on_target(Modes::READ),
        Operation::Post => Need::on_target(Modes::APPEND),
        Operation::Put { .. } if described => Need::on_target(Modes::WRITE),
        Operation::Patch { shape, .. } if described => {
            Need::on_target(shape.beyond_adding().union(Modes::WRITE))
        }
        Operation::Put { exists: true } => Need::on_target(Modes::WRITE),
        Operation::Patch {
            exists: true,
            shape,
        } => Need::on_target(shape.modes()),
        Operation::Put { exists: false } => Need {
            parent: Modes::APPEND,
            ..Need::on_target(Modes::NONE)
        },
        Operation::Patch {
            exists: false,
            shape,
        } => Need {
            // The new resource's inherited access must cover what the patch does beyond
            // adding (a patch that deletes or matches on a document nobody may write or read).
            parent: Modes::APPEND,
            ..Need::on_target(shape.beyond_adding())
        },
        // A pod root is never deleted (405 from the handler); only its own access counts.
        Operation::Delete if described || pod_root => Need::on_target(Modes::WRITE),
        Operation::Delete => Need {
            parent: Modes::WRITE,
            ..Need::on_target(Modes::WRITE)
        },
        Operation::Other => Need::on_target(Modes::NONE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSERT: PatchShape = PatchShape::INSERT_ONLY;
    const MATCH_INSERT: PatchShape = PatchShape {
        reads: true,
        deletes: false,
    };
    const DELETE: PatchShape = PatchShape {
        reads: true,
        deletes: true,
    };
    const R: Modes = Modes::READ;
    const A: Modes = Modes::APPEND;
    const W: Modes = Modes::WRITE;
    const N: Modes = Modes::NONE;

    fn n(target: Modes, parent: Modes, control: Modes) -> Need {
        Need {
            target,
            parent,
            control,
        }
    }

    #[test]
    fn every_method_on_an_existing_resource() {
        let on = |op| need(op, None, false);
        assert_eq!(on(Operation::Read), n(R, N, N));
        assert_eq!(on(Operation::Post), n(A, N, N));
        assert_eq!(on(Operation::Put { exists: true }), n(W, N, N));
        assert_eq!(on(Operation::Delete), n(W, W, N));
        assert_eq!(on(Operation::Other), n(N, N, N));
    }

    #[test]
    fn a_patch_needs_append_to_insert_write_to_delete_and_read_to_match() {
        let patch = |shape| {
            need(
                Operation::Patch {
                    exists: true,
                    shape,
                },
                None,
                false,
            )
        };
        assert_eq!(patch(INSERT), n(A, N, N));
        assert_eq!(patch(MATCH_INSERT), n(A.union(R), N, N));
        assert_eq!(patch(DELETE), n(W.union(R), N, N));
        // A deleting patch without conditions still reads (the deletion must match).
        assert!(patch(DELETE).target.contains(R));
    }

    #[test]
    fn creating_needs_append_on_the_container_and_the_rest_on_the_new_resource() {
        assert_eq!(
            need(Operation::Put { exists: false }, None, false),
            n(N, A, N)
        );
        let create = |shape| {
            need(
                Operation::Patch {
                    exists: false,
                    shape,
                },
                None,
                false,
            )
        };
        assert_eq!(create(INSERT), n(N, A, N));
        assert_eq!(create(MATCH_INSERT), n(R, A, N));
        assert_eq!(create(DELETE), n(W.union(R), A, N));
        assert!(create(INSERT).creates());
        assert!(!need(Operation::Delete, None, false).creates());
    }

    #[test]
    fn access_control_documents_need_the_modes_held_over_access_control() {
        let acl = |op| need(op, Some(Auxiliary::AccessControl), false);
        assert_eq!(acl(Operation::Read), n(N, N, R));
        for op in [
            Operation::Put { exists: true },
            Operation::Put { exists: false },
            Operation::Patch {
                exists: true,
                shape: INSERT,
            },
            Operation::Delete,
            Operation::Other,
        ] {
            assert_eq!(acl(op), n(N, N, W), "{op:?}");
            assert_eq!(acl(op).named(), Modes::CONTROL);
        }
    }

    #[test]
    fn description_resources_are_written_with_the_subjects_write() {
        let meta = |op| need(op, Some(Auxiliary::Description), false);
        assert_eq!(meta(Operation::Read), n(R, N, N));
        assert_eq!(meta(Operation::Put { exists: false }), n(W, N, N));
        assert_eq!(
            meta(Operation::Patch {
                exists: true,
                shape: MATCH_INSERT
            }),
            n(W.union(R), N, N)
        );
        assert_eq!(meta(Operation::Delete), n(W, N, N));
    }

    #[test]
    fn a_pod_root_has_no_parent_to_ask() {
        assert_eq!(need(Operation::Delete, None, true), n(W, N, N));
    }

    #[test]
    fn met_by_looks_at_the_parent_only_when_it_matters() {
        let read = need(Operation::Read, None, false);
        assert!(read.met_by(R, N, N));
        let delete = need(Operation::Delete, None, false);
        assert!(delete.met_by(W, W, N));
        assert!(!delete.met_by(W, A, N));
        assert!(!delete.met_by(A, W, N));
        let create = need(Operation::Put { exists: false }, None, false);
        assert!(
            create.met_by(N, W, N),
            "Write on the container implies Append"
        );
        assert!(!create.met_by(Modes::ALL, R, N));
        let acl = need(Operation::Read, Some(Auxiliary::AccessControl), false);
        assert!(!acl.met_by(Modes::ALL, Modes::ALL, N));
        assert!(acl.met_by(N, N, R));
    }
}
