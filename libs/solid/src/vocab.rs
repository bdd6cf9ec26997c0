//! IRIs of the vocabularies the protocol speaks.

pub const LDP: &str = "http://www.w3.org/ns/ldp#";
pub const LDP_RESOURCE: &str = "http://www.w3.org/ns/ldp#Resource";
pub const LDP_RDF_SOURCE: &str = "http://www.w3.org/ns/ldp#RDFSource";
pub const LDP_NON_RDF_SOURCE: &str = "http://www.w3.org/ns/ldp#NonRDFSource";
pub const LDP_CONTAINER: &str = "http://www.w3.org/ns/ldp#Container";
pub const LDP_BASIC_CONTAINER: &str = "http://www.w3.org/ns/ldp#BasicContainer";
pub const LDP_CONTAINS: &str = "http://www.w3.org/ns/ldp#contains";
pub const LDP_CONSTRAINED_BY: &str = "http://www.w3.org/ns/ldp#constrainedBy";
pub const PIM_STORAGE: &str = "http://www.w3.org/ns/pim/space#Storage";
pub const SOLID: &str = "http://www.w3.org/ns/solid/terms#";
pub const SOLID_STORAGE_DESCRIPTION: &str = "http://www.w3.org/ns/solid/terms#storageDescription";
pub const SOLID_OWNER: &str = "http://www.w3.org/ns/solid/terms#owner";
pub const SOLID_INSERT_DELETE_PATCH: &str = "http://www.w3.org/ns/solid/terms#InsertDeletePatch";
pub const SOLID_WHERE: &str = "http://www.w3.org/ns/solid/terms#where";
pub const SOLID_INSERTS: &str = "http://www.w3.org/ns/solid/terms#inserts";
pub const SOLID_DELETES: &str = "http://www.w3.org/ns/solid/terms#deletes";
pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
pub const DCTERMS_MODIFIED: &str = "http://purl.org/dc/terms/modified";
pub const XSD_DATETIME: &str = "http://www.w3.org/2001/XMLSchema#dateTime";
pub const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
pub const POSIX_MTIME: &str = "http://www.w3.org/ns/posix/stat#mtime";
pub const POSIX_SIZE: &str = "http://www.w3.org/ns/posix/stat#size";
pub const IANA_MEDIA_TYPES: &str = "http://www.w3.org/ns/iana/media-types/";
