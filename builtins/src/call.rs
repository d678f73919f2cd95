//! Typed access to a call's parameters and artifacts, with the errors `B002` and `B003`.

use std::path::{Path, PathBuf};

use flowc_compiler::plan::TypeRepr;
use flowc_runtime::builtin::{ArtifactArg, BuiltinCall, BuiltinError, OutputArtifact};
use serde_json::Value;

use crate::dates;
use crate::error::{err, BAD_ARTIFACT, BAD_PARAM};

/// A call being run: the call and the step's qualified name for messages.
pub struct Call<'a> {
    /// The call.
    pub call: &'a BuiltinCall,
    /// `module.name`, for messages.
    pub step: String,
}

impl<'a> Call<'a> {
    /// Wraps a call.
    pub fn new(call: &'a BuiltinCall) -> Self {
        Call {
            call,
            step: format!("{}.{}", call.module, call.name),
        }
    }

    /// The raw value of a parameter; `None` when absent or `null`.
    fn raw(&self, name: &str) -> Option<&'a Value> {
        self.call.params.get(name).filter(|v| !v.is_null())
    }

    fn missing(&self, name: &str) -> BuiltinError {
        err(
            BAD_PARAM,
            format!(
                "{}: parameter `{name}` is required but was not given",
                self.step
            ),
        )
    }

    fn wrong(&self, name: &str, expected: &str, v: &Value) -> BuiltinError {
        err(
            BAD_PARAM,
            format!(
                "{}: parameter `{name}` must be {expected}, got {v}",
                self.step
            ),
        )
    }

    /// An optional `Str` parameter.
    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>, BuiltinError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.wrong(name, "a string", v)),
        }
    }

    /// A required `Str` parameter.
    pub fn str(&self, name: &str) -> Result<&'a str, BuiltinError> {
        self.opt_str(name)?.ok_or_else(|| self.missing(name))
    }

    /// A required `Str` parameter naming a file: a relative path is taken from the call's
    /// working folder (the project's), as for container steps.
    pub fn path(&self, name: &str) -> Result<PathBuf, BuiltinError> {
        Ok(self.call.workdir.join(self.str(name)?))
    }

    /// An optional `Int` parameter.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, BuiltinError> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => match v.as_i64() {
                Some(i) => Ok(Some(i)),
                None => Err(self.wrong(name, "an integer", v)),
            },
        }
    }

    /// A required `Int` parameter.
    pub fn int(&self, name: &str) -> Result<i64, BuiltinError> {
        self.opt_int(name)?.ok_or_else(|| self.missing(name))
    }

    /// An optional `Float` parameter (an integer is accepted).
    pub fn opt_float(&self, name: &str) -> Result<Option<f64>, BuiltinError> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) => Ok(Some(x)),
                None => Err(self.wrong(name, "a number", v)),
            },
        }
    }

    /// A required `Float` parameter.
    pub fn float(&self, name: &str) -> Result<f64, BuiltinError> {
        self.opt_float(name)?.ok_or_else(|| self.missing(name))
    }

    /// A `Bool` parameter with a default.
    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, BuiltinError> {
        match self.raw(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(self.wrong(name, "a boolean", v)),
        }
    }

    /// An optional `Date` parameter (`"YYYY-MM-DD"`), as days since 1970-01-01.
    pub fn opt_date(&self, name: &str) -> Result<Option<i32>, BuiltinError> {
        match self.raw(name) {
            None => Ok(None),
            Some(v @ Value::String(s)) => dates::parse(s)
                .map(Some)
                .ok_or_else(|| self.wrong(name, "a date `YYYY-MM-DD`", v)),
            Some(v) => Err(self.wrong(name, "a date `YYYY-MM-DD`", v)),
        }
    }

    /// A required `Date` parameter.
    pub fn date(&self, name: &str) -> Result<i32, BuiltinError> {
        self.opt_date(name)?.ok_or_else(|| self.missing(name))
    }

    /// A `List<Str>` parameter.
    pub fn str_list(&self, name: &str) -> Result<Vec<String>, BuiltinError> {
        match self.raw(name) {
            None => Err(self.missing(name)),
            Some(v @ Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(self.wrong(name, "a list of strings", v)),
                })
                .collect(),
            Some(v) => Err(self.wrong(name, "a list of strings", v)),
        }
    }

    /// A `Columns<T>` parameter: a list of column names.
    pub fn columns(&self, name: &str) -> Result<Vec<String>, BuiltinError> {
        self.str_list(name)
    }

    /// An optional `Column<T>` parameter: one column name (a list of one is accepted).
    pub fn opt_column(&self, name: &str) -> Result<Option<String>, BuiltinError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Array(items)) if items.len() == 1 => match &items[0] {
                Value::String(s) => Ok(Some(s.clone())),
                v => Err(self.wrong(name, "a column name", v)),
            },
            Some(v) => Err(self.wrong(name, "a column name", v)),
        }
    }

    /// A required `Column<T>` parameter.
    pub fn column(&self, name: &str) -> Result<String, BuiltinError> {
        self.opt_column(name)?.ok_or_else(|| self.missing(name))
    }

    /// An input artifact that must be given: its path and declared type.
    pub fn input(&self, name: &str) -> Result<(&'a Path, &'a TypeRepr), BuiltinError> {
        match self.opt_input(name)? {
            Some(x) => Ok(x),
            None => Err(err(
                BAD_ARTIFACT,
                format!(
                    "{}: input `{name}` is required but was not given",
                    self.step
                ),
            )),
        }
    }

    /// An optional input artifact.
    pub fn opt_input(&self, name: &str) -> Result<Option<(&'a Path, &'a TypeRepr)>, BuiltinError> {
        match self.call.inputs.get(name) {
            None => Ok(None),
            Some(a) => match &a.arg {
                ArtifactArg::Absent => Ok(None),
                ArtifactArg::One(p) => Ok(Some((p.as_path(), item_type(&a.ty)))),
                ArtifactArg::Many(_) => Err(err(
                    BAD_ARTIFACT,
                    format!(
                        "{}: input `{name}` must be one artifact, got a list",
                        self.step
                    ),
                )),
            },
        }
    }

    /// A list input (`List<Table<T>>`): the paths and the declared item type.
    pub fn many_inputs(&self, name: &str) -> Result<(Vec<PathBuf>, &'a TypeRepr), BuiltinError> {
        match self.call.inputs.get(name) {
            None => Err(err(
                BAD_ARTIFACT,
                format!(
                    "{}: input `{name}` is required but was not given",
                    self.step
                ),
            )),
            Some(a) => {
                let ty = match &a.ty {
                    TypeRepr::List { item } => item_type(item),
                    other => item_type(other),
                };
                match &a.arg {
                    ArtifactArg::Many(paths) => Ok((paths.clone(), ty)),
                    ArtifactArg::One(p) => Ok((vec![p.clone()], ty)),
                    ArtifactArg::Absent => Ok((Vec::new(), ty)),
                }
            }
        }
    }

    /// An output artifact.
    pub fn output(&self, name: &str) -> Result<&'a OutputArtifact, BuiltinError> {
        self.call.outputs.get(name).ok_or_else(|| {
            err(
                BAD_ARTIFACT,
                format!("{}: output `{name}` is missing from the call", self.step),
            )
        })
    }
}

/// The type inside `T?` (artifacts of optional inputs are declared `Table<T>?`).
fn item_type(ty: &TypeRepr) -> &TypeRepr {
    match ty {
        TypeRepr::Optional { inner } => item_type(inner),
        other => other,
    }
}
