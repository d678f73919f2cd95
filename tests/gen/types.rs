//! The types the generator tracks for the values in scope, how each is written, the literals of
//! value types, and the metric keys of each kind of metrics output.

/// A metrics output: the keys of a container step's own metrics, of `rake`'s report or of
/// `weighting_quality`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// `Metrics<{ score: Float, ok: Bool, n: Int }>`, written by generated container steps.
    Own,
    /// `rake`'s `report`.
    Rake,
    /// `weighting_quality`'s `quality`.
    Quality,
}

impl Metric {
    /// The keys of the metrics and the type of each value.
    pub fn keys(self) -> &'static [(&'static str, Ty)] {
        match self {
            Metric::Own => &[("score", Ty::Float), ("ok", Ty::Bool), ("n", Ty::Int)],
            Metric::Rake => &[
                ("iterations", Ty::Int),
                ("max_rel_error", Ty::Float),
                ("converged", Ty::Bool),
            ],
            Metric::Quality => &[("max_abs_error", Ty::Float), ("design_effect", Ty::Float)],
        }
    }
}

/// The schema of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// The generated `schema Row { id: Int, v: Float, region: Str }`.
    Row,
    /// `std.synth`'s `SynthPanelist` (`panel`).
    Synth,
    /// `SynthPanelist` with a `weight` column (`rake`).
    Weighted,
    /// `std.survey`'s `Target` (`targets`): no `region` column.
    Target,
    /// Only the `region` column (`select`).
    Selected,
}

impl Schema {
    /// Whether the table has `region: Str`, the column container steps ask for.
    pub fn has_region(self) -> bool {
        self != Schema::Target
    }

    /// Whether the table has the columns `rake` weights by (`sex`, `age_group`).
    pub fn is_panel(self) -> bool {
        matches!(self, Schema::Synth | Schema::Weighted)
    }
}

/// The type of a value in scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Str,
    Int,
    Float,
    Bool,
    Date,
    List(Box<Ty>),
    Opt(Box<Ty>),
    File,
    Dir,
    Model,
    Json,
    Metrics(Metric),
    Table(Schema),
    /// The record `{ region: Str, share: Float, n: Int }` ([`REC_FIELDS`]).
    Rec,
}

/// The fields of the generator's record type [`Ty::Rec`].
pub const REC_FIELDS: [(&str, Ty); 3] = [("region", Ty::Str), ("share", Ty::Float), ("n", Ty::Int)];

impl Ty {
    /// A parameter value (not an artifact): `Str Int Float Bool Date`, the record and lists of
    /// them.
    pub fn is_value(&self) -> bool {
        match self {
            Ty::Str | Ty::Int | Ty::Float | Ty::Bool | Ty::Date | Ty::Rec => true,
            Ty::List(t) => t.is_value(),
            _ => false,
        }
    }

    /// A scalar parameter value.
    pub fn is_scalar(&self) -> bool {
        matches!(self, Ty::Str | Ty::Int | Ty::Float | Ty::Bool | Ty::Date)
    }

    /// An artifact accepted where a `File` is expected.
    pub fn is_file_like(&self) -> bool {
        matches!(
            self,
            Ty::File | Ty::Model | Ty::Json | Ty::Metrics(_) | Ty::Table(_)
        )
    }

    /// The type as written in a signature (a value type, or an artifact type of a step's
    /// output).
    pub fn text(&self) -> String {
        match self {
            Ty::Str => "Str".into(),
            Ty::Int => "Int".into(),
            Ty::Float => "Float".into(),
            Ty::Bool => "Bool".into(),
            Ty::Date => "Date".into(),
            Ty::List(t) => format!("List<{}>", t.text()),
            Ty::Opt(t) => format!("{}?", t.text()),
            Ty::File => "File".into(),
            Ty::Dir => "Dir".into(),
            Ty::Model => "Model".into(),
            Ty::Json => "Json".into(),
            Ty::Metrics(_) => "Metrics<{ score: Float, ok: Bool, n: Int }>".into(),
            Ty::Table(_) => "Table<Row>".into(),
            Ty::Rec => "{ region: Str, share: Float, n: Int }".into(),
        }
    }
}

/// A literal of a value type, or `None` for other types.
pub fn literal(ty: &Ty, pick: usize) -> Option<String> {
    const STRS: [&str; 8] = [
        "north",
        "south",
        "heads",
        "on",
        "no",
        "1.5",
        "2024-01-01",
        "a b",
    ];
    const INTS: [&str; 5] = ["0", "1", "3", "12", "1000"];
    const FLOATS: [&str; 4] = ["0.5", "2.0", "0.000001", "1.25"];
    Some(match ty {
        Ty::Str => format!("\"{}\"", STRS[pick % STRS.len()]),
        Ty::Int => INTS[pick % INTS.len()].to_string(),
        Ty::Float => FLOATS[pick % FLOATS.len()].to_string(),
        Ty::Bool => ["true", "false"][pick % 2].to_string(),
        Ty::Date => ["\"2024-06-03\"", "\"2023-12-31\""][pick % 2].to_string(),
        Ty::Rec => {
            let region = literal(&Ty::Str, pick)?;
            let share = literal(&Ty::Float, pick)?;
            let n = literal(&Ty::Int, pick)?;
            format!("{{ region: {region}, share: {share}, n: {n} }}")
        }
        Ty::List(t) if t.is_scalar() || **t == Ty::Rec => {
            let a = literal(t, pick)?;
            let b = literal(t, pick + 1)?;
            format!("[{a}, {b}]")
        }
        _ => return None,
    })
}
