//! Tests of the synthetic panel generator.

use flowc_survey::synth::{
    synth_panel, synth_targets, AGE_LABELS, EDUCATION_LABELS, REGION_LABELS, SEX_LABELS, VARIABLES,
};

#[test]
fn synth_is_reproducible_and_prefix_stable() {
    let a = synth_panel(1, 5000);
    let b = synth_panel(1, 5000);
    assert_eq!(a, b);
    let c = synth_panel(2, 5000);
    assert_ne!(a.age_group, c.age_group);
    let short = synth_panel(1, 1000);
    assert_eq!(short.sex[..], a.sex[..1000]);
    assert_eq!(short.viewing_minutes[..], a.viewing_minutes[..1000]);
    assert!(synth_panel(1, 0).is_empty());
}

#[test]
fn synth_panel_is_realistic() {
    let p = synth_panel(8, 40_000);
    let n = p.len() as f64;
    let vars = p.vars();
    assert_eq!(vars.map(|v| v.name), VARIABLES);
    let levels = [
        SEX_LABELS.len(),
        AGE_LABELS.len(),
        REGION_LABELS.len(),
        EDUCATION_LABELS.len(),
    ];
    assert_eq!(vars.map(|v| v.n_levels), levels);
    let targets = synth_targets();
    // Every target is a share vector summing to 1, and the sample differs
    // from it (by at least 2 points somewhere on every variable).
    for (var, t) in vars.iter().zip(targets.targets()) {
        let t = t.values();
        assert!((t.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let mut m = vec![0.0; var.n_levels];
        for c in var.codes {
            m[c as usize] += 1.0 / n;
        }
        assert!(
            m.iter().all(|&x| x > 0.01),
            "{}: every level present",
            var.name
        );
        let gap = m
            .iter()
            .zip(t)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            gap > 0.02,
            "{}: sample too close to targets ({gap})",
            var.name
        );
    }
    // Education correlates with age: tertiary share falls from 25-34 to 65+.
    let tertiary = |age: u32| {
        let rows: Vec<usize> = (0..p.len()).filter(|&r| p.age_group[r] == age).collect();
        rows.iter().filter(|&&r| p.education[r] == 3).count() as f64 / rows.len() as f64
    };
    assert!(tertiary(1) > tertiary(5) + 0.15);
    // Minutes are positive exactly for active panelists; activity rises with age.
    for r in 0..p.len() {
        assert_eq!(p.viewing_minutes[r] > 0.0, p.active[r]);
        assert!(p.viewing_minutes[r] <= 1440.0);
    }
    let active = |age: u32| {
        let rows: Vec<usize> = (0..p.len()).filter(|&r| p.age_group[r] == age).collect();
        rows.iter().filter(|&&r| p.active[r]).count() as f64 / rows.len() as f64
    };
    assert!(active(5) > active(0) + 0.2);
    let mean_w = p.base_weight.iter().sum::<f64>() / n;
    assert!((mean_w - 1.0).abs() < 0.05);
    assert_eq!(p.panelist_id.first(), Some(&1));
    assert_eq!(p.panelist_id.last(), Some(&40_000));
}

/// Any range of rows drawn on its own is that range of the whole panel.
#[test]
fn demographics_of_a_range_are_the_panels() {
    let p = synth_panel(9, 3000);
    for (start, len) in [
        (0, 3000),
        (0, 1),
        (1, 10),
        (1234, 1766),
        (2999, 1),
        (500, 0),
    ] {
        let d = flowc_survey::synth_demographics(9, start, len);
        let range = start..start + len;
        let wide = |v: &[u8]| v.iter().map(|&c| u32::from(c)).collect::<Vec<u32>>();
        assert_eq!(wide(&d.sex), p.sex[range.clone()]);
        assert_eq!(wide(&d.age_group), p.age_group[range.clone()]);
        assert_eq!(wide(&d.region), p.region[range.clone()]);
        assert_eq!(wide(&d.education), p.education[range]);
    }
}
