//! Run errors: a stable code, a message naming what is wrong, and a hint.
//!
//! Codes are `R0xx` and never change meaning (`R020`–`R024` are the store on object storage,
//! `s3://`; `R030`–`R039` configs, one step at a time and `--out`). Every failure of a run that is not a step's own
//! failure (bad parameters, an unusable store, a missing input file) is a [`RunError`]; a step
//! that fails is recorded with its reason instead and does not abort the whole run.

use std::fmt;

/// The codes of run errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunCode {
    /// `--param` names no parameter of the pipeline.
    UnknownParam,
    /// A `--param` value does not have the parameter's type.
    BadParamValue,
    /// A parameter without default was not given.
    MissingParam,
    /// An input file given as a parameter does not exist or cannot be read.
    MissingInput,
    /// The store folder cannot be created or written.
    StoreUnavailable,
    /// A `--secret` value is malformed or its file cannot be read.
    BadSecret,
    /// The plan cannot be run locally (e.g. a built-in step this build lacks).
    Unrunnable,
    /// A run folder or record could not be read (`flowc runs`).
    BadRunFolder,
    /// A step needs a secret the run was not given (the step fails before it starts).
    MissingSecret,
    /// The interpreter that runs Python steps is not found or cannot start.
    PythonNotFound,
    /// The interpreter cannot run Python steps (it lacks pyarrow, or is older than 3.9).
    PythonUnusable,
    /// A step needs a config the run was not given (the step fails before it starts).
    MissingConfig,
    /// A `--config` value names no config of the pipeline, or its file cannot be read.
    BadConfig,
    /// `--step` names no task of the entry pipeline (or a step several tasks call).
    UnknownTask,
    /// `--inputs-from` names no run of the store, or one that recorded no outputs.
    BadInputsFrom,
    /// `--step` without `--upstream`: a task before it has its outputs neither in the
    /// `--inputs-from` run nor in the cache.
    NotReusable,
    /// `--out`: the folder cannot be written, or holds files flowc did not place there.
    BadOutFolder,
    /// The folder that stands for a volume on this machine cannot be made.
    VolumeFolder,
    /// `--secret`/`--config` gives a file for a whole Secret or ConfigMap (declared without
    /// `key`), which needs a folder, or a folder for one key, which needs a file.
    WrongSecretKind,
    /// `flowc replay`: the file is not a workflow's status (`argo get NAME -o json`).
    NotWorkflowStatus,
    /// `flowc replay`: the workflow ran no such step, or ran it several times (a loop).
    UnknownReplayStep,
    /// `flowc replay`: the status lacks what the step needs (its template, the artifact
    /// repository, a parameter's value), or an input is not in the repository.
    Unreplayable,
    /// The object store's endpoint did not answer in time (or refused the connection).
    StoreUnreachable,
    /// The object store refused the credentials (unknown key, bad signature, access denied).
    StoreCredentials,
    /// The object store has no such bucket.
    StoreNoBucket,
    /// A store URL that is not `s3://BUCKET[/PREFIX]`.
    StoreUrl,
    /// Another failure of a request to the object store.
    StoreTransfer,
}

impl RunCode {
    /// The code as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            RunCode::UnknownParam => "R001",
            RunCode::BadParamValue => "R002",
            RunCode::MissingParam => "R003",
            RunCode::MissingInput => "R004",
            RunCode::StoreUnavailable => "R005",
            RunCode::BadSecret => "R006",
            RunCode::Unrunnable => "R007",
            RunCode::BadRunFolder => "R008",
            RunCode::MissingSecret => "R009",
            RunCode::PythonNotFound => "R025",
            RunCode::PythonUnusable => "R026",
            RunCode::StoreUnreachable => "R020",
            RunCode::StoreCredentials => "R021",
            RunCode::StoreNoBucket => "R022",
            RunCode::StoreUrl => "R023",
            RunCode::StoreTransfer => "R024",
            RunCode::MissingConfig => "R030",
            RunCode::BadConfig => "R031",
            RunCode::UnknownTask => "R032",
            RunCode::BadInputsFrom => "R033",
            RunCode::NotReusable => "R034",
            RunCode::BadOutFolder => "R035",
            RunCode::VolumeFolder => "R036",
            RunCode::WrongSecretKind => "R040",
            RunCode::NotWorkflowStatus => "R043",
            RunCode::UnknownReplayStep => "R044",
            RunCode::Unreplayable => "R045",
        }
    }
}

/// A failure that prevents a run from starting or continuing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunError {
    /// The stable code.
    pub code: RunCode,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl RunError {
    /// A new error.
    pub fn new(code: RunCode, message: impl Into<String>) -> RunError {
        RunError {
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> RunError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code.as_str(), self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RunError {}
