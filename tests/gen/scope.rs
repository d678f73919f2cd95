//! The values a statement of a generated pipeline can read: parameters, loop variables, the
//! outputs of calls and metric values, each with its type and the block that bound it.

use super::types::Ty;

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A pipeline parameter.
    Param,
    /// A `for` variable.
    Loop,
    /// An output of a call (`b`, `b.out`): an artifact or a value output.
    Output,
    /// A metric value (`b.m.score`), or a metric-value output of a called pipeline: read by
    /// conditions and checks, never passed as an argument.
    Metric,
}

/// A value in scope.
#[derive(Clone, Debug)]
pub struct Val {
    /// How a statement reads it: `day`, `b3`, `b3.o1`, `b3.o2.score`.
    pub expr: String,
    /// Its type where it is read.
    pub ty: Ty,
    /// Where it comes from.
    pub kind: Kind,
    /// The block (pipeline body, branch or loop body) that bound it.
    pub block: usize,
}

/// The values in scope at one point of a pipeline body.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Every visible value, outermost first.
    pub vals: Vec<Val>,
    /// The block statements are being added to.
    pub block: usize,
    blocks: usize,
}

/// What [`Scope::enter`] saves, for [`Scope::leave`].
pub struct Saved {
    len: usize,
    block: usize,
}

impl Scope {
    /// Adds a value bound by the current block.
    pub fn push(&mut self, expr: impl Into<String>, ty: Ty, kind: Kind) {
        self.vals.push(Val {
            expr: expr.into(),
            ty,
            kind,
            block: self.block,
        });
    }

    /// The values that can be passed as arguments (not metric values).
    pub fn args(&self) -> Vec<Val> {
        self.vals
            .iter()
            .filter(|v| v.kind != Kind::Metric)
            .cloned()
            .collect()
    }

    /// Starts a nested block (a branch or a loop body).
    pub fn enter(&mut self) -> Saved {
        self.blocks += 1;
        let saved = Saved {
            len: self.vals.len(),
            block: self.block,
        };
        self.block = self.blocks;
        saved
    }

    /// Ends the block started by `saved`: its values go out of scope and are returned (the
    /// caller adds what the block exports, as optional values or lists).
    pub fn leave(&mut self, saved: Saved) -> Vec<Val> {
        let inner = self.block;
        let gone = self.vals.split_off(saved.len);
        self.block = saved.block;
        gone.into_iter().filter(|v| v.block == inner).collect()
    }
}
