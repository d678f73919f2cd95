//! std.synth: deterministic synthetic panels and population targets.
//!
//! - `panel`: the socio-demographics (`panelist_id`, `sex`, `age_group`, `region`,
//!   `education`) are flowc-survey's `synth_panel(seed, n)`; the day's viewing (`active`,
//!   `minutes`) is drawn here, per panelist and day, with the same model (activity by age;
//!   log-normal minutes around a median set by age, sex, education and region) made habitual:
//!   each panelist has a personal propensity to watch and a personal level of viewing, and
//!   keeps the same viewing state (watching or not, and how much) from one day to the next
//!   except on the days it changes (probability [`STATE_CHANGE`] per day, drawn again from the
//!   personal habits), with a small daily variation of the minutes and a weekend effect. So
//!   the panel of one day resembles the previous day's, as a real panel's does, and daily
//!   fusions can keep their matches.
//! - `targets`: flowc-survey's `synth_targets()`, the population the panels come from.
//! - `web_panel`: an internet panel of the same population, recruited with other biases
//!   (younger, more educated), with the declared TV viewing and the day's internet use.
//!
//! Every row is drawn from its own random streams (SplitMix64), keyed by the seed, the row's
//! id and (for the day's values) the day, so the output is a pure function of the arguments and
//! the first `m` rows of a panel of `n > m` rows are the panel of `m` rows. So the rows are
//! drawn in parallel, in consecutive ranges, with the same result on any number of threads.
//! The categorical columns are `Enum`s (one byte per row, the labels once), written to Parquet
//! as dictionary-encoded columns.

use flowc_runtime::builtin::BuiltinError;
use flowc_survey::synth::{
    synth_demographics, synth_targets, AGE_LABELS, EDUCATION_LABELS, REGION_LABELS, SEX_LABELS,
    VARIABLES,
};
use polars::prelude::*;
use polars_arrow::array::PrimitiveArray;

use super::emit_table;
use crate::call::Call;
use crate::dates;
use crate::error::{err, INVALID_VALUE};
use crate::rng::{mix, row_hash, Draw, RowRng};

/// P(watching television on a weekday | age group), as in flowc-survey's model.
const ACTIVE_BY_AGE: [f64; 6] = [0.55, 0.62, 0.68, 0.74, 0.80, 0.86];
/// Multipliers of the median viewing time, as in flowc-survey's model.
const MINUTES_BY_EDUCATION: [f64; 4] = [1.20, 1.05, 1.00, 0.80];
const MINUTES_BY_REGION: [f64; 8] = [1.00, 1.05, 0.90, 1.00, 1.02, 1.00, 0.98, 0.97];
/// Weekend effects: the share of non-viewers of the state who watch, and the viewing time's
/// factor.
const WEEKEND_ACTIVE: f64 = 0.15;
const WEEKEND_MINUTES: f64 = 1.12;
/// The probability that a panelist's viewing state is drawn again on a given day, and the
/// threshold of a uniform 64-bit hash below which it is.
const STATE_CHANGE: f64 = 0.2;
const CHANGE_THRESHOLD: u64 = (STATE_CHANGE * 18_446_744_073_709_551_616.0) as u64;
/// How far back the day of the last change is looked for; the state of that day is used
/// beyond (probability `0.8^60`, about 1.5e-6).
const STATE_LOOKBACK: i64 = 60;
/// Spread of the personal propensity to watch (on the logit scale), and the shares of the
/// personal level and of the state's draw in the log-normal spread of the minutes.
const PROPENSITY_SPREAD: f64 = 1.5;
const HABIT_SHARE: f64 = 0.9;
const STATE_SHARE: f64 = 0.435_889_894_354_067_4; // sqrt(1 - 0.9²)
/// Log-normal spread of the daily variation of the minutes.
const DAILY_SPREAD: f64 = 0.12;

/// The internet panel's recruitment: age groups, P(female | age), P(education | age).
const WEB_AGE: [f64; 6] = [0.15, 0.19, 0.18, 0.17, 0.15, 0.16];
const WEB_FEMALE_BY_AGE: [f64; 6] = [0.47, 0.49, 0.50, 0.51, 0.52, 0.53];
const WEB_EDUCATION_BY_AGE: [[f64; 4]; 6] = [
    [0.09, 0.44, 0.15, 0.32],
    [0.05, 0.29, 0.19, 0.47],
    [0.07, 0.31, 0.20, 0.42],
    [0.11, 0.35, 0.20, 0.34],
    [0.16, 0.38, 0.18, 0.28],
    [0.27, 0.38, 0.15, 0.20],
];
/// P(using the internet on the day | age group).
const ONLINE_BY_AGE: [f64; 6] = [0.97, 0.96, 0.94, 0.90, 0.84, 0.75];
/// Multipliers of the median internet time by education.
const WEB_MINUTES_BY_EDUCATION: [f64; 4] = [0.80, 0.95, 1.00, 1.15];

/// Stream tags of the draws (ASCII).
const TV_HABIT: u64 = 0x0054_5648_4142_4954; // "TVHABIT"
const TV_DAY: u64 = 0x0054_5644_4159; // "TVDAY"
const TV_STATE: u64 = 0x0054_5653_5441_5445; // "TVSTATE"
const WEB_PERSON: u64 = 0x5745_4250_4552; // "WEBPER"
const WEB_DAY: u64 = 0x5745_4244_4159; // "WEBDAY"

/// The median daily viewing time of a viewer.
fn median_minutes(age: usize, female: bool, education: usize, region: usize) -> f64 {
    (80.0 + 28.0 * age as f64)
        * if female { 1.08 } else { 1.0 }
        * MINUTES_BY_EDUCATION[education]
        * MINUTES_BY_REGION[region]
}

/// A personal propensity to watch television on a day, for age group `age` and a standard
/// normal draw `z`.
fn propensity(age: usize, z: f64) -> f64 {
    let logit = (ACTIVE_BY_AGE[age] / (1.0 - ACTIVE_BY_AGE[age])).ln();
    1.0 / (1.0 + (-(logit + PROPENSITY_SPREAD * z)).exp())
}

fn is_weekend(day: i32) -> bool {
    dates::weekday(day) >= 5
}

fn count(call: &Call<'_>) -> Result<usize, BuiltinError> {
    let n = call.int("n")?;
    usize::try_from(n).map_err(|_| {
        err(
            INVALID_VALUE,
            format!("{}: `n` must be 0 or more, got {n}", call.step),
        )
    })
}

/// An `Enum` column of `labels` from one code per row, in chunks (one per range drawn).
fn enum_column(name: &str, labels: &[&str], codes: Vec<Vec<u8>>) -> PolarsResult<Column> {
    let dtype = DataType::from_frozen_categories(FrozenCategories::new(labels.iter().copied())?);
    // At most 256 labels: the codes are `UInt8` (checked to be below `labels.len()`).
    let ids = chunked::<UInt8Type>(name, codes);
    let ca = Categorical8Chunked::from_cats_and_dtype(ids, dtype);
    Ok(ca.into_series().into_column())
}

/// A column from the values of the ranges drawn, one chunk per range (no copy).
fn chunked<T: PolarsNumericType>(name: &str, parts: Vec<Vec<T::Native>>) -> ChunkedArray<T> {
    ChunkedArray::from_chunk_iter(name.into(), parts.into_iter().map(PrimitiveArray::from_vec))
}

fn frame(call: &Call<'_>, n: usize, columns: Vec<Column>) -> Result<DataFrame, BuiltinError> {
    DataFrame::new(n, columns).map_err(|e| err(INVALID_VALUE, format!("{}: {e}", call.step)))
}

fn polars_error<'a>(call: &'a Call<'a>) -> impl Fn(PolarsError) -> BuiltinError + 'a {
    move |e| err(INVALID_VALUE, format!("{}: {e}", call.step))
}

/// Rows per range drawn on one thread at least.
const MIN_RANGE: usize = 65_536;

/// `f(start, end)` over consecutive ranges of `0..n`, one per thread (a single range for small
/// `n`), in order.
fn in_ranges<T: Send>(n: usize, f: impl Fn(usize, usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let parts = (n / MIN_RANGE).clamp(1, threads.min(16));
    if parts == 1 {
        return vec![f(0, n)];
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..parts)
            .map(|k| scope.spawn(move || f(n * k / parts, n * (k + 1) / parts)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a drawing thread panicked"))
            .collect()
    })
}

/// The day's viewing of a range of panelists.
struct Viewing {
    sex: Vec<u8>,
    age_group: Vec<u8>,
    region: Vec<u8>,
    education: Vec<u8>,
    active: Vec<bool>,
    minutes: Vec<f64>,
}

/// The seeds of one day's draws of the TV panel.
struct DaySeeds {
    habit: u64,
    day: u64,
    /// The state seeds of the day and of the [`STATE_LOOKBACK`] days before.
    state: Vec<u64>,
    weekend: bool,
    logit: [f64; 6],
}

/// Draws the viewing of panelists `start..end` (ids `start + 1..=end`).
fn viewing(seed: u64, s: &DaySeeds, start: usize, end: usize) -> Viewing {
    let base = synth_demographics(seed, start, end - start);
    let mut active = Vec::with_capacity(end - start);
    let mut minutes = Vec::with_capacity(end - start);
    for i in 0..end - start {
        let id = (start + i) as u64 + 1;
        let (a, e, r) = (
            usize::from(base.age_group[i]),
            usize::from(base.education[i]),
            usize::from(base.region[i]),
        );
        // Personal habits: the propensity to watch and the level of viewing.
        let mut habit = RowRng::new(s.habit, id);
        let p = 1.0 / (1.0 + (-(s.logit[a] + PROPENSITY_SPREAD * habit.normal())).exp());
        let level = habit.normal();
        // The viewing state: drawn on the last day it changed.
        let mut state = (false, 0.0);
        for (k, &seed_k) in s.state.iter().enumerate() {
            // Whether the state changed on that day, then the state drawn that day.
            if row_hash(seed_k, id) < CHANGE_THRESHOLD || k + 1 == s.state.len() {
                let mut draw = RowRng::new(seed_k, id);
                state = (draw.uniform() < p, draw.normal());
                break;
            }
        }
        let (watching, z_state) = state;
        let mut today = RowRng::new(s.day, id);
        let weekend_viewer = s.weekend && today.uniform() < WEEKEND_ACTIVE;
        let on = watching || weekend_viewer;
        let z = HABIT_SHARE * level + STATE_SHARE * z_state;
        let m = if on {
            let median = median_minutes(a, base.sex[i] == 1, e, r)
                * if s.weekend { WEEKEND_MINUTES } else { 1.0 };
            (median * (0.55 * z + DAILY_SPREAD * today.normal()).exp()).min(1440.0)
        } else {
            0.0
        };
        active.push(on);
        minutes.push(m);
    }
    Viewing {
        sex: base.sex,
        age_group: base.age_group,
        region: base.region,
        education: base.education,
        active,
        minutes,
    }
}

/// Concatenates the ranges' values of one column.
fn joined<T: Copy, P>(parts: &[P], n: usize, field: impl Fn(&P) -> &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(n);
    for p in parts {
        out.extend_from_slice(field(p));
    }
    out
}

/// `panel(n: Int, seed: Int, day: Date) -> (panel: Table<SynthPanelist>)`
pub fn panel(call: &Call<'_>) -> Result<(), BuiltinError> {
    let n = count(call)?;
    let seed = call.int("seed")? as u64;
    let day = call.date("day")?;
    let seeds = DaySeeds {
        habit: mix(&[seed, TV_HABIT]),
        day: mix(&[seed, TV_DAY, i64::from(day) as u64]),
        state: (0..STATE_LOOKBACK)
            .map(|k| mix(&[seed, TV_STATE, (i64::from(day) - k) as u64]))
            .collect(),
        weekend: is_weekend(day),
        logit: ACTIVE_BY_AGE.map(|p| (p / (1.0 - p)).ln()),
    };
    let parts = in_ranges(n, |start, end| viewing(seed, &seeds, start, end));
    let active = joined(&parts, n, |p| &p.active);
    let (mut sex, mut age, mut region, mut education, mut minutes) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in parts {
        sex.push(p.sex);
        age.push(p.age_group);
        region.push(p.region);
        education.push(p.education);
        minutes.push(p.minutes);
    }
    let ids: Vec<i64> = (1..=n as i64).collect();
    let fail = polars_error(call);
    let df = frame(
        call,
        n,
        vec![
            Column::new("panelist_id".into(), ids),
            enum_column("sex", &SEX_LABELS, sex).map_err(&fail)?,
            enum_column("age_group", &AGE_LABELS, age).map_err(&fail)?,
            enum_column("region", &REGION_LABELS, region).map_err(&fail)?,
            enum_column("education", &EDUCATION_LABELS, education).map_err(&fail)?,
            Column::new("active".into(), active),
            chunked::<Float64Type>("minutes", minutes).into_column(),
        ],
    )?;
    emit_table(call, "panel", df, &[])
}

/// `targets(seed: Int) -> (targets: Table<Target>)`: the same population for every seed.
pub fn targets(call: &Call<'_>) -> Result<(), BuiltinError> {
    call.int("seed")?;
    let t = synth_targets();
    let groups: [(&str, &[&str], &[f64]); 4] = [
        (VARIABLES[0], &SEX_LABELS, &t.sex),
        (VARIABLES[1], &AGE_LABELS, &t.age_group),
        (VARIABLES[2], &REGION_LABELS, &t.region),
        (VARIABLES[3], &EDUCATION_LABELS, &t.education),
    ];
    let (mut variable, mut level, mut share) = (Vec::new(), Vec::new(), Vec::new());
    for (name, labels, shares) in groups {
        for (l, s) in labels.iter().zip(shares) {
            variable.push(name);
            level.push(*l);
            share.push(*s);
        }
    }
    let n = share.len();
    let df = frame(
        call,
        n,
        vec![
            Column::new("variable".into(), variable),
            Column::new("level".into(), level),
            Column::new("share".into(), share),
        ],
    )?;
    emit_table(call, "targets", df, &[])
}

/// `web_panel(n: Int, seed: Int, day: Date) -> (panel: Table<SynthWebPanelist>)`
pub fn web_panel(call: &Call<'_>) -> Result<(), BuiltinError> {
    let n = count(call)?;
    let seed = call.int("seed")? as u64;
    let day = call.date("day")?;
    let weekend = is_weekend(day);
    let regions = synth_targets().region;
    let person_seed = mix(&[seed, WEB_PERSON]);
    let day_seed = mix(&[seed, WEB_DAY, i64::from(day) as u64]);
    let parts = in_ranges(n, |start, end| {
        let mut cols = WebColumns::with_capacity(end - start);
        for i in start..end {
            let id = i as u64 + 1;
            let mut person = RowRng::new(person_seed, id);
            let a = person.categorical(&WEB_AGE);
            let female = person.uniform() < WEB_FEMALE_BY_AGE[a];
            let r = person.categorical(&regions);
            let e = person.categorical(&WEB_EDUCATION_BY_AGE[a]);
            // Declared (habitual) TV viewing, as the TV panel's model.
            let viewer = person.uniform() < propensity(a, person.normal());
            let tv_habit = person.normal();
            let tv = if viewer {
                (median_minutes(a, female, e, r) * (0.55 * tv_habit).exp()).min(1440.0)
            } else {
                0.0
            };
            let web_habit = person.normal();
            let web_propensity = person.normal().clamp(-2.5, 2.5);
            // The day's internet use: heavy TV viewers use the internet a little less.
            let mut today = RowRng::new(day_seed, id);
            let p = (ONLINE_BY_AGE[a] + 0.05 * web_propensity).clamp(0.02, 0.995);
            let online = today.uniform() < p;
            let z = 0.7 * web_habit + 0.7 * today.normal();
            let (web, sessions) = if online {
                let median = (150.0 - 18.0 * a as f64)
                    * WEB_MINUTES_BY_EDUCATION[e]
                    * if female { 0.95 } else { 1.05 }
                    * if weekend { 1.10 } else { 1.0 }
                    * (-0.15 * if viewer { tv_habit } else { -1.0 }).exp();
                let m = (median * (0.6 * z).exp()).min(1440.0);
                let s = (m / 14.0 * (0.25 * today.normal()).exp()).round().max(1.0);
                (m, s as i64)
            } else {
                (0.0, 0)
            };
            cols.web_id.push(id as i64);
            cols.sex.push(u8::from(female));
            cols.age_group.push(a as u8);
            cols.region.push(r as u8);
            cols.education.push(e as u8);
            cols.minutes.push(tv);
            cols.web_minutes.push(web);
            cols.sessions.push(sessions);
        }
        cols
    });
    let codes = |f: fn(&WebColumns) -> &Vec<u8>| vec![joined(&parts, n, |p| f(p).as_slice())];
    let fail = polars_error(call);
    let df = frame(
        call,
        n,
        vec![
            Column::new("web_id".into(), joined(&parts, n, |p| &p.web_id)),
            enum_column("sex", &SEX_LABELS, codes(|p| &p.sex)).map_err(&fail)?,
            enum_column("age_group", &AGE_LABELS, codes(|p| &p.age_group)).map_err(&fail)?,
            enum_column("region", &REGION_LABELS, codes(|p| &p.region)).map_err(&fail)?,
            enum_column("education", &EDUCATION_LABELS, codes(|p| &p.education)).map_err(&fail)?,
            Column::new("minutes".into(), joined(&parts, n, |p| &p.minutes)),
            Column::new("web_minutes".into(), joined(&parts, n, |p| &p.web_minutes)),
            Column::new("sessions".into(), joined(&parts, n, |p| &p.sessions)),
        ],
    )?;
    emit_table(call, "panel", df, &[])
}

/// The columns of a range of a web panel being drawn.
struct WebColumns {
    web_id: Vec<i64>,
    sex: Vec<u8>,
    age_group: Vec<u8>,
    region: Vec<u8>,
    education: Vec<u8>,
    minutes: Vec<f64>,
    web_minutes: Vec<f64>,
    sessions: Vec<i64>,
}

impl WebColumns {
    fn with_capacity(n: usize) -> Self {
        WebColumns {
            web_id: Vec::with_capacity(n),
            sex: Vec::with_capacity(n),
            age_group: Vec::with_capacity(n),
            region: Vec::with_capacity(n),
            education: Vec::with_capacity(n),
            minutes: Vec::with_capacity(n),
            web_minutes: Vec::with_capacity(n),
            sessions: Vec::with_capacity(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ranges drawn on separate threads put together are the whole range drawn at once, so
    /// the panel does not depend on the number of threads.
    #[test]
    fn ranges_drawn_apart_are_the_whole() {
        let day = dates::parse("2024-06-08").unwrap();
        let seeds = DaySeeds {
            habit: 1,
            day: 2,
            state: (0..STATE_LOOKBACK).map(|k| 3 + k as u64).collect(),
            weekend: is_weekend(day),
            logit: ACTIVE_BY_AGE.map(|p| (p / (1.0 - p)).ln()),
        };
        let whole = viewing(7, &seeds, 0, 5000);
        let parts =
            [(0, 1), (1, 1234), (1234, 4999), (4999, 5000)].map(|(a, b)| viewing(7, &seeds, a, b));
        assert_eq!(joined(&parts, 5000, |p| &p.minutes), whole.minutes);
        assert_eq!(joined(&parts, 5000, |p| &p.active), whole.active);
        assert_eq!(joined(&parts, 5000, |p| &p.region), whole.region);
        assert!(whole.minutes.iter().any(|&m| m > 0.0) && whole.active.contains(&false));
    }
}
