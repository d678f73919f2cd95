//! Constructors of the diagnostics about operations (`E4xx`): resources, secrets, retries,
//! scheduling.

use flowc_grammar::Span;

use super::{Code, Diagnostic};
use crate::source::FileId;
use crate::suggest::did_you_mean;
use crate::units::UnitError;

/// Why a cron expression is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CronProblem {
    /// Argo cannot parse it; why, as the end of a sentence.
    Malformed(String),
    /// Every field is valid, but no date matches them all.
    NeverFires,
}

/// E406: a pipeline's second `schedule`.
pub(crate) fn second_schedule(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateProperty,
        "a pipeline has one `schedule`",
        file,
        span,
        "second `schedule`",
    )
    .with_help("keep one schedule; deploy the pipeline twice for two schedules")
}

/// E406: a pipeline's second `parallel` statement.
pub(crate) fn second_parallel(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateProperty,
        "a pipeline has one `parallel` limit",
        file,
        span,
        "second `parallel`",
    )
    .with_help("keep one `parallel N`")
}

/// E411: a `concurrency` policy of a schedule that does not exist; `policies` are those that do.
pub(crate) fn invalid_concurrency(
    file: FileId,
    span: Span,
    policy: &str,
    policies: &[&str],
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidSchedule,
        format!("`{policy}` is not a concurrency policy"),
        file,
        span,
        "unknown policy",
    )
    .with_help(format!(
        "write one of {} (what a start does while the previous run is still running)",
        policies
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// E411: another option of a `schedule { ... }` block that is not valid (`why` says how).
pub(crate) fn invalid_schedule_option(file: FileId, span: Span, why: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidSchedule,
        why.to_string(),
        file,
        span,
        "invalid schedule option",
    )
    .with_help("see `flowc explain E411` for the options of a schedule")
}

/// E411: a `schedule`'s cron expression that Argo cannot read, or that never fires.
pub(crate) fn invalid_cron(
    file: FileId,
    span: Span,
    cron: &str,
    problem: &CronProblem,
) -> Diagnostic {
    match problem {
        CronProblem::Malformed(why) => Diagnostic::new(
            Code::InvalidSchedule,
            format!("`{cron}` is not a valid cron schedule: {why}"),
            file,
            span,
            "invalid cron expression",
        )
        .with_help("write five fields: minute hour day-of-month month day-of-week, as in `\"0 6 * * *\"`"),
        CronProblem::NeverFires => Diagnostic::new(
            Code::InvalidSchedule,
            format!("`{cron}` never fires: no date matches all of its fields"),
            file,
            span,
            "never fires",
        )
        .with_help("check the day of month against the month (February has no 30th or 31st; April, June, September and November no 31st)"),
    }
}

/// E411: a `schedule`'s time zone that is not in the IANA time zone database.
pub(crate) fn unknown_time_zone(file: FileId, span: Span, tz: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidSchedule,
        format!("`{tz}` is not an IANA time zone"),
        file,
        span,
        "unknown time zone",
    )
    .with_help("write a zone such as `\"Europe/Paris\"` or `\"UTC\"`")
}

/// E407: `defaults` or `schedule` inside an `if` or `for`.
pub(crate) fn misplaced_pipeline_statement(file: FileId, span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::MisplacedProperty,
        format!("`{what}` must be at the top level of the pipeline"),
        file,
        span,
        "inside an `if` or `for`",
    )
    .with_help(format!("move `{what}` out of the `if` or `for` block"))
}

/// E406: a pipeline's second `defaults` block.
pub(crate) fn second_defaults(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateProperty,
        "a pipeline has one `defaults` block",
        file,
        span,
        "second `defaults`",
    )
    .with_help("merge the blocks into one")
}

/// E412: `parallel 0`.
pub(crate) fn parallel_below_one(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidRetries,
        "`parallel` must be at least 1",
        file,
        span,
        "parallelism",
    )
    .with_help("write `parallel 4`, or omit it for no limit")
}

/// E415: a secret used as a pipeline value.
pub(crate) fn secret_as_value(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(Code::SecretLeak, format!("secret `{}` cannot be used as a value", name), file, span, "its value would be passed in the clear")
                        .with_help(format!("pipeline values end up in the emitted YAML and in logs; give the step `mount {} at \"/path\"` or `env VAR = {}` instead", name, name))
}

/// E414: a Kubernetes Secret name that is not a DNS-1123 subdomain.
pub(crate) fn invalid_secret_name(
    file: FileId,
    span: Span,
    name: &str,
    object: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidMount,
        format!("`{}` is not a valid Kubernetes {object} name", name),
        file,
        span,
        "not a DNS-1123 subdomain",
    )
    .with_help(
        "use lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit",
    )
}

/// E414: a Secret key with characters a key cannot have.
pub(crate) fn invalid_secret_key(file: FileId, span: Span, key: &str, object: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidMount,
        format!("`{}` is not a valid {object} key", key),
        file,
        span,
        "keys use letters, digits, `-`, `_` and `.`",
    )
    .with_help(format!(
        "use the key exactly as it appears in the Kubernetes {object}"
    ))
}

/// E413: profiles that use each other in a cycle (`names`, starting with the one reported).
pub(crate) fn profile_cycle(file: FileId, span: Span, names: &[String]) -> Diagnostic {
    Diagnostic::new(
        Code::ProfileCycle,
        format!("profile `{}` uses itself", names[0]),
        file,
        span,
        "this `use` closes the cycle",
    )
    .with_note(format!("the cycle: {} → {}", names.join(" → "), names[0]))
    .with_help("remove one `use` of the cycle")
}

/// E408: a container step without `image` or `run` (`missing`).
pub(crate) fn missing_image(file: FileId, span: Span, step: &str, missing: &[&str]) -> Diagnostic {
    Diagnostic::new(
        Code::MissingImage,
        format!(
            "container step `{}` has no `{}`",
            step,
            missing.join("` and no `")
        ),
        file,
        span,
        "a container step needs an image and a command",
    )
    .with_help(
        "add `image \"registry/name:tag\"` and `run [\"command\", \"arg\"]` (or `python \"module:function\"`) to the step's body",
    )
}

/// E417: `python "..."` that is not `module:function`.
pub(crate) fn invalid_python_function(
    file: FileId,
    span: Span,
    text: &str,
    why: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidPythonFunction,
        format!("`{text}` is not a Python function reference: {why}"),
        file,
        span,
        "expected `package.module:function`",
    )
    .with_help("name the module as `import` would and the function defined in it at the top level, such as `python \"etl.cleaning:clean_panel\"`")
}

/// E418: a step with both `run` and `python`.
pub(crate) fn run_and_python(file: FileId, python: Span, run: Span) -> Diagnostic {
    Diagnostic::new(
        Code::RunAndPython,
        "a step has both a `run` command and a `python` function",
        file,
        python,
        "the step calls this function",
    )
    .with_label(file, run, "and runs this command")
    .with_help("keep `python` to call the function through flowc's runtime, or `run` to run a command of your own")
}

/// E406: a property set twice.
pub(crate) fn property_set_twice(file: FileId, span: Span, first: Span, kw: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateProperty,
        format!("`{kw}` is set twice"),
        file,
        span,
        "set again here",
    )
    .with_label(file, first, "first set here")
    .with_help(format!("keep one `{kw}`"))
}

/// E407: a property not allowed in `where_` (a step, a profile, `defaults`).
pub(crate) fn misplaced_property(
    file: FileId,
    span: Span,
    kw: &str,
    where_: &str,
    help: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::MisplacedProperty,
        format!("`{kw}` is not allowed in {where_}"),
        file,
        span,
        "not allowed here",
    )
    .with_help(help)
}

/// E408: `image ""`.
pub(crate) fn empty_image(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::MissingImage,
        "the image name is empty",
        file,
        span,
        "empty image",
    )
    .with_help("write the image as `registry/name:tag`")
}

/// Why an `image` is not a valid image reference.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ImageProblem {
    /// It has `${...}`: build-time values in images are not supported yet.
    BuildTimeValue,
    /// It breaks the reference grammar; why, as a sentence without its final stop.
    Malformed(String),
}

/// E416: an `image` that is not a valid OCI image reference.
pub(crate) fn invalid_image(
    file: FileId,
    span: Span,
    image: &str,
    problem: ImageProblem,
) -> Diagnostic {
    match problem {
        ImageProblem::BuildTimeValue => Diagnostic::new(
            Code::InvalidImage,
            format!("image `{image}` reads a run-time value; an image must be known when the pipeline is built"),
            file,
            span,
            "`${...}` in an image",
        )
        .with_help("write the image reference literally, such as `registry.example.com/etl:1.4.2`, or read a build variable given when the pipeline is built (`${build.image_tag}`): a step's parameters are not known when the pod is created"),
        ImageProblem::Malformed(why) => Diagnostic::new(
            Code::InvalidImage,
            format!("`{image}` is not a valid image reference: {why}"),
            file,
            span,
            "not an image reference",
        )
        .with_help("write `[registry[:port]/]name[:tag][@sha256:digest]` with a lower-case name, such as `ghcr.io/acme/etl:1.4.2`"),
    }
}

/// E403: `cache ttl 0`.
pub(crate) fn zero_cache_ttl(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidDuration,
        "a cache ttl must be longer than zero",
        file,
        span,
        "zero ttl",
    )
    .with_help("write `cache off` to disable caching")
}

/// E412: a retry count above 100.
pub(crate) fn retries_out_of_range(
    file: FileId,
    span: Span,
    count: impl std::fmt::Display,
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidRetries,
        format!("{} retries is out of range", count),
        file,
        span,
        "expected 0 to 100",
    )
    .with_help("retry a step at most 100 times")
}

/// E412: a backoff factor outside 1 to 10.
pub(crate) fn backoff_factor_out_of_range(
    file: FileId,
    span: Span,
    f: impl std::fmt::Display,
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidRetries,
        format!("backoff factor {f} is out of range"),
        file,
        span,
        "expected 1 to 10",
    )
    .with_help("use a factor such as 2")
}

/// E412: a longest backoff shorter than the first.
pub(crate) fn backoff_max_below_initial(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidRetries,
        "the longest backoff is shorter than the first one",
        file,
        span,
        "shorter than the initial delay",
    )
    .with_help("make `max` at least the initial delay")
}

/// E403: `retries N within 0s`.
pub(crate) fn zero_retry_window(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidDuration,
        "the time retries may take must be longer than zero",
        file,
        span,
        "zero duration",
    )
    .with_help("remove `within` to retry however long the attempts take, or give a duration")
}

/// E403: a timeout of zero.
pub(crate) fn zero_timeout(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidDuration,
        "a timeout must be longer than zero",
        file,
        span,
        "zero timeout",
    )
    .with_help("remove the timeout to let the step run as long as it needs")
}

/// E409: an environment variable that the runners set.
pub(crate) fn reserved_env_name(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
                                Code::InvalidEnvName,
                                format!("environment variable `{}` is reserved", name),
                                file,
                                span,
                                "set by flowc or the cluster",
                            )
                            .with_help("`FLOWC_*`, `ARGO_*`, `KFP_*`, `PATH`, `HOME` and `HOSTNAME` are set by the runners; choose another name")
}

/// E406: a key of a block set twice: `what` is "`cpu`" for a resource, "environment variable
/// `NAME`" for `env`.
pub(crate) fn value_set_twice(file: FileId, span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateProperty,
        format!("{what} is set twice"),
        file,
        span,
        "set again here",
    )
    .with_help("keep one value")
}

/// E414: a secret mounted at a relative path.
pub(crate) fn mount_path_not_absolute(file: FileId, span: Span, path: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidMount,
        format!("`{}` is not an absolute file path", path),
        file,
        span,
        "mount path",
    )
    .with_help("mount a secret at an absolute file path such as `/etc/creds/token`")
}

/// E410: a node selector label that Kubernetes refuses.
pub(crate) fn invalid_node_label(file: FileId, span: Span, key: &str, value: &str) -> Diagnostic {
    Diagnostic::new(Code::InvalidScheduling, format!("`{}: {}` is not a valid node label", key, value), file, span, "invalid label").with_help("label keys are `[prefix/]name` and values at most 63 characters of letters, digits, `-`, `_` and `.`")
}

/// E410: a node selector value that is not a string.
pub(crate) fn node_label_not_string(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidScheduling,
        "node selector values are strings",
        file,
        span,
        "not a string",
    )
    .with_help("quote the label value")
}

/// E401-E403 (`code`): a memory, CPU or duration quantity that cannot be read.
pub(crate) fn invalid_quantity(code: Code, file: FileId, span: Span, e: UnitError) -> Diagnostic {
    Diagnostic::new(code, e.message, file, span, "invalid quantity").with_help(e.help)
}

/// E408: `run []`.
pub(crate) fn empty_run(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::MissingImage,
        "`run` has no command",
        file,
        span,
        "empty list",
    )
    .with_help("give the program to run first, then its arguments")
}

/// E415: a secret in a step's command line.
pub(crate) fn secret_in_command(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(Code::SecretLeak, format!("secret `{name}` would appear in the step's command line"), file, span, "secret value in a command")
                        .with_help(format!("command lines are logged and visible in the cluster; use `mount {name} at \"/path\"` or `env VAR = {name}` and read it inside the step"))
}

/// E405: a key of `auto(...)` other than `min` and `max`.
pub(crate) fn unknown_auto_bound(file: FileId, span: Span, other: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownResource,
        format!("`{other}` is not a bound of `auto`"),
        file,
        span,
        "unknown bound",
    )
    .with_help_opt(
        did_you_mean(other, ["min", "max"]).or(Some("write `auto(min: {...}, max: {...})`".into())),
    )
}

/// E404: an `auto` lower bound above its upper bound.
pub(crate) fn auto_min_above_max(file: FileId, span: Span, k: &str) -> Diagnostic {
    Diagnostic::new(
        Code::RequestAboveLimit,
        format!("the lower bound of `{k}` is above its upper bound"),
        file,
        span,
        "min > max",
    )
    .with_help(format!("make `min.{k}` at most `max.{k}`"))
}

/// E405: a `gpu` count that is not a whole number from 0 to 64.
pub(crate) fn gpu_not_whole(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownResource,
        "`gpu` is a whole number of GPUs",
        file,
        span,
        "expected 0 to 64",
    )
    .with_help("GPUs are not shared: write `gpu: 1`")
}

/// E405: a `gpu_type` that is not a string.
pub(crate) fn gpu_type_not_string(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownResource,
        "`gpu_type` is a string",
        file,
        span,
        "expected a string",
    )
    .with_help("write a type such as `\"nvidia-tesla-t4\"`")
}

/// E405: a key of `resources` that is none of `keys`.
pub(crate) fn unknown_resource(file: FileId, span: Span, other: &str, keys: &[&str]) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownResource,
        format!("`{other}` is not a resource"),
        file,
        span,
        "unknown resource",
    )
    .with_help_opt(did_you_mean(other, keys.iter().copied()))
    .with_note(format!("resources are: {}", keys.join(", ")))
}

/// E405: `gpu_type` without `gpu`.
pub(crate) fn gpu_type_without_gpu(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownResource,
        "`gpu_type` is set without `gpu`",
        file,
        span,
        "no GPU count",
    )
    .with_help("add `gpu: 1`")
}

/// E404: a resource request above its limit.
pub(crate) fn request_above_limit(file: FileId, span: Span, k: &str) -> Diagnostic {
    Diagnostic::new(
        Code::RequestAboveLimit,
        format!("the `{k}` request is above its limit"),
        file,
        span,
        format!("`{k}` > `{k}_limit`"),
    )
    .with_help(format!(
        "Kubernetes rejects such pods: make `{k}` at most `{k}_limit`"
    ))
}

/// E410: a toleration field that is none of `keys`.
pub(crate) fn unknown_toleration_field(
    file: FileId,
    span: Span,
    key: &str,
    keys: &[&str],
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidScheduling,
        format!("`{key}` is not a field of a toleration"),
        file,
        span,
        "unknown field",
    )
    .with_help_opt(did_you_mean(key, keys.iter().copied()))
}

/// E410: a toleration field that is not a string.
pub(crate) fn toleration_not_string(file: FileId, span: Span, key: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidScheduling,
        format!("toleration `{key}` must be a string"),
        file,
        span,
        "not a string",
    )
    .with_help("quote the value")
}

/// E410: a toleration `key` whose value is none of `allowed`.
pub(crate) fn invalid_toleration_value(
    file: FileId,
    span: Span,
    key: &str,
    value: &str,
    allowed: &[&str],
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidScheduling,
        format!("`{value}` is not a valid toleration {key}"),
        file,
        span,
        format!("expected {}", allowed.join(" or ")),
    )
    .with_help_opt(did_you_mean(value, allowed.iter().copied()))
}

/// E410: a toleration with operator `Exists` and a `value`.
pub(crate) fn toleration_exists_with_value(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidScheduling,
        "a toleration with operator `Exists` takes no `value`",
        file,
        span,
        "value with Exists",
    )
    .with_help("remove `value`, or use operator `Equal`")
}

/// E410: a toleration without `key` and with operator `Equal`.
pub(crate) fn toleration_without_key(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidScheduling,
        "a toleration without `key` must use operator `Exists`",
        file,
        span,
        "missing key",
    )
    .with_help("add `key: \"nvidia.com/gpu\"` or `operator: \"Exists\"`")
}

/// E427: `${build.name}` in a file that declares no build variable `name`.
pub(crate) fn unknown_build_variable(
    file: FileId,
    span: Span,
    name: &str,
    declared: &[&str],
) -> Diagnostic {
    let help = did_you_mean(name, declared.iter().copied()).unwrap_or_else(|| {
        format!("declare it in this file: `build {name}: Str = \"...\"`, and give it with `flowc build --set {name}=...`")
    });
    Diagnostic::new(
        Code::UnknownBuildVariable,
        format!("this file declares no build variable `{name}`"),
        file,
        span,
        "not declared",
    )
    .with_help(help)
}

/// E428: a build variable of a type that is not `Str`, `Int`, `Float` or `Bool`.
pub(crate) fn build_variable_type(file: FileId, span: Span, ty: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidBuildVariable,
        format!("a build variable cannot be of type `{ty}`"),
        file,
        span,
        "not `Str`, `Int`, `Float` or `Bool`",
    )
    .with_help("declare it `Str`, `Int`, `Float` or `Bool`: a build value is text given on the command line")
}

/// E428: a build variable's default that is not a literal of its type.
pub(crate) fn build_variable_default(file: FileId, span: Span, name: &str, ty: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidBuildVariable,
        format!("the default of build variable `{name}` must be a literal of type `{ty}`"),
        file,
        span,
        "not a literal of the variable's type",
    )
    .with_help("write a literal such as `\"dev\"`, `3`, `0.5` or `true`, without `${...}`")
}

/// E428: two declarations of one build variable that disagree.
pub(crate) fn build_variable_conflict(
    file: FileId,
    span: Span,
    first: (FileId, Span),
    name: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidBuildVariable,
        format!("build variable `{name}` is declared again with another type or default"),
        file,
        span,
        "declared again here",
    )
    .with_label(first.0, first.1, "first declared here")
    .with_help("one `--set` gives every declaration of a name: declare it with the same type and default everywhere, or rename one")
}

/// E429: `${build.name}` in a string where build values are not put.
pub(crate) fn misplaced_build_variable(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::MisplacedBuildVariable,
        format!("build variable `{name}` cannot be read here"),
        file,
        span,
        "not replaced by its value here",
    )
    .with_help("read build variables in `image`, in `run`, in `env` values and in the strings of a pipeline's expressions")
}

/// E430: a build variable with no default that `--set` does not give.
pub(crate) fn missing_build_value(file: FileId, span: Span, name: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidBuildValue,
        format!("build variable `{name}` has no value"),
        file,
        span,
        "declared without a default",
    )
    .with_help(format!(
        "give it: `--set {name}=VALUE`, or declare a default"
    ))
}

/// E430: a `--set` value that is not of its variable's type.
pub(crate) fn build_value_type(
    file: FileId,
    span: Span,
    name: &str,
    value: &str,
    ty: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidBuildValue,
        format!("`--set {name}={value}`: the value is not of type `{ty}`"),
        file,
        span,
        "declared here",
    )
    .with_help(match ty {
        "Int" => "give a whole number, such as `--set NAME=3`",
        "Float" => "give a number, such as `--set NAME=0.5`",
        "Bool" => "give `true` or `false`",
        _ => "give the value as text",
    })
}

/// E431: a `volume` declaration Kubernetes would refuse (`message` says what, `label` marks the
/// place, `help` says how to fix it).
pub(crate) fn invalid_volume(
    file: FileId,
    span: Span,
    message: String,
    label: &str,
    help: &str,
) -> Diagnostic {
    Diagnostic::new(Code::InvalidVolume, message, file, span, label).with_help(help)
}

/// E437: a whole Secret or ConfigMap (no `key`) as the value of an environment variable.
pub(crate) fn whole_object_in_env(
    file: FileId,
    span: Span,
    name: &str,
    keyword: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::WholeObjectAsValue,
        format!(
            "{keyword} `{name}` names a whole object, which has no single value for a variable"
        ),
        file,
        span,
        "a directory of files, one per key",
    )
    .with_help(format!(
        "mount it as a directory (`mount {name} at \"/etc/{name}\"`), or declare a {keyword} with \
         the key the variable needs (`key: \"...\"`)"
    ))
}

/// E438: `${f}` in a string where the call `f` has several outputs.
pub(crate) fn ambiguous_interpolation(
    file: FileId,
    span: Span,
    name: &str,
    outputs: &[String],
) -> Diagnostic {
    let first = outputs.first().map_or("out", String::as_str);
    Diagnostic::new(
        Code::AmbiguousInterpolation,
        format!(
            "`${{{name}}}` does not say which output of `{name}` to put in the string: it has {}",
            outputs
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        file,
        span,
        "a call with several outputs",
    )
    .with_help(format!("name the output: `${{{name}.{first}}}`"))
}

/// E439: an entry pipeline uses a secret named by a parameter it does not declare as `Str`.
pub(crate) fn secret_name_param_missing(
    file: FileId,
    span: Span,
    pipeline: &str,
    secret: &str,
    param: &str,
    found: Option<&str>,
) -> Diagnostic {
    let label = match found {
        Some(ty) => format!("`{param}` is {ty} here, not Str"),
        None => format!("no parameter `{param}`"),
    };
    Diagnostic::new(
        Code::SecretNameParamMissing,
        format!(
            "pipeline `{pipeline}` uses secret `{secret}`, whose Kubernetes name is its parameter \
             `{param}`, but does not declare `{param}: Str`"
        ),
        file,
        span,
        label,
    )
    .with_help(format!(
        "declare the parameter, `pipeline {pipeline}({param}: Str, ...)`, so that each run names \
         the Secret"
    ))
}
