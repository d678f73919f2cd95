//! The compact JSON text of a task's kind and of its inputs' and outputs' types, as
//! `serde_json::to_writer` writes them, written by hand for the task's definition hash (see
//! `lower::definition_hash`): the hashes are part of every plan and KFP spec, so the bytes
//! must not change, and serde's derived serializers cost several thousand instructions a task.
//! A part or type this writer does not spell out (a pipeline value in a template, a metrics,
//! table or record type) is written by serde_json itself, so the text is always serde's.

use super::{Part, TaskKind, TypeRepr};

/// Appends the JSON text of `kind` to `out`, as `serde_json::to_writer` writes it.
pub(super) fn write_kind(kind: &TaskKind, out: &mut Vec<u8>) {
    match kind {
        TaskKind::Container {
            image,
            command,
            env,
            python,
        } => {
            out.extend_from_slice(b"{\"kind\":\"container\",\"image\":");
            write_str(image, out);
            out.extend_from_slice(b",\"command\":[");
            for (i, arg) in command.iter().enumerate() {
                comma(i, out);
                write_parts(arg, out);
            }
            out.extend_from_slice(b"],\"env\":[");
            for (i, (name, parts)) in env.iter().enumerate() {
                comma(i, out);
                out.push(b'[');
                write_str(name, out);
                out.push(b',');
                write_parts(parts, out);
                out.push(b']');
            }
            out.push(b']');
            if let Some(call) = python {
                out.extend_from_slice(b",\"python\":{\"module\":");
                write_str(&call.module, out);
                out.extend_from_slice(b",\"function\":");
                write_str(&call.function, out);
                out.push(b'}');
            }
            out.push(b'}');
        }
        TaskKind::Builtin { module, name } => {
            out.extend_from_slice(b"{\"kind\":\"builtin\",\"module\":");
            write_str(module, out);
            out.extend_from_slice(b",\"name\":");
            write_str(name, out);
            out.push(b'}');
        }
        TaskKind::Pipeline { pipeline } => {
            out.extend_from_slice(b"{\"kind\":\"pipeline\",\"pipeline\":");
            write_str(pipeline, out);
            out.push(b'}');
        }
    }
}

/// Appends the JSON text of `ty` to `out`, as `serde_json::to_writer` writes it.
pub(super) fn write_type(ty: &TypeRepr, out: &mut Vec<u8>) {
    match ty {
        TypeRepr::Scalar { name } => tagged_str(b"scalar", b"name", name, out),
        TypeRepr::Artifact { name } => tagged_str(b"artifact", b"name", name, out),
        TypeRepr::List { item } => tagged_type(b"list", b"item", item, out),
        TypeRepr::Optional { inner } => tagged_type(b"optional", b"inner", inner, out),
        TypeRepr::Columns => out.extend_from_slice(b"{\"kind\":\"columns\"}"),
        TypeRepr::Unknown => out.extend_from_slice(b"{\"kind\":\"unknown\"}"),
        TypeRepr::Metrics { .. } | TypeRepr::Table { .. } | TypeRepr::Record { .. } => {
            by_serde(ty, out);
        }
    }
}

/// `{"kind":"<kind>","<field>":<value as a string>}`.
fn tagged_str(kind: &[u8], field: &[u8], value: &str, out: &mut Vec<u8>) {
    tag(kind, field, out);
    write_str(value, out);
    out.push(b'}');
}

/// `{"kind":"<kind>","<field>":<the type's JSON>}`.
fn tagged_type(kind: &[u8], field: &[u8], ty: &TypeRepr, out: &mut Vec<u8>) {
    tag(kind, field, out);
    write_type(ty, out);
    out.push(b'}');
}

/// `{"kind":"<kind>","<field>":`, the start of an internally tagged variant with one field.
fn tag(kind: &[u8], field: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"kind\":\"");
    out.extend_from_slice(kind);
    out.extend_from_slice(b"\",\"");
    out.extend_from_slice(field);
    out.extend_from_slice(b"\":");
}

/// The JSON array of a template's parts.
fn write_parts(parts: &[Part], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, part) in parts.iter().enumerate() {
        comma(i, out);
        match part {
            Part::Text { text } => tagged_str(b"text", b"text", text, out),
            Part::Param { name } => tagged_str(b"param", b"name", name, out),
            Part::InputPath { name } => tagged_str(b"input_path", b"name", name, out),
            Part::OutputPath { name } => tagged_str(b"output_path", b"name", name, out),
            Part::Value { .. } => by_serde(part, out),
        }
    }
    out.push(b']');
}

/// A comma before every item of a list but the first (`i` is the item's index).
fn comma(i: usize, out: &mut Vec<u8>) {
    if i > 0 {
        out.push(b',');
    }
}

/// What this writer does not spell out, written by serde_json (nothing when it fails, as the
/// hash has always taken it).
fn by_serde<T: serde::Serialize>(value: &T, out: &mut Vec<u8>) {
    let start = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(start);
    }
}

/// How serde_json writes each byte below 0x20, `"` and `\` in a string: `u` for `\u00XX`,
/// another letter for its two-character escape, 0 for the byte itself.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// A JSON string, escaped as serde_json escapes it (other bytes, UTF-8 included, as they are).
fn write_str(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = ESCAPE[b as usize];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if escape == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.push(b'\\');
            out.push(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::super::python::PythonCall;
    use super::super::{ColumnRepr, FieldRepr, Value};
    use super::*;

    /// Strings with every byte serde_json escapes, and some it does not.
    fn strings() -> Vec<String> {
        let mut all: Vec<String> = (0u8..0x80).map(|b| format!("a{}z", b as char)).collect();
        all.extend(
            [
                "",
                "plain",
                "\"q\"",
                "back\\slash",
                "é ü 日本 🎉",
                "\u{7f}\u{80}\u{2028}",
            ]
            .map(String::from),
        );
        all
    }

    fn parts(s: &str) -> Vec<Part> {
        vec![
            Part::Text { text: s.into() },
            Part::Param { name: s.into() },
            Part::InputPath { name: s.into() },
            Part::OutputPath { name: s.into() },
            Part::Value {
                value: Box::new(Value::Param { name: s.into() }),
            },
        ]
    }

    fn kinds(s: &str) -> Vec<TaskKind> {
        let command = vec![parts(s), Vec::new(), vec![Part::Text { text: s.into() }]];
        let env = vec![(s.to_string(), parts(s)), ("X".into(), Vec::new())];
        vec![
            TaskKind::Container {
                image: s.into(),
                command: command.clone(),
                env: env.clone(),
                python: None,
            },
            TaskKind::Container {
                image: s.into(),
                command: Vec::new(),
                env: Vec::new(),
                python: Some(PythonCall {
                    module: s.into(),
                    function: "f".into(),
                }),
            },
            TaskKind::Container {
                image: "i".into(),
                command,
                env,
                python: Some(PythonCall {
                    module: "m".into(),
                    function: s.into(),
                }),
            },
            TaskKind::Builtin {
                module: s.into(),
                name: s.into(),
            },
            TaskKind::Pipeline { pipeline: s.into() },
        ]
    }

    fn types(s: &str) -> Vec<TypeRepr> {
        let scalar = TypeRepr::Scalar { name: s.into() };
        let column = ColumnRepr {
            name: s.into(),
            ty: "Int".into(),
            nullable: true,
        };
        vec![
            scalar.clone(),
            TypeRepr::Artifact { name: s.into() },
            TypeRepr::List {
                item: Box::new(TypeRepr::Optional {
                    inner: Box::new(scalar.clone()),
                }),
            },
            TypeRepr::Columns,
            TypeRepr::Unknown,
            TypeRepr::Metrics {
                keys: vec![column.clone()],
            },
            TypeRepr::Table {
                schema: Some(s.into()),
                columns: vec![column],
            },
            TypeRepr::Optional {
                inner: Box::new(TypeRepr::Record {
                    fields: vec![FieldRepr {
                        name: s.into(),
                        ty: scalar,
                    }],
                }),
            },
        ]
    }

    /// Asserts that `write` gives serde_json's bytes for every value `values` makes of every
    /// test string.
    fn assert_written_as_serde_json_writes<T: serde::Serialize + std::fmt::Debug>(
        values: fn(&str) -> Vec<T>,
        write: fn(&T, &mut Vec<u8>),
    ) {
        for s in strings() {
            for value in values(&s) {
                let mut out = Vec::new();
                write(&value, &mut out);
                assert_eq!(out, serde_json::to_vec(&value).unwrap(), "{value:?}");
            }
        }
    }

    #[test]
    fn kinds_are_written_as_serde_json_writes_them() {
        assert_written_as_serde_json_writes(kinds, write_kind);
    }

    #[test]
    fn types_are_written_as_serde_json_writes_them() {
        assert_written_as_serde_json_writes(types, write_type);
    }
}
