//! `podplane`: the one binary. `serve` runs every service in one process (embedded mode);
//! `storage` runs one stateless Pod Storage replica, `notifications` one notifications
//! replica, `provision` one provisioning replica and `audit` one audit replica (distributed
//! mode); `migrate` applies the database schema; `pod` administers pods; `audit-verify`
//! checks the audit chains.

mod archive;
mod audit;
mod cli;
mod distributed;
mod embedded;
mod linger;
mod listener;
mod notifications;
mod provision;
mod runtime;

use clap::Parser;
use cli::{Cli, Command, PodCommand};
use podplane_store::AccessKind;
use podplane_telemetry::logs::LogFormat;

fn main() -> anyhow::Result<()> {
    // Parsers and query evaluators recurse over a document's structure. Limits bound that
    // nesting; a roomy stack (virtual memory, touched only when used) keeps a margin.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 * 1024 * 1024)
        .build()?;
    let result = runtime.block_on(run());
    // Once `run` returns, every commit is made and every server has drained. Dropping the
    // runtime would wait for the tasks it still holds, and a sqlx pool's maintenance task can
    // spin through a runtime's shutdown (a `podplane pod create` was seen never to exit), so
    // the process ends here.
    use std::io::Write;
    let _ = std::io::stdout().flush();
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("Error: {e:?}");
            std::process::exit(1)
        }
    }
}

async fn healthcheck(args: &cli::HealthcheckArgs) -> anyhow::Result<()> {
    let url = args.url();
    let res = reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(args.timeout_secs))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    anyhow::ensure!(res.status().is_success(), "{url}: {}", res.status());
    Ok(())
}

/// The name a long-running command's traces carry; one-shot commands export none.
fn service_name(command: &Command) -> Option<&'static str> {
    match command {
        Command::Serve(_) => Some("podplane"),
        Command::Storage(_) => Some("podplane-storage"),
        Command::Notifications(_) => Some("podplane-notifications"),
        Command::Provision(_) => Some("podplane-provision"),
        Command::Audit(_) => Some("podplane-audit"),
        Command::Migrate(_)
        | Command::Healthcheck(_)
        | Command::AuditVerify(_)
        | Command::Pod { .. } => None,
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let format = if cli.log_format == "json" {
        LogFormat::Json
    } else {
        LogFormat::Text
    };
    // Kept to the end of `run`: dropping it flushes the spans still queued.
    let _tracing = podplane_telemetry::logs::init(format, service_name(&cli.command))?;
    match cli.command {
        Command::Serve(args) => embedded::serve(args).await,
        Command::Storage(args) => distributed::storage(args).await,
        Command::Notifications(args) => distributed::notifications(args).await,
        Command::Provision(args) => distributed::provision(args).await,
        Command::Audit(args) => distributed::audit(args).await,
        Command::AuditVerify(args) => audit::verify(&args).await,
        Command::Migrate(args) => distributed::migrate(&args).await,
        Command::Healthcheck(args) => healthcheck(&args).await,
        Command::Pod {
            command:
                PodCommand::Create {
                    name,
                    owner,
                    access,
                    target,
                },
        } => {
            let access = AccessKind::parse(&access).unwrap_or_default();
            let storage = provision::create_pod(&target, &name, &owner, access).await?;
            println!("created pod {name} at {storage}");
            Ok(())
        }
        Command::Pod {
            command: PodCommand::List { target },
        } => {
            let (meta, _) = runtime::admin_store(&target).await?;
            for pod in meta.list_pods().await? {
                let quota = pod
                    .quota_bytes
                    .map_or_else(|| "default".to_owned(), |q| q.to_string());
                println!(
                    "{}\t{}\t{}\t{}\t{quota}",
                    pod.name,
                    pod.access.as_str(),
                    pod.owner.unwrap_or_default(),
                    pod.used_bytes,
                );
            }
            Ok(())
        }
        Command::Pod {
            command:
                PodCommand::Quota {
                    name,
                    bytes,
                    default: _,
                    target,
                },
        } => {
            let (meta, _) = runtime::admin_store(&target).await?;
            meta.set_quota(&name, bytes).await?;
            match bytes {
                Some(b) => println!("pod {name}: quota {b} bytes"),
                None => println!("pod {name}: the server's default quota"),
            }
            Ok(())
        }
        Command::Pod {
            command: PodCommand::Delete { name, wait, target },
        } => provision::delete_pod(&target, &name, wait).await,
        Command::Pod {
            command:
                PodCommand::Export {
                    name,
                    output,
                    target,
                },
        } => archive::export(&target, &name, output.as_deref()).await,
        Command::Pod {
            command:
                PodCommand::Import {
                    input,
                    name,
                    target,
                },
        } => archive::import(&target, input.as_deref(), name.as_deref()).await,
    }
}
