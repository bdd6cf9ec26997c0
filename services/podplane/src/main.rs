//! `podplane`: the one binary. `serve` runs every service in one process (embedded mode);
//! `storage` runs one stateless Pod Storage replica (distributed mode); `migrate` applies the
//! database schema; `pod` administers pods.

mod cli;
mod distributed;
mod embedded;
mod runtime;

use clap::Parser;
use cli::{Cli, Command, PodCommand};

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
        Command::Storage(args) => distributed::storage(args).await,
        Command::Migrate(args) => distributed::migrate(&args).await,
        Command::Pod {
            command:
                PodCommand::Create {
                    name,
                    owner,
                    target,
                },
        } => {
            runtime::check_pod_name(&name)?;
            let (meta, base) = runtime::admin_store(&target).await?;
            meta.create_pod(&name, owner.as_deref()).await?;
            println!("created pod {name} at {base}/{name}/");
            Ok(())
        }
        Command::Pod {
            command: PodCommand::List { target },
        } => {
            let (meta, _) = runtime::admin_store(&target).await?;
            for pod in meta.list_pods().await? {
                println!("{}\t{}", pod.name, pod.owner.unwrap_or_default());
            }
            Ok(())
        }
    }
}
