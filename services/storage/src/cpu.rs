//! CPU-bound work off the async runtime. Parsing a client's document and evaluating a patch
//! run on the blocking pool, at most `cpu_jobs` at once: a burst of expensive requests waits
//! its turn instead of stalling every other request on the runtime (health checks included).

use crate::error::{ApiError, ApiResult};
use podplane_solid::limits::EvalBudget;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

pub struct CpuPool {
    permits: Arc<Semaphore>,
}

impl CpuPool {
    pub fn new(jobs: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(jobs.max(1))),
        }
    }

    /// Runs `job` on the blocking pool once a slot is free. The slot is held until the job
    /// really ends, even when the request that started it is gone.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> ApiResult<T> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let out = job();
            drop(permit);
            out
        })
        .await
        .map_err(|e| ApiError::Internal(format!("a CPU job failed: {e}")))
    }

    /// Runs an evaluation that stops itself once `time` has passed: the budget's token is
    /// cancelled then, and the evaluator checks it as it goes.
    pub async fn run_budgeted<T: Send + 'static>(
        &self,
        budget: EvalBudget,
        time: Duration,
        job: impl FnOnce(&EvalBudget) -> T + Send + 'static,
    ) -> ApiResult<T> {
        let cancel = budget.cancel.clone();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(time).await;
            cancel.cancel();
        });
        let out = self.run(move || job(&budget)).await;
        timer.abort();
        out
    }
}
