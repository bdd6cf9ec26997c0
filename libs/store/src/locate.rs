//! Where a deployment keeps its data, named by URL: metadata in `sqlite://<file>` or
//! `postgres://…`, blobs in `file://<directory>` or `s3://<bucket>/<prefix>`. Any metadata
//! engine pairs with any blob store; the binary opens what these name.
//!
//! File locations follow sqlx's SQLite convention: `sqlite:///var/lib/podplane/m.sqlite` is
//! absolute, `sqlite://data/m.sqlite` relative to the working directory.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where resource metadata lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataUrl {
    /// A SQLite database file (one process).
    Sqlite(PathBuf),
    /// A PostgreSQL database: the URL as given, credentials and parameters included.
    Postgres(String),
}

/// Where resource content lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobUrl {
    /// A directory on a local file system.
    File(PathBuf),
    /// An S3 bucket; every key starts with `prefix` (empty, or ending in `/`).
    S3 { bucket: String, prefix: String },
}

/// A location that names no engine podplane has, or names one badly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadLocation(String);

fn local_path(rest: &str, url: &str) -> Result<PathBuf, BadLocation> {
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    if path.is_empty() {
        return Err(BadLocation(format!("{url} names no path")));
    }
    Ok(PathBuf::from(path))
}

impl FromStr for MetadataUrl {
    type Err = BadLocation;

    fn from_str(url: &str) -> Result<Self, BadLocation> {
        if let Some(rest) = url.strip_prefix("sqlite://") {
            return local_path(rest, url).map(MetadataUrl::Sqlite);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(MetadataUrl::Postgres(url.to_owned()));
        }
        Err(BadLocation(format!(
            "metadata location {:?}: use sqlite://<file> or postgres://<user>@<host>/<database>",
            redact(url)
        )))
    }
}

impl FromStr for BlobUrl {
    type Err = BadLocation;

    fn from_str(url: &str) -> Result<Self, BadLocation> {
        if let Some(rest) = url.strip_prefix("file://") {
            return local_path(rest, url).map(BlobUrl::File);
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let rest = rest.split(['?', '#']).next().unwrap_or_default();
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(BadLocation(format!("{url} names no bucket")));
            }
            let prefix = match prefix {
                "" => String::new(),
                p if p.ends_with('/') => p.to_owned(),
                p => format!("{p}/"),
            };
            return Ok(BlobUrl::S3 {
                bucket: bucket.to_owned(),
                prefix,
            });
        }
        Err(BadLocation(format!(
            "blob location {url:?}: use file://<directory> or s3://<bucket>/<prefix>"
        )))
    }
}

/// A URL without its password, for messages and logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

impl fmt::Display for MetadataUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            MetadataUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Display for BlobUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobUrl::File(path) => write!(f, "file://{}", path.display()),
            BlobUrl::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_locations_name_their_engine() {
        assert_eq!(
            "sqlite:///var/lib/podplane/m.sqlite".parse(),
            Ok(MetadataUrl::Sqlite("/var/lib/podplane/m.sqlite".into()))
        );
        assert_eq!(
            "sqlite://data/m.sqlite?mode=rwc".parse(),
            Ok(MetadataUrl::Sqlite("data/m.sqlite".into()))
        );
        let pg = "postgres://podplane:secret@db:5432/podplane_storage?sslmode=verify-full";
        assert_eq!(pg.parse(), Ok(MetadataUrl::Postgres(pg.into())));
        assert!(MetadataUrl::Postgres(pg.into())
            .to_string()
            .contains("podplane:***@db"));
        assert!("sqlite://".parse::<MetadataUrl>().is_err());
        let wrong = "mysql://root:hunter2@db/x"
            .parse::<MetadataUrl>()
            .unwrap_err();
        assert!(!wrong.to_string().contains("hunter2"), "{wrong}");
    }

    #[test]
    fn blob_locations_name_their_store() {
        assert_eq!(
            "file:///srv/blobs".parse(),
            Ok(BlobUrl::File("/srv/blobs".into()))
        );
        assert_eq!(
            "s3://pods/podplane/blobs".parse(),
            Ok(BlobUrl::S3 {
                bucket: "pods".into(),
                prefix: "podplane/blobs/".into()
            })
        );
        assert_eq!(
            "s3://pods".parse(),
            Ok(BlobUrl::S3 {
                bucket: "pods".into(),
                prefix: String::new()
            })
        );
        assert!("s3:///x".parse::<BlobUrl>().is_err());
        assert!("gs://bucket".parse::<BlobUrl>().is_err());
        assert!("file://".parse::<BlobUrl>().is_err());
    }
}
