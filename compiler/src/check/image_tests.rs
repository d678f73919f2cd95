//! The image reference check's tests: known references, and the one-pass acceptance compared
//! with the part-by-part reading (the check it sits in front of) over many generated
//! references.

use super::*;

#[test]
fn valid_references() {
    for ok in [
        "busybox",
        "busybox:1.36",
        "library/busybox:latest",
        "registry.example.com/etl:1.4.2",
        "localhost:5000/team/etl_tool__x:v1",
        "localhost/etl",
        "ghcr.io/acme/etl-job:2024.06",
        "Registry.Example.com:443/a/b",
        "[::1]:5000/etl:1",
        "python:3.12-slim@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "etl@sha256:0123456789abcdef0123456789abcdef",
        "a---b.c_d:_x",
    ] {
        assert_eq!(image_problem(ok), None, "{ok}");
    }
}

#[test]
fn invalid_references() {
    for bad in [
        "Not A Valid Image!!:1.0",
        "Busybox:1.36",
        "busybox:",
        "busybox:.1",
        "busybox:-x",
        ":1.0",
        "a//b",
        "/busybox",
        "busybox/",
        "a.-b",
        "_a",
        "a_",
        "bad host.com/x",
        "host-.com/x",
        "host.com:port/x",
        "etl@sha256:123",
        "etl@:0123456789abcdef0123456789abcdef",
        "etl@1sha:0123456789abcdef0123456789abcdef",
        "a:b:c",
    ] {
        assert!(
            matches!(image_problem(bad), Some(ImageProblem::Malformed(_))),
            "{bad}"
        );
    }
    assert_eq!(image_problem("${img}"), Some(ImageProblem::BuildTimeValue));
    assert_eq!(
        image_problem("etl:${tag}"),
        Some(ImageProblem::BuildTimeValue)
    );
    let long_tag = format!("etl:{}", "a".repeat(129));
    assert!(image_problem(&long_tag).is_some());
    let long_name = "a".repeat(256);
    assert!(image_problem(&long_name).is_some());
}

/// Pieces references are generated from: valid parts, each kind of malformed part, build
/// variables, unicode, blanks and empty parts.
const PIECES: &[&str] = &[
    "",
    "a",
    "b0",
    "etl",
    "step-0",
    "a--b",
    "a__b",
    "a___b",
    "a.b",
    "a..b",
    "a_",
    "-a",
    "a-",
    "A",
    "Etl",
    "eTL",
    "localhost",
    "LOCALHOST",
    "registry.example.com",
    "Registry.Example.com",
    "host-.com",
    "-host.com",
    "host_x.com",
    "host.com:5000",
    "host.com:",
    "host.com:port",
    "h:1:2",
    "[::1]",
    "[::1]:5000",
    "[]",
    "[zz]",
    "[::1",
    "::1]",
    "1.2.3.4",
    "/",
    "//",
    ":",
    ":1.0",
    ":latest",
    ":_x",
    ":.1",
    ":-x",
    ":v1.2-rc_3",
    ":A-Z",
    "@",
    "@sha256:",
    "@sha256:0123",
    "@sha256+b.c:0123456789abcdef0123456789abcdef",
    "@1sha:0123456789abcdef0123456789abcdef",
    "@:0123456789abcdef0123456789abcdef",
    "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "@sha256:0123456789abcdef0123456789abcdeg",
    "@sha_:0123456789abcdef0123456789abcdef",
    "${build.tag}",
    "${img}",
    "${",
    "$",
    "{",
    "}",
    " ",
    "\t",
    "\n",
    "\u{7f}",
    "é",
    "ü",
    "日本",
    "\u{200b}",
    "\u{a0}",
    ".",
    "_",
    "__",
    "-",
    "--",
    "1",
    "x0",
];

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Gen(u64);

impl Gen {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// One to seven pieces, sometimes with a long run of one letter.
    fn reference(&mut self) -> String {
        let mut r = String::new();
        for _ in 0..=self.below(7) {
            match self.below(40) {
                0 => r.push_str(&"a".repeat(120 + self.below(150))),
                1 => r.push_str(&format!(":{}", "t".repeat(120 + self.below(20)))),
                _ => r.push_str(PIECES[self.below(PIECES.len())]),
            }
        }
        r
    }
}

/// Compares the check with the part-by-part reading ([`first_problem`], the check as it was
/// before the one-pass acceptance of the usual shape) on `image`; says whether it is valid.
fn same_as_reference(image: &str) -> bool {
    let expected = first_problem(image);
    assert_eq!(image_problem(image), expected, "{image:?}");
    let fast = is_plainly_valid(image);
    assert!(
        !fast || expected.is_none(),
        "accepted in one pass: {image:?}"
    );
    let usual_shape = !image.contains(['@', '[']);
    assert!(
        fast || expected.is_some() || !usual_shape,
        "a valid reference of the usual shape not accepted in one pass: {image:?}"
    );
    expected.is_none()
}

#[test]
fn generated_references_get_the_reference_problem() {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let mut valid = 0;
    for _ in 0..300_000 {
        valid += usize::from(same_as_reference(&g.reference()));
    }
    assert!(valid > 10_000, "only {valid} valid references generated");
}

#[test]
fn every_short_reference_gets_the_reference_problem() {
    let alphabet = [
        "a", "B", "0", ".", "_", "-", "/", ":", "@", "[", "]", "$", "{", "}", "é", " ",
    ];
    let mut layer = vec![String::new()];
    for _ in 0..4 {
        layer = layer
            .iter()
            .flat_map(|r| alphabet.iter().map(move |c| format!("{r}{c}")))
            .collect();
        layer.iter().for_each(|r| {
            same_as_reference(r);
        });
    }
}
