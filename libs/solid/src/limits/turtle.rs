//! Turtle-family scanning (Turtle, N-Triples, N3, SPARQL): nesting, groups, operators and an
//! upper bound of the expansion, from raw bytes.

use super::{too_deep, ExpansionBudget, Limits};
use crate::error::SolidError;
/// Checks a data document in Turtle or N-Triples before it is parsed: its nesting depth. Its
/// expansion is charged exactly while parsing ([`ExpansionBudget`]).
pub fn check_turtle_depth(body: &[u8], limits: &Limits) -> Result<(), SolidError> {
    Scan::new(0, limits, false).run(body)
}

/// Checks a patch (N3 Patch or SPARQL Update) before it is parsed: its nesting depth, its
/// groups and operators (each deepens the parsed query), and an upper bound of the terms it
/// expands to, since the patch parsers build their whole result before it could be counted.
///
/// The bound charges every term its expanded length (a prefixed name its namespace, a
/// relative IRI the base, `a` the `rdf:type` IRI), every `,` and `;` the repetition of the
/// longest term of its statement so far, and every collection member its `rdf:first` /
/// `rdf:rest` triples. It over-estimates (SPARQL operators count like terms), which is why
/// bodies parsed exactly, as stored documents are, are also charged triple by triple.
pub fn check_patch(body: &[u8], base_len: usize, limits: &Limits) -> Result<(), SolidError> {
    Scan::new(base_len, limits, true).run(body)
}

/// Where a prefix or base declaration is in its three tokens.
enum Declaring {
    None,
    PrefixKeyword,
    PrefixName(Vec<u8>),
    Base,
}

struct Scan<'a> {
    limits: &'a Limits,
    /// Patches: also bound expansion, groups and operators.
    patch: bool,
    groups: usize,
    operators: usize,
    base_len: u64,
    budget: ExpansionBudget,
    /// Open brackets, innermost last.
    brackets: Vec<u8>,
    /// The longest term of the current statement: what a `,` or `;` repeats at most.
    statement_max: u64,
    prefixes: Vec<(Vec<u8>, u64)>,
    declaring: Declaring,
}

const RDF_TYPE_LEN: u64 = 47;
/// A collection member adds `_:b rdf:first x . _:b rdf:rest _:c`.
const COLLECTION_MEMBER: u64 = 2 * (2 * 32 + 48 + 32 + 48);

impl<'a> Scan<'a> {
    fn new(base_len: usize, limits: &'a Limits, patch: bool) -> Self {
        let unbounded = Limits {
            max_expanded_bytes: u64::MAX,
            ..*limits
        };
        Scan {
            limits,
            patch,
            groups: 0,
            operators: 0,
            base_len: base_len as u64,
            budget: ExpansionBudget::new(if patch { limits } else { &unbounded }),
            brackets: Vec::new(),
            statement_max: 0,
            prefixes: Vec::new(),
            declaring: Declaring::None,
        }
    }

    fn run(&mut self, body: &[u8]) -> Result<(), SolidError> {
        let mut i = 0;
        while i < body.len() {
            let b = body[i];
            i = match b {
                b'#' => body[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(body.len(), |p| i + p),
                b'"' | b'\'' => {
                    let end = string_end(body, i);
                    self.term((end - i) as u64)?;
                    end
                }
                b'<' if body.get(i + 1) == Some(&b'<') => {
                    self.open(b'<')?;
                    i + 2
                }
                b'>' if body.get(i + 1) == Some(&b'>') && self.brackets.last() == Some(&b'<') => {
                    self.brackets.pop();
                    i + 2
                }
                b'<' => match iri_end(body, i) {
                    Some(end) => {
                        let len = (end - i) as u64 + self.base_len;
                        self.iri(len)?;
                        end
                    }
                    None => i + 1,
                },
                b'[' | b'(' | b'{' => {
                    self.open(b)?;
                    if b == b'{' {
                        self.groups += 1;
                        if self.patch && self.groups > self.limits.max_patterns {
                            return Err(SolidError::TooComplex(format!(
                                "the patch has more than {} groups",
                                self.limits.max_patterns
                            )));
                        }
                        self.statement_max = 0;
                    } else {
                        self.term(32)?;
                    }
                    i + 1
                }
                b']' | b')' | b'}' => {
                    self.brackets.pop();
                    if b == b'}' {
                        self.statement_max = 0;
                    }
                    i + 1
                }
                b',' | b';' => {
                    self.budget.add(2 * self.statement_max + 3 * 32)?;
                    i + 1
                }
                b'.' if !body.get(i + 1).is_some_and(|c| c.is_ascii_digit()) => {
                    self.statement_max = 0;
                    i + 1
                }
                b'/' | b'|' | b'^' | b'+' | b'*' | b'!' | b'&' | b'=' if self.patch => {
                    self.operators += 1;
                    if self.operators > self.limits.max_operators {
                        return Err(SolidError::TooComplex(format!(
                            "the patch has more than {} operators",
                            self.limits.max_operators
                        )));
                    }
                    i + 1
                }
                _ if is_name_byte(b) => {
                    let end = name_span_end(body, i);
                    // A name never ends with '.': that dot ends the statement.
                    let mut name_end = end;
                    while name_end > i + 1 && body[name_end - 1] == b'.' {
                        name_end -= 1;
                    }
                    self.name(&body[i..name_end])?;
                    name_end
                }
                _ => i + 1,
            };
        }
        Ok(())
    }

    fn open(&mut self, b: u8) -> Result<(), SolidError> {
        self.brackets.push(b);
        if self.brackets.len() > self.limits.max_depth {
            return Err(too_deep(self.limits.max_depth));
        }
        Ok(())
    }

    fn term(&mut self, len: u64) -> Result<(), SolidError> {
        self.declaring = Declaring::None;
        self.statement_max = self.statement_max.max(len);
        let member = if self.brackets.last() == Some(&b'(') {
            COLLECTION_MEMBER
        } else {
            0
        };
        self.budget.add(len + 32 + member)
    }

    fn iri(&mut self, len: u64) -> Result<(), SolidError> {
        match std::mem::replace(&mut self.declaring, Declaring::None) {
            Declaring::PrefixName(name) => {
                self.prefixes.push((name, len));
                return Ok(());
            }
            Declaring::Base => {
                self.base_len = self.base_len.max(len);
                return Ok(());
            }
            _ => {}
        }
        self.term(len)
    }

    fn name(&mut self, name: &[u8]) -> Result<(), SolidError> {
        if matches!(self.declaring, Declaring::PrefixKeyword) && name.ends_with(b":") {
            self.declaring = Declaring::PrefixName(name[..name.len() - 1].to_vec());
            return Ok(());
        }
        if name.eq_ignore_ascii_case(b"@prefix") || name.eq_ignore_ascii_case(b"prefix") {
            self.declaring = Declaring::PrefixKeyword;
            return Ok(());
        }
        if name.eq_ignore_ascii_case(b"@base") || name.eq_ignore_ascii_case(b"base") {
            self.declaring = Declaring::Base;
            return Ok(());
        }
        let len = if name == b"a" {
            RDF_TYPE_LEN
        } else if let Some(colon) = name.iter().position(|&c| c == b':') {
            let prefix = &name[..colon];
            // The latest declaration wins, as in the parsers; unknown prefixes fail to parse.
            let namespace = self
                .prefixes
                .iter()
                .rev()
                .find(|(p, _)| p == prefix)
                .map_or(0, |(_, len)| *len);
            namespace + (name.len() - colon) as u64
        } else {
            name.len() as u64
        };
        self.term(len)
    }
}

/// Where the prefixed name (or keyword) starting at `start` ends. A local name may escape
/// punctuation (`p:a\(b`, as serialisers write it): the escaped byte is part of the name, not
/// a bracket.
fn name_span_end(body: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < body.len() {
        match body[i] {
            b'\\' => i = (i + 2).min(body.len()),
            c if is_name_byte(c) => i += 1,
            _ => break,
        }
    }
    i
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'_' | b'-' | b':' | b'.' | b'%' | b'\\' | b'@' | b'?' | b'$'
        )
        || b >= 0x80
}

/// The index after the string literal starting at `start` (short or long form, with escapes).
fn string_end(body: &[u8], start: usize) -> usize {
    let quote = body[start];
    let long = body.get(start + 1) == Some(&quote) && body.get(start + 2) == Some(&quote);
    let mut i = start + if long { 3 } else { 1 };
    while i < body.len() {
        match body[i] {
            b'\\' => i += 2,
            c if c == quote => {
                if !long {
                    return i + 1;
                }
                if body.get(i + 1) == Some(&quote) && body.get(i + 2) == Some(&quote) {
                    return i + 3;
                }
                i += 1;
            }
            // A short string cannot span lines; the parser will refuse it.
            b'\n' if !long => return i + 1,
            _ => i += 1,
        }
    }
    body.len()
}

/// The index after an IRI reference `<...>` starting at `start`, or `None` when the `<` is
/// an operator (SPARQL `<`, `<=`): IRIs hold no whitespace.
fn iri_end(body: &[u8], start: usize) -> Option<usize> {
    for (k, &c) in body[start + 1..].iter().enumerate() {
        match c {
            b'>' => return Some(start + k + 2),
            c if c.is_ascii_whitespace() || c == b'<' || c == b'"' || c == b'{' => return None,
            _ => {}
        }
    }
    None
}
