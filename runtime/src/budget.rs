//! The machine's share a run may use: CPU (millicores), memory (bytes) and a number of tasks at
//! once. A task takes its requests when it starts and gives them back when it ends; a task
//! asking more than the whole budget counts as asking all of it, so it runs alone.

use flowc_compiler::plan::{Task, TaskKind};

/// What a run may use, and what its running tasks hold.
#[derive(Debug)]
pub(crate) struct Budget {
    cpu: u64,
    memory: u64,
    jobs: usize,
    used_cpu: u64,
    used_memory: u64,
    running: usize,
}

impl Budget {
    /// A budget of `cpu` millicores, `memory` bytes and `jobs` tasks at once, none used.
    pub(crate) fn new(cpu: u64, memory: u64, jobs: usize) -> Budget {
        Budget {
            cpu,
            memory,
            jobs,
            used_cpu: 0,
            used_memory: 0,
            running: 0,
        }
    }

    /// Takes `cpu` and `mem` if they fit beside what runs (anything fits when nothing runs).
    pub(crate) fn try_take(&mut self, cpu: u64, mem: u64) -> bool {
        let cpu = cpu.min(self.cpu);
        let mem = mem.min(self.memory);
        let fits = self.running == 0
            || (self.running < self.jobs
                && self.used_cpu + cpu <= self.cpu
                && self.used_memory + mem <= self.memory);
        if fits {
            self.used_cpu += cpu;
            self.used_memory += mem;
            self.running += 1;
        }
        fits
    }

    /// Gives back what [`Budget::try_take`] took.
    pub(crate) fn give(&mut self, cpu: u64, mem: u64) {
        self.used_cpu = self.used_cpu.saturating_sub(cpu.min(self.cpu));
        self.used_memory = self.used_memory.saturating_sub(mem.min(self.memory));
        self.running = self.running.saturating_sub(1);
    }
}

/// Whether `t` calls a pipeline: it holds no resources itself (its steps do), and must not take
/// a slot, or nested pipelines could wait for each other forever.
pub(crate) fn is_composite(t: &Task) -> bool {
    matches!(t.kind, TaskKind::Pipeline { .. })
}

/// The CPU (millicores) and memory (bytes) an instance of `t` holds while it runs.
pub(crate) fn requests(t: &Task) -> (u64, u64) {
    if is_composite(t) {
        return (0, 0);
    }
    let r = &t.settings.resources;
    (
        r.cpu_millis.unwrap_or(1000),
        r.memory_bytes.or(r.memory_limit_bytes).unwrap_or(256 << 20),
    )
}
