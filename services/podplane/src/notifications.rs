//! The notifications service in either mode: its state from flags, and the in-process answer
//! to "may this agent read this topic" that embedded mode gives without HTTP.

use crate::cli::HttpArgs;
use anyhow::Context;
use podplane_notifications::store::ChannelStore;
use podplane_notifications::{signing::Signer, NotificationsConfig, NotifyError, TopicAccess};
use podplane_notifications::{State, TopicView};
use podplane_solid::access::Requester;
use std::sync::Arc;

/// Embedded mode: the storage service in this process decides.
pub struct InProcessAccess(pub podplane_storage::AppState);

#[async_trait::async_trait]
impl TopicAccess for InProcessAccess {
    async fn view(&self, who: &Requester, path: &str) -> Result<TopicView, NotifyError> {
        match podplane_storage::http::topic_view(&self.0, who.clone(), path).await {
            Ok(v) => Ok(TopicView {
                readable: v.readable,
                state: v.state,
            }),
            Err(e) => Err(NotifyError::Unavailable(e.to_string())),
        }
    }
}

/// The service state: channels in `database_url`, identity checked by `verifier`.
pub async fn state(
    http: &HttpArgs,
    config: NotificationsConfig,
    database_url: &str,
    max_connections: u32,
    access: Arc<dyn TopicAccess>,
    verifier: Option<Arc<podplane_auth::Verifier>>,
) -> anyhow::Result<State> {
    let channels = ChannelStore::open(database_url, max_connections)
        .await
        .context("opening the notifications database")?;
    let (kid, pkcs8) = Signer::generate()?;
    let (kid, pkcs8) = channels
        .signing_key(&kid, &pkcs8, podplane_notifications::now_ms())
        .await?;
    let signer = Signer::from_stored(&kid, &pkcs8)?;
    let verifier = match verifier {
        Some(v) => v,
        // Replicas share DPoP proof ids through the notifications database.
        None => Arc::new(podplane_auth::Verifier::new(
            http.auth.config()?,
            Arc::new(channels.clone()),
        )),
    };
    Ok(State::new(config, channels, access, verifier, signer))
}
