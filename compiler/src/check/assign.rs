//! Assignability: may a value of one type flow where another is expected?
//!
//! The answer is a list of [`Mismatch`]es, empty when the flow is allowed. Tables follow width
//! subtyping: the producer may have more columns than the consumer requires, and every required
//! column must exist with a compatible type and nullability. Each column problem is reported on
//! its own, so a user sees every missing column at once.

use crate::maps::IndexMap;

use crate::types::{ColumnTy, Schema, Ty};

/// Why a value cannot flow where it is sent.
#[derive(Clone, Debug, PartialEq)]
pub enum Mismatch {
    /// The types differ.
    Type,
    /// A possibly-absent value flows where a value is required.
    MaybeNone,
    /// An artifact where a parameter is expected (`expected_artifact == false`) or the reverse.
    ArtifactVsParam {
        /// Whether the consumer wants an artifact.
        expected_artifact: bool,
    },
    /// The producer's table lacks a required column.
    MissingColumn {
        /// The column.
        name: String,
        /// What the consumer requires.
        expected: ColumnTy,
    },
    /// A column has an incompatible type.
    ColumnType {
        /// The column.
        name: String,
        /// What the consumer requires.
        expected: ColumnTy,
        /// What the producer has.
        actual: ColumnTy,
    },
    /// A nullable column where a non-null one is required.
    Nullable {
        /// The column.
        name: String,
        /// What the consumer requires.
        expected: ColumnTy,
        /// What the producer has.
        actual: ColumnTy,
    },
    /// A record lacks a field its type requires.
    MissingField {
        /// The field.
        name: String,
    },
    /// A record has a field its type lacks.
    ExtraField {
        /// The field.
        name: String,
    },
}

/// Checks that `actual` may flow where `expected` is required.
pub fn assign(expected: &Ty, actual: &Ty) -> Vec<Mismatch> {
    if expected.is_error() || actual.is_error() {
        return Vec::new();
    }
    match (expected, actual) {
        (Ty::Optional(_), Ty::None) => Vec::new(),
        (Ty::Optional(e), Ty::Optional(a)) => assign(e, a),
        (Ty::Optional(e), a) => assign(e, a),
        (e, Ty::Optional(a)) => {
            let inner = assign(e, a);
            if inner.is_empty() {
                vec![Mismatch::MaybeNone]
            } else {
                inner
            }
        }
        (_, Ty::None) => vec![Mismatch::MaybeNone],
        (e, a) if e.is_artifact() != a.is_artifact() => vec![Mismatch::ArtifactVsParam {
            expected_artifact: e.is_artifact(),
        }],
        (Ty::Scalar(e), Ty::Scalar(a)) => {
            if a.flows_into(*e) {
                Vec::new()
            } else {
                vec![Mismatch::Type]
            }
        }
        (Ty::List(e), Ty::List(a)) => assign(e, a),
        (Ty::Table(e), Ty::Table(a)) => match (e.as_fixed(), a.as_fixed()) {
            (Some(e), Some(a)) => table(e, a),
            _ => Vec::new(),
        },
        (Ty::Metrics(_), Ty::Metrics(_)) => Vec::new(),
        (Ty::Record(e), Ty::Record(a)) => record(e, a),
        // Every file-like artifact is a file.
        (Ty::File, Ty::Table(_) | Ty::Model | Ty::Json | Ty::Metrics(_)) => Vec::new(),
        (e, a) if e == a => Vec::new(),
        _ => vec![Mismatch::Type],
    }
}

/// Records: the same fields (an optional field may be left out), each of a type that flows.
fn record(expected: &IndexMap<String, Ty>, actual: &IndexMap<String, Ty>) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (name, e) in expected {
        match actual.get(name) {
            None if matches!(e, Ty::Optional(_)) => {}
            None => out.push(Mismatch::MissingField { name: name.clone() }),
            Some(a) => {
                if !assign(e, a).is_empty() {
                    out.push(Mismatch::Type);
                }
            }
        }
    }
    for name in actual.keys().filter(|n| !expected.contains_key(*n)) {
        out.push(Mismatch::ExtraField { name: name.clone() });
    }
    out
}

/// Width subtyping of table schemas.
pub fn table(expected: &Schema, actual: &Schema) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (name, e) in &expected.columns {
        match actual.columns.get(name) {
            None if e.nullable => {}
            None => out.push(Mismatch::MissingColumn {
                name: name.clone(),
                expected: e.clone(),
            }),
            Some(a) if !a.ty.flows_into(e.ty) => out.push(Mismatch::ColumnType {
                name: name.clone(),
                expected: e.clone(),
                actual: a.clone(),
            }),
            Some(a) if a.nullable && !e.nullable => out.push(Mismatch::Nullable {
                name: name.clone(),
                expected: e.clone(),
                actual: a.clone(),
            }),
            Some(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Scalar;

    fn schema(cols: &[(&str, Scalar, bool)]) -> Schema {
        Schema {
            name: None,
            columns: cols
                .iter()
                .map(|(n, t, null)| {
                    (
                        n.to_string(),
                        ColumnTy {
                            ty: *t,
                            nullable: *null,
                            origin: None,
                        },
                    )
                })
                .collect(),
            origin: None,
        }
    }

    #[test]
    fn width_subtyping() {
        let wide = schema(&[("id", Scalar::Int, false), ("w", Scalar::Float, false)]);
        let narrow = schema(&[("id", Scalar::Int, false)]);
        assert!(table(&narrow, &wide).is_empty());
        assert_eq!(table(&wide, &narrow).len(), 1);
    }

    #[test]
    fn column_problems_are_distinguished() {
        let want = schema(&[("a", Scalar::Int, false), ("b", Scalar::Float, false)]);
        let have = schema(&[("a", Scalar::Str, false), ("b", Scalar::Int, true)]);
        let m = table(&want, &have);
        assert!(matches!(m[0], Mismatch::ColumnType { .. }));
        assert!(matches!(m[1], Mismatch::Nullable { .. }));
    }

    #[test]
    fn artifacts_and_parameters_do_not_mix() {
        let m = assign(&Ty::Scalar(Scalar::Str), &Ty::File);
        assert_eq!(
            m,
            vec![Mismatch::ArtifactVsParam {
                expected_artifact: false
            }]
        );
        assert!(assign(&Ty::Scalar(Scalar::Float), &Ty::Scalar(Scalar::Int)).is_empty());
        assert_eq!(
            assign(&Ty::File, &Ty::Optional(Box::new(Ty::File))),
            vec![Mismatch::MaybeNone]
        );
    }
}
