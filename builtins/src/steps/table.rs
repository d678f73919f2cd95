//! std.table: relational operations on tables.
//!
//! Expression strings are SQL, translated by polars-sql: `where` and the expressions of
//! `derive` with `sql_expr`, `aggregations` and `query` as SQL queries run by a `SQLContext`
//! in which only the step's inputs are registered (polars' file-reading table functions are
//! not compiled in). Every output has a deterministic row order: the input's order for
//! `select`, `filter`, `derive`, `sort` (stable) and `sample`, the left table's order for
//! `join`, the keys' order for `group_by`, and for `sql` the query's `ORDER BY` or, without
//! one, the order of all the result's columns.

use flowc_runtime::builtin::BuiltinError;
use polars::prelude::*;
use polars::sql::{sql_expr, SQLContext};
use sqlparser::ast::Statement;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use super::{emit_table, input_table, opt_input_table};
use crate::call::Call;
use crate::error::{err, COLUMN_ROLE, COMMON_COLUMN_TYPE, EXPRESSION, INVALID_VALUE, NOT_A_QUERY};
use crate::files::read_table;
use crate::rng::{choose, mix, Rng};
use crate::schema::{describe, Declared, Strings};

/// A SQL identifier, double-quoted.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Splits `"name = expression"` into its two parts.
fn split_named(call: &Call<'_>, param: &str, s: &str) -> Result<(String, String), BuiltinError> {
    let bad = || {
        err(
            EXPRESSION,
            format!(
                "{}: `{param}` item {s:?} must have the form `name = expression`",
                call.step
            ),
        )
    };
    let t = s.trim_start();
    let (name, rest) = if let Some(quoted) = t.strip_prefix('"') {
        let end = quoted.find('"').ok_or_else(bad)?;
        (quoted[..end].to_string(), &quoted[end + 1..])
    } else {
        let end = t.find('=').ok_or_else(bad)?;
        let name = t[..end].trim();
        let ident = !name.is_empty()
            && name.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !ident {
            return Err(bad());
        }
        (name.to_string(), &t[end..])
    };
    let rest = rest.trim_start();
    let expr = rest.strip_prefix('=').ok_or_else(bad)?;
    if expr.starts_with('=') || expr.trim().is_empty() || name.is_empty() {
        return Err(bad());
    }
    Ok((name, expr.trim().to_string()))
}

/// Translates a SQL expression.
fn expr(call: &Call<'_>, param: &str, s: &str) -> Result<Expr, BuiltinError> {
    sql_expr(s).map_err(|e| {
        err(
            EXPRESSION,
            format!(
                "{}: `{param}` expression {s:?} is not valid SQL: {e}",
                call.step
            ),
        )
    })
}

/// Runs a lazy query, reporting a failure as an error of the expression(s) `what`.
fn collect(call: &Call<'_>, lf: LazyFrame, what: &str) -> Result<DataFrame, BuiltinError> {
    lf.collect()
        .map_err(|e| err(EXPRESSION, format!("{}: {what} failed: {e}", call.step)))
}

/// Checks that every name of `columns` is a column of `df`.
fn check_columns(
    call: &Call<'_>,
    df: &DataFrame,
    columns: &[String],
    param: &str,
    table: &str,
) -> Result<(), BuiltinError> {
    for c in columns {
        super::named_column(call, df, c, param, table)?;
    }
    Ok(())
}

/// `select<T>(table: Table<T>, columns: Columns<T>) -> (selected: Table<T[columns]>)`
pub fn select(call: &Call<'_>) -> Result<(), BuiltinError> {
    let df = input_table(call, "table")?;
    let columns = call.columns("columns")?;
    check_columns(call, &df, &columns, "columns", "table")?;
    let selected = df
        .select(columns.iter().map(String::as_str))
        .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))?;
    emit_table(call, "selected", selected, &[])
}

/// `filter<T>(table: Table<T>, where: Str) -> (kept: Table<T>)`
pub fn filter(call: &Call<'_>) -> Result<(), BuiltinError> {
    let df = input_table(call, "table")?;
    let condition = call.str("where")?;
    let predicate = expr(call, "where", condition)?;
    let kept = collect(
        call,
        df.lazy().filter(predicate),
        &format!("the condition {condition:?}"),
    )?;
    emit_table(call, "kept", kept, &[])
}

/// `derive<T, S>(table: Table<T>, exprs: List<Str>) -> (derived: Table<S>)`
pub fn derive(call: &Call<'_>) -> Result<(), BuiltinError> {
    let df = input_table(call, "table")?;
    let mut lf = df.lazy();
    let items = call.str_list("exprs")?;
    for item in &items {
        let (name, text) = split_named(call, "exprs", item)?;
        lf = lf.with_column(expr(call, "exprs", &text)?.alias(name.as_str()));
    }
    let derived = collect(call, lf, &format!("the expressions {items:?}"))?;
    emit_table(call, "derived", derived, &[])
}

/// `join<L, R>(left, right, on: Columns<L>, how: Str = "inner") -> (joined: Table<L + R>)`
pub fn join(call: &Call<'_>) -> Result<(), BuiltinError> {
    let left = input_table(call, "left")?;
    let right = input_table(call, "right")?;
    let on = call.columns("on")?;
    let how = call.opt_str("how")?.unwrap_or("inner");
    let (join_type, order) = match how {
        "inner" => (JoinType::Inner, MaintainOrderJoin::LeftRight),
        "left" => (JoinType::Left, MaintainOrderJoin::Left),
        other => {
            return Err(err(
                INVALID_VALUE,
                format!(
                    "{}: `how` must be \"inner\" or \"left\", got {other:?}",
                    call.step
                ),
            ))
        }
    };
    if on.is_empty() {
        return Err(err(
            INVALID_VALUE,
            format!("{}: `on` must name at least one key column", call.step),
        ));
    }
    check_columns(call, &left, &on, "on", "left")?;
    check_columns(call, &right, &on, "on", "right")?;
    for key in &on {
        let (l, r) = (left.column(key), right.column(key));
        if let (Ok(l), Ok(r)) = (l, r) {
            if l.dtype() != r.dtype() {
                return Err(err(
                    COMMON_COLUMN_TYPE,
                    format!(
                        "{}: key `{key}` is {} in `left` but {} in `right`",
                        call.step,
                        describe(l.dtype()),
                        describe(r.dtype())
                    ),
                ));
            }
        }
    }
    // A non-key column present in both tables takes the right table's values (`L + R`).
    let shared: Vec<String> = left
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| !on.contains(n) && right.column(n).is_ok())
        .collect();
    let left = left.drop_many(shared.iter().map(String::as_str));
    let right_only: Vec<String> = right
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| !on.contains(n))
        .collect();
    let keys: Vec<Expr> = on.iter().map(|k| col(k.as_str())).collect();
    let mut args = JoinArgs::new(join_type).with_coalesce(JoinCoalesce::CoalesceColumns);
    args.maintain_order = order;
    let joined = collect(
        call,
        left.lazy().join(right.lazy(), &keys, &keys, args),
        "the join",
    )?;
    let allow_nulls = if how == "left" {
        right_only
    } else {
        Vec::new()
    };
    emit_table(call, "joined", joined, &allow_nulls)
}

/// Sorts by `by` (ascending unless `descending`), nulls last, keeping the order of ties.
fn sort_by(
    call: &Call<'_>,
    df: &DataFrame,
    by: &[String],
    descending: bool,
) -> Result<DataFrame, BuiltinError> {
    if by.is_empty() || df.height() < 2 {
        return Ok(df.clone());
    }
    let opts = SortMultipleOptions::default()
        .with_order_descending(descending)
        .with_nulls_last(true)
        .with_maintain_order(true);
    df.sort(by.iter().map(String::as_str), opts)
        .map_err(|e| err(COLUMN_ROLE, format!("{}: cannot sort: {e}", call.step)))
}

/// `group_by<T, S>(table: Table<T>, by: Columns<T>, aggregations: List<Str>) -> (grouped: Table<S>)`
pub fn group_by(call: &Call<'_>) -> Result<(), BuiltinError> {
    let df = input_table(call, "table")?;
    let by = call.columns("by")?;
    check_columns(call, &df, &by, "by", "table")?;
    let aggregations = call.str_list("aggregations")?;
    let mut items: Vec<String> = by.iter().map(|b| quote(b)).collect();
    for a in &aggregations {
        let (name, text) = split_named(call, "aggregations", a)?;
        items.push(format!("{text} AS {}", quote(&name)));
    }
    if items.is_empty() {
        return Err(err(
            INVALID_VALUE,
            format!("{}: give `by` columns or `aggregations`", call.step),
        ));
    }
    let mut query = format!("SELECT {} FROM __flowc_table", items.join(", "));
    if !by.is_empty() {
        let keys: Vec<String> = by.iter().map(|b| quote(b)).collect();
        query.push_str(&format!(" GROUP BY {}", keys.join(", ")));
    }
    let mut ctx = SQLContext::new();
    ctx.register("__flowc_table", df.lazy());
    let what = format!("the aggregations {aggregations:?}");
    let lf = ctx.execute(&query).map_err(|e| {
        err(
            EXPRESSION,
            format!("{}: {what} are not valid SQL: {e}", call.step),
        )
    })?;
    let grouped = collect(call, lf, &what)?;
    let grouped = sort_by(call, &grouped, &by, false)?;
    emit_table(call, "grouped", grouped, &[])
}

/// `union<T>(tables: List<Table<T>>) -> (combined: Table<T>)`
pub fn union(call: &Call<'_>) -> Result<(), BuiltinError> {
    let (paths, ty) = call.many_inputs("tables")?;
    let decl = Declared::of(ty)?;
    let mut combined: Option<DataFrame> = None;
    for (i, path) in paths.iter().enumerate() {
        let what = format!("{}: input `tables` item {}", call.step, i + 1);
        let df = read_table(path, decl.as_ref(), &what, Strings::Text)?;
        combined = Some(match combined {
            None => df,
            Some(mut acc) => {
                acc.vstack_mut(&df).map_err(|e| {
                    err(
                        crate::error::COLUMN_TYPE,
                        format!("{what} does not fit the first: {e}"),
                    )
                })?;
                acc
            }
        });
    }
    let combined = match (combined, &decl) {
        (Some(df), _) => df,
        (None, Some(d)) => DataFrame::empty_with_schema(&Schema::from_iter(
            d.columns
                .iter()
                .map(|c| Field::new(c.name.as_str().into(), c.ty.dtype())),
        )),
        (None, None) => DataFrame::empty(),
    };
    emit_table(call, "combined", combined, &[])
}

/// `sort<T>(table: Table<T>, by: Columns<T>, descending: Bool = false) -> (sorted: Table<T>)`
pub fn sort(call: &Call<'_>) -> Result<(), BuiltinError> {
    let df = input_table(call, "table")?;
    let by = call.columns("by")?;
    check_columns(call, &df, &by, "by", "table")?;
    let descending = call.bool_or("descending", false)?;
    let sorted = sort_by(call, &df, &by, descending)?;
    emit_table(call, "sorted", sorted, &[])
}

/// The stream of `sample`'s draws ("SAMPLE").
const SAMPLE_STREAM: u64 = 0x5341_4d50_4c45;

/// `sample<T>(table: Table<T>, n: Int?, fraction: Float?, seed: Int) -> (sampled: Table<T>)`
pub fn sample(call: &Call<'_>) -> Result<(), BuiltinError> {
    let df = input_table(call, "table")?;
    let rows = df.height();
    let k = match (call.opt_int("n")?, call.opt_float("fraction")?) {
        (Some(n), None) => usize::try_from(n).map_err(|_| {
            err(
                INVALID_VALUE,
                format!("{}: `n` must be 0 or more, got {n}", call.step),
            )
        })?,
        (None, Some(f)) => {
            if !(0.0..=1.0).contains(&f) {
                return Err(err(
                    INVALID_VALUE,
                    format!("{}: `fraction` must be between 0 and 1, got {f}", call.step),
                ));
            }
            (f * rows as f64).round() as usize
        }
        _ => {
            return Err(err(
                INVALID_VALUE,
                format!("{}: give exactly one of `n` and `fraction`", call.step),
            ))
        }
    };
    let seed = call.int("seed")? as u64;
    let mut rng = Rng::new(mix(&[seed]), SAMPLE_STREAM);
    let picked = choose(&mut rng, rows, k);
    let idx = IdxCa::from_vec("idx".into(), picked.iter().map(|&i| i as IdxSize).collect());
    let sampled = df
        .take(&idx)
        .map_err(|e| err(EXPRESSION, format!("{}: {e}", call.step)))?;
    emit_table(call, "sampled", sampled, &[])
}

/// Whether `query` is one `SELECT` (or other query) statement, and whether it has a top-level
/// `ORDER BY`.
fn parse_query(call: &Call<'_>, query: &str) -> Result<bool, BuiltinError> {
    let statements = Parser::parse_sql(&GenericDialect {}, query).map_err(|e| {
        err(
            EXPRESSION,
            format!("{}: `query` is not valid SQL: {e}", call.step),
        )
    })?;
    match statements.as_slice() {
        [Statement::Query(q)] => Ok(q.order_by.is_some()),
        [other] => Err(err(
            NOT_A_QUERY,
            format!(
                "{}: `query` must be a SELECT statement, got `{}`",
                call.step,
                first_words(&other.to_string())
            ),
        )),
        _ => Err(err(
            NOT_A_QUERY,
            format!(
                "{}: `query` must be one SELECT statement, got {}",
                call.step,
                statements.len()
            ),
        )),
    }
}

fn first_words(s: &str) -> String {
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// `sql<A, B, C, S>(query: Str, a: Table<A>, b: Table<B>?, c: Table<C>?) -> (result: Table<S>)`
pub fn sql(call: &Call<'_>) -> Result<(), BuiltinError> {
    let query = call.str("query")?;
    let ordered = parse_query(call, query)?;
    let mut ctx = SQLContext::new();
    ctx.register("a", input_table(call, "a")?.lazy());
    for name in ["b", "c"] {
        if let Some(df) = opt_input_table(call, name)? {
            ctx.register(name, df.lazy());
        }
    }
    let lf = ctx.execute(query).map_err(|e| {
        err(
            EXPRESSION,
            format!("{}: `query` cannot run: {e}", call.step),
        )
    })?;
    let result = collect(call, lf, "the query")?;
    let result = if ordered {
        result
    } else {
        let all: Vec<String> = result
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        sort_by(call, &result, &all, false)?
    };
    emit_table(call, "result", result, &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowc_runtime::builtin::BuiltinCall;

    #[test]
    fn splits_named_expressions() {
        let call = BuiltinCall {
            module: "std.table".into(),
            name: "derive".into(),
            params: Default::default(),
            inputs: Default::default(),
            outputs: Default::default(),
            scratch: std::path::PathBuf::new(),
            workdir: std::path::PathBuf::new(),
        };
        let call = Call::new(&call);
        let ok = |s: &str| split_named(&call, "exprs", s).unwrap();
        assert_eq!(ok("a = b * 2"), ("a".into(), "b * 2".into()));
        assert_eq!(ok(" x=y=z"), ("x".into(), "y=z".into()));
        assert_eq!(ok("\"my col\" = 1"), ("my col".into(), "1".into()));
        assert_eq!(ok("n = count(*)"), ("n".into(), "count(*)".into()));
        for bad in [
            "a == b",
            "a >= b",
            "= 1",
            "a =",
            "2a = 1",
            "a b = 1",
            "no equals",
        ] {
            assert!(split_named(&call, "exprs", bad).is_err(), "{bad}");
        }
    }
}
