//! The table of diagnostic codes: the single place where codes are defined.
//!
//! Codes are stable: once published, a code keeps its meaning forever and is never reused.
//! The first digit is the phase that reports it (`E0xx` syntax, `E1xx` names and imports,
//! `E2xx` types, `E3xx` the step graph, `E4xx` operations such as resources and secrets,
//! `E5xx` targets, `W0xx` warnings), and `P0xx` checks of Python steps against their
//! functions' source (made outside the compiler core, by the `flowc-pycheck` crate), and `I0xx`/`IW0xx` problems of
//! Kubeflow files (made by the `flowc-import` crate, for `flowc import kfp` and `import kfp "FILE"`). Every code has an explanation in `explain/CODE.md`
//! (What it means / Why it is an error / Example / How to fix), printed by `flowc explain`.

use super::Severity;

/// The phase of the compiler that reports a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading and parsing files.
    Syntax,
    /// Imports and name resolution.
    Names,
    /// Types, arguments and schemas.
    Types,
    /// The step graph.
    Graph,
    /// Resources, secrets, caching, retries, scheduling.
    Operations,
    /// What a build target can express.
    Target,
    /// A Python step against its function's source.
    Python,
    /// A foreign file an importer reads (`flowc import kfp`, `import kfp "FILE" (...)`).
    Import,
    /// Likely mistakes that do not stop a build.
    Lint,
}

macro_rules! codes {
    ($( $variant:ident = ($id:literal, $name:literal, $phase:ident, $sev:ident, $summary:literal); )*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $summary]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as written, such as `"E203"`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $id),* }
            }

            /// A short kebab-case name, such as `"missing-column"`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name),* }
            }

            /// The phase that reports it.
            pub fn phase(self) -> Phase {
                match self { $(Code::$variant => Phase::$phase),* }
            }

            /// Its default severity.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev),* }
            }

            /// A one-line summary.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary),* }
            }

            /// The long explanation in Markdown.
            pub fn explanation(self) -> &'static str {
                match self { $(Code::$variant => include_str!(concat!("explain/", $id, ".md"))),* }
            }
        }
    };
}

codes! {
    UnexpectedToken = ("E001", "unexpected-token", Syntax, Error, "A token that does not fit where it stands.");
    UnclosedDelimiter = ("E002", "unclosed-delimiter", Syntax, Error, "An opening bracket or brace is never closed.");
    UnmatchedDelimiter = ("E003", "unmatched-delimiter", Syntax, Error, "A closing bracket or brace has no matching opening one.");
    Unterminated = ("E004", "unterminated-literal", Syntax, Error, "A string or block comment has no end.");
    NestingTooDeep = ("E005", "nesting-too-deep", Syntax, Error, "Brackets are nested deeper than the parser accepts.");
    NumberOutOfRange = ("E006", "number-out-of-range", Syntax, Error, "A number literal does not fit.");
    InvalidUtf8 = ("E007", "invalid-utf8", Syntax, Error, "A source file is not valid UTF-8 text.");
    UnreadableFile = ("E008", "unreadable-file", Syntax, Error, "A file named on the command line cannot be read.");
    InvalidLockFile = ("E009", "invalid-lock-file", Syntax, Error, "The lock file of tuned resources cannot be read or used.");
    UnknownStep = ("E101", "unknown-step", Names, Error, "A call names a step or pipeline that does not exist.");
    UnknownType = ("E102", "unknown-type", Names, Error, "A type or schema name does not exist.");
    UnknownProfile = ("E103", "unknown-profile", Names, Error, "`use` names a profile that does not exist.");
    UnknownSecret = ("E104", "unknown-secret", Names, Error, "A secret reference names no declared secret.");
    UnknownName = ("E105", "unknown-name", Names, Error, "An expression or interpolation names nothing in scope.");
    DuplicateDeclaration = ("E106", "duplicate-declaration", Names, Error, "Two declarations in one module have the same name.");
    ImportNotFound = ("E107", "import-not-found", Names, Error, "An imported file cannot be read.");
    ImportedNameNotFound = ("E108", "imported-name-not-found", Names, Error, "An imported name is not declared in the imported module.");
    ImportCycle = ("E109", "import-cycle", Names, Error, "Files import each other in a cycle.");
    UnknownStdModule = ("E110", "unknown-std-module", Names, Error, "An import names a standard-library module that does not exist.");
    WrongKind = ("E111", "wrong-kind", Names, Error, "A name refers to a declaration of another kind than the place requires.");
    DuplicateBinding = ("E112", "duplicate-binding", Names, Error, "A pipeline binds the same name twice.");
    BuiltinOutsideStd = ("E113", "builtin-outside-std", Names, Error, "`builtin step` is declared outside the standard library.");
    TypeMismatch = ("E201", "type-mismatch", Types, Error, "A value's type is not the type expected.");
    ArtifactParameterMismatch = ("E202", "artifact-parameter-mismatch", Types, Error, "An artifact is given where a parameter value is expected, or the reverse.");
    MissingColumn = ("E203", "missing-column", Types, Error, "A table lacks a column its consumer requires.");
    ColumnTypeMismatch = ("E204", "column-type-mismatch", Types, Error, "A column has another type than its consumer requires.");
    NullableColumn = ("E205", "nullable-column", Types, Error, "A nullable column flows where a non-null one is required.");
    UnknownArgument = ("E206", "unknown-argument", Types, Error, "A call passes an argument the step does not take.");
    MissingArgument = ("E207", "missing-argument", Types, Error, "A call omits a required argument.");
    DuplicateArgument = ("E208", "duplicate-argument", Types, Error, "A call passes the same argument twice.");
    UnknownColumn = ("E209", "unknown-column", Types, Error, "A column name is not a column of the table.");
    CannotInferSchema = ("E210", "cannot-infer-schema", Types, Error, "An output's schema cannot be inferred from the inputs.");
    UnknownMember = ("E211", "unknown-member", Types, Error, "`x.name` names no output of the call or key of the metrics.");
    InvalidDefault = ("E212", "invalid-default", Types, Error, "A parameter's default value does not have the parameter's type.");
    InvalidColumnType = ("E213", "invalid-column-type", Types, Error, "A schema column has a type that is not a scalar.");
    SchemaConflict = ("E214", "schema-conflict", Types, Error, "An extended schema redefines a column with another type.");
    InvalidDate = ("E215", "invalid-date", Types, Error, "A date is not a valid `YYYY-MM-DD` date.");
    NotBool = ("E216", "not-bool", Types, Error, "A condition or check is not a `Bool` expression.");
    NotAList = ("E217", "not-a-list", Types, Error, "`for` iterates over something that is not a list.");
    InvalidOperands = ("E218", "invalid-operands", Types, Error, "An operator is applied to values of types it does not accept.");
    UnknownFunction = ("E219", "unknown-function", Types, Error, "An expression calls a function flowc does not have.");
    InvalidFunctionArguments = ("E220", "invalid-function-arguments", Types, Error, "A built-in function is given the wrong number of arguments, or an argument of a type it does not take.");
    StepCycle = ("E301", "step-cycle", Graph, Error, "Steps depend on each other in a cycle.");
    RecursivePipeline = ("E302", "recursive-pipeline", Graph, Error, "A pipeline calls itself, directly or through other pipelines.");
    InvalidAfter = ("E303", "invalid-after", Graph, Error, "`after` names something that is not a step call of the pipeline.");
    EmptyBody = ("E304", "empty-body", Graph, Error, "A pipeline, a `for` loop or an `if` has nothing to run.");
    InvalidMemory = ("E401", "invalid-memory", Operations, Error, "A memory quantity has a missing or wrong unit.");
    InvalidCpu = ("E402", "invalid-cpu", Operations, Error, "A CPU quantity is not cores or millicores.");
    InvalidDuration = ("E403", "invalid-duration", Operations, Error, "A duration has a missing or wrong unit.");
    RequestAboveLimit = ("E404", "request-above-limit", Operations, Error, "A resource request exceeds its limit, or a lower bound exceeds the upper.");
    UnknownResource = ("E405", "unknown-resource", Operations, Error, "A resources record has a key flowc does not know.");
    DuplicateProperty = ("E406", "duplicate-property", Operations, Error, "A property is set twice in one body.");
    MisplacedProperty = ("E407", "misplaced-property", Operations, Error, "A property or statement is not allowed where it is written.");
    MissingImage = ("E408", "missing-image", Operations, Error, "A container step has no `image` or no `run`.");
    InvalidEnvName = ("E409", "invalid-env-name", Operations, Error, "An environment variable name is not a valid identifier.");
    InvalidScheduling = ("E410", "invalid-scheduling", Operations, Error, "A node selector or toleration is malformed.");
    InvalidSchedule = ("E411", "invalid-schedule", Operations, Error, "A `schedule` is not a valid cron expression or time zone.");
    InvalidRetries = ("E412", "invalid-retries", Operations, Error, "Retries or their backoff are out of range.");
    ProfileCycle = ("E413", "profile-cycle", Operations, Error, "Profiles use each other in a cycle.");
    InvalidMount = ("E414", "invalid-mount", Operations, Error, "A secret mount path is not an absolute path.");
    SecretLeak = ("E415", "secret-leak", Operations, Error, "A secret is used where its value would appear in the output.");
    InvalidImage = ("E416", "invalid-image", Operations, Error, "An image is not a valid OCI image reference.");
    InvalidPythonFunction = ("E417", "invalid-python-function", Operations, Error, "A step's `python` is not a `module:function` reference.");
    RunAndPython = ("E418", "run-and-python", Operations, Error, "A step has both a `run` command and a `python` function.");
    ForeignFileUnreadable = ("E419", "foreign-file-unreadable", Operations, Error, "The file of a foreign import (`import kfp \"FILE\"`) cannot be read.");
    ForeignNameNotFound = ("E420", "foreign-name-not-found", Operations, Error, "A foreign import names something its file does not declare.");
    ForeignNotImportable = ("E421", "foreign-not-importable", Operations, Error, "A foreign file is read but cannot be imported as a module, such as a graph component.");
    UnknownImportKind = ("E422", "unknown-import-kind", Operations, Error, "An import names a kind of foreign file flowc cannot read here.");
    UnknownBuildVariable = ("E427", "unknown-build-variable", Operations, Error, "A string reads `${build.name}`, but its file declares no build variable `name`.");
    InvalidBuildVariable = ("E428", "invalid-build-variable", Operations, Error, "A `build` declaration has a type other than `Str`, `Int`, `Float` or `Bool`, a default of another type, or contradicts another declaration of the same name.");
    MisplacedBuildVariable = ("E429", "misplaced-build-variable", Operations, Error, "A build variable is read in a string where flowc does not put build values.");
    InvalidBuildValue = ("E430", "invalid-build-value", Operations, Error, "A value given with `--set` is missing, not of its variable's type, or names no build variable.");
    InvalidVolume = ("E431", "invalid-volume", Operations, Error, "A `volume` declaration names no valid claim, or sets a size, storage class or access mode Kubernetes refuses.");
    LocalPathOnCluster = ("E432", "local-path-on-cluster", Operations, Error, "A standard-library I/O step reads or writes a relative local path, which a cluster target would put on the pod's throw-away disk.");
    UnknownRecordField = ("E433", "unknown-record-field", Operations, Error, "A field read `x.f` names no field of the record `x`.");
    RecordFieldsDisagree = ("E434", "record-fields-disagree", Operations, Error, "The records of a literal list, or a record and the record type it is given to, do not have the same fields.");
    InvalidRecordType = ("E435", "invalid-record-type", Operations, Error, "A record type or record value names a field twice or has a field of an artifact type, or a step or pipeline output is a record.");
    RecordOfRunTimeValues = ("E436", "record-of-run-time-values", Operations, Error, "A record value holds a name or an interpolation: record values are written with literal fields.");
    WholeObjectAsValue = ("E437", "whole-object-as-value", Operations, Error, "A whole Secret or ConfigMap (declared without `key`) is used as the value of an environment variable: it is a directory of files, one per key.");
    AmbiguousInterpolation = ("E438", "ambiguous-interpolation", Operations, Error, "A string interpolates a call with several outputs (`${f}`) without naming the output (`${f.out}`).");
    SecretNameParamMissing = ("E439", "secret-name-param-missing", Operations, Error, "A secret whose Kubernetes name is a pipeline parameter (`k8s(param p, ...)`) is used by an entry pipeline that declares no `Str` parameter of that name.");
    UnsupportedByTarget = ("E501", "unsupported-by-target", Target, Error, "The build target cannot express a feature the pipeline uses.");
    InvalidTargetName = ("E502", "invalid-target-name", Target, Error, "A name or version cannot be made valid for the target.");
    TargetLimit = ("E503", "target-limit", Target, Error, "The pipeline exceeds a size limit of the target that flowc cannot work around.");
    TargetApproximation = ("W501", "target-approximation", Target, Warning, "The build target has no field for a setting; the build says what it does instead and goes on.");
    RunTooLarge = ("W503", "run-too-large", Target, Warning, "An Argo workflow fits in Kubernetes, but a run of it is larger than the Argo controller accepts by default.");
    PythonModuleNotFound = ("P001", "python-module-not-found", Python, Error, "A Python step's module is not found in its package, or cannot be parsed.");
    PythonFunctionNotFound = ("P002", "python-function-not-found", Python, Error, "A Python step's module defines no such function.");
    PythonUnknownParameter = ("P003", "python-unknown-parameter", Python, Error, "A step passes a parameter its Python function does not take.");
    PythonMissingParameter = ("P004", "python-missing-parameter", Python, Error, "A Python function has a parameter without default that the step does not give.");
    PythonAnnotationMismatch = ("P005", "python-annotation-mismatch", Python, Error, "A Python parameter's annotation contradicts the step's declared type.");
    PythonSourceUnavailable = ("P006", "python-source-unavailable", Python, Note, "A Python step's source is not found here, so its function is checked only when it runs.");
    KfpNotYaml = ("I001", "not-yaml", Import, Error, "A Kubeflow file is not YAML (a syntax error, or not UTF-8 text).");
    KfpNotKfp = ("I002", "not-kfp", Import, Error, "YAML, but neither a Kubeflow component file nor a compiled pipeline.");
    KfpUnknownPlaceholder = ("I003", "unknown-placeholder", Import, Error, "A component's argument is a mapping that is not a placeholder.");
    KfpUndeclaredName = ("I004", "undeclared-name", Import, Error, "A placeholder names an input or output the component does not declare.");
    KfpDuplicateName = ("I005", "duplicate-name", Import, Error, "Two inputs or outputs have the same name, or a YAML key is written twice.");
    KfpInvalidField = ("I006", "invalid-field", Import, Error, "A field of a Kubeflow file has the wrong shape.");
    KfpRenamed = ("IW001", "renamed", Import, Warning, "A Kubeflow name invalid in `.flow` was renamed.");
    KfpUnknownType = ("IW002", "unknown-type", Import, Warning, "A Kubeflow type name flowc does not know; `Str` or `File` was used.");
    KfpLeftOut = ("IW003", "left-out", Import, Warning, "A Kubeflow setting with no flowc equivalent was left out.");
    KfpApproximated = ("IW004", "approximated", Import, Warning, "A Kubeflow setting was converted, but not exactly.");
    UnusedImport = ("W001", "unused-import", Lint, Warning, "An imported name is never used.");
    UnusedResult = ("W002", "unused-result", Lint, Warning, "A step's result is bound to a name that is never used.");
    UnusedDeclaration = ("W003", "unused-declaration", Lint, Warning, "A step, profile, secret or schema is never used.");
    UnusedParameter = ("W004", "unused-parameter", Lint, Warning, "A pipeline or step parameter is never used.");
    UnpinnedImage = ("W005", "unpinned-image", Lint, Warning, "An image has no tag or the tag `latest`, so runs are not reproducible.");
}

impl Code {
    /// Looks a code up by its text, case-insensitively (`"e203"` works).
    pub fn parse(text: &str) -> Option<Code> {
        let t = text.trim().to_ascii_uppercase();
        Code::ALL.iter().copied().find(|c| c.as_str() == t)
    }

    /// A link to the code's explanation in the documentation.
    pub fn url(self) -> String {
        format!(
            "https://flowc.dev/docs/diagnostics#{}",
            self.as_str().to_ascii_lowercase()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_grouped_by_phase() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
            // The first digit (`IW001` has two letters).
            let digit = &c
                .as_str()
                .trim_start_matches(|ch: char| ch.is_ascii_alphabetic())[..1];
            let expected = match c.phase() {
                Phase::Syntax => "0",
                Phase::Names => "1",
                Phase::Types => "2",
                Phase::Graph => "3",
                Phase::Operations => "4",
                Phase::Target => "5",
                Phase::Lint => "0",
                Phase::Python => "0",
                Phase::Import => "0",
            };
            assert_eq!(digit, expected, "{} is in the wrong range", c.as_str());
            assert_eq!(
                c.as_str().trim_start_matches('I').starts_with('W'),
                c.severity() == Severity::Warning
            );
        }
    }

    #[test]
    fn every_explanation_has_the_four_sections() {
        for c in Code::ALL {
            let text = c.explanation();
            assert!(
                text.starts_with(&format!("# {}", c.as_str())),
                "{} explanation must start with its code",
                c.as_str()
            );
            for section in [
                "## What it means",
                "## Why it is an error",
                "## Example",
                "## How to fix",
            ] {
                let section = if c.severity() != Severity::Error {
                    section.replace("is an error", "is flagged")
                } else {
                    section.to_string()
                };
                assert!(
                    text.contains(&section),
                    "{} explanation lacks `{section}`",
                    c.as_str()
                );
            }
        }
    }
}
