//! GPU count: drop GPUs that history shows idle. A step keeps its GPUs unless at least
//! `min_history` runs with a GPU attached measured utilisation and none of them rose above
//! `gpu_idle_util`.

use super::TunerConfig;
use crate::history::Execution;
use serde::Serialize;

/// The GPU answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GpuDecision {
    /// GPUs in the most recent run.
    pub current: u32,
    /// Recommended count.
    pub recommended: u32,
    /// Runs with a GPU and a measured utilisation.
    pub measured: usize,
    /// Highest mean utilisation seen, 0..=1.
    pub max_util: Option<f64>,
}

/// Decides the GPU count from a step's executions (ordered by start).
pub fn decide_gpu(executions: &[Execution], cfg: &TunerConfig) -> GpuDecision {
    let current = executions.last().map_or(0, |e| e.gpu_count);
    let utils: Vec<f64> = executions
        .iter()
        .filter(|e| e.gpu_count > 0)
        .filter_map(|e| e.gpu_util)
        .collect();
    let max_util = utils.iter().copied().reduce(f64::max);
    let idle =
        utils.len() >= cfg.min_history.max(1) && max_util.is_some_and(|m| m <= cfg.gpu_idle_util);
    GpuDecision {
        current,
        recommended: if idle { 0 } else { current },
        measured: utils.len(),
        max_util,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(util: Option<f64>) -> Execution {
        let mut e = Execution::new("p", "train", 0, 10.0);
        e.gpu_count = 1;
        e.gpu_util = util;
        e
    }

    #[test]
    fn drops_idle_gpu_only_with_evidence() {
        let cfg = TunerConfig::default();
        let idle: Vec<Execution> = (0..5).map(|i| run(Some(0.01 * f64::from(i % 3)))).collect();
        assert_eq!(decide_gpu(&idle, &cfg).recommended, 0);
        let mut busy = idle.clone();
        busy[2] = run(Some(0.6));
        assert_eq!(decide_gpu(&busy, &cfg).recommended, 1);
        assert_eq!(decide_gpu(&idle[..3], &cfg).recommended, 1);
        assert_eq!(
            decide_gpu(&[run(Some(0.01)), run(None)], &cfg).recommended,
            1
        );
    }
}
