//! CPU request from measured CPU seconds over wall time: the recency-weighted upper quantile of
//! cores used, plus 10 %, rounded up to 10 millicores. A CPU limit (off by default: throttling
//! slows a step without saving anything) is twice the largest use seen, rounded up to 100m.

use super::TunerConfig;
use crate::history::Execution;
use crate::stats::{recency_weights, weighted_quantile};
use serde::Serialize;

/// The CPU answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CpuDecision {
    /// Request, millicores (None: not enough measured runs, keep the current one).
    pub request_millis: Option<u64>,
    /// Limit, millicores, when asked for.
    pub limit_millis: Option<u64>,
    /// Runs with measured CPU time.
    pub measured: usize,
    /// Upper quantile of cores used.
    pub cores_quantile: f64,
}

/// Decides CPU from a step's executions.
pub fn decide_cpu(executions: &[Execution], cfg: &TunerConfig) -> CpuDecision {
    let used: Vec<(&Execution, f64)> = executions
        .iter()
        .filter(|e| e.outcome.measured() && e.wall_seconds > 0.0)
        .filter_map(|e| e.cpu_seconds.map(|c| (e, c / e.wall_seconds)))
        .filter(|(_, cores)| cores.is_finite() && *cores >= 0.0)
        .collect();
    let mut d = CpuDecision {
        request_millis: None,
        limit_millis: None,
        measured: used.len(),
        cores_quantile: 0.0,
    };
    if used.len() < cfg.min_history.max(1) {
        return d;
    }
    let ends: Vec<i64> = used.iter().map(|(e, _)| e.end_ms).collect();
    let ws = recency_weights(&ends, cfg.half_life_hours, cfg.half_life_runs);
    let cores: Vec<f64> = used.iter().map(|(_, c)| *c).collect();
    let q = weighted_quantile(&cores, &ws, cfg.cpu_quantile).unwrap_or(0.0);
    d.cores_quantile = q;
    let millis = (q * 1.1 * 1000.0 / 10.0).ceil().max(1.0) as u64 * 10;
    d.request_millis = Some(millis);
    if cfg.cpu_limit {
        let max = cores.iter().copied().fold(0.0, f64::max);
        d.limit_millis =
            Some(((max * 2.0 * 1000.0 / 100.0).ceil().max(1.0) as u64 * 100).max(millis));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_from_cpu_seconds() {
        let runs: Vec<Execution> = (0..5)
            .map(|i| {
                let mut e = Execution::new("p", "s", i * 1000, 10.0);
                e.cpu_seconds = Some(5.0); // half a core
                e
            })
            .collect();
        let d = decide_cpu(&runs, &TunerConfig::default());
        assert_eq!(d.request_millis, Some(550));
        assert_eq!(d.limit_millis, None);
        let d = decide_cpu(&runs[..2], &TunerConfig::default());
        assert_eq!(d.request_millis, None);
    }
}
