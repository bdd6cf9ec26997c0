//! Access control decisions: which access modes a requester holds on a resource, and which
//! modes an operation needs. Two models decide, one per pod: Web Access Control ([`wac`]) and
//! Access Control Policy ([`acp`]). Both are pure functions over already-parsed RDF; fetching
//! the right documents (and the groups WAC names) is the service's job.

pub mod acp;
pub mod graph;
mod need;
pub mod wac;

pub use need::{need, Need, Operation, PatchShape};

use std::fmt;

/// Which access control model a pod uses. ACP is the default, as on ESS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum AccessKind {
    #[default]
    Acp,
    Wac,
}

impl AccessKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKind::Acp => "acp",
            AccessKind::Wac => "wac",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "acp" => Some(AccessKind::Acp),
            "wac" => Some(AccessKind::Wac),
            _ => None,
        }
    }
}

/// The access control document a new pod starts with: its owner has Read, Write and Control
/// over the pod root and everything in it; nobody else has anything.
pub fn initial_document(kind: AccessKind, root_iri: &str, owner: &str) -> String {
    match kind {
        AccessKind::Wac => format!(
            "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n\n\
             <#owner> a acl:Authorization;\n    acl:agent <{owner}>;\n    \
             acl:accessTo <{root_iri}>;\n    acl:default <{root_iri}>;\n    \
             acl:mode acl:Read, acl:Write, acl:Control.\n"
        ),
        // The owner's policy is applied to the resource, to its members, and (through
        // `acp:access`) to the ACRs, which is where Inrupt's libraries look for control.
        AccessKind::Acp => format!(
            "@prefix acp: <http://www.w3.org/ns/solid/acp#>.\n\
             @prefix acl: <http://www.w3.org/ns/auth/acl#>.\n\n\
             <> a acp:AccessControlResource;\n    acp:resource <{root_iri}>;\n    \
             acp:accessControl <#owner-access>;\n    acp:memberAccessControl <#owner-access>.\n\
             <#owner-access> a acp:AccessControl;\n    acp:apply <#owner-policy>;\n    \
             acp:access <#owner-acr-policy>.\n\
             <#owner-policy> a acp:Policy;\n    acp:allow acl:Read, acl:Write, acl:Control;\n    \
             acp:anyOf <#owner-matcher>.\n\
             <#owner-acr-policy> a acp:Policy;\n    acp:allow acl:Read, acl:Write;\n    \
             acp:anyOf <#owner-matcher>.\n\
             <#owner-matcher> a acp:Matcher;\n    acp:agent <{owner}>.\n"
        ),
    }
}

pub const ACL: &str = "http://www.w3.org/ns/auth/acl#";
pub const ACL_READ: &str = "http://www.w3.org/ns/auth/acl#Read";
pub const ACL_WRITE: &str = "http://www.w3.org/ns/auth/acl#Write";
pub const ACL_APPEND: &str = "http://www.w3.org/ns/auth/acl#Append";
pub const ACL_CONTROL: &str = "http://www.w3.org/ns/auth/acl#Control";

/// A set of access modes, each as granted. Write implies Append: [`Modes::contains`] answers
/// Append for a set holding Write, so no caller has to remember the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Modes(u8);

const R: u8 = 1;
const A: u8 = 2;
const W: u8 = 4;
const C: u8 = 8;

impl Modes {
    pub const NONE: Modes = Modes(0);
    pub const READ: Modes = Modes(R);
    pub const APPEND: Modes = Modes(A);
    pub const WRITE: Modes = Modes(W);
    pub const CONTROL: Modes = Modes(C);
    pub const ALL: Modes = Modes(R | A | W | C);

    /// The mode an IRI names; unknown IRIs name no mode, so they can never add access.
    pub fn from_iri(iri: &str) -> Modes {
        match iri {
            ACL_READ => Modes::READ,
            ACL_WRITE => Modes::WRITE,
            ACL_APPEND => Modes::APPEND,
            ACL_CONTROL => Modes::CONTROL,
            _ => Modes::NONE,
        }
    }

    pub fn union(self, other: Modes) -> Modes {
        Modes(self.0 | other.0)
    }

    /// Takes denied modes away. Denying Append also takes Write (which would imply it);
    /// denying Write leaves an Append that was granted in its own right.
    pub fn minus(self, denied: Modes) -> Modes {
        let mut removed = denied.0;
        if removed & A != 0 {
            removed |= W;
        }
        Modes(self.0 & !removed)
    }

    /// Whether every mode of `other` is granted, counting Write as Append.
    pub fn contains(self, other: Modes) -> bool {
        let mut have = self.0;
        if have & W != 0 {
            have |= A;
        }
        have & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The `WAC-Allow` tokens, in the order the WAC spec lists them.
    pub fn wac_tokens(self) -> String {
        let mut out = Vec::new();
        if self.contains(Modes::READ) {
            out.push("read");
        }
        if self.contains(Modes::WRITE) {
            out.push("write");
        }
        if self.contains(Modes::APPEND) {
            out.push("append");
        }
        if self.contains(Modes::CONTROL) {
            out.push("control");
        }
        out.join(" ")
    }
}

impl fmt::Display for Modes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tokens = self.wac_tokens();
        f.write_str(if tokens.is_empty() { "none" } else { &tokens })
    }
}

/// Who is asking, as authentication established it. Everything is `None` for an anonymous
/// request except the Origin, which browsers send either way.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Requester {
    pub webid: Option<String>,
    pub client_id: Option<String>,
    pub issuer: Option<String>,
    pub origin: Option<String>,
}

impl Requester {
    pub fn anonymous(origin: Option<String>) -> Self {
        Self {
            origin,
            ..Self::default()
        }
    }

    /// The same request as the public would make it (for `WAC-Allow: public=`).
    pub fn as_public(&self) -> Self {
        Self::anonymous(self.origin.clone())
    }
}

/// The `WAC-Allow` header value.
pub fn wac_allow(user: Modes, public: Modes) -> String {
    format!(
        "user=\"{}\",public=\"{}\"",
        user.wac_tokens(),
        public.wac_tokens()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_implies_append_and_unknown_modes_add_nothing() {
        assert!(Modes::WRITE.contains(Modes::APPEND));
        assert!(!Modes::APPEND.contains(Modes::WRITE));
        assert_eq!(
            Modes::from_iri("http://example/acl#Everything"),
            Modes::NONE
        );
        assert_eq!(Modes::WRITE.wac_tokens(), "write append");
    }

    #[test]
    fn denying_write_keeps_append_and_denying_append_removes_write() {
        let all = Modes::ALL;
        let no_write = all.minus(Modes::WRITE);
        assert!(!Modes::WRITE.minus(Modes::WRITE).contains(Modes::APPEND));
        assert!(no_write.contains(Modes::APPEND));
        assert!(!no_write.contains(Modes::WRITE));
        assert!(no_write.contains(Modes::READ) && no_write.contains(Modes::CONTROL));
        let no_append = all.minus(Modes::APPEND);
        assert!(!no_append.contains(Modes::APPEND));
        assert!(!no_append.contains(Modes::WRITE));
        assert!(no_append.contains(Modes::READ));
        assert_eq!(
            all.minus(Modes::READ),
            Modes::WRITE.union(Modes::APPEND).union(Modes::CONTROL)
        );
        assert_eq!(all.minus(Modes::ALL), Modes::NONE);
    }

    #[test]
    fn wac_allow_lists_user_and_public() {
        assert_eq!(
            wac_allow(Modes::ALL, Modes::READ),
            "user=\"read write append control\",public=\"read\""
        );
        assert_eq!(wac_allow(Modes::NONE, Modes::NONE), "user=\"\",public=\"\"");
    }
}
