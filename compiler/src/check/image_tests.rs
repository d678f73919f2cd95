//! The image reference check's tests: known references, and the check compared with the one
//! it replaced (kept here as the reference) over many generated references.

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

/// Compares the check with the reference on `image`; says whether it is valid.
fn same_as_reference(image: &str) -> bool {
    let expected = reference::image_problem(image);
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

/// The check as it was before the one-pass acceptance of the usual shape, kept to compare with.
mod reference {
    use crate::diagnostics::ops::ImageProblem;

    /// The longest name (registry and path) a reference may have.
    const MAX_NAME: usize = 255;

    /// Why `image` is not a valid reference, or `None` when it is.
    pub(super) fn image_problem(image: &str) -> Option<ImageProblem> {
        // `$` is refused: a reference with `${` has a refused character, and says so first.
        if let Some(c) = first_refused_char(image) {
            if image.contains("${") {
                return Some(ImageProblem::BuildTimeValue);
            }
            let what = match c {
                ' ' => "a space".to_string(),
                c if c.is_whitespace() || c.is_control() => "a blank".to_string(),
                c => format!("`{c}`"),
            };
            return malformed(format!("an image reference cannot contain {what}"));
        }
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (image, None),
        };
        if let Some(d) = digest {
            if !is_digest(d) {
                return malformed(format!(
                    "the digest `{d}` is not an algorithm and hex digits, such as `sha256:` and 64 hex digits"
                ));
            }
        }
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag {
            if let Some(why) = tag_problem(t) {
                return malformed(why);
            }
        }
        name_problem(name).map(ImageProblem::Malformed)
    }

    /// The first character a reference may not hold: a byte scan, since every allowed character
    /// is ASCII (the first byte refused starts the character refused, as every byte before it is
    /// a whole ASCII character).
    fn first_refused_char(image: &str) -> Option<char> {
        let i = image.bytes().position(|b| !ALLOWED[b as usize])?;
        image[i..].chars().next()
    }

    /// The bytes a reference may hold: letters, digits and `. _ - / : @ [ ]`.
    static ALLOWED: [bool; 256] = {
        let mut table = [false; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            table[c] = b.is_ascii_alphanumeric()
                || matches!(b, b'.' | b'_' | b'-' | b'/' | b':' | b'@' | b'[' | b']');
            c += 1;
        }
        table
    };

    fn malformed(why: String) -> Option<ImageProblem> {
        Some(ImageProblem::Malformed(why))
    }

    /// Why `tag` is not a valid tag.
    fn tag_problem(tag: &str) -> Option<String> {
        let first_ok = tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let rest_ok = tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if tag.is_empty() {
            Some("the tag after `:` is empty".into())
        } else if !first_ok || !rest_ok {
            Some(format!(
                "the tag `{tag}` must start with a letter, a digit or `_` and hold only letters, digits, `_`, `.` and `-`"
            ))
        } else if tag.len() > 128 {
            Some(format!(
                "the tag is {} characters long; at most 128 are allowed",
                tag.len()
            ))
        } else {
            None
        }
    }

    /// Why `name` (registry and path) is not a valid name.
    fn name_problem(name: &str) -> Option<String> {
        if name.is_empty() {
            return Some("the name before the tag is empty".into());
        }
        if name.len() > MAX_NAME {
            return Some(format!(
                "the name is {} characters long; at most {MAX_NAME} are allowed",
                name.len()
            ));
        }
        // The path's components: all of them, or those after the registry.
        let mut path = name;
        if let Some((first, after)) = name.split_once('/') {
            let is_registry = first.bytes().any(|b| b == b'.' || b == b':')
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase());
            if is_registry {
                if !is_registry_name(first) {
                    return Some(format!(
                        "the registry `{first}` is not a host name with an optional port"
                    ));
                }
                path = after;
            }
        }
        for p in path.split('/') {
            if p.is_empty() {
                return Some("the name has an empty component (`//` or a `/` at an end)".into());
            }
            if p.chars().any(|c| c.is_ascii_uppercase()) {
                return Some(format!(
                    "`{p}` has upper-case letters; image names are lower-case"
                ));
            }
            if !is_path_component(p) {
                return Some(format!(
                    "`{p}` is not a name component: lower-case letters and digits, joined by `.`, `_`, `__` or dashes"
                ));
            }
        }
        None
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
    fn is_path_component(p: &str) -> bool {
        let b = p.as_bytes();
        let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        let mut i = 0;
        loop {
            let start = i;
            while i < b.len() && alnum(b[i]) {
                i += 1;
            }
            if i == start {
                return false;
            }
            if i == b.len() {
                return true;
            }
            let sep = i;
            while i < b.len() && !alnum(b[i]) {
                i += 1;
            }
            let s = &p[sep..i];
            let ok = s == "." || s == "_" || s == "__" || s.bytes().all(|c| c == b'-');
            if !ok || i == b.len() {
                return false;
            }
        }
    }

    /// `host[:port]`: DNS labels joined by `.` (or an IPv6 address in brackets), then digits.
    fn is_registry_name(r: &str) -> bool {
        let (host, port) = if let Some(end) = r.strip_prefix('[').and_then(|s| s.find(']')) {
            let host = &r[1..end + 1];
            let after = &r[end + 2..];
            if host.is_empty() || !host.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
                return false;
            }
            match after.strip_prefix(':') {
                Some(p) => return is_port(p),
                None => return after.is_empty(),
            }
        } else {
            match r.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (r, None),
            }
        };
        let label_ok = |l: &str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        };
        host.split('.').all(label_ok) && port.is_none_or(is_port)
    }

    fn is_port(p: &str) -> bool {
        !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())
    }

    /// `algorithm:hex`: `[A-Za-z][A-Za-z0-9]*` parts joined by `+`, `.`, `_` or `-`, and at least 32
    /// hex digits.
    fn is_digest(d: &str) -> bool {
        let Some((algo, hex)) = d.split_once(':') else {
            return false;
        };
        let algo_ok = !algo.is_empty()
            && algo.split(['+', '.', '_', '-']).all(|part| {
                part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && part.chars().all(|c| c.is_ascii_alphanumeric())
            });
        algo_ok && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
    }
}
