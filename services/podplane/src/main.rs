//! `podplane`: the one binary. `serve` runs every service in one process (embedded mode);
//! `pod` administers pods offline against a data directory.

mod embedded;

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "podplane",
    version,
    about = "A Solid server speaking the ESS data-plane surface"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole server in one process: blobs on disk, metadata in SQLite.
    Serve(ServeArgs),
    /// Administer pods in a data directory (offline; the server may be running).
    Pod {
        #[command(subcommand)]
        command: PodCommand,
    },
}

#[derive(Args, Clone)]
pub struct DataArgs {
    /// Directory holding the SQLite database and the blobs.
    #[arg(long, env = "PODPLANE_DATA_DIR", default_value = "./podplane-data")]
    pub data_dir: PathBuf,
    /// Public base URL of the server (what clients see, e.g. behind a TLS proxy). Defaults to
    /// http://{listen}.
    #[arg(long, env = "PODPLANE_BASE_URL")]
    pub base_url: Option<String>,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on.
    #[arg(long, env = "PODPLANE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Largest non-RDF request body, in bytes.
    #[arg(long, env = "PODPLANE_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024 * 1024)]
    pub max_body_bytes: u64,
    /// Largest RDF or patch body, in bytes (these are parsed in memory).
    #[arg(long, env = "PODPLANE_MAX_RDF_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_rdf_bytes: u64,
    /// Remote JSON-LD contexts that may be fetched and cached (comma-separated URLs). Any other
    /// remote context in client JSON-LD is refused.
    #[arg(long, env = "PODPLANE_JSONLD_CONTEXT_ALLOW", value_delimiter = ',')]
    pub jsonld_context_allow: Vec<String>,
    /// Seconds a superseded or orphaned blob is kept before garbage collection removes it.
    #[arg(long, env = "PODPLANE_GC_GRACE_SECS", default_value_t = 300)]
    pub gc_grace_secs: u64,
    /// Seconds between garbage-collection passes.
    #[arg(long, env = "PODPLANE_GC_INTERVAL_SECS", default_value_t = 60)]
    pub gc_interval_secs: u64,
    /// Memory, in bytes, for each of the two caches: resource rows (with small documents) and
    /// rendered representations (conversions, container listings).
    #[arg(long, env = "PODPLANE_CACHE_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub cache_bytes: u64,
    /// Shut down when standard input closes: lets a supervising process (the test harness)
    /// guarantee the server never outlives it.
    #[arg(long, hide = true)]
    pub exit_on_stdin_eof: bool,
}

#[derive(Subcommand)]
enum PodCommand {
    /// Create a pod at {base}/{name}/.
    Create {
        /// Pod name: lower-case letters, digits and '-', starting with a letter or digit.
        name: String,
        /// WebID of the pod's owner.
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the pods in the data directory.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PODPLANE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(args) => embedded::serve(args).await,
        Command::Pod {
            command: PodCommand::Create { name, owner, data },
        } => {
            let pod = embedded::create_pod(&data, &name, owner.as_deref()).await?;
            println!("created pod {} at {}", pod.0, pod.1);
            Ok(())
        }
        Command::Pod {
            command: PodCommand::List { data },
        } => {
            for (name, owner) in embedded::list_pods(&data).await? {
                println!("{name}\t{}", owner.unwrap_or_default());
            }
            Ok(())
        }
    }
}
