//! Tests of fusion: distributions kept, donor use spread, day-to-day
//! consistency, determinism, errors.

use std::collections::HashMap;

use flowc_survey::synth::{synth_panel, SynthPanel};
use flowc_survey::{fuse, CatVar, FuseOptions, FuseSide, MatchStatus};

/// Stratification: sex × age group; matching: viewing minutes and education
/// (as an ordinal score).
struct Side {
    ids: Vec<u64>,
    sex: Vec<u32>,
    age: Vec<u32>,
    minutes: Vec<f64>,
    education: Vec<f64>,
}

impl Side {
    fn from_panel(p: &SynthPanel, id_offset: u64) -> Self {
        Side {
            ids: p.panelist_id.iter().map(|i| i + id_offset).collect(),
            sex: p.sex.clone(),
            age: p.age_group.clone(),
            minutes: p.viewing_minutes.clone(),
            education: p.education.iter().map(|&e| f64::from(e)).collect(),
        }
    }

    fn strata(&self) -> [CatVar<'_>; 2] {
        [
            CatVar::new("sex", &self.sex, 2),
            CatVar::new("age_group", &self.age, 6),
        ]
    }

    fn remove(&mut self, keep: impl Fn(u64) -> bool) {
        let rows: Vec<usize> = (0..self.ids.len()).filter(|&r| keep(self.ids[r])).collect();
        self.ids = rows.iter().map(|&r| self.ids[r]).collect();
        self.sex = rows.iter().map(|&r| self.sex[r]).collect();
        self.age = rows.iter().map(|&r| self.age[r]).collect();
        self.minutes = rows.iter().map(|&r| self.minutes[r]).collect();
        self.education = rows.iter().map(|&r| self.education[r]).collect();
    }
}

macro_rules! side {
    ($s:expr, $strata:ident, $matching:ident) => {
        let $strata = $s.strata();
        let $matching = [$s.minutes.as_slice(), $s.education.as_slice()];
    };
}

fn run(
    rec: &Side,
    don: &Side,
    previous: Option<&[(u64, u64)]>,
    opts: &FuseOptions,
) -> flowc_survey::Fusion {
    side!(rec, rs, rm);
    side!(don, ds, dm);
    let r = FuseSide {
        ids: &rec.ids,
        strata: &rs,
        matching: &rm,
    };
    let d = FuseSide {
        ids: &don.ids,
        strata: &ds,
        matching: &dm,
    };
    fuse(&r, &d, previous, opts).unwrap()
}

fn shares(codes: &[u32], n_levels: usize) -> Vec<f64> {
    let mut m = vec![0.0; n_levels];
    for &c in codes {
        m[c as usize] += 1.0;
    }
    m.iter().map(|x| x / codes.len() as f64).collect()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

#[test]
fn fusion_keeps_the_recipients_distribution() {
    let rec = Side::from_panel(&synth_panel(100, 3000), 0);
    let don = Side::from_panel(&synth_panel(200, 2000), 1_000_000);
    let f = run(&rec, &don, None, &FuseOptions::default());
    assert_eq!(f.report.recipients, 3000);
    assert_eq!(f.report.new, 3000);
    assert_eq!(f.matches.len(), 3000);
    // Every match is within the stratum, so the donated records have exactly
    // the recipients' sex and age distributions.
    let donor_sex: Vec<u32> = f
        .matches
        .iter()
        .map(|m| don.sex[m.donor.unwrap()])
        .collect();
    let donor_age: Vec<u32> = f
        .matches
        .iter()
        .map(|m| don.age[m.donor.unwrap()])
        .collect();
    assert_eq!(donor_sex, rec.sex);
    assert_eq!(donor_age, rec.age);
    assert_eq!(shares(&donor_sex, 2), shares(&rec.sex, 2));
    // Nearest neighbour on minutes: the transferred minutes follow the
    // recipients' (stated tolerance: mean within 3 %, active share within
    // 2 points).
    let donated: Vec<f64> = f
        .matches
        .iter()
        .map(|m| don.minutes[m.donor.unwrap()])
        .collect();
    let (a, b) = (mean(&donated), mean(&rec.minutes));
    assert!((a - b).abs() / b < 0.03, "{a} vs {b}");
    let active = |x: &[f64]| x.iter().filter(|&&m| m > 0.0).count() as f64 / x.len() as f64;
    assert!((active(&donated) - active(&rec.minutes)).abs() < 0.02);
    for m in &f.matches {
        assert_eq!(m.status, MatchStatus::New);
        assert_eq!(m.donor_id, Some(don.ids[m.donor.unwrap()]));
    }
}

#[test]
fn reuse_penalty_spreads_donor_use() {
    let rec = Side::from_panel(&synth_panel(101, 3000), 0);
    let don = Side::from_panel(&synth_panel(201, 1500), 1_000_000);
    let plain = run(
        &rec,
        &don,
        None,
        &FuseOptions {
            reuse_penalty: 0.0,
            ..FuseOptions::default()
        },
    );
    let spread = run(&rec, &don, None, &FuseOptions::default());
    assert!(spread.report.donors_used > plain.report.donors_used);
    assert!(spread.report.max_donor_uses < plain.report.max_donor_uses);
    assert!(spread.report.mean_distance >= plain.report.mean_distance);
    let capped = run(
        &rec,
        &don,
        None,
        &FuseOptions {
            max_uses: Some(3),
            ..FuseOptions::default()
        },
    );
    assert!(capped.report.max_donor_uses <= 3, "{:?}", capped.report);
}

/// Day 2 differs from day 1 by: 100 recipients gone, 150 new ones, 50 whose
/// age group changed, and 40 donors gone. Only the recipients touched by
/// these changes may change donor.
#[test]
fn fusion_with_yesterdays_matches_changes_only_what_must() {
    let rec1 = Side::from_panel(&synth_panel(300, 3000), 0);
    let don1 = Side::from_panel(&synth_panel(400, 2000), 1_000_000);
    let day1 = run(&rec1, &don1, None, &FuseOptions::default());
    let previous: Vec<(u64, u64)> = day1
        .matches
        .iter()
        .map(|m| (m.recipient_id, m.donor_id.unwrap()))
        .collect();
    let yesterday: HashMap<u64, u64> = previous.iter().copied().collect();

    // Day 2.
    let mut rec2 = Side::from_panel(&synth_panel(300, 3000), 0);
    rec2.remove(|id| id % 30 != 0); // 100 gone
    let fresh = Side::from_panel(&synth_panel(301, 150), 5_000_000);
    rec2.ids.extend(&fresh.ids);
    rec2.sex.extend(&fresh.sex);
    rec2.age.extend(&fresh.age);
    rec2.minutes.extend(&fresh.minutes);
    rec2.education.extend(&fresh.education);
    let mut moved = Vec::new();
    for r in 0..rec2.ids.len() {
        if rec2.ids[r] % 37 == 1 && moved.len() < 50 {
            rec2.age[r] = (rec2.age[r] + 1) % 6;
            moved.push(rec2.ids[r]);
        }
    }
    let mut don2 = Side::from_panel(&synth_panel(400, 2000), 1_000_000);
    don2.remove(|id| id % 50 != 0); // 40 gone
    let gone_donor = |d: u64| d.is_multiple_of(50);

    let day2 = run(&rec2, &don2, Some(&previous), &FuseOptions::default());
    assert_eq!(day2.report.previous_dropped, 100);
    let mut must_change = 0;
    for m in &day2.matches {
        let id = m.recipient_id;
        match yesterday.get(&id) {
            None => assert_eq!(m.status, MatchStatus::New),
            Some(&d) => {
                let broken = moved.contains(&id) || gone_donor(d);
                if broken {
                    must_change += 1;
                    assert_eq!(m.status, MatchStatus::Rematched, "recipient {id}");
                    if !gone_donor(d) {
                        // Moved to another stratum: the donor must differ in age.
                        assert_ne!(m.donor_id, Some(d));
                    }
                } else {
                    assert_eq!(m.status, MatchStatus::Kept, "recipient {id}");
                    assert_eq!(m.donor_id, Some(d), "recipient {id} changed donor");
                }
            }
        }
        // Always within the current stratum.
        let d = m.donor.unwrap();
        let r = m.recipient;
        assert_eq!((don2.sex[d], don2.age[d]), (rec2.sex[r], rec2.age[r]));
    }
    assert_eq!(day2.report.new, 150);
    assert_eq!(day2.report.rematched, must_change);
    assert_eq!(day2.report.kept, rec2.ids.len() - 150 - must_change);
    assert!(must_change >= 50, "the test must exercise rematching");
}

#[test]
fn fusion_is_deterministic_and_row_order_free() {
    let rec = Side::from_panel(&synth_panel(500, 1000), 0);
    let don = Side::from_panel(&synth_panel(600, 700), 1_000_000);
    let a = run(&rec, &don, None, &FuseOptions::default());
    let b = run(&rec, &don, None, &FuseOptions::default());
    assert_eq!(a, b);
    // Reverse both sides' row order: the id-level matches are the same.
    let mut rr = Side::from_panel(&synth_panel(500, 1000), 0);
    let mut dr = Side::from_panel(&synth_panel(600, 700), 1_000_000);
    for s in [&mut rr, &mut dr] {
        s.ids.reverse();
        s.sex.reverse();
        s.age.reverse();
        s.minutes.reverse();
        s.education.reverse();
    }
    let c = run(&rr, &dr, None, &FuseOptions::default());
    let pairs = |f: &flowc_survey::Fusion| {
        let mut p: Vec<(u64, Option<u64>)> = f
            .matches
            .iter()
            .map(|m| (m.recipient_id, m.donor_id))
            .collect();
        p.sort();
        p
    };
    assert_eq!(pairs(&a), pairs(&c));
}

#[test]
fn fusion_errors_and_unmatched() {
    let ids = [1u64, 2, 3];
    let sex = [0u32, 1, 1];
    let x = [1.0, 2.0, 3.0];
    let strata = [CatVar::new("sex", &sex, 2)];
    let m = [&x[..]];
    let rec = FuseSide {
        ids: &ids,
        strata: &strata,
        matching: &m,
    };
    let dsex = [0u32, 0];
    let dstrata = [CatVar::new("sex", &dsex, 2)];
    let dx = [1.0, 5.0];
    let dm = [&dx[..]];
    let dids = [10u64, 11];
    let don = FuseSide {
        ids: &dids,
        strata: &dstrata,
        matching: &dm,
    };
    let e = fuse(&rec, &don, None, &FuseOptions::default()).unwrap_err();
    assert_eq!(e.code(), "S014");
    assert!(
        e.to_string().contains("recipient 2") && e.to_string().contains("sex=level 1"),
        "{e}"
    );
    let opts = FuseOptions {
        allow_unmatched: true,
        ..FuseOptions::default()
    };
    let f = fuse(&rec, &don, None, &opts).unwrap();
    assert_eq!(f.report.unmatched, 2);
    assert_eq!(f.matches[0].donor_id, Some(10));

    let nan = [1.0, f64::NAN, 3.0];
    let bad = [&nan[..]];
    let r = FuseSide {
        matching: &bad,
        ..rec
    };
    assert_eq!(fuse(&r, &don, None, &opts).unwrap_err().code(), "S012");
    let dup = [1u64, 1, 3];
    let r = FuseSide { ids: &dup, ..rec };
    assert_eq!(fuse(&r, &don, None, &opts).unwrap_err().code(), "S013");
    let prev = [(1u64, 10u64), (1, 11)];
    assert_eq!(
        fuse(&rec, &don, Some(&prev), &opts).unwrap_err().code(),
        "S013"
    );
    let short = [1.0];
    let sm = [&short[..]];
    let r = FuseSide {
        matching: &sm,
        ..rec
    };
    assert_eq!(fuse(&r, &don, None, &opts).unwrap_err().code(), "S001");
    let wide = [CatVar::new("sex", &sex, 3)];
    let r = FuseSide {
        strata: &wide,
        ..rec
    };
    assert_eq!(fuse(&r, &don, None, &opts).unwrap_err().code(), "S001");
    let bad_opts = FuseOptions {
        reuse_penalty: -1.0,
        ..FuseOptions::default()
    };
    assert_eq!(
        fuse(&rec, &don, None, &bad_opts).unwrap_err().code(),
        "S011"
    );
}
