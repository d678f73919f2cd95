//! `std.synth`: a deterministic generator of a realistic synthetic audience
//! panel and of population targets, so that examples, tests and benchmarks
//! need no outside data.
//!
//! The panel has the usual biases of a recruited audience panel: it
//! over-represents women, older people and the highly educated, and its
//! regional mix differs from the population's. Variables are correlated
//! (education depends on age, sex on age, activity on age, viewing minutes on
//! age, sex, education and region). Base weights are regional design weights
//! that correct half of the regional bias. The population targets
//! ([`synth_targets`]) are therefore clearly different from the sample's
//! margins, and raking has real work to do.
//!
//! The output is a pure function of `(seed, n)`; every row consumes the same
//! number of random draws, so the first `m` rows of a panel of `n > m` rows
//! equal the panel of `m` rows.

use crate::input::{CatVar, Target};
use crate::rng::Rng;

/// Names of the four socio-demographic variables, in panel order.
pub const VARIABLES: [&str; 4] = ["sex", "age_group", "region", "education"];
/// Labels of `sex`.
pub const SEX_LABELS: [&str; 2] = ["male", "female"];
/// Labels of `age_group`.
pub const AGE_LABELS: [&str; 6] = ["15-24", "25-34", "35-44", "45-54", "55-64", "65+"];
/// Labels of `region`.
pub const REGION_LABELS: [&str; 8] = [
    "north-west",
    "north-east",
    "capital",
    "west",
    "east",
    "centre",
    "south-west",
    "south-east",
];
/// Labels of `education`.
pub const EDUCATION_LABELS: [&str; 4] = ["primary", "secondary", "vocational", "tertiary"];

/// Population shares (the targets).
const POP_SEX: [f64; 2] = [0.486, 0.514];
const POP_AGE: [f64; 6] = [0.135, 0.150, 0.155, 0.165, 0.160, 0.235];
const POP_REGION: [f64; 8] = [0.09, 0.10, 0.19, 0.13, 0.09, 0.12, 0.13, 0.15];
const POP_EDUCATION: [f64; 4] = [0.20, 0.38, 0.17, 0.25];

/// Panel composition.
const PANEL_AGE: [f64; 6] = [0.07, 0.11, 0.15, 0.19, 0.21, 0.27];
const PANEL_REGION: [f64; 8] = [0.10, 0.12, 0.14, 0.15, 0.10, 0.14, 0.12, 0.13];
/// P(female | age group).
const FEMALE_BY_AGE: [f64; 6] = [0.50, 0.53, 0.55, 0.56, 0.57, 0.60];
/// P(education | age group).
const EDUCATION_BY_AGE: [[f64; 4]; 6] = [
    [0.10, 0.45, 0.15, 0.30],
    [0.06, 0.30, 0.19, 0.45],
    [0.08, 0.32, 0.20, 0.40],
    [0.12, 0.36, 0.20, 0.32],
    [0.18, 0.38, 0.18, 0.26],
    [0.30, 0.38, 0.14, 0.18],
];
/// P(active on the day | age group).
const ACTIVE_BY_AGE: [f64; 6] = [0.55, 0.62, 0.68, 0.74, 0.80, 0.86];
/// Multipliers of the median viewing time.
const MINUTES_BY_EDUCATION: [f64; 4] = [1.20, 1.05, 1.00, 0.80];
const MINUTES_BY_REGION: [f64; 8] = [1.00, 1.05, 0.90, 1.00, 1.02, 1.00, 0.98, 0.97];

/// A synthetic panel, as columns.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthPanel {
    /// Unique panelist id (`1..=n`).
    pub panelist_id: Vec<u64>,
    /// Codes into [`SEX_LABELS`].
    pub sex: Vec<u32>,
    /// Codes into [`AGE_LABELS`].
    pub age_group: Vec<u32>,
    /// Codes into [`REGION_LABELS`].
    pub region: Vec<u32>,
    /// Codes into [`EDUCATION_LABELS`].
    pub education: Vec<u32>,
    /// Whether the panelist was active (reported viewing) on the day.
    pub active: Vec<bool>,
    /// Viewing minutes on the day (0 when inactive).
    pub viewing_minutes: Vec<f64>,
    /// Regional design weight (mean about 1).
    pub base_weight: Vec<f64>,
}

impl SynthPanel {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.panelist_id.len()
    }

    /// Whether the panel is empty.
    pub fn is_empty(&self) -> bool {
        self.panelist_id.is_empty()
    }

    /// The four socio-demographic variables, with labels, in [`VARIABLES`]
    /// order.
    pub fn vars(&self) -> [CatVar<'_>; 4] {
        [
            CatVar::new(VARIABLES[0], &self.sex, 2).with_labels(&SEX_LABELS),
            CatVar::new(VARIABLES[1], &self.age_group, 6).with_labels(&AGE_LABELS),
            CatVar::new(VARIABLES[2], &self.region, 8).with_labels(&REGION_LABELS),
            CatVar::new(VARIABLES[3], &self.education, 4).with_labels(&EDUCATION_LABELS),
        ]
    }
}

/// Population targets of the four variables, as shares.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthTargets {
    /// Shares of [`SEX_LABELS`].
    pub sex: Vec<f64>,
    /// Shares of [`AGE_LABELS`].
    pub age_group: Vec<f64>,
    /// Shares of [`REGION_LABELS`].
    pub region: Vec<f64>,
    /// Shares of [`EDUCATION_LABELS`].
    pub education: Vec<f64>,
}

impl SynthTargets {
    /// The targets as [`Target::Shares`], in [`VARIABLES`] order.
    pub fn targets(&self) -> [Target<'_>; 4] {
        [
            Target::Shares(&self.sex),
            Target::Shares(&self.age_group),
            Target::Shares(&self.region),
            Target::Shares(&self.education),
        ]
    }
}

/// The population targets matching [`synth_panel`].
pub fn synth_targets() -> SynthTargets {
    SynthTargets {
        sex: POP_SEX.to_vec(),
        age_group: POP_AGE.to_vec(),
        region: POP_REGION.to_vec(),
        education: POP_EDUCATION.to_vec(),
    }
}

/// Cumulative probabilities (last entry forced to 1).
fn cumulative<const N: usize>(p: &[f64; N]) -> [f64; N] {
    let mut out = [0.0; N];
    let mut acc = 0.0;
    for (o, &x) in out.iter_mut().zip(p) {
        acc += x;
        *o = acc;
    }
    if let Some(last) = out.last_mut() {
        *last = 1.0;
    }
    out
}

/// The stream of [`synth_panel`].
const PANEL_STREAM: u64 = 0x5359_4e54_4850_414e; // "SYNTHPAN"
/// Random 64-bit draws per row of [`synth_panel`] (age, sex, region, education, activity, and
/// two for the viewing time's normal deviate).
const DRAWS_PER_ROW: usize = 7;

/// The socio-demographic codes of a range of rows of a synthetic panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthDemographics {
    /// Codes into [`SEX_LABELS`].
    pub sex: Vec<u8>,
    /// Codes into [`AGE_LABELS`].
    pub age_group: Vec<u8>,
    /// Codes into [`REGION_LABELS`].
    pub region: Vec<u8>,
    /// Codes into [`EDUCATION_LABELS`].
    pub education: Vec<u8>,
}

/// The socio-demographic codes of rows `start..start + len` of `synth_panel(seed, n)` (for any
/// `n ≥ start + len`), without the panel's viewing and weights: every row consumes the same
/// number of draws, so a range is drawn by seeking the stream to its first row, and ranges can
/// be drawn independently (in parallel).
pub fn synth_demographics(seed: u64, start: usize, len: usize) -> SynthDemographics {
    let mut rng = Rng::new(seed, PANEL_STREAM);
    rng.seek((start * DRAWS_PER_ROW) as u64);
    let age_cum = cumulative(&PANEL_AGE);
    let region_cum = cumulative(&PANEL_REGION);
    let edu_cum: Vec<[f64; 4]> = EDUCATION_BY_AGE.iter().map(cumulative).collect();
    let mut out = SynthDemographics {
        sex: Vec::with_capacity(len),
        age_group: Vec::with_capacity(len),
        region: Vec::with_capacity(len),
        education: Vec::with_capacity(len),
    };
    // The stream is drawn a block of rows at a time (the same numbers as one at a time).
    const BLOCK: usize = 1024;
    let mut draws = vec![0u64; BLOCK * DRAWS_PER_ROW];
    let mut done = 0;
    while done < len {
        let rows = BLOCK.min(len - done);
        let block = &mut draws[..rows * DRAWS_PER_ROW];
        rng.fill(block);
        for row in block.chunks_exact(DRAWS_PER_ROW) {
            let age = pick(&age_cum, row[0]);
            let a = age as usize;
            let sex = u8::from(unit(row[1]) < FEMALE_BY_AGE[a]);
            let region = pick(&region_cum, row[2]);
            let education = pick(&edu_cum[a], row[3]);
            out.sex.push(sex);
            out.age_group.push(age as u8);
            out.region.push(region as u8);
            out.education.push(education as u8);
        }
        done += rows;
    }
    out
}

/// [`Rng::uniform`] of a draw.
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// [`Rng::categorical`] of a draw, without branches: the first index whose cumulative
/// probability exceeds `u` is the number of those that do not (they increase).
fn pick(cum: &[f64], x: u64) -> u32 {
    let u = unit(x);
    let below: u32 = cum.iter().map(|&c| u32::from(c <= u)).sum();
    below.min(cum.len() as u32 - 1)
}

/// Generates a panel of `n` rows, deterministically for `seed`.
pub fn synth_panel(seed: u64, n: usize) -> SynthPanel {
    let mut rng = Rng::new(seed, PANEL_STREAM);
    let age_cum = cumulative(&PANEL_AGE);
    let region_cum = cumulative(&PANEL_REGION);
    let edu_cum: Vec<[f64; 4]> = EDUCATION_BY_AGE.iter().map(cumulative).collect();
    let region_weight: Vec<f64> = POP_REGION
        .iter()
        .zip(&PANEL_REGION)
        .map(|(p, s)| 1.0 + 0.5 * (p / s - 1.0))
        .collect();
    let mut panel = SynthPanel {
        panelist_id: Vec::with_capacity(n),
        sex: Vec::with_capacity(n),
        age_group: Vec::with_capacity(n),
        region: Vec::with_capacity(n),
        education: Vec::with_capacity(n),
        active: Vec::with_capacity(n),
        viewing_minutes: Vec::with_capacity(n),
        base_weight: Vec::with_capacity(n),
    };
    for i in 0..n {
        let age = rng.categorical(&age_cum);
        let a = age as usize;
        let sex = u32::from(rng.uniform() < FEMALE_BY_AGE[a]);
        let region = rng.categorical(&region_cum);
        let education = rng.categorical(&edu_cum[a]);
        let active = rng.uniform() < ACTIVE_BY_AGE[a];
        let z = rng.normal();
        let median = (80.0 + 28.0 * a as f64)
            * if sex == 1 { 1.08 } else { 1.0 }
            * MINUTES_BY_EDUCATION[education as usize]
            * MINUTES_BY_REGION[region as usize];
        let minutes = if active {
            (median * (0.55 * z).exp()).min(1440.0)
        } else {
            0.0
        };
        panel.panelist_id.push(i as u64 + 1);
        panel.sex.push(sex);
        panel.age_group.push(age);
        panel.region.push(region);
        panel.education.push(education);
        panel.active.push(active);
        panel.viewing_minutes.push(minutes);
        panel.base_weight.push(region_weight[region as usize]);
    }
    panel
}
