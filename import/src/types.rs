//! Kubeflow types to flowc types.
//!
//! A v1 component input is a value when the command reads it with `inputValue` and a file when
//! it reads it with `inputPath`, whatever its type says; its type name then picks the closest
//! flowc type of that kind. Compiled pipelines (IR) say which is which: `parameterType` for
//! values, `artifactType.schemaTitle` for files.

/// Whether an input is passed by value or as a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `inputValue`, an IR parameter.
    Value,
    /// `inputPath`/`outputPath`, an IR artifact.
    File,
}

/// A flowc type for a Kubeflow type name; `known` is false when the name was not recognised
/// (the closest default was used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The flowc type as written.
    pub ty: String,
    /// Whether the Kubeflow name was one the importer knows.
    pub known: bool,
}

fn mapped(ty: &str, known: bool) -> Mapped {
    Mapped {
        ty: ty.to_string(),
        known,
    }
}

/// The flowc type of a v1 component type name (`None`: no type given) used as `kind`.
pub fn v1(name: Option<&str>, kind: Kind) -> Mapped {
    let Some(name) = name else {
        return mapped(if kind == Kind::Value { "Str" } else { "File" }, true);
    };
    let lower = name.trim().to_ascii_lowercase();
    match kind {
        Kind::Value => match lower.as_str() {
            "string" | "str" | "text" => mapped("Str", true),
            "integer" | "int" => mapped("Int", true),
            "float" | "double" | "number" => mapped("Float", true),
            "boolean" | "bool" => mapped("Bool", true),
            // JSON passed by value is its text: flowc's `Json` is a file.
            "jsonobject" | "jsonarray" | "dict" | "list" | "json" => mapped("Str", true),
            "gcspath" | "gcsurl" | "uri" | "url" | "path" | "localpath" | "bigqueryurl"
            | "gcrurl" | "sqlquery" | "date" => mapped("Str", true),
            _ => mapped("Str", false),
        },
        Kind::File => match lower.as_str() {
            "model"
            | "system.model"
            | "tensorflowsavedmodel"
            | "keras model"
            | "xgboostmodel"
            | "pytorchscriptmodule"
            | "catboostmodel"
            | "lightgbmmodel" => mapped("Model", true),
            "metrics"
            | "system.metrics"
            | "classificationmetrics"
            | "system.classificationmetrics"
            | "slicedclassificationmetrics"
            | "system.slicedclassificationmetrics" => mapped("Metrics", true),
            "jsonobject" | "jsonarray" | "json" | "dict" | "list" => mapped("Json", true),
            "directory" | "dir" => mapped("Dir", true),
            "dataset" | "system.dataset" | "artifact" | "system.artifact" | "string" | "str"
            | "integer" | "int" | "float" | "boolean" | "bool" | "csv" | "tsv" | "parquet"
            | "apachearrowfeather" | "apacheparquet" | "tfrecord" | "tfrecords" | "html"
            | "system.html" | "markdown" | "system.markdown" | "text" | "uri" | "gcspath"
            | "jsonlines" | "zip" | "tarball" | "tar" | "pickle" | "npy" => mapped("File", true),
            _ => mapped("File", false),
        },
    }
}

/// The flowc type of an IR `parameterType`.
pub fn parameter(ty: &str) -> Mapped {
    match ty {
        "STRING" => mapped("Str", true),
        "NUMBER_INTEGER" => mapped("Int", true),
        "NUMBER_DOUBLE" => mapped("Float", true),
        "BOOLEAN" => mapped("Bool", true),
        "LIST" => mapped("List<Str>", true),
        "STRUCT" => mapped("Str", true),
        _ => mapped("Str", false),
    }
}

/// The flowc type of an IR artifact `schemaTitle`.
pub fn artifact(schema_title: &str) -> Mapped {
    v1(Some(schema_title), Kind::File)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_table_holds() {
        let t = |n, k| v1(Some(n), k).ty;
        assert_eq!(t("String", Kind::Value), "Str");
        assert_eq!(t("Integer", Kind::Value), "Int");
        assert_eq!(t("Float", Kind::Value), "Float");
        assert_eq!(t("Boolean", Kind::Value), "Bool");
        assert_eq!(t("JsonObject", Kind::File), "Json");
        assert_eq!(t("Model", Kind::File), "Model");
        assert_eq!(t("Dataset", Kind::File), "File");
        assert!(!v1(Some("Frobnicator"), Kind::Value).known);
        assert_eq!(parameter("NUMBER_INTEGER").ty, "Int");
        assert_eq!(artifact("system.Metrics").ty, "Metrics");
    }
}
