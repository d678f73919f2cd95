//! What the source says about a step's resources: the bounds of `resources auto(min…, max…)` and
//! the values in force now. The CLI fills these from the compiled pipeline; the tuner only reads
//! them.

use serde::Serialize;

/// A set of resource amounts; `None` means "not set".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Resources {
    /// Memory in bytes.
    pub memory_bytes: Option<u64>,
    /// CPU in millicores.
    pub cpu_millis: Option<u64>,
    /// GPU count.
    pub gpu: Option<u32>,
}

/// Bounds and current values for one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StepBounds {
    /// Lower bounds (`auto(min: …)`).
    pub min: Resources,
    /// Upper bounds (`auto(max: …)`).
    pub max: Resources,
    /// Memory limit, CPU request and GPU count in force now (from the source or lock file).
    /// When `None`, the tuner takes the values of the most recent execution.
    pub current: Resources,
}

impl StepBounds {
    /// Clamps a memory value into the bounds.
    pub fn clamp_memory(&self, bytes: u64) -> u64 {
        let lo = self.min.memory_bytes.unwrap_or(0);
        let hi = self.max.memory_bytes.unwrap_or(u64::MAX).max(lo);
        bytes.clamp(lo, hi)
    }

    /// Clamps a CPU value into the bounds.
    pub fn clamp_cpu(&self, millis: u64) -> u64 {
        let lo = self.min.cpu_millis.unwrap_or(0);
        let hi = self.max.cpu_millis.unwrap_or(u64::MAX).max(lo);
        millis.clamp(lo, hi)
    }

    /// Clamps a GPU count into the bounds.
    pub fn clamp_gpu(&self, gpu: u32) -> u32 {
        let lo = self.min.gpu.unwrap_or(0);
        let hi = self.max.gpu.unwrap_or(u32::MAX).max(lo);
        gpu.clamp(lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps() {
        let b = StepBounds {
            min: Resources {
                memory_bytes: Some(512),
                cpu_millis: Some(500),
                gpu: None,
            },
            max: Resources {
                memory_bytes: Some(4096),
                cpu_millis: None,
                gpu: Some(1),
            },
            current: Resources::default(),
        };
        assert_eq!(b.clamp_memory(10), 512);
        assert_eq!(b.clamp_memory(10_000), 4096);
        assert_eq!(b.clamp_cpu(100), 500);
        assert_eq!(b.clamp_gpu(4), 1);
    }
}
